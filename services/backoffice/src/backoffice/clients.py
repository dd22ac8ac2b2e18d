"""The services' HTTP APIs, as the console calls them (httpx), with the member's staff token.

Every call carries ``Authorization: Bearer <the member's staff token>``. What can go wrong is
said by three exceptions the routes turn into a page: :class:`UnavailableError` (the service
did not answer, or answered 5xx: its block of the page says so politely),
:class:`RefusedError` (a 4xx with the service's French message: shown as it is),
:class:`SignInAgainError` (401: the staff token ran out or was revoked: back to the sign-in
page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

SERVICE_NAMES_FR = {
    "accounts": "comptes",
    "checkout": "commandes",
    "payment": "paiements",
    "fulfillment": "logistique",
    "notifications": "e-mails",
}


class ServiceError(Exception):
    def __init__(self, service: str, status: int | None, message: str) -> None:
        super().__init__(f"{service}: {status} {message}")
        self.service = service
        self.status = status
        self.message = message


class UnavailableError(ServiceError):
    """The service did not answer in time, or failed (5xx)."""


class RefusedError(ServiceError):
    """The service refused the request (4xx); ``message`` is its French reason."""


class ForbiddenError(RefusedError):
    """403: the member's role does not allow it."""


class SignInAgainError(ServiceError):
    """401: the staff token is no longer accepted."""


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("detail") or "")
    return ""


@dataclass
class Services:
    """One httpx client for every service; ``token`` is the member's staff token."""

    urls: dict[str, str]
    timeout: float
    transport: httpx.AsyncBaseTransport | None = None

    def __post_init__(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, transport=self.transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{self.urls[service]}{path}"
        try:
            response = await self._client.request(
                method, url, headers=headers, json=json, params=params
            )
        except httpx.HTTPError as exc:
            log.warning("service_unreachable", service=service, path=path, error=type(exc).__name__)
            raise UnavailableError(service, None, type(exc).__name__) from exc
        status = response.status_code
        if status >= 500:
            log.warning("service_failed", service=service, path=path, status=status)
            raise UnavailableError(service, status, _message(response))
        if status == 401 and token:
            raise SignInAgainError(service, status, _message(response))
        if status == 403:
            raise ForbiddenError(service, status, _message(response))
        if status >= 400:
            raise RefusedError(service, status, _message(response))
        return response

    async def get_json(self, service: str, path: str, token: str, **kw: Any) -> Any:
        return (await self.call(service, "GET", path, token=token, **kw)).json()
