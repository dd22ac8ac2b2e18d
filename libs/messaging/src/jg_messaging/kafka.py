"""Kafka connection options shared by the FastStream broker and the outbox relay's producer."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from .settings import PlatformSettings


def kafka_security(platform: PlatformSettings) -> BaseSecurity | None:
    """The FastStream security object for the configured protocol (None for PLAINTEXT)."""
    protocol = platform.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = (
        ssl.create_default_context(cafile=platform.kafka_ssl_ca_file)
        if protocol.endswith("SSL")
        else None
    )
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    username = platform.kafka_sasl_username or ""
    password = (
        platform.kafka_sasl_password.get_secret_value() if platform.kafka_sasl_password else ""
    )
    use_ssl = protocol == "SASL_SSL"
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    cls = sasl[platform.kafka_sasl_mechanism or "SCRAM-SHA-512"]
    return cls(username, password, ssl_context=context, use_ssl=use_ssl)


def client_options(platform: PlatformSettings) -> dict[str, Any]:
    """aiokafka keyword arguments for the same connection (used by the relay's producer)."""
    return parse_security(kafka_security(platform))
