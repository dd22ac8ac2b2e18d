"""The five services as real processes, wired to each other: for end-to-end tests and the demo.

:class:`PlatformConfig` says where each service listens, which database and topic prefix it
uses, which secrets and timings it gets, and turns that into each service's environment
(``<SERVICE>_*`` and ``JG_*`` variables, the cross-service URLs pointing at each other).
:class:`ServiceProcesses` starts ``python -m <service>`` for each, logs to one file per service,
waits for every ``/ready`` and stops them (SIGTERM to the process group, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from jg_devstack import config
from jg_devstack.config import HOST
from jg_devstack.stack import Endpoints
from jg_devstack.traces import exporter_env

SERVICES: tuple[str, ...] = ("accounts", "payment", "checkout", "fulfillment", "notifications")
"""The platform's services, in start order (accounts first: the others fetch its keys)."""
CONSOLE = "backoffice"
"""The customer-service console: started after the five (it calls them), by the browser tests."""
# What `make run` prints for the console (accounts seeds these members in development only).
DEV_STAFF_EMAIL = "manager@japangoodz.test"
DEV_STAFF_PASSWORD = "dev-only-staff-password"  # noqa: S105 - development seed, refused elsewhere

# Development defaults of the services' tokens (what `make run` uses).
DEV_CHECKOUT_STOREFRONT_TOKEN = "dev-only-storefront-token-change-me"  # noqa: S105
DEV_FULFILLMENT_STOREFRONT_TOKEN = "dev-only-storefront-token"  # noqa: S105
DEV_FULFILLMENT_OPERATOR_TOKEN = "dev-only-fulfillment-operator-token"  # noqa: S105
DEV_ACCOUNTS_OPERATOR_TOKEN = "dev-only-operator-token"  # noqa: S105
DEV_PAYMENT_INTERNAL_TOKEN = "dev-only-notifications-payment-token"  # noqa: S105
DEV_WEBHOOK_SECRET = "whsec_dev-only-payment-webhook-secret"  # noqa: S105
DEV_LINK_SEALING_KEY = "dev-only-account-link-sealing-key"


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Secrets:
    """Tokens the services share with their callers."""

    checkout_storefront: str = DEV_CHECKOUT_STOREFRONT_TOKEN
    fulfillment_storefront: str = DEV_FULFILLMENT_STOREFRONT_TOKEN
    fulfillment_operator: str = DEV_FULFILLMENT_OPERATOR_TOKEN
    accounts_operator: str = DEV_ACCOUNTS_OPERATOR_TOKEN
    payment_internal: str = DEV_PAYMENT_INTERNAL_TOKEN
    stripe_webhook: str = DEV_WEBHOOK_SECRET
    link_sealing_key: str = DEV_LINK_SEALING_KEY  # accounts seals, notifications opens

    @classmethod
    def random(cls) -> Secrets:
        """Fresh tokens (tests): nothing can pass with a default."""

        def token(name: str) -> str:
            return f"e2e-{name}-{secrets.token_urlsafe(18)}"

        return cls(
            checkout_storefront=token("storefront"),
            fulfillment_storefront=token("fulfillment-storefront"),
            fulfillment_operator=token("operator"),
            accounts_operator=token("accounts-operator"),
            payment_internal=token("internal"),
            stripe_webhook=f"whsec_{secrets.token_urlsafe(24)}",
            link_sealing_key=token("link-sealing-key"),
        )


