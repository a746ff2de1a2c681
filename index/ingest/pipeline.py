"""Writing to the knowledge base as every entry point does it: `ingest_paths` and
`remove_article`.

Both hold the data directory's write lock, and both leave a complete index behind:
ingest checks (and, for a new index, records) the embedding model and the cut (chunk
size and overlap, so two cuts never mix in one index) before it embeds a chunk, and
after any change, even an interrupted one, the BM25 index is rebuilt from the chunks in
Chroma and the generation marker moved, so running readers notice.

The write lock lives in the local data directory, so it only keeps writers on this
machine apart. With a Chroma server, run one ingest at a time (docs/scaling.md): chunk
ids are content hashes and writes are upserts, so a repeated or resumed ingest never
duplicates, but two writers changing the same article at once could interleave.
"""

import functools
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from index.articles import Article
from index.errors import NewsbotError, StoreUnavailableError
from index.ingest.batches import IngestProgress, IngestReport
from index.settings import IndexConfig
from index.store import recorded
from index.store.chunks import ChunkStore, open_existing
from index.store.locking import ingest_lock

log = logging.getLogger(__name__)


def ingest_paths(
    config: IndexConfig,
    paths: list[Path],
    progress: IngestProgress | None = None,
    articles: Iterable[Article] = (),
) -> IngestReport:
    """Ingest files and folders (and articles already loaded) into the configured index."""
    from index.embedding.models import load_document_encoder
    from index.ingest.batches import Ingestor
    from index.ingest.chunking import UNRECORDED_CUT, Chunker, Cut, cut_to_use
    from index.store.bm25 import lexical_dir

    with ingest_lock(config):
        store = ChunkStore(config.data_dir, backend=config.store)
        model = config.embedding.model
        encoder = functools.cache(lambda: load_document_encoder(config.embedding))
        model_recorded = recorded.check_model(
            store, model, lambda: len(encoder().embeddings.embed_query("probe"))
        )
        window = encoder().window
        old = Cut(min(UNRECORDED_CUT.max_tokens, window), UNRECORDED_CUT.overlap_tokens)
        cut = cut_to_use(config.chunking, store.cut(unrecorded=old), window)
        # before recording: an old index records none
        recorded.check_cut(store, cut, unrecorded=old)
        if not model_recorded:
            recorded.record_model(store, model, cut)
        chunker = Chunker(encoder().tokenizer, cut.max_tokens, cut.overlap_tokens)
        ingestor = Ingestor(
            store,
            encoder(),
            chunker,
            max_file_bytes=int(config.ingest.max_file_mb * 1_000_000),
            encode_batch=config.ingest.batch_chunks,
            progress=progress,
        )
        try:
            report = ingestor.ingest(paths, articles)
        finally:
            # also after an interruption: what was stored must be searchable by words too
            if ingestor.changed or not lexical_dir(store).exists():
                _sync_after(store, failing=sys.exc_info()[1] is not None)
    return report


def remove_article(config: IndexConfig, article_id: str) -> int:
    """Delete one article and resync BM25; the number of chunks removed."""
    from index.store.bm25 import sync_lexical

    with ingest_lock(config):
        store = open_existing(config.data_dir, config.store)
        removed = store.remove(article_id)
        if removed:
            sync_lexical(store)
    if not removed:
        raise NewsbotError(f"no article with id '{article_id}'; `newsbot articles` lists them")
    return removed


def _sync_after(store: ChunkStore, failing: bool) -> None:
    """Mark the change and rebuild BM25; after a failure, don't hide it behind another."""
    from index.store.bm25 import sync_lexical

    try:
        sync_lexical(store)
    except StoreUnavailableError as exc:
        if not failing:
            raise
        log.warning("can't mark the partial ingest as a change: %s", exc)
