"""Customer service resends an email: when it may, and what it answers when it may not."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ResendRefusal", "StoredEmail", "resend_refusal"]


class ResendRefusal(StrEnum):
    ERASED = "customer_erased"
    SUPPRESSED = "address_suppressed"
    CONTENT_GONE = "content_not_kept"
    STILL_PENDING = "email_pending"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    ResendRefusal.ERASED: "Le client a demandé l'effacement de ses données\u00a0: cet e-mail ne "
    "peut plus lui être renvoyé.",
    ResendRefusal.SUPPRESSED: "Cette adresse ne reçoit plus nos e-mails (désinscription ou "
    "adresse invalide)\u00a0: impossible de renvoyer cet e-mail.",
    ResendRefusal.CONTENT_GONE: "Le contenu de cet e-mail n'est plus conservé (lien à usage "
    "unique, ou e-mail ancien)\u00a0: il ne peut pas être renvoyé.",
    ResendRefusal.STILL_PENDING: "Cet e-mail est encore en cours d'envoi\u00a0: attendez son envoi "
    "avant de le renvoyer.",
}


@dataclass(frozen=True)
class StoredEmail:
    """What the rule needs to know of the original email."""

    status: str
    has_recipient: bool
    has_content: bool
    exempt_from_suppression: bool


def resend_refusal(
    email: StoredEmail, *, customer_erased: bool, address_suppressed: bool
) -> ResendRefusal | None:
    """Why the email cannot be sent again (None: it can, to the same address)."""
    if customer_erased:
        return ResendRefusal.ERASED
    if address_suppressed and not email.exempt_from_suppression:
        return ResendRefusal.SUPPRESSED
    if email.status == "pending":
        return ResendRefusal.STILL_PENDING
    if not email.has_recipient or not email.has_content:
        return ResendRefusal.CONTENT_GONE
    return None
