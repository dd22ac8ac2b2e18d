"""What customer service's search query means."""

import pytest
from checkout.domain.search import OrderSearch, order_search

pytestmark = pytest.mark.unit


def test_a_number_an_email_or_a_name() -> None:
    assert order_search(" jg-2026-000042 ") == OrderSearch(number="JG-2026-000042")
    assert order_search("Camille@Example.FR") == OrderSearch(email="camille@example.fr")
    assert order_search("  Camille   Durand ") == OrderSearch(name_pattern="%Camille Durand%")
    assert order_search("   ") is None


def test_wildcards_typed_in_a_name_match_themselves() -> None:
    assert order_search("100%_a\\b") == OrderSearch(name_pattern="%100\\%\\_a\\\\b%")
