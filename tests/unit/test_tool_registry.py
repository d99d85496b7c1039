"""The tool registry: every role's tool list and the prompt's description of
the tools come from one declaration per tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxa.agent.tools import build_tools, catalog, tool_names, tools_brief, tools_for
from voxa.agent.tools.registry import ToolEnv, tool
from voxa.context import SessionContext
from voxa.domain import Role
from voxa.persona.prompts import DEFAULT_INSTRUCTIONS

TOOLS_DIR = Path(__file__).resolve().parents[2] / "src" / "voxa" / "agent" / "tools"


def test_each_role_has_its_tools() -> None:
    # Subsets, not whole lists: a new tool is its own module and test only.
    assert {"create_ticket", "recall", "remember", "request_human",
            "ticket_status"} <= set(tool_names(Role.customer))
    assert {"business_stats", "list_tickets", "recall", "remember",
            "update_ticket"} <= set(tool_names(Role.owner))
    assert {"recall", "remember"} <= set(tool_names(Role.general))
    # what only the business's staff may do never reaches a customer or a general user
    for name in ("list_tickets", "update_ticket", "business_stats"):
        assert name not in tool_names(Role.customer) + tool_names(Role.general)
    for name in ("create_ticket", "ticket_status", "request_human"):
        assert name not in tool_names(Role.general)


def test_every_module_of_the_package_is_discovered() -> None:
    modules = {p.stem for p in TOOLS_DIR.glob("*.py")} - {"__init__", "registry"}
    declared = {spec.handler.__module__.rpartition(".")[2] for spec in catalog()}
    assert declared == modules


def test_an_enabled_subset_narrows_the_role_and_never_widens_it() -> None:
    assert [s.name for s in tools_for("customer", ["remember", "business_stats"])] == ["remember"]
    assert [s.name for s in tools_for("customer", [])] == tool_names(Role.customer)


def test_the_prompt_describes_exactly_the_session_tools() -> None:
    brief = tools_brief("customer", ["request_human", "recall"])
    assert "request_human" in brief and "recall" in brief
    for other in set(tool_names()) - {"request_human", "recall"}:
        assert other not in brief, other
    # the role texts themselves name no tool: only the registry does
    for text in DEFAULT_INSTRUCTIONS.values():
        assert not any(name in text for name in tool_names()), text


def test_bound_tools_show_the_model_only_their_own_arguments() -> None:
    ctx = SessionContext(session_id="s1", role="customer", business_id="b1",
                         business_slug="b", user_id="u1", user_name="Ann")
    bound = {t.info.name: t for t in build_tools(None, ctx)}  # type: ignore[arg-type]
    assert sorted(bound) == tool_names(Role.customer)
    from livekit.agents.llm.utils import build_legacy_openai_schema

    schema = build_legacy_openai_schema(bound["create_ticket"])
    params = schema["function"]["parameters"]
    assert set(params["properties"]) == {"subject", "body", "priority"}
    assert set(params["required"]) == {"subject", "body"}
    assert "env" not in str(schema)
    assert "one-line summary" in params["properties"]["subject"].get("description", "")
    assert schema["function"]["description"].startswith("Open a support ticket")


def test_a_handler_must_be_async() -> None:
    with pytest.raises(TypeError):
        def sync_tool(env: ToolEnv) -> str:
            return ""

        tool(roles=[Role.owner], guidance="x")(sync_tool)  # type: ignore[arg-type]
