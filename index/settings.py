"""Typed settings for the writing side; `bot.config` composes them into the full config."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    """A config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingSettings(Section):
    """Which sentence-transformers model embeds chunks and questions."""

    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = Field(64, ge=1, le=4096)
    query_backend: Literal["auto", "onnx", "torch"] = "auto"


class ChunkingSettings(Section):
    """How articles are cut into chunks, measured in the embedder's word pieces."""

    max_tokens: int = Field(256, ge=32, le=8192)
    overlap_tokens: int = Field(48, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "ChunkingSettings":
        if self.overlap_tokens >= self.max_tokens // 2:
            raise ValueError("overlap_tokens must be less than half of max_tokens")
        return self


class IngestSettings(Section):
    """Limits on what ingest accepts."""

    max_file_mb: float = Field(50.0, gt=0)
    lock_timeout_s: float = Field(0.0, ge=0)
