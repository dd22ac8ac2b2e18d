"""Unit tests of the platform wiring (e2e harness, demo) and of `make run`'s timings."""

import pytest
from jg_devstack.demo import short_subject
from jg_devstack.launcher import PlatformConfig, Secrets, Timings
from jg_devstack.supervisor import development_env

pytestmark = pytest.mark.unit


def test_services_are_pointed_at_each_other_on_the_ports_chosen() -> None:
    secrets = Secrets.random()
    platform = PlatformConfig(
        ports={
            "checkout": 41001,
            "payment": 41002,
            "fulfillment": 41003,
            "notifications": 41004,
            "accounts": 41005,
        },
        databases={"payment": "postgresql://payment:payment@127.0.0.1:55432/t_1"},
        topic_prefix="e2e1.",
        environment="test",
        secrets=secrets,
        timings=Timings(release_delay_seconds=4, stripe_sync_interval=1),
    )
    checkout = platform.service_env("checkout")
    assert checkout["JG_AUTH_JWKS_URL"] == "http://127.0.0.1:41005/.well-known/jwks.json"
    assert checkout["JG_AUTH_ISSUER"] == "http://127.0.0.1:41005"
    assert checkout["CHECKOUT_HTTP_PORT"] == "41001"
    assert checkout["CHECKOUT_RELEASE_DELAY_SECONDS"] == "4"
    assert checkout["CHECKOUT_STOREFRONT_TOKEN"] == secrets.checkout_storefront
    assert checkout["JG_TOPIC_PREFIX"] == "e2e1." and checkout["JG_ENVIRONMENT"] == "test"
    notifications = platform.service_env("notifications")
    assert notifications["NOTIFICATIONS_PAYMENT_BASE_URL"] == "http://127.0.0.1:41002"
    payment = platform.service_env("payment")
    token = payment["PAYMENT_INTERNAL_TOKEN"]
    assert notifications["NOTIFICATIONS_PAYMENT_INTERNAL_TOKEN"] == token
    assert payment["PAYMENT_DATABASE_URL"].endswith("/t_1")
    assert payment["PAYMENT_STRIPE_SYNC_INTERVAL"] == "1"
    # the link sealing key: accounts seals, notifications opens, nobody else gets it
    accounts = platform.service_env("accounts")
    assert accounts["ACCOUNTS_LINK_SEALING_KEY"] == secrets.link_sealing_key
    assert notifications["NOTIFICATIONS_LINK_SEALING_KEY"] == secrets.link_sealing_key
    assert not [k for k in {**checkout, **payment} if "LINK_SEALING" in k]
    assert platform.service_env("accounts")["ACCOUNTS_PAYMENT_PUBLIC_URL"] == (
        "http://127.0.0.1:41002"
    )
    assert "dev-only" not in secrets.checkout_storefront


def test_the_console_is_pointed_at_the_five_services_and_holds_none_of_their_secrets() -> None:
    ports = {"checkout": 41001, "payment": 41002, "fulfillment": 41003, "notifications": 41004,
             "accounts": 41005, "backoffice": 41006}  # fmt: skip
    secrets = Secrets.random()
    platform = PlatformConfig(ports=ports, topic_prefix="e2e1.", environment="test",
                              secrets=secrets)  # fmt: skip
    console = platform.service_env("backoffice")
    assert console["BACKOFFICE_HTTP_PORT"] == "41006"
    assert console["BACKOFFICE_ACCOUNTS_URL"] == "http://127.0.0.1:41005"
    assert console["BACKOFFICE_CHECKOUT_URL"] == "http://127.0.0.1:41001"
    assert console["BACKOFFICE_NOTIFICATIONS_URL"] == "http://127.0.0.1:41004"
    assert console["JG_TOPIC_PREFIX"] == "e2e1."  # its dead-letter copies follow the run's topics
    # it acts with each member's staff token only: no shared token reaches it
    shared = {v for v in vars(secrets).values()}
    assert not shared & set(console.values())


def test_make_run_timings_yield_to_the_environment() -> None:
    assert development_env("checkout", {}) == {"CHECKOUT_RELEASE_DELAY_SECONDS": "30"}
    assert development_env("checkout", {"CHECKOUT_RELEASE_DELAY_SECONDS": "300"}) == {}
    assert development_env("accounts", {}) == {}


def test_the_demo_shows_subjects_without_the_order_number() -> None:
    assert short_subject("Votre commande n°\u00a0JG-2026-000002 a été expédiée") == (
        "Votre commande a été expédiée"
    )
    invoice = "Votre facture n°\u00a0F-2026-000001"
    assert short_subject(f"{invoice} – commande n°\u00a0JG-2026-000002") == invoice
