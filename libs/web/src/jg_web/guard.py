"""The input guard: path parameters, query parameters and data headers follow the text rule.

Bodies are checked by their pydantic types (:mod:`jg_web.text`); what arrives outside the body
is checked here, for every route, whatever the parameter's declared type: a ``%00`` in a path
segment or a query value becomes a NUL byte once decoded, and would reach PostgreSQL through
any ``str`` parameter. The guard is a FastAPI dependency of the whole application, so it runs
after routing (a path parameter has its name; an unknown path stays a 404) and before the
route's own dependencies (authentication) and its code. A refusal is a
:class:`~fastapi.exceptions.RequestValidationError`, answered by the service's own validation
handler (422, the field named: ``("path", "sku")``, ``("query", "status")``,
``("header", "Idempotency-Key")``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from jg_web.text import INVALID_CHARACTERS, text_problem

__all__ = ["input_guard"]


def _shown(name: str) -> str:
    """A parameter name fit to be echoed in an error (its refused characters replaced)."""
    return "".join("\ufffd" if text_problem(c) else c for c in name)


def _check(errors: list[dict[str, Any]], loc: tuple[str, ...], value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        errors.append(
            {
                "type": INVALID_CHARACTERS,
                "loc": loc,
                "msg": problem.message,
                "input": None,  # never echo what was refused
                "ctx": {"reason": problem.value},
            }
        )


def input_guard(*, data_headers: Iterable[str] = ()) -> Callable[[Request], Awaitable[None]]:
    """The dependency to give ``FastAPI(dependencies=[Depends(input_guard(...))])``.

    ``data_headers`` are the request headers the service keeps as data (checkout's
    ``Idempotency-Key``); other headers are the HTTP server's and the framework's business.
    """
    headers = tuple(data_headers)

    async def guard(request: Request) -> None:
        errors: list[dict[str, Any]] = []
        for name, value in request.path_params.items():
            if isinstance(value, str):
                _check(errors, ("path", name), value)
        for name, value in request.query_params.multi_items():
            _check(errors, ("query", _shown(name)), name)
            _check(errors, ("query", _shown(name)), value)
        for header in headers:
            value = request.headers.get(header)
            if value is not None:
                _check(errors, ("header", header), value)
        if errors:
            raise RequestValidationError(errors)

    return guard
