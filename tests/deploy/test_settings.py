"""Every setting of every service reaches it, in docker-compose.yml and in Kubernetes.

The settings are read from the code (each service's ``<Name>Settings``, nested platform and
auth settings, as environment variables), so a setting added to a service fails here until its
deployment counterpart exists. Secrets come from Secrets (Kubernetes) or .env variables
(compose), never from a committed value. And the values given must be valid: each service's
settings class is built from exactly the environment each deployment gives it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from .conftest import (
    K8S,
    Built,
    built,
    catalog,
    compose_project,
    compose_raw,
    provided_env,
    service_settings,
    services,
)

pytestmark = pytest.mark.deploy

# Kafka credentials: only meaningful with JG_KAFKA_SECURITY_PROTOCOL=SASL_SSL/SSL, which the
# kafka-auth component (prod) sets and provides them with; base, dev and compose run PLAINTEXT.
KAFKA_AUTH_SETTINGS = frozenset(
    {
        "JG_KAFKA_SASL_MECHANISM",
        "JG_KAFKA_SASL_USERNAME",
        "JG_KAFKA_SASL_PASSWORD",
        "JG_KAFKA_SSL_CA_FILE",
    }
)
# ConfigMaps the prod overlay leaves to the operator, and the example of each that the
# validation below uses in their place.
OPERATOR_CONFIGMAPS = {
    "shop-identity": (
        K8S / "overlays" / "prod" / "shop-identity.env.example",
        {"seller-address": K8S / "overlays" / "prod" / "seller-address.txt.example"},
    )
}


def _deployment(b: Built, service: str) -> dict[str, Any]:
    deployment = b.find("Deployment", service)
    assert deployment is not None, f"{b.name}: services/{service} has no Deployment"
    return deployment


def _platform_wide() -> set[str]:
    """JG_* settings every service may be given (one shared ConfigMap / compose anchor)."""
    from jg_auth import AuthSettings
    from jg_messaging.settings import PlatformSettings

    return {s.env for cls in (PlatformSettings, AuthSettings) for s in catalog.settings_of(cls)}


def _prefixes(service: str) -> tuple[str, ...]:
    return ("JG_", f"{service.upper()}_")


# --- Kubernetes ----------------------------------------------------------------------------


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", ["base", "overlays/dev", "overlays/prod"])
def test_kubernetes_provides_every_setting_of_the_service(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    provided = provided_env(b, _deployment(b, service))
    opaque = [k for k in provided if k.startswith("<all keys")]
    assert not opaque, f"{path} {service}: envFrom a Secret hides which settings it gives"
    exempt = frozenset() if path == "overlays/prod" else KAFKA_AUTH_SETTINGS
    missing = [
        env for env in service_settings(service) if env not in provided and env not in exempt
    ]
    assert not missing, (
        f"{path}: the {service} Deployment does not provide {missing} (add them to "
        f"deploy/k8s/base/services/{service}/settings.env, endpoints.env, or a secretKeyRef)"
    )


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", ["base", "overlays/dev", "overlays/prod"])
def test_kubernetes_takes_secrets_from_secrets_only(tools: Path, path: str, service: str) -> None:
    b = built(path)
    provided = provided_env(b, _deployment(b, service))
    for env, setting in service_settings(service).items():
        how = provided.get(env, {})
        if not how and env in KAFKA_AUTH_SETTINGS and path != "overlays/prod":
            continue  # not given at all where Kafka runs without authentication
        if setting.secret:
            assert "secret" in how, (
                f"{path} {service}: {env} is a secret but comes from {how.get('from', how)}"
            )
        if "secret" in how and how["secret"][2]:
            assert setting.optional, (
                f"{path} {service}: {env} comes from an optional secretKeyRef, but an absent "
                "key would leave the development default in place"
            )


@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", ["base", "overlays/dev", "overlays/prod"])
def test_kubernetes_sets_no_variable_that_nothing_reads(
    tools: Path, path: str, service: str
) -> None:
    b = built(path)
    known = set(service_settings(service)) | _platform_wide()
    unread = [
        env
        for env in provided_env(b, _deployment(b, service))
        if env.startswith(_prefixes(service)) and env not in known
    ]
    assert not unread, f"{path} {service}: no setting reads {unread} (a typo, or a removed one?)"


def test_no_secret_value_is_committed(tools: Path) -> None:
    for path in ("base", "overlays/dev", "overlays/prod"):
        secrets = [r["metadata"]["name"] for r in built(path).of_kind("Secret")]
        assert not secrets, f"{path} commits Secrets {secrets}: reference them, create them apart"


# --- docker-compose.yml ---------------------------------------------------------------------


@pytest.mark.parametrize("service", services())
def test_compose_provides_every_setting_of_the_service(tools: Path, service: str) -> None:
    project = compose_project()
    assert service in project["services"], f"no compose service for services/{service}"
    environment = project["services"][service].get("environment") or {}
    left = set(compose_raw()["services"][service].get("x-settings-left-at-default", []))
    missing = [
        e
        for e in service_settings(service)
        if e not in environment and e not in left and e not in KAFKA_AUTH_SETTINGS
    ]
    assert not missing, (
        f"docker-compose.yml: {service} gets no {missing} (set them in its environment, in "
        f"deploy/k8s/base/services/{service}/settings.env, or name an optional one in "
        "x-settings-left-at-default)"
    )
    known = set(service_settings(service)) | _platform_wide()
    unread = [e for e in environment if e.startswith(_prefixes(service)) and e not in known]
    assert not unread, f"docker-compose.yml: no setting of {service} reads {unread}"


@pytest.mark.parametrize("service", services())
def test_compose_takes_secrets_from_variables(tools: Path, service: str) -> None:
    raw_env = compose_raw()["services"][service].get("environment") or {}
    for env, setting in service_settings(service).items():
        if not setting.secret or env not in raw_env:
            continue
        assert "${" in str(raw_env[env]), (
            f"docker-compose.yml: {service}'s secret {env} is written in the file; take it "
            "from a variable of .env (with a development default)"
        )


# --- the values are valid: build each settings class from the environment given ----------------


@pytest.fixture
def clean_environ() -> Iterator[None]:
    saved = dict(os.environ)
    for key in list(os.environ):
        if re.match(r"^(JG_|[A-Z]+_)", key) and any(
            key.startswith(p) for s in services() for p in _prefixes(s)
        ):
            del os.environ[key]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _build_settings(service: str, environment: dict[str, str], where: str) -> None:
    for key in list(os.environ):
        if key.startswith(_prefixes(service)):
            del os.environ[key]
    os.environ.update(environment)
    try:
        catalog.settings_class(service)()
        if any(k.startswith("JG_AUTH_") for k in service_settings(service)):
            from jg_auth import AuthSettings

            AuthSettings()
    except ValidationError as exc:
        pytest.fail(f"{where}: {service} refuses the settings it is given:\n{exc}", pytrace=False)


def _operator_configmap(name: str, key: str) -> str:
    env_file, files = OPERATOR_CONFIGMAPS[name]
    if key in files:
        return files[key].read_text()
    for line in env_file.read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise LookupError(f"{env_file} gives no {key}")


@pytest.mark.usefixtures("clean_environ")
@pytest.mark.parametrize("service", services())
@pytest.mark.parametrize("path", ["overlays/dev", "overlays/prod"])
def test_the_service_accepts_what_kubernetes_gives_it(tools: Path, path: str, service: str) -> None:
    b = built(path)
    environment: dict[str, str] = {}
    for env, how in provided_env(b, _deployment(b, service)).items():
        if "value" in how:
            environment[env] = str(how["value"])
        elif "configmap" in how:
            environment[env] = _operator_configmap(*how["configmap"])
        elif "secret" in how and not how["secret"][2]:
            name, key, _ = how["secret"]
            if key == "uri":  # CloudNativePG's app secret
                environment[env] = f"postgresql://{service}:pw@{name[:-4]}-rw:5432/{service}"
            else:
                environment[env] = f"secret-from-{name}-{key}"
    _build_settings(service, environment, path)


@pytest.mark.usefixtures("clean_environ")
@pytest.mark.parametrize("service", services())
def test_the_service_accepts_what_compose_gives_it(tools: Path, service: str) -> None:
    environment = compose_project()["services"][service].get("environment") or {}
    _build_settings(service, {k: str(v) for k, v in environment.items()}, "docker-compose.yml")