@dataclass(frozen=True)
class Timings:
    """How fast the platform moves; the services' defaults are production's."""

    release_delay_seconds: float | None = None  # checkout's modification window (300 s)
    release_poll_interval: float | None = None
    stripe_sync_interval: float | None = None  # payment's read-back of pending intents (15 s)
    outbox_poll_interval: float | None = None
    dispatch_poll_interval: float | None = None  # notifications' mail queue
    mail_retry_first_delay: float | None = None
    mail_retry_max_delay: float | None = None
    fast_password_hashing: bool = False  # argon2id at a test cost

    def env(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        env: dict[str, str] = {}

        def put(name: str, value: float | None) -> None:
            if value is not None:
                env[name] = str(value)

        put(f"{prefix}_OUTBOX_POLL_INTERVAL", self.outbox_poll_interval)
        if service == "checkout":
            put("CHECKOUT_RELEASE_DELAY_SECONDS", self.release_delay_seconds)
            put("CHECKOUT_RELEASE_POLL_INTERVAL", self.release_poll_interval)
        elif service == "payment":
            put("PAYMENT_STRIPE_SYNC_INTERVAL", self.stripe_sync_interval)
        elif service == "notifications":
            put("NOTIFICATIONS_DISPATCH_POLL_INTERVAL", self.dispatch_poll_interval)
            put("NOTIFICATIONS_RETRY_FIRST_DELAY", self.mail_retry_first_delay)
            put("NOTIFICATIONS_RETRY_MAX_DELAY", self.mail_retry_max_delay)
        elif service == "accounts" and self.fast_password_hashing:
            env |= {
                "ACCOUNTS_ARGON2_TIME_COST": "1",
                "ACCOUNTS_ARGON2_MEMORY_KIB": "8192",
                "ACCOUNTS_ARGON2_PARALLELISM": "1",
            }
        return env


@dataclass(frozen=True)
class PlatformConfig:
    """Where the five services listen and how they are wired to each other."""

    ports: Mapping[str, int] = field(default_factory=lambda: dict(config.SERVICE_HTTP_PORTS))
    databases: Mapping[str, str] = field(default_factory=dict)  # service -> DSN
    topic_prefix: str = ""
    environment: str = "development"
    secrets: Secrets = field(default_factory=Secrets)
    timings: Timings = field(default_factory=Timings)
    endpoints: Endpoints = field(default_factory=Endpoints)
    authentication_url_template: str | None = None
    log_json: bool = False
    otlp_endpoint: str | None = None
    """Where the services export their spans (OTLP/HTTP), e.g. a ``jg_devstack.traces`` receiver."""

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    def database(self, service: str) -> str:
        return self.databases.get(service) or self.endpoints.service_dsn(service)

    def service_env(self, service: str) -> dict[str, str]:
        """Every variable ``service`` needs to join this platform."""
        prefix = service.upper()
        issuer = self.url("accounts")
        env = {
            "JG_ENVIRONMENT": self.environment,
            "JG_KAFKA_BOOTSTRAP_SERVERS": self.endpoints.kafka_bootstrap,
            "JG_TOPIC_PREFIX": self.topic_prefix,
            "JG_LOG_JSON": "true" if self.log_json else "false",
            "JG_AUTH_ISSUER": issuer,
            "JG_AUTH_JWKS_URL": f"{issuer}/.well-known/jwks.json",
            f"{prefix}_DATABASE_URL": self.database(service),
            f"{prefix}_HTTP_HOST": HOST,
            f"{prefix}_HTTP_PORT": str(self.ports[service]),
        }
        s = self.secrets
        if service == "checkout":
            env["CHECKOUT_STOREFRONT_TOKEN"] = s.checkout_storefront
        elif service == "payment":
            env |= {
                "PAYMENT_STRIPE_API_BASE": self.endpoints.localstripe_url,
                "PAYMENT_STRIPE_API_KEY": self.endpoints.stripe_api_key,
                "PAYMENT_STRIPE_WEBHOOK_SECRET": s.stripe_webhook,
                "PAYMENT_INTERNAL_TOKEN": s.payment_internal,
            }
            if self.authentication_url_template:
                env["PAYMENT_AUTHENTICATION_URL_TEMPLATE"] = self.authentication_url_template
        elif service == "fulfillment":
            env |= {
                "FULFILLMENT_STOREFRONT_TOKEN": s.fulfillment_storefront,
                "FULFILLMENT_OPERATOR_TOKEN": s.fulfillment_operator,
            }
        elif service == "notifications":
            env |= {
                "NOTIFICATIONS_SMTP_HOST": self.endpoints.mailpit_smtp_host,
                "NOTIFICATIONS_SMTP_PORT": str(self.endpoints.mailpit_smtp_port),
                "NOTIFICATIONS_PAYMENT_BASE_URL": self.url("payment"),
                "NOTIFICATIONS_PAYMENT_INTERNAL_TOKEN": s.payment_internal,
                "NOTIFICATIONS_LINK_SEALING_KEY": s.link_sealing_key,
            }
        elif service == CONSOLE:
            env |= {
                f"BACKOFFICE_{name.upper()}_URL": self.url(name)
                for name in SERVICES
                if name in self.ports
            }
            # plain http on the loopback: a browser keeps no Secure cookie of http://127.0.0.1
            env["BACKOFFICE_SECURE_COOKIES"] = "false"
        elif service == "accounts":
            env |= {
                "ACCOUNTS_PAYMENT_PUBLIC_URL": self.url("payment"),
                "ACCOUNTS_OPERATOR_TOKEN": s.accounts_operator,
                "ACCOUNTS_LINK_SEALING_KEY": s.link_sealing_key,
            }
        if self.otlp_endpoint:
            env |= exporter_env(self.otlp_endpoint)
        return env | self.timings.env(service)


class PlatformError(RuntimeError):
    """A service did not start or did not become ready."""


@dataclass
class ServiceProcess:
    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class ServiceProcesses:
    """``python -m <service>`` for each service of a :class:`PlatformConfig`."""

    def __init__(
        self,
        platform: PlatformConfig,
        log_dir: Path,
        services: tuple[str, ...] = SERVICES,
        *,
        cwd: Path | None = None,
    ) -> None:
        self.platform = platform
        self.log_dir = log_dir
        self.services = services
        self.cwd = cwd or config.find_repo_root()
        self.running: dict[str, ServiceProcess] = {}

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.services:
            self.start_one(name, mode="wb")

    def start_one(self, name: str, *, mode: str = "ab") -> ServiceProcess:
        """Start service ``name`` (again: its log is appended to)."""
        log = self.log_dir / f"{name}.log"
        env = {
            **os.environ,
            **self.platform.service_env(name),
            "PYTHONUNBUFFERED": "1",
        }
        with log.open(mode) as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", name],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = ServiceProcess(name, self.platform.url(name), log, process)
        self.running[name] = service
        return service

    def crash(self, name: str) -> None:
        """``kill -9`` service ``name`` (its whole process group), as a crashed pod."""
        service = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(10)

    def wait_ready(self, timeout: float = 90.0, names: set[str] | None = None) -> None:
        """Poll every ``/ready`` until all answer 200; fail at once if a process exits."""
        deadline = time.monotonic() + timeout
        waiting = set(self.running) if names is None else set(names)
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                for name in sorted(waiting):
                    service = self.running[name]
                    if not service.alive:
                        raise PlatformError(
                            f"{name} exited with code {service.process.returncode} before "
                            f"being ready; log {service.log}:\n{tail(service.log)}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{service.url}/ready").status_code == 200:
                            waiting.discard(name)
                if not waiting:
                    return
                if time.monotonic() > deadline:
                    details = "\n\n".join(
                        f"{n} ({self.running[n].log}):\n{tail(self.running[n].log)}"
                        for n in sorted(waiting)
                    )
                    raise PlatformError(f"not ready within {timeout:.0f}s:\n{details}")
                time.sleep(0.25)

    def stop(self, grace: float = 10.0) -> None:
        for service in self.running.values():
            if service.alive:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in self.running.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                service.process.wait(remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait(5)

    def __enter__(self) -> ServiceProcesses:
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Platform:
    """A running platform: its wiring, its processes, the stack under it."""

    config: PlatformConfig
    processes: ServiceProcesses

    @property
    def stack(self) -> Endpoints:
        return self.config.endpoints

    @property
    def secrets(self) -> Secrets:
        return self.config.secrets

    def url(self, service: str) -> str:
        return self.config.url(service)


__all__ = [
    "CONSOLE",
    "DEV_STAFF_EMAIL",
    "DEV_STAFF_PASSWORD",
    "SERVICES",
    "Platform",
    "PlatformConfig",
    "PlatformError",
    "Secrets",
    "ServiceProcess",
    "ServiceProcesses",
    "Timings",
    "free_port",
    "tail",
]
