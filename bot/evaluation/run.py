"""Running an evaluation: every question through the same retriever and answerer as `ask`.

Documents are ranked by their best chunk.
"""

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.evaluation.metrics import contains_answer, hit_at, percentile, reciprocal_rank
from bot.evaluation.queries import Query
from index.search.retriever import TimeScope

CHUNKS_PER_QUERY = 60  # enough chunks to rank 10 distinct documents


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
