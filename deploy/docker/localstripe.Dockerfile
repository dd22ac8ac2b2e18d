# syntax=docker/dockerfile:1
# localstripe (PyPI), the stateful Stripe stand-in used by docker-compose.yml and the dev overlay.
#   docker build -f deploy/docker/localstripe.Dockerfile -t japangoodz/localstripe deploy/docker
FROM python:3.11-slim-bookworm
ARG LOCALSTRIPE_VERSION=1.15.10
RUN pip install --no-cache-dir "localstripe==${LOCALSTRIPE_VERSION}" \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin localstripe
COPY localstripe_main.py /app/localstripe_main.py
USER 10001:10001
EXPOSE 8420
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 8420), 2).close()"]
CMD ["python", "/app/localstripe_main.py"]
