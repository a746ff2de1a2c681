"""The index `newsbot eval` answers from: built from the corpus once, reused while unchanged.

It lives in its own data directory and, on a Chroma server, its own collection named
after the corpus, so eval never mixes with the served articles.
"""

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.evaluation.queries import EvalInputError

_CORPUS_STAMP = "eval-corpus.json"


def eval_settings(settings: Settings, corpus: Path, data_dir: Path) -> Settings:
    """Settings for the eval index: its own data directory and, on a Chroma server, its
    own collection named after the corpus, so eval never mixes with the served articles.
    """
    update: dict[str, Any] = {"data_dir": data_dir}
    if settings.store.backend == "server":
        digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:12]
        collection = f"{settings.store.collection}-eval-{digest}"
        update["store"] = settings.store.model_copy(update={"collection": collection})
    return settings.model_copy(update=update)


def prepare_index(settings: Settings, corpus: Path, progress: Any = None) -> float:
    """Ingest the corpus unless the data directory already holds exactly this file,
    indexed by this pipeline (model, chunking, embedded-text format).

    An eval index of another corpus or pipeline is dropped and rebuilt; an index that
    eval did not build is refused, never overwritten.
    """
    from index.ingest.pipeline import ingest_paths
    from index.store.locking import ensure_writable

    wanted = _index_stamp(settings, corpus)
    unfinished = {**wanted, "finished": False}
    stamp = settings.data_dir / _CORPUS_STAMP
    found = json.loads(stamp.read_text()) if stamp.exists() else None
    if found == wanted:
        return 0.0
    if found is None and _holds_index(settings):
        raise EvalInputError(
            f"{settings.data_dir} holds an index that newsbot eval did not build; "
            "give --index-dir an empty directory, or one an earlier eval made"
        )
    if found not in (None, unfinished):  # ours, for another corpus or pipeline
        _drop_index(settings)
    ensure_writable(settings.data_dir)
    stamp.write_text(json.dumps(unfinished))  # an interrupted build resumes next time
    started = time.perf_counter()
    report = ingest_paths(settings, [corpus], progress)
    if report.problems:
        raise EvalInputError(f"ingesting the corpus failed: {report.problems[0]}")
    stamp.write_text(json.dumps(wanted))
    return time.perf_counter() - started


def _index_stamp(settings: Settings, corpus: Path) -> dict[str, Any]:
    from index.ingest.chunking import DEFAULT_CUT, EMBED_FORMAT

    return {
        "corpus": str(corpus),
        "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest(),
        "model": settings.embedding.model,
        "chunking": settings.chunking.model_dump(),
        "default_cut": str(DEFAULT_CUT),  # what a value left out means for a new index
        "embed_format": EMBED_FORMAT,
    }


def _holds_index(settings: Settings) -> bool:
    from index.errors import EmptyIndexError
    from index.store.chunks import open_existing

    try:
        return open_existing(settings.data_dir, settings.store).count() > 0
    except EmptyIndexError:
        return False


def _drop_index(settings: Settings) -> None:
    """Delete the eval collection and its lexical cache."""
    import shutil

    from index.store.bm25 import lexical_dir
    from index.store.chunks import ChunkStore

    store = ChunkStore(settings.data_dir, backend=settings.store)
    store.drop()  # on a server, the collection is this corpus's own
    shutil.rmtree(lexical_dir(store), ignore_errors=True)
    (settings.data_dir / _CORPUS_STAMP).unlink()
