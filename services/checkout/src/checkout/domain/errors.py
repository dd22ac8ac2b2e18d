"""Why a command is refused: problems attached to fields (422), or a conflict with the
order's state (409)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One reason a request is refused, attached to a field (dotted path, e.g. ``lines.0.sku``)."""

    field: str
    code: str
    message: str


class OrderRejectedError(Exception):
    """The request cannot be accepted as it is (HTTP 422); nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = tuple(problems)


class ConflictError(Exception):
    """The order's state forbids the command (HTTP 409), with a machine code and a reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
