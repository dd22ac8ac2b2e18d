"""Fetching an invoice (or credit note) PDF from payment's HTTP API, at send time."""

from __future__ import annotations

import httpx
from jg_messaging import TracedTransport

from notifications.mail import InvoiceUnavailableError

__all__ = ["InvoiceClient"]


class InvoiceClient:
    """GET ``<payment_base_url><download_path>`` with the internal token (Bearer)."""

    def __init__(self, base_url: str, token: str, *, timeout: float) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/pdf"},
            timeout=timeout,
            transport=TracedTransport(peer="payment"),  # a client span, traceparent sent
        )

    async def fetch(self, path: str) -> bytes:
        try:
            response = await self._client.get(path)
        except httpx.HTTPError as exc:
            raise InvoiceUnavailableError(f"GET {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise InvoiceUnavailableError(f"GET {path}: HTTP {response.status_code}")
        if not response.content.startswith(b"%PDF-"):
            raise InvoiceUnavailableError(f"GET {path}: the answer is not a PDF")
        return response.content

    async def aclose(self) -> None:
        await self._client.aclose()
