"""The order history's rules: statuses (only forward), timeline steps, their French labels."""

from __future__ import annotations

from enum import StrEnum

# --- order history ---------------------------------------------------------------------------


class OrderStatus(StrEnum):
    """Where an order stands, as "Mes commandes" shows it."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    BACKORDERED = "backordered"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PAYMENT_REFUSED = "payment_refused"


STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.PLACED: "Paiement en cours de validation",
    OrderStatus.CONFIRMED: "Commande validée",
    OrderStatus.RELEASED: "Transmise à notre équipe logistique",
    OrderStatus.BACKORDERED: "En cours de réapprovisionnement",
    OrderStatus.PROCESSING: "En cours de traitement",
    OrderStatus.SHIPPED: "Expédiée",
    OrderStatus.DELIVERED: "Livrée",
    OrderStatus.CANCELLED: "Annulée",
    OrderStatus.PAYMENT_REFUSED: "Paiement refusé",
}

# Events of one order arrive on several topics, so not necessarily in order: the status only
# moves forward along this ranking; cancellation and refusal end the order.
_RANK: dict[OrderStatus, int] = {
    OrderStatus.PLACED: 0,
    OrderStatus.CONFIRMED: 1,
    OrderStatus.RELEASED: 2,
    OrderStatus.BACKORDERED: 3,
    OrderStatus.PROCESSING: 4,
    OrderStatus.SHIPPED: 5,
    OrderStatus.DELIVERED: 6,
    OrderStatus.CANCELLED: 100,
    OrderStatus.PAYMENT_REFUSED: 100,
}


def next_status(current: OrderStatus | None, reported: OrderStatus) -> OrderStatus:
    """The status after an event reporting ``reported`` (never moves backwards)."""
    if current is None:
        return reported
    if _RANK[current] >= 100:
        return current
    return reported if _RANK[reported] > _RANK[current] else current


class TimelineStep(StrEnum):
    """One line of an order's timeline."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    MODIFIED = "modified"
    CANCELLED = "cancelled"
    RELEASED = "released"
    PAYMENT_REFUSED = "payment_refused"
    BACKORDERED = "backordered"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    INVOICE_ISSUED = "invoice_issued"
    CREDIT_NOTE_ISSUED = "credit_note_issued"
    REFUNDED = "refunded"


TIMELINE_LABELS: dict[TimelineStep, str] = {
    TimelineStep.PLACED: "Commande passée",
    TimelineStep.CONFIRMED: "Paiement accepté, commande validée",
    TimelineStep.MODIFIED: "Commande modifiée",
    TimelineStep.CANCELLED: "Commande annulée",
    TimelineStep.RELEASED: "Commande transmise à notre équipe logistique",
    TimelineStep.PAYMENT_REFUSED: "Paiement refusé",
    TimelineStep.BACKORDERED: "Article(s) en cours de réapprovisionnement",
    TimelineStep.PROCESSING: "Commande en cours de traitement",
    TimelineStep.SHIPPED: "Colis remis au transporteur",
    TimelineStep.DELIVERED: "Colis livré",
    TimelineStep.INVOICE_ISSUED: "Facture disponible",
    TimelineStep.CREDIT_NOTE_ISSUED: "Avoir disponible",
    TimelineStep.REFUNDED: "Remboursement effectué",
}

STEP_STATUS: dict[TimelineStep, OrderStatus] = {
    TimelineStep.PLACED: OrderStatus.PLACED,
    TimelineStep.CONFIRMED: OrderStatus.CONFIRMED,
    TimelineStep.CANCELLED: OrderStatus.CANCELLED,
    TimelineStep.RELEASED: OrderStatus.RELEASED,
    TimelineStep.PAYMENT_REFUSED: OrderStatus.PAYMENT_REFUSED,
    TimelineStep.BACKORDERED: OrderStatus.BACKORDERED,
    TimelineStep.PROCESSING: OrderStatus.PROCESSING,
    TimelineStep.SHIPPED: OrderStatus.SHIPPED,
    TimelineStep.DELIVERED: OrderStatus.DELIVERED,
}
"""The status a timeline step reports, when it reports one."""


def invoice_download_url(payment_public_url: str, download_path: str) -> str:
    """Absolute link to an invoice PDF on payment's HTTP API."""
    return payment_public_url.rstrip("/") + download_path
