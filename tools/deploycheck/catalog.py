"""What the code asks of a deployment: services, their settings (as environment variables), the
topics each one reads and writes. Read from the code itself, so the checks in tests/deploy
follow the services as they change.

- services: every folder under services/ with a pyproject.toml;
- settings: the fields of ``<Name>Settings`` in ``<name>/settings.py`` (env prefix ``<NAME>_``),
  with nested settings classes (``platform`` -> ``JG_*``, ``auth`` -> ``JG_AUTH_*``) expanded
  under their own prefix, and ``JG_AUTH_*`` also for a service that imports ``jg_auth``;
- topics: the service's AsyncAPI document (``create_app()``, then ``GET /asyncapi.json``; no
  connection is opened), whose subscribers are what it reads and whose declared publications
  are what it writes, plus its dead-letter topic.

CLI (for operators): ``uv run python tools/deploycheck/catalog.py settings payment`` lists a
service's variables with their defaults; ``... topics`` prints who reads and writes what.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"


def services() -> list[str]:
    """Names of the services in the repository (folders under services/ with a pyproject)."""
    return sorted(p.name for p in SERVICES_DIR.iterdir() if (p / "pyproject.toml").is_file())


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"{service}.settings")
    name = f"{service.capitalize()}Settings"
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseSettings)):
        raise LookupError(f"{service}/settings.py defines no {name}(BaseSettings)")
    return cls


@dataclass(frozen=True)
class Setting:
    env: str
    owner: str  # the settings class that reads it
    field: str
    secret: bool
    required: bool
    optional: bool  # its default is None: leaving it unset is a meaningful choice
    default: Any
    description: str

    def default_env(self) -> str | None:
        """The default written as the environment variable would carry it (None: unset)."""
        return env_value(self.default)


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _unwrap(arg)]
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return [annotation]


def _is_secret(field: FieldInfo) -> bool:
    return any(a is SecretStr for a in _unwrap(field.annotation))


def _nested_settings(field: FieldInfo) -> type[BaseSettings] | None:
    for arg in _unwrap(field.annotation):
        if isinstance(arg, type) and issubclass(arg, BaseSettings):
            return arg
    return None


def _default(field: FieldInfo) -> Any:
    if field.is_required():
        return None
    return field.get_default(call_default_factory=True)


def settings_of(cls: type[BaseSettings], seen: set[type] | None = None) -> list[Setting]:
    """Every environment variable a settings class reads, nested settings expanded."""
    seen = set() if seen is None else seen
    if cls in seen:
        return []
    seen.add(cls)
    prefix = str(cls.model_config.get("env_prefix", ""))
    out: list[Setting] = []
    for name, field in cls.model_fields.items():
        nested = _nested_settings(field)
        if nested is not None:
            out += settings_of(nested, seen)
            continue
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        if isinstance(field.validation_alias, AliasChoices):
            first = field.validation_alias.choices[0]
            alias = first if isinstance(first, str) else None
        env = (alias or field.alias or f"{prefix}{name}").upper()
        default = _default(field)
        out.append(
            Setting(
                env=env,
                owner=cls.__name__,
                field=name,
                secret=_is_secret(field),
                required=field.is_required(),
                optional=not field.is_required() and default is None,
                default=default,
                description=field.description or "",
            )
        )
    return out


def _imports_jg_auth(service: str) -> bool:
    src = SERVICES_DIR / service / "src" / service
    return any(
        "jg_auth" in path.read_text(encoding="utf-8", errors="replace")
        for path in src.rglob("*.py")
    )


def service_settings(service: str) -> dict[str, Setting]:
    """{ENV_NAME: Setting} for everything the service reads from its environment."""
    found = settings_of(settings_class(service))
    if _imports_jg_auth(service):
        from jg_auth import AuthSettings

        found += settings_of(AuthSettings)
    result: dict[str, Setting] = {}
    for setting in found:
        result.setdefault(setting.env, setting)
    return result


def env_value(value: Any) -> str | None:
    """A Python value written as pydantic-settings reads it back from the environment."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, frozenset | set):
        value = sorted(value)
    return TypeAdapter(type(value)).dump_json(value).decode()


@dataclass(frozen=True)
class Topics:
    reads: frozenset[str]
    writes: frozenset[str]


def service_topics(service: str) -> Topics:
    """Topics the service reads and writes, from its own AsyncAPI document."""
    import httpx
    from jg_events import dead_letter_topic

    app_module = importlib.import_module(f"{service}.app")
    app = app_module.create_app()

    async def fetch() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            response = await client.get("/asyncapi.json")
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    document = asyncio.run(fetch())
    channels = document.get("channels", {})
    reads: set[str] = set()
    writes: set[str] = {dead_letter_topic(service)}
    for operation in document.get("operations", {}).values():
        ref = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        channel = next(
            (c for key, c in channels.items() if key == ref or _unquote(ref) == key), None
        )
        if channel is None:
            raise LookupError(f"{service}: AsyncAPI operation names unknown channel {ref}")
        address = channel["address"]
        (reads if operation["action"] == "receive" else writes).add(address)
    return Topics(reads=frozenset(reads), writes=frozenset(writes))


def _unquote(ref: str) -> str:
    from urllib.parse import unquote

    return unquote(ref)


def main() -> int:
    parser = argparse.ArgumentParser(description="What the services ask of a deployment.")
    sub = parser.add_subparsers(dest="what", required=True)
    p_settings = sub.add_parser("settings", help="a service's environment variables")
    p_settings.add_argument("service", choices=services())
    p_settings.add_argument("--env", action="store_true", help="as an env file of defaults")
    sub.add_parser("topics", help="topics each service reads and writes")
    args = parser.parse_args()
    if args.what == "settings":
        for setting in service_settings(args.service).values():
            value = "<secret>" if setting.secret else setting.default_env()
            if args.env:
                print(f"# {setting.description}")
                print(f"{setting.env}={'' if value is None else value}")
            else:
                print(f"{setting.env:45} {'required' if setting.required else ''} {value}")
        return 0
    for service in services():
        topics = service_topics(service)
        print(json.dumps({"service": service, "reads": sorted(topics.reads),
                          "writes": sorted(topics.writes)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
