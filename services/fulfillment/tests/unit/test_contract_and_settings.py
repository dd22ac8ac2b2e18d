"""The published logistics contract matches the code; settings refuse development secrets."""

import pytest
from fulfillment import contract
from fulfillment.settings import FulfillmentSettings
from jg_events import Topic, events_on
from jg_messaging import PlatformSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_the_committed_logistics_contract_is_generated_from_the_current_code() -> None:
    assert contract.DOC_PATH.read_text(encoding="utf-8") == contract.render_markdown(), (
        "docs/logistics-contract.md is out of date: run `uv run python -m fulfillment.contract`"
    )


def test_the_contract_documents_every_message_the_team_reads_and_writes() -> None:
    text = contract.render_markdown()
    for event in (*events_on(Topic.LOGISTICS_REQUESTS), *events_on(Topic.LOGISTICS_REPORTS)):
        assert f"### {event.event_type} (v{event.schema_version})" in text
        assert f"libs/events/schemas/{event.event_type}.v{event.schema_version}.json" in text
    assert "jg.fulfillment.dead-letter" in text


def test_production_refuses_the_development_tokens() -> None:
    production = PlatformSettings(environment="production")
    with pytest.raises(ValidationError, match="operator_token"):
        FulfillmentSettings(platform=production, storefront_token="a-real-storefront-secret")
    settings = FulfillmentSettings(
        platform=production,
        database_url="postgresql://fulfillment:s3cret@db.internal:5432/fulfillment",
        operator_token="a-real-operator-secret",
        storefront_token="a-real-storefront-secret",
    )
    assert settings.withdrawal_covers_sale_items  # the law, by default
