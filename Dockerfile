# syntax=docker/dockerfile:1
# One image per service, built from the repository root:
#   docker build --build-arg SERVICE=checkout -t japangoodz/checkout .
# SERVICE is a folder under services/ (checkout, payment, fulfillment, notifications, accounts).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve and install only SERVICE's locked dependencies into /app/.venv ----------
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG UV_VERSION=0.13.9
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<name of a folder under services/>" >&2; exit 1; }
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The workspace: root pyproject and lock, every member's pyproject and sources (.dockerignore
# keeps tests, caches and local state out).
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
# Exactly what uv.lock pins for SERVICE and the libs it depends on; no dev tools, no editable
# installs (the venv does not point back into /src, which the runtime stage does not have).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --package "${SERVICE}" --no-dev --no-editable \
    && /app/.venv/bin/python -c "import importlib, sys; importlib.import_module(sys.argv[1] + '.app')" "${SERVICE}"

# ---- runtime: the interpreter, the venv and nothing to build with ---------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
# The service's own user; pip (and the setuptools/wheel the base image ships for it) goes: the
# image installs nothing at run time.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && python -m pip uninstall --yes --quiet pip setuptools wheel
COPY --from=build /app/.venv /app/.venv
COPY deploy/docker/healthcheck.py /app/healthcheck.py
# The dead-letter replay tool (docs/operations.md), run as a Job with its own Kafka user.
COPY tools/dlq_replay.py /app/tools/dlq_replay.py
# The parked outbox rows' replay tool (docs/operations.md), run against the service's database.
COPY tools/outbox_replay.py /app/tools/outbox_replay.py
# The erasures' replay after a database restore (docs/operations.md), run against accounts'.
COPY tools/erasure_replay.py /app/tools/erasure_replay.py
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_MODULE=${SERVICE}
WORKDIR /app
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]
# exec: python is PID 1 and receives SIGTERM itself (graceful shutdown of consumers and relay).
CMD ["/bin/sh", "-c", "exec python -m \"${SERVICE_MODULE}\""]
