"""The console against the real stack (its own PostgreSQL database, Kafka for the dead letters)
and, for the five services, small HTTP servers that answer as the contract of issue 17 says
(the real services are driven by tests/e2e/test_console.py). Each stand-in records what it was
asked, with the Authorization header, so a test sees what the console really sent."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from backoffice.app import create_app
from backoffice.settings import BackofficeSettings
from fastapi import FastAPI
from jg_devstack import Endpoints
from jg_events import DEAD_LETTER_SERVICES, dead_letter_topic
from jg_messaging import Environment, PlatformSettings

PASSWORD = "correct horse battery staple"
MEMBERS = {
    "manager@japangoodz.test": ("Claire Manager", "manager"),
    "agent@japangoodz.test": ("Hugo Agent", "agent"),
}
Reply = tuple[int, Any]
Route = Callable[[dict[str, Any], re.Match[str]], Reply]


@dataclass
class StandIn:
    """One service's stand-in: routes by (method, path regex); every request recorded."""

    name: str
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, pattern: str, route: Route) -> None:
        self.routes[(method, pattern)] = route

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        parsed = json.loads(body) if body else None
        self.requests.append(
            {
                "method": method,
                "path": path,
                "body": parsed,
                "authorization": headers.get("Authorization"),
            }
        )
        for (m, pattern), route in self.routes.items():
            match = re.fullmatch(pattern, path.split("?", 1)[0])
            if m == method and match:
                return route(
                    {"body": parsed, "path": path, "authorization": headers.get("Authorization")},
                    match,
                )
        return 404, {"code": "not_found", "message": "Introuvable."}

    def asked(self, method: str, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(prefix)]


def _serve(stand_in: StandIn) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = stand_in.answer(
                self.command, self.path, self.headers, self.rfile.read(length)
            )
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            kind = "image/png" if isinstance(body, bytes) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _any  # noqa: N815 - http.server's names

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def staff_login(request: dict[str, Any], _: re.Match[str]) -> Reply:
    body = request["body"] or {}
    member = MEMBERS.get(body.get("email", ""))
    if member is None or body.get("password") != PASSWORD:
        return 401, {"code": "invalid_credentials", "message": "Identifiants invalides."}
    name, role = member
    return 200, {
        "access_token": f"staff-token-of-{role}",
        "token_type": "bearer",
        "expires_in": STAFF_TOKEN_SECONDS["value"],
        "member": {
            "id": "6f1c3a52-27c4-4a4e-9d35-4bb1f8a0a001",
            "email": body["email"],
            "name": name,
            "role": role,
        },
    }


STAFF_TOKEN_SECONDS = {"value": 900}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stand_ins() -> Iterator[dict[str, StandIn]]:
    STAFF_TOKEN_SECONDS["value"] = 900
    services = {
        n: StandIn(n) for n in ("accounts", "checkout", "payment", "fulfillment", "notifications")
    }
    services["accounts"].on("POST", "/staff/login", staff_login)
    servers = [_serve(s) for s in services.values()]
    yield services
    for server in servers:
        server.shutdown()
        server.server_close()


async def create_dead_letter_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [dead_letter_topic(s, prefix) for s in DEAD_LETTER_SERVICES]
        names.append(f"{prefix}jg.checkout.orders")
        await admin.create_topics(
            [NewTopic(n, num_partitions=1, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


@dataclass
class Console:
    settings: BackofficeSettings
    stand_ins: dict[str, StandIn]

    @contextlib.asynccontextmanager
    async def running(self, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        """The console with its lifespan, and a browser-like client (cookies, no redirects)."""
        app: FastAPI = create_app(self.settings.model_copy(update=overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://console.test", follow_redirects=False
            ) as client:
                yield client


@pytest.fixture
async def console(
    stack: Endpoints,
    topic_prefix: str,
    fresh_database: Callable[..., str],
    stand_ins: dict[str, StandIn],
) -> Console:
    await create_dead_letter_topics(stack.kafka_bootstrap, topic_prefix)
    settings = BackofficeSettings(
        platform=PlatformSettings(
            environment=Environment.TEST,
            kafka_bootstrap_servers=stack.kafka_bootstrap,
            topic_prefix=topic_prefix,
        ),
        database_url=fresh_database(),
        secure_cookies=False,  # httpx keeps a Secure cookie for https only
        service_timeout=2.0,
        **{f"{name}_url": s.url for name, s in stand_ins.items()},
    )
    return Console(settings, stand_ins)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Sign in through the form; the CSRF token of the session."""
    answer = await client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    page = await client.get("/")
    assert page.status_code == 200
    return csrf_of(page.text)
