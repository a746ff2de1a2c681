"""`newsbot eval`: retrieval and answer quality on a labelled question set.

Corpus lines are articles (`doc_id`, `text`, optional `title/date/url/source`); query
lines are `{question_id, question, question_date?, answers?, gold_doc_ids?}`. Every
query goes through the same retriever and answerer as `ask`. Documents are ranked by
their best chunk.
"""

import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.config import Settings
from index.errors import NewsbotError
from index.metadata import parse_date
from index.retriever import TimeScope

CHUNKS_PER_QUERY = 60  # enough chunks to rank 10 distinct documents
_CORPUS_STAMP = "eval-corpus.json"


class EvalInputError(NewsbotError):
    """An evaluation file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Query:
    """One labelled question."""

    id: str
    question: str
    as_of: date | None
    answers: list[str]
    gold: list[str]


@dataclass
class EvalReport:
    """Figures for one evaluation run."""

    n: int = 0
    hits: dict[int, float] = field(default_factory=dict)
    mrr10: float | None = None
    answer_contained: float | None = None
    abstained: float = 0.0
    grounding_replaced: float | None = None
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    ingest_s: float = 0.0
    n_retrieval: int = 0
    n_answers: int = 0
    dates: bool = True

    def as_json(self) -> dict[str, Any]:
        """The machine-readable figures; the first nine keys are a stable interface."""
        return {
            "hit@1": self.hits.get(1),
            "hit@5": self.hits.get(5),
            "hit@10": self.hits.get(10),
            "mrr@10": self.mrr10,
            "answer_contained": self.answer_contained,
            "abstained": self.abstained,
            "n": self.n,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "grounding_replaced": self.grounding_replaced,
            "ingest_s": self.ingest_s,
            "n_retrieval": self.n_retrieval,
            "n_answers": self.n_answers,
            "dates": self.dates,
        }


def hit_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 if any gold document is in the top k."""
    return float(any(doc in gold for doc in ranked[:k]))


def reciprocal_rank(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """1 / rank of the first gold document within the top k, else 0."""
    for rank, doc in enumerate(ranked[:k], 1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether any gold answer string appears in the text, ignoring case."""
    lowered = text.lower()
    return any(a.strip() and a.strip().lower() in lowered for a in answers)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def read_corpus_ids(path: Path) -> set[str]:
    """The doc ids in a corpus file, checking every line is a usable record."""
    ids: set[str] = set()
    for lineno, record in _json_lines(path):
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise EvalInputError(f"{path}:{lineno}: missing or empty 'text' field")
        if not isinstance(record.get("doc_id"), str | int):
            raise EvalInputError(f"{path}:{lineno}: missing 'doc_id'")
        ids.add(str(record["doc_id"]))
    if not ids:
        raise EvalInputError(f"{path}: the corpus is empty")
    return ids


def read_queries(path: Path, corpus_ids: set[str]) -> list[Query]:
    """The queries, checking that every gold document is in the corpus."""
    queries = []
    for lineno, record in _json_lines(path):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise EvalInputError(f"{path}:{lineno}: missing or empty 'question' field")
        gold = [str(g) for g in record.get("gold_doc_ids") or []]
        missing = [g for g in gold if g not in corpus_ids]
        if missing:
            raise EvalInputError(
                f"{path}:{lineno}: gold doc id '{missing[0]}' is not in the corpus"
            )
        raw_date = record.get("question_date")
        as_of = parse_date(str(raw_date), dayfirst=False) if raw_date else None
        answers = record.get("answers") or []
        queries.append(
            Query(
                id=str(record.get("question_id", lineno)),
                question=question.strip(),
                as_of=date.fromisoformat(as_of[:10]) if as_of else None,
                answers=[str(a) for a in (answers if isinstance(answers, list) else [answers])],
                gold=gold,
            )
        )
    if not queries:
        raise EvalInputError(f"{path}: no queries")
    return queries


def _json_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: can't read ({exc})") from None
    records = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise EvalInputError(f"{path}:{lineno}: expected a JSON object")
        records.append((lineno, record))
    return records


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
    from bot.indexing import ingest_paths
    from index.store import ensure_writable

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
    from index.chunking import EMBED_FORMAT

    return {
        "corpus": str(corpus),
        "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest(),
        "model": settings.embedding.model,
        "chunking": settings.chunking.model_dump(),
        "embed_format": EMBED_FORMAT,
    }


def _holds_index(settings: Settings) -> bool:
    from index.errors import EmptyIndexError
    from index.store import open_existing

    try:
        return open_existing(settings.data_dir, settings.store).count() > 0
    except EmptyIndexError:
        return False


def _drop_index(settings: Settings) -> None:
    """Delete the eval collection and its lexical cache."""
    import shutil

    from chromadb.errors import NotFoundError

    from index.lexical import lexical_dir
    from index.store import ChunkStore

    store = ChunkStore(settings.data_dir, backend=settings.store)
    with store.reach(), suppress(NotFoundError):  # a server collection is per corpus
        store.client.delete_collection(settings.store.collection)
    shutil.rmtree(lexical_dir(store), ignore_errors=True)
    (settings.data_dir / _CORPUS_STAMP).unlink()


def evaluate(
    service: Any,
    queries: Sequence[Query],
    k: int = 10,
    use_dates: bool = True,
    on_query: Callable[[], None] | None = None,
) -> EvalReport:
    """Run every query through retrieval and the answerer; compute the figures."""
    hits: dict[int, list[float]] = {1: [], 5: [], k: [], 10: []}
    rr: list[float] = []
    contained: list[bool] = []
    abstained = 0
    replaced: list[bool] = []
    latencies: list[float] = []
    answer_k = service.settings.retrieval.k
    for query in queries:
        scope = TimeScope(as_of=query.as_of if use_dates else None)
        started = time.perf_counter()
        chunks = service.retrieve(query.question, k=max(CHUNKS_PER_QUERY, answer_k), scope=scope)
        answer = service.answer(query.question, chunks[:answer_k])
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = list(dict.fromkeys(c.metadata["article_id"] for c in chunks))
        if query.gold:
            gold = set(query.gold)
            for cutoff in hits:
                hits[cutoff].append(hit_at(ranked, gold, cutoff))
            rr.append(reciprocal_rank(ranked, gold, 10))
        if query.answers:
            contained.append(contains_answer(answer.text, query.answers))
        abstained += answer.abstained
        if answer.grounding is not None or answer.mode != "extractive":
            replaced.append(answer.mode == "extractive-fallback")
        if on_query:
            on_query()
    return EvalReport(
        n=len(queries),
        hits={c: statistics.fmean(v) for c, v in hits.items() if v},
        mrr10=statistics.fmean(rr) if rr else None,
        answer_contained=statistics.fmean(contained) if contained else None,
        abstained=abstained / len(queries),
        grounding_replaced=statistics.fmean(replaced) if replaced else None,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        n_retrieval=len(rr),
        n_answers=len(contained),
        dates=use_dates,
    )
