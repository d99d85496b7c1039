"""The typed session state: one set of defaults for every reader."""

from __future__ import annotations

from voxa.storage.session_state import DEFAULT_DISPLAY_NAME, SessionState


def test_empty_context_has_the_defaults() -> None:
    for empty in (None, {}):
        state = SessionState.of(empty)
        assert state == SessionState()
        assert state.name == DEFAULT_DISPLAY_NAME == "Guest"
        assert (state.summary, state.summary_upto, state.summary_count) == (None, 0, 0)


def test_reads_the_stored_keys() -> None:
    state = SessionState.of({"display_name": "Ann", "agent_status": "running",
                             "summary": "likes rye", "summary_upto": 41, "summary_count": 70,
                             "handoff": {"state": "waiting"}, "other": 1})
    assert (state.name, state.agent_status, state.summary) == ("Ann", "running", "likes rye")
    assert (state.summary_upto, state.summary_count) == (41, 70)
    assert state.handoff == {"state": "waiting"}


def test_blank_values_fall_back() -> None:
    state = SessionState.of({"display_name": "", "summary": "", "summary_count": None})
    assert (state.display_name, state.name, state.summary, state.summary_count) == (
        None, "Guest", None, 0)
