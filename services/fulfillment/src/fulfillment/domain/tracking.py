"""Tracking links: one public tracking page per carrier."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from jg_events import Carrier

_TRACKING_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def normalise_tracking_number(raw: str) -> str | None:
    """Upper case without spaces or dashes; None when it is not a plausible tracking number."""
    cleaned = "".join(ch for ch in raw.strip().upper() if ch not in " -")
    if not 6 <= len(cleaned) <= 40 or not set(cleaned) <= _TRACKING_CHARS:
        return None
    return cleaned


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """The carrier's public tracking page for ``tracking_number`` (French page when offered)."""
    number = quote(tracking_number, safe="")
    match carrier:
        case Carrier.JAPAN_POST_EMS:
            # Japan Post's international tracking (EMS, registered mail), English interface.
            query = urlencode({"searchKind": "S004", "locale": "en", "reqCodeNo1": tracking_number})
            return f"https://trackings.post.japanpost.jp/services/srv/search/direct?{query}"
        case Carrier.DHL:
            return f"https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={number}&submit=1"
        case Carrier.FEDEX:
            return f"https://www.fedex.com/fedextrack/?trknbr={number}&locale=fr_FR"
        case Carrier.UPS:
            return f"https://www.ups.com/track?loc=fr_FR&tracknum={number}"
        case Carrier.COLISSIMO:
            return f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
        case Carrier.CHRONOPOST:
            return (
                "https://www.chronopost.fr/tracking-no-cms/suivi-page"
                f"?listeNumerosLT={number}&langue=fr"
            )
    raise ValueError(f"no tracking page known for carrier {carrier!r}")  # pragma: no cover


CARRIER_LABELS: dict[Carrier, str] = {
    Carrier.JAPAN_POST_EMS: "Japan Post (EMS)",
    Carrier.DHL: "DHL Express",
    Carrier.FEDEX: "FedEx",
    Carrier.UPS: "UPS",
    Carrier.COLISSIMO: "Colissimo",
    Carrier.CHRONOPOST: "Chronopost",
}
