"""docker-compose.yml: it loads as `docker compose` loads it, references only variables that
.env.example gives and services that exist, starts every service of services/ from the image
built with its SERVICE, with a healthcheck and dependencies that wait for health, and creates
exactly the topics of libs/events."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jg_events import all_topics

from .conftest import COMPOSE_FILE, ENV_EXAMPLE, compose_project, compose_raw, services

pytestmark = pytest.mark.deploy

INFRASTRUCTURE = {"kafka", "kafka-topics", "postgres", "localstripe", "mailpit"}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)")


def _env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_compose_file_loads_as_docker_compose_loads_it(tools: Path) -> None:
    # composecheck fails (and this test with it) on a schema error, an unset variable, or a
    # depends_on / volume / network that does not exist.
    project = compose_project()
    assert project["name"] == "japangoodz"


def test_every_variable_the_compose_file_uses_is_in_env_example_and_none_is_unused() -> None:
    text = COMPOSE_FILE.read_text().replace("$$", "")
    used = {m.group(1) or m.group(4) for m in _VARIABLE.finditer(text)}
    example = _env_example()
    missing = sorted(used - set(example))
    assert not missing, f"docker-compose.yml uses variables .env.example does not give: {missing}"
    unused = sorted(set(example) - used)
    assert not unused, f".env.example gives variables docker-compose.yml never uses: {unused}"


def test_every_password_variable_has_a_development_default_that_services_refuse_in_production() -> (
    None
):
    text = COMPOSE_FILE.read_text()
    for match in _VARIABLE.finditer(text):
        name, op, default = match.group(1), match.group(2), match.group(3)
        if not name or not re.search(r"PASSWORD|TOKEN|SECRET|KEY", name):
            continue
        assert op == ":-" and default, f"${{{name}}} needs a development default (:-...)"
        assert re.search(r"dev-only|sk_test_", default), (
            f"${{{name}}} default {default!r} does not look like a development value"
        )


def test_every_service_has_a_compose_service_built_from_its_own_image(tools: Path) -> None:
    project = compose_project()
    for service in services():
        assert service in project["services"], (
            f"services/{service} has no service in docker-compose.yml"
        )
        build = project["services"][service].get("build") or {}
        assert build.get("args", {}).get("SERVICE") == service, (
            f"compose service {service} is not built with --build-arg SERVICE={service}"
        )
        assert build.get("context") in {".", str(COMPOSE_FILE.parent)}, (
            f"compose service {service} must be built from the repository root"
        )
    unknown = set(project["services"]) - set(services()) - INFRASTRUCTURE
    assert not unknown, f"docker-compose.yml runs services that are not under services/: {unknown}"


def test_every_compose_service_has_a_healthcheck_and_waits_for_what_it_needs(tools: Path) -> None:
    project = compose_project()
    for name, svc in project["services"].items():
        if name == "kafka-topics":
            continue  # a one-shot job
        hc = svc.get("healthcheck") or {}
        if name not in {"localstripe"}:  # localstripe's image carries its own HEALTHCHECK
            assert hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"
    for service in services():
        deps = project["services"][service].get("depends_on") or {}
        assert deps.get("postgres", {}).get("condition") == "service_healthy", (
            f"{service} must wait for a healthy postgres"
        )
        assert deps.get("kafka-topics", {}).get("condition") == (
            "service_completed_successfully"
        ), f"{service} must wait until the topics exist"
    kafka_topics = project["services"]["kafka-topics"]["depends_on"]["kafka"]["condition"]
    assert kafka_topics == "service_healthy"


def test_compose_creates_exactly_the_topics_of_libs_events(tools: Path) -> None:
    environment = compose_project()["services"]["kafka-topics"]["environment"]
    created = {spec.split(":")[0] for spec in environment["TOPICS"].split()}
    expected = set(all_topics())
    assert not expected - created, f"compose does not create {sorted(expected - created)}"
    assert not created - expected, f"compose creates topics no code names: {created - expected}"


def test_postgres_creates_one_database_and_role_per_service(tools: Path) -> None:
    environment = compose_project()["services"]["postgres"]["environment"]
    assert set(environment["SERVICES"].split()) == set(services()), (
        "postgres' SERVICES must list every service (its init script creates their databases)"
    )
    for service in services():
        password = environment.get(f"{service.upper()}_DB_PASSWORD")
        assert password, f"postgres gets no {service.upper()}_DB_PASSWORD"
        url = compose_project()["services"][service]["environment"][
            f"{service.upper()}_DATABASE_URL"
        ]
        assert url == f"postgresql://{service}:{password}@postgres:5432/{service}", (
            f"{service} does not connect to its own database as its own role: {url}"
        )


def test_the_raw_compose_file_names_only_settings_left_at_default_that_exist() -> None:
    raw = compose_raw()
    for name, svc in raw["services"].items():
        left = svc.get("x-settings-left-at-default", [])
        if not left:
            continue
        from .conftest import service_settings

        known = service_settings(name)
        unknown = [v for v in left if v not in known]
        assert not unknown, f"{name}: x-settings-left-at-default names no setting: {unknown}"
        not_optional = [v for v in left if not known[v].optional]
        assert not not_optional, (
            f"{name}: only settings whose default is None may be left unset: {not_optional}"
        )
