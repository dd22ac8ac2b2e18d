"""The text rule: what a single-line and a multi-line field refuse, and why."""

from typing import Annotated

import pytest
from jg_web import (
    INVALID_CHARACTERS,
    MultiLine,
    NoLoneSurrogates,
    SafeMultilineText,
    SafeText,
    SingleLine,
    TextProblem,
    text_problem,
)
from pydantic import BaseModel, StringConstraints, ValidationError

pytestmark = pytest.mark.unit

ACCEPTED_EVERYWHERE = [
    "",
    "Camille Durand",
    "12 rue des Lilas, Bâtiment B",
    "Zoë O'Connor-Ångström",
    "山田 太郎",
    "Ünïcødé ≠ ASCII — «guillemets» € 😀",
    "\u00a0non-breaking\u202fspaces",
    "zero\u200bwidth and BOM\ufeff",  # format characters are not control characters
]


@pytest.mark.parametrize("value", ACCEPTED_EVERYWHERE)
def test_ordinary_text_is_accepted_on_one_line_and_on_several(value: str) -> None:
    assert text_problem(value) is None
    assert text_problem(value, multiline=True) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("MATCHA\x00KYOTO", TextProblem.NUL),
        ("\x00", TextProblem.NUL),
        ("a\ud800b", TextProblem.SURROGATE),
        ("lone low \udfff", TextProblem.SURROGATE),
        ("bell\x07", TextProblem.CONTROL),
        ("escape \x1b[31m red", TextProblem.CONTROL),
        ("delete\x7f", TextProblem.CONTROL),
        ("c1 \x85 next line", TextProblem.CONTROL),
        ("c1 \x9b csi", TextProblem.CONTROL),
        ("tab\there", TextProblem.CONTROL),
        ("line\nbreak", TextProblem.LINE_BREAK),
        ("carriage\rreturn", TextProblem.LINE_BREAK),
        ("unicode\u2028line", TextProblem.LINE_BREAK),
        # the worst problem is the one reported
        ("nul\x00 and\ud800 surrogate", TextProblem.NUL),
        ("surrogate\ud800 and \x07", TextProblem.SURROGATE),
        ("break\n and \x07", TextProblem.CONTROL),
    ],
)
def test_a_single_line_field_refuses_nul_surrogates_controls_and_line_breaks(
    value: str, problem: TextProblem
) -> None:
    assert text_problem(value) is problem


@pytest.mark.parametrize(
    "value",
    [
        "Bonjour,\nle bol est arrivé fêlé.\r\nMerci.",
        "colonnes\tséparées",
        "paragraphe\u2029suivant",
    ],
)
def test_a_multiline_field_accepts_line_breaks_and_tabs(value: str) -> None:
    assert text_problem(value, multiline=True) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("message\x00", TextProblem.NUL),
        ("message\udc00", TextProblem.SURROGATE),
        ("message\x0bvertical tab", TextProblem.CONTROL),
        ("message\x0cform feed", TextProblem.CONTROL),
        ("message\x1b", TextProblem.CONTROL),
        ("message\x85", TextProblem.CONTROL),
    ],
)
def test_a_multiline_field_still_refuses_nul_surrogates_and_other_controls(
    value: str, problem: TextProblem
) -> None:
    assert text_problem(value, multiline=True) is problem


def test_every_c0_c1_control_is_refused_on_one_line() -> None:
    controls = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
    assert all(text_problem(f"a{c}b") is not None for c in controls)
    allowed_on_several = {"\t", "\n", "\r"}
    assert {c for c in controls if text_problem(f"a{c}b", multiline=True) is None} == (
        allowed_on_several
    )


class Form(BaseModel):
    name: SafeText
    note: SafeMultilineText | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10), SingleLine]
    message: Annotated[str, StringConstraints(max_length=50), MultiLine] = ""


def test_the_pydantic_types_refuse_with_a_typed_error_and_a_french_message() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name="Ca\x00mille", note="ok\x1b", city="Lyon")
    errors = {e["loc"]: e for e in caught.value.errors()}
    assert set(errors) == {("name",), ("note",)}
    assert errors[("name",)]["type"] == INVALID_CHARACTERS
    assert errors[("name",)]["msg"] == "Ce champ contient un caractère nul, qui n'est pas accepté."
    assert errors[("name",)]["ctx"] == {"reason": "nul"}
    assert errors[("note",)]["ctx"] == {"reason": "control"}


def test_a_check_placed_after_the_constraints_judges_the_stripped_value() -> None:
    # a trailing newline pasted into a single-line field is stripped, not refused
    assert Form(name="Camille", city=" Lyon\n").city == "Lyon"
    # inside the value it is refused
    with pytest.raises(ValidationError) as caught:
        Form(name="Camille", city="Ly\non")
    [error] = caught.value.errors()
    assert error["ctx"] == {"reason": "line_break"}
    assert Form(name="C", city="L", message="deux\nlignes").message == "deux\nlignes"


def test_the_types_leave_an_acceptable_value_unchanged() -> None:
    form = Form(name="Zoë 山田", note="Bonjour\nMerci", city="Paris")
    assert (form.name, form.note, form.city) == ("Zoë 山田", "Bonjour\nMerci", "Paris")


def test_a_lone_surrogate_is_refused_by_the_text_rule_even_behind_string_constraints() -> None:
    # pydantic's constraints cannot read such a string: without the rule, an English
    # "string_unicode" error would name the field, and a plain str would pass it through
    with pytest.raises(ValidationError) as caught:
        Form(name="Ca\ud800mille", city="Ly\udc00on", message="mes\ud800sage")
    errors = {e["loc"]: e for e in caught.value.errors()}
    assert set(errors) == {("name",), ("city",), ("message",)}
    assert {e["type"] for e in errors.values()} == {INVALID_CHARACTERS}
    assert {e["ctx"]["reason"] for e in errors.values()} == {"surrogate"}


def test_the_rule_keeps_the_json_schema_of_the_field() -> None:
    city = Form.model_json_schema()["properties"]["city"]
    assert city == {"maxLength": 10, "title": "City", "type": "string"}


def test_no_lone_surrogates_lets_every_other_character_through() -> None:
    class Login(BaseModel):
        password: Annotated[str, StringConstraints(max_length=64), NoLoneSurrogates]

    assert Login(password="mot\tde\x01passe\x00").password == "mot\tde\x01passe\x00"
    with pytest.raises(ValidationError) as caught:
        Login(password="mot\ud800passe")
    assert caught.value.errors()[0]["type"] == INVALID_CHARACTERS
