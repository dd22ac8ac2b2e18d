"""Settings of the customer-service console (environment variables ``BACKOFFICE_*``)."""

from __future__ import annotations

from jg_events import DEAD_LETTER_SERVICES
from jg_messaging import Environment, ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class BackofficeSettings(ServiceSettings):
    """Everything the console reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", extra="ignore", frozen=True)

    database_url: SecretStr = Field(
        SecretStr("postgresql://backoffice:backoffice@127.0.0.1:55432/backoffice"),
        description="PostgreSQL DSN of the console's database (sessions, audit trail, "
        "dead-letter copies)",
    )
    http_port: int = Field(8006, description="Port of the console's pages")

    # --- The services it reads and acts through ------------------------------------------------
    accounts_url: str = Field("http://127.0.0.1:8005", description="Base URL of accounts' API")
    checkout_url: str = Field("http://127.0.0.1:8001", description="Base URL of checkout's API")
    payment_url: str = Field("http://127.0.0.1:8002", description="Base URL of payment's API")
    fulfillment_url: str = Field(
        "http://127.0.0.1:8003", description="Base URL of fulfillment's API"
    )
    notifications_url: str = Field(
        "http://127.0.0.1:8004", description="Base URL of notifications' API"
    )
    service_timeout: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Seconds one call to a service may take before its block "
        "of the page says it is unavailable",
    )

    # --- Sessions ------------------------------------------------------------------------------
    session_hours: float = Field(
        10.0,
        gt=0,
        le=24,
        description="Hours a console session lasts (a working day); the "
        "staff token inside it lasts 15 minutes, then the member signs in again",
    )
    secure_cookies: bool | None = Field(
        None, description="Mark the session cookie Secure (default: everywhere but development)"
    )

    # --- Dead letters --------------------------------------------------------------------------
    dead_letter_services: tuple[str, ...] = Field(
        DEAD_LETTER_SERVICES,
        description="Services whose dead-letter topic the console copies (its own consumer "
        "group, 'backoffice')",
    )

    @property
    def cookie_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.platform.environment is not Environment.DEVELOPMENT

    def service_url(self, service: str) -> str:
        urls = {
            "accounts": self.accounts_url,
            "checkout": self.checkout_url,
            "payment": self.payment_url,
            "fulfillment": self.fulfillment_url,
            "notifications": self.notifications_url,
        }
        return urls[service].rstrip("/")
