"""Ingest as every entry point runs it: lock, load the model, ingest, resync BM25.

The write lock lives in the local data directory, so it only keeps writers on this
machine apart. With a Chroma server, run one ingest at a time (docs/scaling.md): chunk
ids are content hashes and writes are upserts, so a repeated or resumed ingest never
duplicates, but two writers changing the same article at once could interleave.
"""

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from index.articles import Article
from index.errors import StoreUnavailableError
from index.ingest import IngestProgress, IngestReport

if TYPE_CHECKING:
    from index.store import ChunkStore

log = logging.getLogger(__name__)


def ingest_paths(
    settings: Settings,
    paths: list[Path],
    progress: IngestProgress | None = None,
    articles: Iterable[Article] = (),
) -> IngestReport:
    """Ingest files and folders (and articles already loaded) into the data directory."""
    from index.chunking import Chunker
    from index.embeddings import load_document_encoder
    from index.ingest import Ingestor
    from index.lexical import lexical_dir
    from index.store import ChunkStore, write_lock

    with write_lock(settings.data_dir, settings.ingest.lock_timeout_s):
        store = ChunkStore(settings.data_dir, backend=settings.store)
        model = settings.embedding.model
        recorded = store.require_model(model)
        encoder = load_document_encoder(settings.embedding)
        if not recorded:
            store.require_dimension(len(encoder.embeddings.embed_query("probe")), model)
            store.record_model(model)
        max_tokens = min(settings.chunking.max_tokens, encoder.window)
        chunker = Chunker(encoder.tokenizer, max_tokens, settings.chunking.overlap_tokens)
        ingestor = Ingestor(
            store,
            encoder,
            chunker,
            max_file_bytes=int(settings.ingest.max_file_mb * 1_000_000),
            progress=progress,
        )
        try:
            report = ingestor.ingest(paths, articles)
        finally:
            # also after an interruption: what was stored must be searchable by words too
            if ingestor.changed or not lexical_dir(store).exists():
                _sync_after(store, failing=sys.exc_info()[1] is not None)
    return report


def _sync_after(store: "ChunkStore", failing: bool) -> None:
    """Mark the change and rebuild BM25; after a failure, don't hide it behind another."""
    from index.lexical import sync_lexical

    try:
        sync_lexical(store)
    except StoreUnavailableError as exc:
        if not failing:
            raise
        log.warning("can't mark the partial ingest as a change: %s", exc)
