"""The recording model keeps each prompt with its session, and the crossing
check finds a foreign marker (so the prompt-isolation tests can fail)."""

from __future__ import annotations

from livekit.agents import llm

from voxa.agent.recording_llm import RecordingLLM, crossings
from voxa.context import SessionContext, session_scope


def _ctx(text: str) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content=f"You help {text}.")
    ctx.add_message(role="user", content="hi")
    return ctx


async def test_prompts_are_kept_with_their_session_and_crossings_are_found() -> None:
    model = RecordingLLM()
    a = SessionContext("s-a", "customer", "b1", "one", "u-a")
    with session_scope(a):
        async with model.chat(chat_ctx=_ctx("Alpha and Bravo")) as stream:
            assert "You said: hi" in "".join([c.delta.content or "" async for c in stream
                                              if c.delta is not None])
    async with model.chat(chat_ctx=_ctx("nobody")):
        pass
    assert [p.session_id for p in model.prompts] == ["s-a", None]
    assert "Alpha" in model.prompts_for("s-a")[0].system
    found = crossings(model.prompts, {"s-a": {"Alpha"}, "s-b": {"Bravo"}}, {"Alpha", "Bravo"})
    assert found == [("s-a", "Bravo")]
    assert crossings(model.prompts, {"s-a": {"Alpha", "Bravo"}}, {"Alpha", "Bravo"}) == []
