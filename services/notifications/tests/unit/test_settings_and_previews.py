"""Settings refuse unsafe production values; the previews cover every email (no services)."""

import os
from pathlib import Path

import httpx
import pytest
from jg_messaging import Environment, PlatformSettings
from jg_shop import SellerIdentity
from notifications.app import create_app, renderer_for
from notifications.domain import Template
from notifications.preview import main as preview_main
from notifications.settings import NotificationsSettings
from pydantic import SecretStr, ValidationError

pytestmark = pytest.mark.unit


def test_defaults_work_against_the_local_stack() -> None:
    settings = NotificationsSettings()
    assert settings.http_port == 8004
    assert settings.sender == "JapanGoodz <contact@japangoodz.com>"
    assert settings.reply_to_address.addr_spec == "contact@japangoodz.com"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)
    assert settings.payment_base_url == "http://127.0.0.1:8002"


def test_a_give_up_shorter_than_a_day_is_refused_and_the_default_is_five_days() -> None:
    assert NotificationsSettings().give_up_after == 5 * 24 * 3600
    assert NotificationsSettings(give_up_after=24 * 3600).give_up_after == 24 * 3600
    with pytest.raises(ValidationError, match="give_up_after"):
        NotificationsSettings(give_up_after=3600)


def test_sender_and_reply_to_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_SENDER", "Boutique JapanGoodz <boutique@japangoodz.com>")
    monkeypatch.setenv("NOTIFICATIONS_REPLY_TO", "sav@japangoodz.com")
    settings = NotificationsSettings()
    assert settings.sender_address.display_name == "Boutique JapanGoodz"
    assert settings.reply_to_address.addr_spec == "sav@japangoodz.com"
    with pytest.raises(ValidationError):
        NotificationsSettings(sender="not an address")


REAL_SELLER = SellerIdentity(
    legal_name="Kumo Trading SARL",
    legal_form="SARL au capital de 25 000 €",
    address="1 rue X\n75001 Paris\nFrance",
    phone="+33 1 80 00 00 01",
    email="service@kumo.example",
    siren="987654321",
    rcs="RCS Paris 987 654 321",
    vat_number="FR45987654321",
    mediator_name="CM2C",
    mediator_url="https://www.cm2c.net",
    terms_url="https://www.kumo.example/cgv",
)


def test_production_refuses_development_secrets_and_the_sample_seller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in os.environ:
        if name.startswith("JG_SELLER_"):
            monkeypatch.delenv(name)
    production = PlatformSettings(environment=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match=r"payment_internal_token|recipient_hash_key"):
        NotificationsSettings(platform=production, seller=REAL_SELLER)
    safe = {
        "payment_internal_token": SecretStr("s3cr3t-token"),
        "recipient_hash_key": SecretStr("another-s3cr3t"),
        "database_url": SecretStr("postgresql://n:pw@db/n"),
    }
    with pytest.raises(ValidationError, match="link_sealing_key"):
        NotificationsSettings(platform=production, seller=REAL_SELLER, **safe)
    key = SecretStr("0f3c9a1e7b2d4c6e8a0b1c2d")
    with pytest.raises(ValidationError, match="JG_SELLER_ADDRESS") as refused:
        NotificationsSettings(platform=production, link_sealing_key=key, **safe)
    assert "JG_SELLER_MEDIATOR_NAME" in str(refused.value)
    ok = NotificationsSettings(
        platform=production, link_sealing_key=key, seller=REAL_SELLER, **safe
    )
    assert ok.seller.mediator_name == "CM2C"
    with pytest.raises(ValidationError, match="at least 16 characters"):
        NotificationsSettings(link_sealing_key=SecretStr("short"))


def test_the_seller_comes_from_the_platform_wide_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JG_SELLER_ADDRESS", "1 rue X\n75001 Paris")
    monkeypatch.setenv("NOTIFICATIONS_SELLER_ADDRESS", "a removed setting, read by nothing")
    settings = NotificationsSettings()
    assert settings.seller.one_line_address == "1 rue X, 75001 Paris"
    assert renderer_for(settings).shop.seller is settings.seller


def test_the_preview_command_writes_every_email_to_a_folder(tmp_path: Path) -> None:
    assert preview_main([str(tmp_path)]) == 0
    for template in Template:
        html = (tmp_path / f"{template.value}.html").read_text(encoding="utf-8")
        text = (tmp_path / f"{template.value}.txt").read_text(encoding="utf-8")
        assert "<html" in html and text.strip()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{t.value}.html"' in index for t in Template)


async def test_previews_are_served_in_development_only() -> None:
    development = PlatformSettings(environment=Environment.DEVELOPMENT)
    app = create_app(NotificationsSettings(platform=development))  # no lifespan: no connection
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        index = await client.get("/previews")
        assert index.status_code == 200 and "order_confirmed" in index.text
        html = await client.get("/previews/order_confirmed.html")
        assert html.status_code == 200 and "rétractation" in html.text
        assert html.headers["content-type"].startswith("text/html")
        text = await client.get("/previews/payment_refused.txt")
        assert text.status_code == 200 and text.text.startswith("Objet")
        missing = await client.get("/previews/nope.html")
        assert missing.status_code == 404 and missing.json()["code"] == "unknown_template"
    test_env = NotificationsSettings(platform=PlatformSettings(environment=Environment.TEST))
    app = create_app(test_env)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/previews")).status_code == 404


async def test_path_and_query_values_follow_the_text_rule() -> None:
    development = PlatformSettings(environment=Environment.DEVELOPMENT)  # previews served
    app = create_app(NotificationsSettings(platform=development))  # no lifespan: no connection
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/previews/order%00confirmed.html")
        assert response.status_code == 422
        assert response.json() == {
            "code": "invalid_request",
            "message": "La requête contient des erreurs.",
            "details": [
                {
                    "field": "template",
                    "code": "invalid_characters",
                    "message": "Ce champ contient un caractère nul, qui n'est pas accepté.",
                }
            ],
        }
        response = await client.get("/previews?lang=fr%1B")
        assert response.status_code == 422
        assert response.json()["details"][0]["field"] == "lang"
