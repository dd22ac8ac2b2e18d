"""Text hygiene: the characters no text field accepts, as pure checks and pydantic types.

PostgreSQL's ``text`` cannot hold a NUL byte, and a lone UTF-16 surrogate (``"\\ud800"``, which
JSON's ``\\u`` escapes, Python's ``json`` and FastAPI's body parsing all let through) cannot even
be encoded to UTF-8. Control characters are not an encoding problem, but no name, address or
reference legitimately holds one, and they end up in emails, PDFs and logs. So every text field
refuses:

- NUL (U+0000);
- lone surrogates (U+D800 to U+DFFF);
- C0 and C1 control characters (U+0001 to U+001F, U+007F to U+009F) and the Unicode line and
  paragraph separators (U+2028, U+2029), except that a multi-line field (a free-text message, a
  note) accepts line feed, carriage return, tab and the two separators.

Use :data:`SafeText` / :data:`SafeMultilineText` for a plain field. A field with constraints puts
the check last, so that it judges the value that is kept (after ``strip_whitespace``, a trailing
newline pasted into a name is dropped, not refused)::

    Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), SingleLine]

A refusal is a pydantic error of type ``invalid_characters`` (:data:`INVALID_CHARACTERS`) with a
French message; each service's validation handler names the field.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import UploadFile
from pydantic import AfterValidator, BeforeValidator, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "INVALID_CHARACTERS",
    "MultiLine",
    "NoLoneSurrogates",
    "SafeMultilineText",
    "SafeText",
    "SafeUpload",
    "SingleLine",
    "TextProblem",
    "TextRule",
    "check_line",
    "check_lines",
    "check_upload_name",
    "text_problem",
]

INVALID_CHARACTERS = "invalid_characters"
"""Machine code (pydantic error type) of a text refused for its characters."""


class TextProblem(enum.Enum):
    """Why a text is refused, from the most to the least serious."""

    NUL = "nul"
    SURROGATE = "surrogate"
    CONTROL = "control"
    LINE_BREAK = "line_break"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    TextProblem.NUL: "Ce champ contient un caractère nul, qui n'est pas accepté.",
    TextProblem.SURROGATE: "Ce champ contient un caractère Unicode invalide.",
    TextProblem.CONTROL: "Ce champ contient un caractère de contrôle, qui n'est pas accepté.",
    TextProblem.LINE_BREAK: "Ce champ doit tenir sur une ligne (pas de retour à la ligne).",
}

# Every character refused in a single-line field; the multi-line set lets \t \n \r and the
# Unicode line/paragraph separators through.
_LINE_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_LINES_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")


def text_problem(value: str, *, multiline: bool = False) -> TextProblem | None:
    """The worst problem of ``value`` (None: acceptable). Pure; no normalisation."""
    pattern = _LINES_REFUSED if multiline else _LINE_REFUSED
    if pattern.search(value) is None:
        return None
    if "\x00" in value:
        return TextProblem.NUL
    if any("\ud800" <= c <= "\udfff" for c in value):
        return TextProblem.SURROGATE
    refused = {c for c in pattern.findall(value)}
    if refused <= _LINE_BREAKS:
        return TextProblem.LINE_BREAK
    return TextProblem.CONTROL


def _refuse(problem: TextProblem) -> PydanticCustomError:
    return PydanticCustomError(INVALID_CHARACTERS, problem.message, {"reason": problem.value})


def check_line(value: str) -> str:
    """Pydantic after-validator of a single-line field."""
    problem = text_problem(value)
    if problem is not None:
        raise _refuse(problem)
    return value


def check_lines(value: str) -> str:
    """Pydantic after-validator of a multi-line field (a message, a note)."""
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise _refuse(problem)
    return value


def check_upload_name(upload: UploadFile) -> UploadFile:
    """Pydantic after-validator of an uploaded file: its name follows the single-line rule."""
    if upload.filename is not None:
        check_line(upload.filename)
    return upload


def _no_surrogate(value: Any) -> Any:
    if isinstance(value, str) and _SURROGATE.search(value):
        raise _refuse(TextProblem.SURROGATE)
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class TextRule:
    """Annotated metadata applying the text rule around the schema it follows.

    Lone surrogates are refused before anything else (pydantic's own string constraints cannot
    even read such a string and would answer an English ``string_unicode`` error); the rest of
    the rule judges the value the field keeps, after its constraints (stripping) ran.
    """

    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        check = check_lines if self.multiline else check_line
        return core_schema.no_info_before_validator_function(
            _no_surrogate, core_schema.no_info_after_validator_function(check, handler(source))
        )


SingleLine = TextRule(multiline=False)
"""Metadata for ``Annotated[str, <constraints>, SingleLine]``: the check runs where it is put."""

MultiLine = TextRule(multiline=True)
"""Metadata for ``Annotated[str, <constraints>, MultiLine]``: a free-text message or a note."""

NoLoneSurrogates = BeforeValidator(_no_surrogate)
"""Metadata for a field that takes any character but must be encodable (a password at login:
refusing more could lock out an account whose password was accepted before)."""

SafeText = Annotated[str, SingleLine]
"""A single-line text field: names, address lines, references, codes."""

SafeMultilineText = Annotated[str, MultiLine]
"""A free-text field that may hold several lines (messages, notes)."""

SafeUpload = Annotated[UploadFile, AfterValidator(check_upload_name)]
"""An uploaded file whose name (stored with the file) follows the single-line rule."""
