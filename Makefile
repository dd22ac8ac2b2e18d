# JapanGoodz platform: one entry point for developers and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else the one `make install` put into python3's site-packages.
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
UV_RUN = $(UV) run --frozen
# Test folders that exist: libs/*/tests, services/*/tests, tests/
TEST_DIRS = $(wildcard libs/*/tests services/*/tests tests)

.PHONY: help install lint format up down status test test-unit test-integration run demo bench \
	deploy-tools deploy-check preview-emails chaos fuzz trace

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Install uv if missing (from PyPI), then every workspace package from uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet uv || python3 -m pip install --quiet --break-system-packages uv
	$(UV) sync --frozen --all-packages

lint: install ## ruff check + ruff format --check + mypy --strict (the packages listed in pyproject.toml's [tool.mypy])
	$(UV_RUN) ruff check .
	$(UV_RUN) ruff format --check .
	$(UV_RUN) mypy

format: install ## ruff format + ruff check --fix
	$(UV_RUN) ruff format .
	$(UV_RUN) ruff check --fix .

up: install ## Start the local stack (Kafka, PostgreSQL, localstripe, stripe-mock, Mailpit)
	$(UV_RUN) jg-stack up

down: ## Stop what `make up` started
	@if [ -x .venv/bin/jg-stack ]; then .venv/bin/jg-stack down; else echo "nothing installed, nothing to stop"; fi

status: install ## Each component, its ports and its state
	$(UV_RUN) jg-stack status

test: install up deploy-check ## Everything: deployment checks, then unit, integration and e2e tests against the real stack
	$(UV_RUN) pytest $(TEST_DIRS) --ignore=tests/deploy --ignore=tests/chaos --ignore=tests/fuzz

test-unit: install ## Unit tests only (no service needed)
	$(UV_RUN) pytest -m unit $(TEST_DIRS) bench --ignore=tests/chaos --ignore=tests/fuzz --ignore=tests/deploy

test-integration: install up ## Integration tests against the real stack
	$(UV_RUN) pytest -m integration $(TEST_DIRS) --ignore=tests/chaos --ignore=tests/fuzz

chaos: install up ## Faults for real (kill -9 of every service instance, Kafka, PostgreSQL; SMTP and Stripe down) while 300 orders flow; prints what was lost (nothing)
	$(UV_RUN) pytest tests/chaos --timeout=900

fuzz: install up ## schemathesis against the five OpenAPI documents with each audience's credentials; fails on a 5xx, an undocumented answer or a timeout; prints the requests per service
	$(UV_RUN) pytest tests/fuzz --timeout=1200

run: install ## The stack plus every service under services/, in the foreground (Ctrl-C stops them)
	$(UV_RUN) jg-stack run

demo: install ## Play a few orders through the FAQ's journeys, live in the terminal (uses `make run`'s services, else starts them)
	$(UV_RUN) python -m jg_devstack.demo

trace: install ## Print one order's trace as a waterfall, from the spans `make run` recorded: make trace ORDER_NUMBER=JG-2026-000123
	@test -n "$(ORDER_NUMBER)" || { echo "usage: make trace ORDER_NUMBER=JG-..." >&2; exit 2; }
	$(UV_RUN) python -m jg_devstack.traces show "$(ORDER_NUMBER)"

preview-emails: install ## Render every customer email with realistic data into .cache/previews/ (open index.html)
	$(UV_RUN) python -m notifications.preview .cache/previews
	@echo "open .cache/previews/index.html in a browser"

bench: install up ## The platform end to end with its floors and targets (JSON in .cache/bench/); BENCH_ORDERS=200 for a short run
	$(UV_RUN) python -m bench $(BENCH_ARGS)
	$(UV_RUN) pytest -m bench bench

deploy-tools: install ## kustomize, kubeconform, promtool, compose/Dockerfile checkers, Kubernetes and CRD schemas (into .cache/)
	$(UV_RUN) python tools/deploycheck/install.py

deploy-check: deploy-tools ## Dockerfile, docker-compose.yml and deploy/k8s: build, validate, match them with the code
	$(UV_RUN) pytest tests/deploy
