"""The audit trail's entries: who did what, on which order or claim, and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from backoffice.domain.staff import Action


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"  # the service said no (window closed, already resolved...)
    FORBIDDEN = "forbidden"  # the member's role does not allow it
    FAILED = "failed"  # the service was unavailable


OUTCOME_LABELS = {
    Outcome.DONE: "effectué",
    Outcome.REFUSED: "refusé par le service",
    Outcome.FORBIDDEN: "non autorisé",
    Outcome.FAILED: "service indisponible",
}

ACTION_LABELS = {
    Action.SIGN_IN: "Connexion",
    Action.SIGN_OUT: "Déconnexion",
    Action.CANCEL_ORDER: "Annulation de commande",
    Action.RESEND_EMAIL: "Renvoi d’un e-mail",
    Action.RESOLVE_CLAIM: "Décision sur une réclamation",
    Action.COUNT_STOCK: "Inventaire",
    Action.REPLAY_DEAD_LETTER: "Rejeu d’une lettre morte",
    Action.REPLAY_OUTBOX: "Rejeu d’un message en attente",
    Action.READ_AUDIT: "Consultation du journal",
}


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str  # the member's email
    role: str
    action: Action
    outcome: Outcome
    order_id: str | None = None
    claim_id: str | None = None
    target: str | None = None  # an email id, a sku, a dead letter, an outbox row
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]
