"""French dates for people: the first of a month is "1er", with or without the weekday."""

from datetime import date, datetime

import pytest
from jg_shop import french_date

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2026, 4, 1), "1er avril 2026"),
        (date(2026, 4, 2), "2 avril 2026"),
        (date(2026, 4, 11), "11 avril 2026"),
        (date(2026, 4, 21), "21 avril 2026"),
        (date(2026, 8, 1), "1er août 2026"),
        (date(2027, 2, 28), "28 février 2027"),
        (date(2026, 12, 31), "31 décembre 2026"),
    ],
)
def test_the_first_of_a_month_is_written_1er_and_no_other_day(day: date, written: str) -> None:
    assert french_date(day) == written


def test_with_the_weekday() -> None:
    assert french_date(date(2026, 4, 1), weekday=True) == "mercredi 1er avril 2026"
    assert french_date(date(2026, 4, 2), weekday=True) == "jeudi 2 avril 2026"
    assert french_date(date(2026, 3, 1), weekday=True) == "dimanche 1er mars 2026"
    assert french_date(date(2026, 3, 16), weekday=True) == "lundi 16 mars 2026"


def test_every_month_and_weekday_of_a_year_has_its_french_name() -> None:
    firsts = [french_date(date(2026, month, 1)) for month in range(1, 13)]
    assert [f.split()[1] for f in firsts] == [
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ]  # fmt: skip
    week = {french_date(date(2026, 3, d), weekday=True).split()[0] for d in range(2, 9)}
    assert week == {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}


def test_a_datetime_is_written_as_its_date() -> None:
    assert french_date(datetime(2026, 5, 1, 23, 59)) == "1er mai 2026"
