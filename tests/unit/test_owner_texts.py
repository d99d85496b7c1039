"""Owner-written texts render as data: only {name}/{business}, never raising, bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxa.persona.prompts import greeting_for
from voxa.persona.texts import check, problems, render

# Texts rich in the characters that matter to a format-string parser.
_PIECES = [*"{}!:>0.[]_ aexmnbusi", "name", "business", "{name}", "{business}", "{{",
           "}}"]
_TEMPLATE = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)
_TEXT = _TEMPLATE | st.text(max_size=200)
_VALUE = st.text(max_size=50)


@given(template=_TEXT, name=_VALUE, business=_VALUE)
def test_any_text_renders_bounded(template: str, name: str, business: str) -> None:
    out = render(template, {"name": name, "business": business})
    # each placeholder is at least 6 characters and becomes one value
    k = template.count("{name}") + template.count("{business}")
    assert len(out) <= len(template) + k * (len(name) + len(business))


@given(template=_TEXT, business=_VALUE)
def test_name_is_replaced_exactly(template: str, business: str) -> None:
    marker = "\x00NAME\x00"
    values = {"name": marker, "business": business}
    # whatever precedes it, a separated {name} is replaced by the name itself
    assert render(template + " {name}", values).endswith(" " + marker)
    # a valid template renders exactly as str.format would with these two names
    if not problems(template):
        assert render(template, values) == template.format(name=marker, business=business)


@given(name=_VALUE, business=_VALUE)
def test_placeholders_and_escapes(name: str, business: str) -> None:
    values = {"name": name, "business": business}
    assert render("Hi {name} at {business}", values) == f"Hi {name} at {business}"
    assert render("{{name}} {{}}", values) == "{name} {}"
    # a value is inserted literally, never re-scanned
    assert render("{name}", {"name": "{business}", "business": business}) == "{business}"


@pytest.mark.parametrize("text,shown", [
    ("{0}", "{0}"),
    ("{name!z}", "{name!z}"),
    ("{name!r}", "{name!r}"),
    ("{name:>300000000}", "{name:>300000000}"),
    ("{name.__class__}", "{name.__class__}"),
    ("{business[0]}", "{business[0]}"),
    ("{}", "{}"),
    ("{who}", "{who}"),
    ("Hello {name", "unbalanced '{'"),
    ("Hello name}", "unbalanced '}'"),
])
def test_save_check_names_the_bad_placeholder(text: str, shown: str) -> None:
    assert shown in problems(text)[0]
    with pytest.raises(ValueError, match=r"unknown placeholder|unbalanced"):
        check(text)


def test_good_texts_pass_the_check() -> None:
    for text in ("Hi {name}, welcome to {business}!", "Braces: {{ and }}", "{{name}}", ""):
        assert check(text) == text


def test_format_payloads_render_literally() -> None:
    for text in ("{0}", "{name!z}", "{name:>300000000}", "{name.__class__.__mro__}", "{"):
        assert greeting_for("customer", name="Mia", business="Cafe",
                            overrides={"customer": text}) == text
