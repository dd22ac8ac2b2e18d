"""How a use case refuses a command: a failure kind the HTTP layer maps to its status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from fulfillment.domain import Problem


class Failure(StrEnum):
    NOT_FOUND = "not_found"
    """Unknown (or not the caller's): 404."""
    CONFLICT = "conflict"
    """Not in a state that allows it: 409."""
    INVALID = "invalid"
    """Refused by the rules, or a field is wrong: 422."""


class CommandError(Exception):
    """A command refused; nothing was changed by it (its transaction rolled back)."""

    def __init__(
        self,
        failure: Failure,
        code: str,
        message: str,
        *,
        problems: Sequence[Problem] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.code = code
        self.message = message
        self.problems = tuple(problems)
        self.extra = dict(extra or {})


def order_not_found() -> CommandError:
    return CommandError(Failure.NOT_FOUND, "order_not_found", "Commande introuvable.")
