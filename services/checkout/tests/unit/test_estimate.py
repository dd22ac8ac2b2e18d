"""Delivery estimate: 10 to 15 business days from validation, French public holidays excluded."""

from datetime import UTC, date, datetime

import pytest
from checkout import domain

pytestmark = pytest.mark.unit


def test_may_2026_bridges_and_holidays_push_the_estimate_back() -> None:
    # Validated Wed 29 April 2026: 1 May, 8 May, Ascension (14 May) and Whit Monday (25 May)
    # are French public holidays, weekends are not business days.
    estimate = domain.delivery_estimate(datetime(2026, 4, 29, 9, 0, tzinfo=UTC))
    assert estimate.earliest == date(2026, 5, 18)
    assert estimate.latest == date(2026, 5, 26)


def test_without_holidays_ten_business_days_are_two_weeks() -> None:
    estimate = domain.delivery_estimate(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))  # Wednesday
    assert estimate.earliest == date(2026, 3, 18)
    assert estimate.latest == date(2026, 3, 25)


def test_the_validation_day_is_the_date_in_paris() -> None:
    # Sunday 23:30 UTC is already Monday in Paris: counting starts from Monday.
    estimate = domain.delivery_estimate(datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    assert estimate.earliest == date(2026, 3, 23)


def test_christmas_and_new_year_are_skipped_across_the_year_end() -> None:
    estimate = domain.delivery_estimate(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))  # Monday
    # 22,23,24 | 25 Christmas | 28,29,30,31 | 1 Jan | 4,5,6 -> 10th business day is 6 January
    assert estimate.earliest == date(2027, 1, 6)


def test_business_days_exclude_weekends_and_holidays() -> None:
    assert domain.is_business_day(date(2026, 7, 13))
    assert not domain.is_business_day(date(2026, 7, 14))  # fête nationale
    assert not domain.is_business_day(date(2026, 7, 18))  # Saturday


def test_order_numbers_carry_the_year_of_placement_in_paris() -> None:
    assert domain.order_number(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 123) == "JG-2026-000123"
    # 31 December 23:30 UTC is already New Year's Day in Paris
    assert domain.order_number(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), 7) == "JG-2027-000007"
