"""French labels of the enums the emails explain (refusal reasons, carriers, ...)."""

from __future__ import annotations

from jg_events import (
    CancellationReason,
    Carrier,
    ClaimKind,
    ClaimResolution,
    RefundCause,
    RefusalReason,
)

__all__ = [
    "CANCELLATION_REASONS",
    "CARRIERS",
    "CLAIM_KINDS",
    "CLAIM_RESOLUTIONS",
    "PAYMENT_METHODS",
    "REFUND_CAUSES",
    "REFUSAL_ADVICE",
    "REFUSAL_REASONS",
]

REFUSAL_REASONS: dict[RefusalReason, str] = {
    RefusalReason.INCORRECT_CARD_DETAILS: "les coordonnées bancaires saisies sont incorrectes "
    "(numéro de carte, date d'expiration ou cryptogramme visuel)",
    RefusalReason.LIMIT_REACHED: "le plafond de paiement de votre carte est atteint",
    RefusalReason.INSUFFICIENT_FUNDS: "les fonds disponibles sur votre compte sont insuffisants",
    RefusalReason.AUTHENTICATION_FAILED: "l'authentification du paiement (3-D Secure) n'a pas "
    "abouti",
    RefusalReason.UNSUPPORTED_METHOD: "ce moyen de paiement ne fait pas partie de ceux que "
    "propose notre boutique (cartes Visa, Mastercard et Maestro, ainsi que Revolut Pay)",
    RefusalReason.OTHER: "votre banque a refusé le paiement sans nous en préciser la raison",
}

REFUSAL_ADVICE: dict[RefusalReason, str] = {
    RefusalReason.INCORRECT_CARD_DETAILS: "Vérifiez le numéro, la date d'expiration et le "
    "cryptogramme de votre carte avant de réessayer.",
    RefusalReason.LIMIT_REACHED: "Votre banque peut relever temporairement ce plafond, ou "
    "vous pouvez utiliser un autre moyen de paiement.",
    RefusalReason.INSUFFICIENT_FUNDS: "Vous pouvez utiliser une autre carte ou Revolut Pay, "
    "ou réessayer une fois votre compte approvisionné.",
    RefusalReason.AUTHENTICATION_FAILED: "Lors de votre prochaine tentative, gardez votre "
    "téléphone à portée de main pour valider le paiement dans l'application ou par le code "
    "reçu de votre banque.",
    RefusalReason.UNSUPPORTED_METHOD: "Choisissez une carte Visa, Mastercard ou Maestro, ou "
    "Revolut Pay.",
    RefusalReason.OTHER: "Votre banque pourra vous indiquer la raison de ce refus.",
}

CANCELLATION_REASONS: dict[CancellationReason, str] = {
    CancellationReason.CUSTOMER_REQUEST: "à votre demande",
    CancellationReason.CUSTOMER_SERVICE: "par notre service client",
    CancellationReason.PAYMENT_NOT_COMPLETED: "car le paiement n'a pas été finalisé "
    "(l'authentification demandée par votre banque n'a pas été effectuée)",
    CancellationReason.OTHER: "",
}

CARRIERS: dict[Carrier, str] = {
    Carrier.JAPAN_POST_EMS: "Japan Post (EMS)",
    Carrier.DHL: "DHL Express",
    Carrier.FEDEX: "FedEx",
    Carrier.UPS: "UPS",
    Carrier.COLISSIMO: "Colissimo",
    Carrier.CHRONOPOST: "Chronopost",
}

CLAIM_KINDS: dict[ClaimKind, str] = {
    ClaimKind.MISSING_ITEM: "article manquant",
    ClaimKind.DAMAGED_ITEM: "article endommagé",
}

CLAIM_RESOLUTIONS: dict[ClaimResolution, str] = {
    ClaimResolution.RESHIP: "nous vous renvoyons les articles concernés",
    ClaimResolution.REFUND: "nous vous remboursons les articles concernés",
    ClaimResolution.REJECTED: "nous ne sommes malheureusement pas en mesure d'y donner une "
    "suite favorable",
}

REFUND_CAUSES: dict[RefundCause, str] = {
    RefundCause.RETURN: "votre retour",
    RefundCause.CLAIM: "votre réclamation",
}

PAYMENT_METHODS: dict[str, str] = {"card": "carte bancaire", "revolut_pay": "Revolut Pay"}
