"""The French business-day calendar: Monday to Friday, French public holidays excluded.

Delivery promises (« 10 à 15 jours ouvrés ») and legal periods that end on a working day are
counted with it. The holidays are metropolitan France's eleven public holidays (Code du travail,
art. L3133-1), from 1982 on (8 May became a holiday again in 1982): eight on fixed dates and
three after Easter (Easter Monday, Ascension Thursday, Whit Monday). Whit Monday was the
« journée de solidarité » from 2005 to 2007, a working day; it is a holiday again since 2008.
Alsace-Moselle's extra days (Good Friday, 26 December) are not counted: the shop ships from
and promises for the whole of France.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

__all__ = ["add_business_days", "easter_sunday", "french_holidays", "is_business_day"]

_FIXED = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
_SOLIDARITY_YEARS = range(2005, 2008)  # Whit Monday worked (loi du 30 juin 2004)


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (anonymous Gregorian algorithm, « Meeus »)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def french_holidays(year: int) -> frozenset[date]:
    """The French public holidays of ``year`` (computed once per year, then cached)."""
    easter = easter_sunday(year)
    days = {date(year, month, day) for month, day in _FIXED}
    days.add(easter + timedelta(days=1))  # Lundi de Pâques
    days.add(easter + timedelta(days=39))  # Ascension
    if year not in _SOLIDARITY_YEARS:
        days.add(easter + timedelta(days=50))  # Lundi de Pentecôte
    return frozenset(days)


def is_business_day(day: date) -> bool:
    """Monday to Friday, except French public holidays."""
    return day.weekday() < 5 and day not in french_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself is not counted).

    ``0`` gives ``start`` itself, business day or not. A negative ``days`` counts backwards:
    ``-n`` is the n-th business day before ``start``, so that, for a business day ``d``,
    ``add_business_days(add_business_days(d, n), -n) == d``.
    """
    step = timedelta(days=1 if days >= 0 else -1)
    current = start
    remaining = abs(days)
    while remaining:
        current += step
        if is_business_day(current):
            remaining -= 1
    return current
