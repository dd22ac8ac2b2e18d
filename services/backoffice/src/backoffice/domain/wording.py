"""French wording of the console: amounts, dates, statuses (pure)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"
NNBSP = "\u202f"


def euros(value: object) -> str:
    """'1 234,50 €' from a decimal string or Decimal (never a float); '' when absent."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{NNBSP.join(groups)},{cents}{NBSP}€"


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from a service's JSON (naive ones are UTC); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed


def paris_time(value: datetime | None) -> str:
    """'02/12/2026 à 15:04' in Paris time; '' when absent."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H:%M")


def french_date(value: object) -> str:
    """'16/12/2026' from '2026-12-16' (a service's JSON date); the value itself when not one."""
    text = str(value or "")
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


EMAIL_STATUS = {
    "pending": "en attente d’envoi",
    "sent": "envoyé",
    "failed": "échec d’envoi",
    "suppressed": "non envoyé (adresse bloquée)",
}

PAYMENT_KINDS = {
    "authorised": "Paiement autorisé",
    "authorized": "Paiement autorisé",
    "authentication_required": "Authentification 3-D Secure demandée",
    "refused": "Paiement refusé",
    "captured": "Paiement encaissé",
    "released": "Autorisation libérée",
    "refunded": "Remboursement effectué",
    "authorising": "Autorisation du paiement en cours",
    "refund_pending": "Remboursement en cours",
    "refund_failed": "Échec du remboursement",
    "refund_rejected": "Remboursement refusé par la banque",
}

DOCUMENT_KINDS = {"invoice": "Facture", "credit_note": "Avoir"}

CLAIM_KINDS = {"missing_item": "article manquant", "damaged_item": "article endommagé"}

CLAIM_STATUS = {"open": "à traiter", "resolved": "résolue"}

RESOLUTIONS = {"refund": "remboursement", "reship": "renvoi", "rejected": "refus"}

DLQ_REASONS = {"unreadable": "message illisible", "handler_failed": "échec du traitement"}


def label(table: dict[str, str], value: object) -> str:
    """The French label of a machine value, or the value itself when unknown."""
    text = str(value or "")
    return table.get(text, text)


def parse_euros(text: str) -> Decimal | None:
    """'12,50' or '12.50' → Decimal('12.50'); '' → None; ValueError when it is no amount in
    euros (negative, more than two decimals, not a number)."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(text)
    return amount.quantize(Decimal("0.01"))
