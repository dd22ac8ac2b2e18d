"""One order's timeline, merged from the four services' answers and sorted by time (pure).

Each service answers JSON; these functions read only what they need (``.get``), so a field a
service adds later changes nothing, and a service that did not answer contributes nothing (its
block of the page says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.domain.wording import (
    CLAIM_KINDS,
    DOCUMENT_KINDS,
    EMAIL_STATUS,
    PAYMENT_KINDS,
    RESOLUTIONS,
    euros,
    label,
    parse_time,
)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str  # "commande", "paiement", "logistique", "e-mail"
    title: str
    detail: str = ""
    link: str | None = None  # a tracking page or a PDF (proxied by the console)
    link_label: str = ""


def _entry(at: object, source: str, title: str, detail: str = "", **kw: Any) -> list[Entry]:
    when = parse_time(at)
    return [] if when is None else [Entry(when, source, title, detail, **kw)]


def checkout_entries(order: Json) -> list[Entry]:
    """Status changes and modifications, as checkout's timeline says them."""
    entries: list[Entry] = []
    for item in order.get("timeline") or ():
        entries += _entry(item.get("at"), "commande", str(item.get("label") or item.get("kind")))
    return entries


def payment_entries(payments: Json) -> list[Entry]:
    """Authorisation, capture, refunds; invoices and credit notes with their PDF."""
    entries: list[Entry] = []
    for event in payments.get("events") or ():
        amount = euros(event.get("amount"))
        detail = " — ".join(part for part in (amount, str(event.get("detail") or "")) if part)
        entries += _entry(
            event.get("at"), "paiement", label(PAYMENT_KINDS, event.get("kind")), detail
        )
    for doc in payments.get("documents") or ():
        number = str(doc.get("number") or "")
        entries += _entry(
            doc.get("issued_at"),
            "paiement",
            f"{label(DOCUMENT_KINDS, doc.get('kind'))} {number}",
            euros(doc.get("amount")),
            link=f"/documents/{number}.pdf" if number else None,
            link_label="PDF",
        )
    return entries


def fulfillment_entries(file: Json) -> list[Entry]:
    """Hand-off to logistics, parcels (with their tracking page), returns and claims."""
    entries = _entry(file.get("handed_off_at"), "logistique", "Remise à la logistique")
    for parcel in file.get("parcels") or ():
        number = str(parcel.get("tracking_number") or "")
        entries += _entry(
            parcel.get("picked_up_at"),
            "logistique",
            f"Colis expédié {number}".strip(),
            str(parcel.get("carrier_label") or parcel.get("carrier") or ""),
            link=parcel.get("tracking_url"),
            link_label="Suivre le colis",
        )
        entries += _entry(parcel.get("delivered_at"), "logistique", f"Colis livré {number}")
    for ret in file.get("returns") or ():
        entries += _entry(
            ret.get("requested_at") or ret.get("created_at"), "logistique", "Retour demandé"
        )
        entries += _entry(ret.get("received_at"), "logistique", "Retour reçu à l’entrepôt")
    for claim in file.get("claims") or ():
        kind = label(CLAIM_KINDS, claim.get("kind"))
        entries += _entry(claim.get("opened_at"), "logistique", f"Réclamation ouverte ({kind})")
        if claim.get("resolved_at"):
            decision = label(RESOLUTIONS, claim.get("resolution"))
            entries += _entry(
                claim.get("resolved_at"),
                "logistique",
                f"Réclamation résolue\u00a0: {decision}",
                euros(claim.get("refund_amount")),
            )
    return entries


def email_entries(emails: Iterable[Json]) -> list[Entry]:
    """Each email the customer was sent: its subject and whether it left."""
    entries: list[Entry] = []
    for email in emails:
        status = label(EMAIL_STATUS, email.get("status"))
        entries += _entry(
            email.get("sent_at") or email.get("created_at"),
            "e-mail",
            str(email.get("subject") or email.get("template") or ""),
            status,
        )
    return entries


def merge(*parts: Iterable[Entry]) -> list[Entry]:
    """Every entry once, oldest first (ties keep the services' order)."""
    return sorted((entry for part in parts for entry in part), key=lambda e: e.at)
