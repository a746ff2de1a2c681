"""Typed settings of the knowledge base; `bot.config` composes them into the full config.

`IndexConfig` is what every entry point of `index` takes: the data directory and these
sections. `bot.config.Settings` has them all, so the bot passes its settings as they are.
"""

from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    """A config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingSettings(Section):
    """Which sentence-transformers model embeds chunks and questions."""

    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = Field(16, ge=1, le=4096)
    query_backend: Literal["auto", "onnx", "torch"] = "auto"


class ChunkingSettings(Section):
    """How articles are cut into chunks, measured in the embedder's word pieces.

    A value left out means the index's own (the cut it records) or, for a new index,
    the default (`index.ingest.chunking.DEFAULT_CUT`); a value given must match the
    index's own, so two cuts never mix in one index.
    """

    max_tokens: int | None = Field(None, ge=32, le=8192)
    overlap_tokens: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "ChunkingSettings":
        size, overlap = self.max_tokens, self.overlap_tokens
        if size is not None and overlap is not None and overlap >= size // 2:
            raise ValueError("overlap_tokens must be less than half of max_tokens")
        return self


class IngestSettings(Section):
    """Limits on what ingest accepts."""

    max_file_mb: float = Field(50.0, gt=0)
    lock_timeout_s: float = Field(0.0, ge=0)
    batch_chunks: int = Field(512, ge=1, le=100_000)
    nice: int = Field(10, ge=0, le=19)  # CPU priority the ingest commands lower themselves by


class FetchSettings(Section):
    """How web pages and feeds are fetched (timeouts, limits, politeness, safety)."""

    timeout_s: float = Field(20.0, gt=0, le=600)
    max_page_mb: float = Field(5.0, gt=0, le=1000)
    user_agent: str = Field("newsbot/0.1 (news question-answering bot)", min_length=1)
    per_host_requests: int = Field(2, ge=1, le=64)
    workers: int = Field(8, ge=1, le=64)
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(1.0, ge=0, le=60)
    max_redirects: int = Field(5, ge=0, le=30)
    respect_robots: bool = True
    allow_private: bool = False


class StoreSettings(Section):
    """Where the chunks live: an embedded Chroma in data_dir, or a Chroma server.

    The server's auth token is read from the environment variable named by
    `auth_token_env`, never from the config file.
    """

    backend: Literal["embedded", "server"] = "embedded"
    host: str = "localhost"
    port: int = Field(8000, ge=1, le=65535)
    ssl: bool = False
    auth_token_env: str = "CHROMA_AUTH_TOKEN"
    auth_header: Literal["Authorization", "X-Chroma-Token"] = "Authorization"
    tenant: str = "default_tenant"
    database: str = "default_database"
    collection: str = Field("news_chunks", min_length=3, max_length=512)
    retries: int = Field(5, ge=0, le=100)
    retry_backoff_s: float = Field(1.0, ge=0.0, le=60.0)
    refresh_s: float = Field(10.0, ge=0.0, le=3600.0)


class FeedSettings(Section):
    """Following RSS/Atom feeds: how often to refresh them and how entries are read."""

    refresh_minutes: float = Field(30.0, ge=0.0, le=10_080.0)
    max_entries: int = Field(50, ge=1, le=10_000)
    full_text_min_words: int = Field(150, ge=1)


class IndexConfig(Protocol):
    """The configuration the knowledge base needs (read-only)."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def embedding(self) -> EmbeddingSettings: ...
    @property
    def chunking(self) -> ChunkingSettings: ...
    @property
    def ingest(self) -> IngestSettings: ...
    @property
    def fetch(self) -> FetchSettings: ...
    @property
    def feeds(self) -> FeedSettings: ...
    @property
    def store(self) -> StoreSettings: ...
    @property
    def state_url(self) -> str:
        """The shared database's URL: the feed list, and the write lock across hosts."""
        ...
