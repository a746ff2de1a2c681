# newsbot: a small CPU image. Build:  docker build -t newsbot .
# Bot:  docker run -e TELEGRAM_BOT_TOKEN=... -v newsbot-data:/data newsbot
# CLI:  docker run --rm -v newsbot-data:/data -v "$PWD/articles:/articles:ro" newsbot \
#           newsbot ingest /articles
#       docker run --rm -v newsbot-data:/data newsbot newsbot ask "What did Shalom cite?"
# Nothing downloads at run time (the embedding model ships in a PyPI package): the CLI
# works with --network none. With a Chroma server and webhook replicas: see
# docker-compose.yml and docs/scaling.md.
#
# Build arguments, for machines without Docker Hub or PyPI's CUDA-free torch:
#   BASE_IMAGE     a Python 3.11 image with python and venv (default python:3.11-slim);
#                  docker/base.sh builds local/python:3.11-bookworm with debootstrap
#   TORCH          the torch requirement (default torch==2.13.0)
#   TORCH_INDEX    where torch comes from (default PyTorch's CPU index), unless...
#   docker/wheels/ ...holds wheels: then torch is taken from there first (the rest from
#                  PyPI). `pip download --no-deps torch==2.13.0 -d docker/wheels` fills it.
#   CHROMADB_VERSION  the chromadb client, pinned to the server in docker-compose.yml
#   SLIM, BYTECODE    what the slimming step below removes
# docker/check.sh builds, runs and checks it all here (make docker-check).

ARG BASE_IMAGE=python:3.11-slim

# ---- build: a virtualenv with the CPU build of torch and newsbot in it
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# A current pip: older ones (Debian's 23.0) miss extras spelt with '_' such as justext's
# lxml[html_clean], and trafilatura then fails at run time.
RUN python -m venv /opt/newsbot && /opt/newsbot/bin/pip install --quiet --upgrade pip
ENV PATH=/opt/newsbot/bin:$PATH
# The CPU build of torch first, so sentence-transformers doesn't pull the CUDA one.
ARG TORCH=torch==2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY docker/wheels/ /wheels/
RUN if ls /wheels/*.whl >/dev/null 2>&1; then \
        pip install --find-links /wheels "$TORCH"; \
    else \
        pip install "$TORCH" --index-url "$TORCH_INDEX"; \
    fi \
    && python -c "import sys, torch; sys.exit(torch.version.cuda and f'torch {torch.__version__} is a CUDA build')"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY index ./index
COPY prompts ./prompts
# The chromadb client pinned to the server image in docker-compose.yml (chromadb/chroma);
# pyproject allows any 1.x, which could pull a client newer than the server.
ARG CHROMADB_VERSION=1.5.9
RUN pip install . "chromadb==${CHROMADB_VERSION}" \
    && pip check
# What the runtime doesn't need: pip itself, setuptools and wheel, test suites, torch's
# C++ headers, its test binaries and protoc (torch/bin, all but torch_shm_manager), and
# the bytecode of modules no command imports. The runtime user can't write bytecode, so
# BYTECODE=used (default) compiles what `ingest`, `ask` and `telegram` import by running
# them once on the samples (105 MB; also a smoke test of the build). Measured here:
# BYTECODE=all keeps all of it (+300 MB); BYTECODE=none saves another 100 MB but each
# command then compiles at start (ingest of the sample 27 s instead of 11, ask 6 s
# instead of 2.4). SLIM=0 keeps everything.
ARG SLIM=1
ARG BYTECODE=used
COPY samples /src/samples
RUN set -eu; [ "$SLIM" = 1 ] || exit 0; \
    sp=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
    pip uninstall --quiet --yes pip setuptools wheel; \
    rm -rf "$sp/torch/include" "$sp/torch/test" "$sp/torch/share/cmake" "$sp/chromadb/test"; \
    find "$sp/torch/bin" -mindepth 1 -maxdepth 1 ! -name torch_shm_manager -exec rm -rf {} +; \
    find /opt/newsbot -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} +; \
    case "$BYTECODE" in \
    all) python -m compileall -q -j 0 /opt/newsbot >/dev/null || true ;; \
    used) d=$(mktemp -d); export NEWSBOT_DATA_DIR="$d" HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False; \
        newsbot ingest /src/samples >/dev/null; \
        newsbot ask "What did Shalom cite?" | grep -q Dolphinarium; \
        TELEGRAM_BOT_TOKEN=1:AAAAAAAAAAAAAAAAAAAAAAAAAA TELEGRAM_API_BASE=http://127.0.0.1:9 \
            newsbot telegram >/dev/null 2>&1 || true; \
        rm -rf "$d" ;; \
    none) ;; \
    *) echo "BYTECODE must be used, all or none" >&2; exit 1 ;; \
    esac

# ---- runtime: the virtualenv only, run as an unprivileged user
FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 newsbot \
    && mkdir /data /shared && chown newsbot:newsbot /data /shared
COPY --from=build /opt/newsbot /opt/newsbot
COPY config.yaml /etc/newsbot/config.yaml
COPY samples /opt/newsbot/samples
ENV PATH=/opt/newsbot/bin:$PATH \
    NEWSBOT_CONFIG=/etc/newsbot/config.yaml \
    NEWSBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
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
