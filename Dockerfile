# newsbot: a small CPU image. Build:  docker build -t newsbot .
# Bot:  docker run -e TELEGRAM_BOT_TOKEN=... -v newsbot-data:/data newsbot
# CLI:  docker run --rm -v newsbot-data:/data -v "$PWD/articles:/articles:ro" newsbot \
#           newsbot ingest /articles
#       docker run --rm -v newsbot-data:/data newsbot newsbot ask "What did Shalom cite?"
# With a Chroma server and webhook replicas: see docker-compose.yml and docs/scaling.md.

# ---- build: a virtualenv with the CPU build of torch and newsbot in it
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/newsbot
ENV PATH=/opt/newsbot/bin:$PATH
# The CPU build of torch first, so sentence-transformers doesn't pull the CUDA one.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install torch==2.13.0 --index-url "$TORCH_INDEX"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY index ./index
COPY prompts ./prompts
# The chromadb client pinned to the server image in docker-compose.yml (chromadb/chroma);
# pyproject allows any 1.x, which could pull a client newer than the server.
ARG CHROMADB_VERSION=1.5.9
RUN pip install . "chromadb==${CHROMADB_VERSION}" \
    && find /opt/newsbot -name '__pycache__' -prune -exec rm -rf {} +

# ---- runtime: the virtualenv only, run as an unprivileged user
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 newsbot \
    && mkdir /data /shared && chown newsbot:newsbot /data /shared
COPY --from=build /opt/newsbot /opt/newsbot
COPY config.yaml /etc/newsbot/config.yaml
COPY samples /opt/newsbot/samples
ENV PATH=/opt/newsbot/bin:$PATH \
    NEWSBOT_CONFIG=/etc/newsbot/config.yaml \
    NEWSBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    NEWSBOT_TELEGRAM__HEARTBEAT_FILE=/tmp/newsbot-heartbeat \
    NEWSBOT_HEALTH_PORT=
USER newsbot
WORKDIR /home/newsbot
VOLUME ["/data"]
# The webhook server (newsbot telegram --webhook URL --listen 0.0.0.0:8443).
EXPOSE 8443
# Healthy while the bot's event loop runs: it touches the heartbeat file every 30 s
# (telegram.heartbeat_file), so the file must be under 90 s old. With NEWSBOT_HEALTH_PORT
# set (webhook mode) the webhook server must also accept connections on it. One-shot
# CLI containers (ingest, ask) finish before the first check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, socket, sys, time; f = os.environ['NEWSBOT_TELEGRAM__HEARTBEAT_FILE']; stale = not os.path.exists(f) or time.time() - os.path.getmtime(f) > 90; stale and sys.exit(1); p = os.environ.get('NEWSBOT_HEALTH_PORT'); p and socket.create_connection(('127.0.0.1', int(p)), 3).close()"]
CMD ["newsbot", "telegram"]
