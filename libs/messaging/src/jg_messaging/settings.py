"""Typed settings shared by every service, read from environment variables.

Platform-wide values use the `JG_` prefix (JG_ENVIRONMENT, JG_KAFKA_BOOTSTRAP_SERVERS, ...); a
service's own values use its name (CHECKOUT_DATABASE_URL, ...). Outside development and test a
service refuses to start while a secret still has its development default.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class PlatformSettings(BaseSettings):
    """Settings every service shares (environment variables `JG_*`)."""

    model_config = SettingsConfigDict(env_prefix="JG_", extra="ignore", frozen=True)

    environment: Environment = Field(
        Environment.PRODUCTION,
        description="development, test or production (production unless said otherwise: a "
        "forgotten setting must not skip the production checks)",
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients connect to Kafka (SASL_SSL for the prod cluster)"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism when the protocol is SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_username: str | None = Field(None, description="Kafka user of the service")
    kafka_sasl_password: SecretStr | None = Field(None, description="Password of that user")
    kafka_ssl_ca_file: str | None = Field(
        None, description="CA bundle (PEM) to verify the brokers' certificates; system CAs if unset"
    )
    topic_prefix: str = Field(
        "", description="Prefix of every topic name (tests use a unique one per run)"
    )
    log_level: str = Field("INFO", description="Log level")
    log_json: bool | None = Field(
        None, description="JSON logs (default: JSON unless stderr is a terminal)"
    )

    @model_validator(mode="after")
    def _sasl_is_complete(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"JG_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "JG_KAFKA_SASL_MECHANISM, JG_KAFKA_SASL_USERNAME and JG_KAFKA_SASL_PASSWORD"
            )
        return self


class ServiceSettings(BaseSettings):
    """Base of a service's settings. Subclasses set `env_prefix` to `<SERVICE>_`."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # Secret values that must not reach production unchanged.
    development_secrets: ClassVar[frozenset[str]] = frozenset()

    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    database_url: SecretStr = Field(description="PostgreSQL DSN of the service's own database")
    http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on")
    http_port: int = Field(description="Port the HTTP API listens on")
    max_body_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=10 * 1024 * 1024,
        description="Largest request body accepted, in bytes, counted as it is read (413 past "
        "it); routes with their own cap (uploads, webhooks) say so",
    )
    outbox_poll_interval: float = Field(
        2.0, gt=0, description="Seconds between outbox polls when no NOTIFY woke the relay"
    )
    outbox_batch_size: int = Field(200, gt=0, le=10_000, description="Outbox rows per relay batch")
    outbox_park_after_attempts: int = Field(
        10,
        ge=1,
        le=1000,
        description="Failed publications of an outbox row, on its own account, before it is parked",
    )
    retry_attempts: int = Field(5, ge=1, le=50, description="Handler attempts before dead letter")
    consumer_concurrency: int = Field(
        16,
        ge=1,
        le=1000,
        description="Events handled at once by the service's consumer, key-ordered: events of "
        "one partition with different keys (orders) run concurrently, those with the same key "
        "in order; 1 handles one event at a time",
    )

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.platform.environment in (Environment.DEVELOPMENT, Environment.TEST):
            return self
        markers = self.development_markers()
        leaked = []
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if not isinstance(value, SecretStr):
                continue
            secret = value.get_secret_value()
            default = field.get_default(call_default_factory=True)
            is_default = isinstance(default, SecretStr) and default.get_secret_value() == secret
            if is_default or any(marker in secret for marker in markers):
                leaked.append(name)
        if leaked:
            raise ValueError(
                f"refusing to start in {self.platform.environment}: "
                f"development default secret(s) still set: {', '.join(sorted(leaked))} "
                "(JG_ENVIRONMENT=development on a developer's machine; production is the "
                "default)"
            )
        return self

    def development_markers(self) -> frozenset[str]:
        """Substrings that betray a development secret (override to add the service's own)."""
        return frozenset({"dev-only", "change-me"}) | self.development_secrets


def require_https(url: str, setting: str, environment: Environment) -> str:
    """``url`` itself; outside development and test it must be https (a key, a token or a card
    payment must not cross the network in clear, nor trust an answer anyone could forge)."""
    if environment is Environment.PRODUCTION and not url.lower().startswith("https://"):
        raise ValueError(f"{setting} must be an https:// URL in production (got {url!r})")
    return url
