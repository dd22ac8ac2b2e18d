"""Country codes: ISO 3166-1 alpha-2, the default destinations, the French reasons."""

from typing import Any

import pytest
from jg_web import (
    DEFAULT_COUNTRIES,
    EU_MEMBER_STATES,
    INVALID_COUNTRY_CODE,
    ISO_3166_ALPHA2,
    CountryCode,
    delivery_problem,
    parse_countries,
)
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.unit


class Address(BaseModel):
    country_code: CountryCode


def test_the_iso_list_has_every_assigned_code_and_only_those() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert {"FR", "DE", "MC", "US", "JP", "GP", "RE", "AX"} <= ISO_3166_ALPHA2
    # user-assigned, reserved or withdrawn codes are not countries
    assert not {"XX", "AA", "ZZ", "EU", "UK", "EL", "IC", "EA", "YU"} & ISO_3166_ALPHA2


def test_the_default_destinations_are_the_27_member_states_and_monaco() -> None:
    assert len(EU_MEMBER_STATES) == 27
    assert set(DEFAULT_COUNTRIES) == EU_MEMBER_STATES | {"MC"}
    assert list(DEFAULT_COUNTRIES) == sorted(DEFAULT_COUNTRIES)
    # outside the EU VAT territory: not by default
    assert not {"GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "AX"} & set(
        DEFAULT_COUNTRIES
    )


@pytest.mark.parametrize("code", ["FR", "DE", "US", "JP", "RE"])
def test_an_assigned_code_is_a_valid_country_code(code: str) -> None:
    assert Address(country_code=code).country_code == code


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("XX", "« XX » n'est pas un code de pays ISO 3166-1"),
        ("UK", "« UK » n'est pas un code de pays ISO 3166-1"),
        ("fr", "code ISO à deux lettres majuscules"),
        ("FRA", "code ISO à deux lettres majuscules"),
        ("France", "code ISO à deux lettres majuscules"),
        ("F\x00", "code ISO à deux lettres majuscules"),
        ("", "code ISO à deux lettres majuscules"),
    ],
)
def test_anything_else_is_refused_with_a_french_reason(value: Any, message_part: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Address(country_code=value)
    [error] = caught.value.errors()
    assert error["type"] == INVALID_COUNTRY_CODE
    assert error["loc"] == ("country_code",)
    assert message_part in error["msg"]


def test_the_json_schema_still_shows_two_capital_letters() -> None:
    schema = Address.model_json_schema()["properties"]["country_code"]
    assert schema["pattern"] == "^[A-Z]{2}$"


def test_the_shop_delivers_to_the_allowed_countries_only() -> None:
    assert delivery_problem("FR", DEFAULT_COUNTRIES) is None
    assert delivery_problem("DE", DEFAULT_COUNTRIES) is None
    assert delivery_problem("MC", DEFAULT_COUNTRIES) is None
    assert delivery_problem("US", DEFAULT_COUNTRIES) == (
        "Nous ne livrons pas dans ce pays (« US ») : nous livrons en France, à Monaco et dans "
        "les autres pays de l'Union européenne."
    )
    assert delivery_problem("GP", DEFAULT_COUNTRIES) is not None


def test_with_other_destinations_the_reason_names_them_in_french_order() -> None:
    allowed = ("FR", "RE", "BE", "EE", "JP")
    assert delivery_problem("RE", allowed) is None
    assert delivery_problem("DE", allowed) == (
        "Nous ne livrons pas dans ce pays (« DE ») : nous livrons dans ces pays : Belgique, "
        "Estonie, France, JP, La Réunion."
    )


def test_a_setting_lists_countries_with_commas_or_spaces() -> None:
    assert parse_countries("fr, DE  mc,FR") == ("DE", "FR", "MC")
    assert parse_countries(["RE", "FR"]) == ("FR", "RE")
    with pytest.raises(ValueError, match="XX"):
        parse_countries("FR,XX")
    with pytest.raises(ValueError, match="at least one"):
        parse_countries(" , ")
