"""Ingest as every entry point runs it: lock, load the model, ingest, resync BM25."""

from collections.abc import Iterable
from pathlib import Path

from bot.config import Settings
from index.articles import Article
from index.ingest import IngestProgress, IngestReport


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
    from index.lexical import lexical_dir, sync_lexical
    from index.store import ChunkStore, write_lock

    with write_lock(settings.data_dir, settings.ingest.lock_timeout_s):
        store = ChunkStore(settings.data_dir)
        encoder = load_document_encoder(settings.embedding)
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
                sync_lexical(store)
    return report
