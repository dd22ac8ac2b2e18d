"""The French business-day calendar: weekends and the eleven public holidays are not counted."""

from datetime import date, timedelta

import pytest
from jg_web.business_days import (
    add_business_days,
    easter_sunday,
    french_holidays,
    is_business_day,
)

pytestmark = pytest.mark.unit


def test_easter_of_known_years() -> None:
    # dates from the Paris Observatory's tables
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2038) == date(2038, 4, 25)  # the latest possible
    assert easter_sunday(2285) == date(2285, 3, 22)  # the earliest possible


def test_the_holidays_of_2026() -> None:
    assert sorted(french_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Lundi de Pâques
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Lundi de Pentecôte
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]
    assert date(2006, 6, 5) not in french_holidays(2006)  # journée de solidarité
    assert len(french_holidays(2008)) == 10  # Ascension fell on 1 May


def test_the_same_holidays_as_the_holidays_library() -> None:
    holidays = pytest.importorskip("holidays")
    for year in range(1982, 2101):
        assert french_holidays(year) == frozenset(holidays.country_holidays("FR", years=year)), year


def test_business_days() -> None:
    assert is_business_day(date(2026, 7, 13))
    assert not is_business_day(date(2026, 7, 14))  # fête nationale, a Tuesday
    assert not is_business_day(date(2026, 7, 18))  # Saturday
    assert not is_business_day(date(2026, 4, 6))  # Easter Monday


def test_adding_business_days_skips_weekends_and_holidays() -> None:
    # Thursday 30 April 2026: Friday 1 May is a holiday, then the weekend
    assert add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 4)
    # Wednesday 13 May: Ascension Thursday is skipped
    assert add_business_days(date(2026, 5, 13), 1) == date(2026, 5, 15)
    # a Saturday start counts from Monday
    assert add_business_days(date(2026, 3, 7), 1) == date(2026, 3, 9)
    assert add_business_days(date(2026, 3, 2), 10) == date(2026, 3, 16)
    # across the year's end: 25 Dec (Friday) and 1 Jan (Friday) are skipped
    assert add_business_days(date(2026, 12, 24), 2) == date(2026, 12, 29)
    assert add_business_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_zero_and_negative_days() -> None:
    sunday = date(2026, 3, 8)
    assert add_business_days(sunday, 0) == sunday
    # Monday 4 May 2026, one business day back: Friday 1 May is a holiday -> Thursday 30 April
    assert add_business_days(date(2026, 5, 4), -1) == date(2026, 4, 30)
    day = date(2026, 1, 2)
    for n in range(0, 400, 7):
        forward = add_business_days(day, n)
        assert add_business_days(forward, -n) == day
        assert is_business_day(forward) or n == 0
    assert add_business_days(day, 3) - day >= timedelta(days=3)
