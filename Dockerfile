# newsbot: a small CPU image. Build:  docker build -t newsbot .
# Bot:  docker run -e TELEGRAM_BOT_TOKEN=... -v newsbot-data:/data newsbot
# CLI:  docker run --rm -v newsbot-data:/data -v "$PWD/articles:/articles:ro" newsbot \
#           newsbot ingest /articles
#       docker run --rm -v newsbot-data:/data newsbot newsbot ask "What did Shalom cite?"

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
RUN pip install . && find /opt/newsbot -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 newsbot && mkdir /data && chown newsbot:newsbot /data
COPY --from=build /opt/newsbot /opt/newsbot
COPY config.yaml /etc/newsbot/config.yaml
COPY samples /opt/newsbot/samples
ENV PATH=/opt/newsbot/bin:$PATH \
    NEWSBOT_CONFIG=/etc/newsbot/config.yaml \
    NEWSBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER newsbot
WORKDIR /home/newsbot
VOLUME ["/data"]
CMD ["newsbot", "telegram"]
