"""Dates as French writes them for a person: ``1er avril 2026``, ``mercredi 2 avril 2026``.

Babel's fr_FR formats write ``1 avril``; French writes the first day of a month as an ordinal,
``1er`` (Imprimerie nationale, Lexique des règles typographiques). Pure Python: the services
that print dates (emails, invoice PDFs) share this one function.
"""

from __future__ import annotations

from datetime import date

__all__ = ["MONTHS", "WEEKDAYS", "french_date"]

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def french_date(value: date, *, weekday: bool = False) -> str:
    """``"1er avril 2026"``, ``"16 mars 2026"``; with ``weekday``, ``"mercredi 1er avril 2026"``.

    A ``datetime`` is written as its own date: convert it to the reader's time zone first.
    """
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[value.month - 1]} {value.year}"
    return f"{WEEKDAYS[value.weekday()]} {text}" if weekday else text
