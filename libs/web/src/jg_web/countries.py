"""Country codes: ISO 3166-1 alpha-2, and the countries the shop delivers to.

An address names its country by its ISO 3166-1 alpha-2 code in capitals ("FR"). A code that is
not assigned ("XX") is refused by :data:`CountryCode`, a pydantic type (error type
``invalid_country_code``). Whether the shop delivers there depends on a service setting, so it
is checked apart, by :func:`delivery_problem`, where the settings are known (error code
``country_not_delivered``).

The default destinations (:data:`DEFAULT_COUNTRIES`) are France, the 26 other member states of
the European Union and Monaco:

- **Monaco** is not in the EU but is part of the French VAT territory and of the EU customs
  union: a parcel from Japan clears customs and pays VAT as in France, and the French prices TTC
  (VAT 20 %) of the catalogue are right there.
- The **French overseas departments and regions** (Guadeloupe GP, Martinique MQ, Guyane GF,
  La Réunion RE, Mayotte YT) are in the EU but outside its VAT territory (VAT 8.5 % or none,
  "octroi de mer"), and the other overseas collectivities (PM, BL, MF, WF, PF, NC, TF) outside
  the EU altogether: the catalogue's prices TTC would be wrong there and the carriers' offers
  differ, so they are left out until the shop decides to deliver there; adding their codes to the
  setting is all it takes. Åland (AX), outside the EU VAT area, is left out for the same reason.

ISO 3166-1 assigns no code to the Canary Islands, Ceuta, Melilla or Mount Athos (also outside
the EU VAT area): they share Spain's and Greece's codes and cannot be told apart here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "COUNTRY_NOT_DELIVERED",
    "DEFAULT_COUNTRIES",
    "EU_MEMBER_STATES",
    "INVALID_COUNTRY_CODE",
    "ISO_3166_ALPHA2",
    "CountryCode",
    "check_country_code",
    "delivery_problem",
    "parse_countries",
]

INVALID_COUNTRY_CODE = "invalid_country_code"
COUNTRY_NOT_DELIVERED = "country_not_delivered"

# Every officially assigned ISO 3166-1 alpha-2 code (249; the same list as tzdata's iso3166.tab).
_ISO_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA2: frozenset[str] = frozenset(_ISO_CODES.split())

# The 27 member states of the European Union (Greece is GR in ISO 3166, "EL" only in EU VAT).
_EU_CODES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBER_STATES: frozenset[str] = frozenset(_EU_CODES.split())

DEFAULT_COUNTRIES: tuple[str, ...] = tuple(sorted(EU_MEMBER_STATES | {"MC"}))
"""Where the shop delivers unless configured otherwise: the EU member states and Monaco."""

# French names, for the messages (a code without a name here is shown as its code).
FRENCH_NAMES: dict[str, str] = {
    "AT": "Autriche",
    "BE": "Belgique",
    "BG": "Bulgarie",
    "CY": "Chypre",
    "CZ": "Tchéquie",
    "DE": "Allemagne",
    "DK": "Danemark",
    "EE": "Estonie",
    "ES": "Espagne",
    "FI": "Finlande",
    "FR": "France",
    "GR": "Grèce",
    "HR": "Croatie",
    "HU": "Hongrie",
    "IE": "Irlande",
    "IT": "Italie",
    "LT": "Lituanie",
    "LU": "Luxembourg",
    "LV": "Lettonie",
    "MT": "Malte",
    "NL": "Pays-Bas",
    "PL": "Pologne",
    "PT": "Portugal",
    "RO": "Roumanie",
    "SE": "Suède",
    "SI": "Slovénie",
    "SK": "Slovaquie",
    "MC": "Monaco",
    "AD": "Andorre",
    "CH": "Suisse",
    "GB": "Royaume-Uni",
    "LI": "Liechtenstein",
    "NO": "Norvège",
    "BL": "Saint-Barthélemy",
    "GF": "Guyane",
    "GP": "Guadeloupe",
    "MF": "Saint-Martin",
    "MQ": "Martinique",
    "NC": "Nouvelle-Calédonie",
    "PF": "Polynésie française",
    "PM": "Saint-Pierre-et-Miquelon",
    "RE": "La Réunion",
    "WF": "Wallis-et-Futuna",
    "YT": "Mayotte",
}

_FORMAT = re.compile(r"[A-Z]{2}")
_FORMAT_MESSAGE = (
    "Le pays doit être indiqué par son code ISO à deux lettres majuscules (par exemple « FR » "
    "pour la France)."
)


def check_country_code(value: str) -> str:
    """Pydantic after-validator: an assigned ISO 3166-1 alpha-2 code, in capitals."""
    if not _FORMAT.fullmatch(value):
        raise PydanticCustomError(INVALID_COUNTRY_CODE, _FORMAT_MESSAGE)
    if value not in ISO_3166_ALPHA2:
        raise PydanticCustomError(
            INVALID_COUNTRY_CODE,
            "« {code} » n'est pas un code de pays ISO 3166-1 (par exemple « FR » pour la France).",
            {"code": value},
        )
    return value


CountryCode = Annotated[
    str,
    AfterValidator(check_country_code),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$", "minLength": 2, "maxLength": 2}),
]
"""A country, ISO 3166-1 alpha-2 in capitals (an assigned code)."""


def _sort_key(name: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(c)
    )


def delivery_problem(code: str, allowed: Collection[str]) -> str | None:
    """The French reason why the shop does not deliver to ``code`` (None: it does)."""
    if code in allowed:
        return None
    if set(allowed) == set(DEFAULT_COUNTRIES):
        where = "nous livrons en France, à Monaco et dans les autres pays de l'Union européenne."
    else:
        names = sorted((FRENCH_NAMES.get(c, c) for c in allowed), key=_sort_key)
        where = "nous livrons dans ces pays : " + ", ".join(names) + "."
    return f"Nous ne livrons pas dans ce pays (« {code} ») : {where}"


def parse_countries(value: str | Iterable[str]) -> tuple[str, ...]:
    """A setting's list of countries ("FR,DE,MC", or a list): sorted, each an assigned code."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    codes = [item.strip().upper() for item in items if item.strip()]
    unknown = sorted({c for c in codes if c not in ISO_3166_ALPHA2})
    if unknown:
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
    if not codes:
        raise ValueError("at least one country is needed")
    return tuple(sorted(set(codes)))
