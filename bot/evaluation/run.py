"""Running an evaluation: every question through the same retriever and answerer as `ask`.

Documents are ranked by their best chunk. `--details` writes each answered question as
it comes (DetailsLog), so wrong answers can be read rather than guessed.
"""

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.answer import Answer
from bot.evaluation.metrics import contains_answer, hit_at, percentile, reciprocal_rank
from bot.evaluation.queries import Query
from bot.evaluation.withheld import Verdict, verdict
from index.errors import NewsbotError
from index.search.retriever import TimeScope

CHUNKS_PER_QUERY = 60  # enough chunks to rank 10 distinct documents


class DetailsFileError(NewsbotError):
    """The --details file can't be written; the message names it."""


@dataclass
class EvalReport:
    """Figures for one evaluation run; `withheld_*` only in a run with gold withheld."""

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
    withheld_n: int | None = None
    withheld_abstained: float | None = None
    withheld_right: float | None = None
    withheld_wrong: float | None = None

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
            "withheld_n": self.withheld_n,
            "withheld_abstained": self.withheld_abstained,
            "withheld_right": self.withheld_right,
            "withheld_wrong": self.withheld_wrong,
        }


@dataclass(frozen=True)
class Outcome:
    """One question answered: the documents retrieved, best first, and the answer."""

    query: Query
    ranked: list[str]
    answer: Answer
    withheld: bool = False

    @property
    def gold_rank(self) -> int | None:
        """The rank of the first gold document retrieved, if any."""
        gold = set(self.query.gold)
        return next((rank for rank, doc in enumerate(self.ranked, 1) if doc in gold), None)

    @property
    def contained(self) -> bool | None:
        """Whether the answer holds a gold answer string; None without answers.

        An abstention holds none, even when the closest article it names has it in its title.
        """
        if not self.query.answers:
            return None
        return not self.answer.abstained and contains_answer(self.answer.body, self.query.answers)

    def as_detail(self) -> dict[str, Any]:
        """The `--details` line: the question, the answer and its citations, and the checks."""
        detail = {
            "question_id": self.query.id,
            "question": self.query.question,
            "answer": self.answer.text,
            "abstained": self.answer.abstained,
            "mode": self.answer.mode,
            "citations": [
                c.model_dump(include={"n", "article_id", "title", "date", "snippet"})
                for c in self.answer.citations
            ],
            "contains_answer": self.contained,
            "gold_in_top": self.gold_rank,
        }
        if self.withheld:
            detail["withheld"] = True
        return detail


class DetailsLog:
    """The `--details` file: one JSON line per answered question, flushed as written,
    so an interrupted run keeps the lines it had."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise DetailsFileError(
                f"can't write the details file {path}: {exc.strerror or exc}"
            ) from None

    def __enter__(self) -> "DetailsLog":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()

    def write(self, outcome: Outcome) -> None:
        """Append the outcome's line and flush it."""
        self._file.write(json.dumps(outcome.as_detail(), ensure_ascii=False) + "\n")
        self._file.flush()


def evaluate(
    service: Any,
    queries: Sequence[Query],
    k: int = 10,
    use_dates: bool = True,
    on_answer: Callable[[Outcome], None] | None = None,
    withheld: bool = False,
) -> EvalReport:
    """Run every query through retrieval and the answerer; compute the figures.

    With `withheld`, the queries' gold documents are not in the index: retrieval figures
    don't apply, and the answers are counted as right, abstained or wrong instead.
    """
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    for query in queries:
        scope = TimeScope(as_of=query.as_of if use_dates else None)
        started = time.perf_counter()
        answer = service.ask(query.question, scope=scope)
        latencies.append((time.perf_counter() - started) * 1000)
        chunks = service.retrieve(query.question, k=CHUNKS_PER_QUERY, scope=scope)
        ranked = list(dict.fromkeys(c.metadata["article_id"] for c in chunks))
        outcomes.append(Outcome(query, ranked, answer, withheld))
        if on_answer:
            on_answer(outcomes[-1])
    return _report(outcomes, latencies, k, use_dates)


def _report(outcomes: list[Outcome], latencies: list[float], k: int, use_dates: bool) -> EvalReport:
    """The figures; retrieval only over questions with gold documents still indexed."""
    retrieval = [(o.ranked, set(o.query.gold)) for o in outcomes if o.query.gold and not o.withheld]
    hits = {
        cutoff: statistics.fmean(hit_at(ranked, gold, cutoff) for ranked, gold in retrieval)
        for cutoff in (sorted({1, 5, 10, k}) if retrieval else [])
    }
    rr = [reciprocal_rank(ranked, gold, 10) for ranked, gold in retrieval]
    contained = [o.contained for o in outcomes if o.contained is not None]
    replaced = [
        o.answer.mode == "extractive-fallback"
        for o in outcomes
        if o.answer.grounding is not None or o.answer.mode != "extractive"
    ]
    return EvalReport(
        n=len(outcomes),
        hits=hits,
        mrr10=statistics.fmean(rr) if rr else None,
        answer_contained=statistics.fmean(contained) if contained else None,
        abstained=sum(o.answer.abstained for o in outcomes) / len(outcomes),
        grounding_replaced=statistics.fmean(replaced) if replaced else None,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        n_retrieval=len(rr),
        n_answers=len(contained),
        dates=use_dates,
        **_withheld_shares([verdict(o.answer, o.query) for o in outcomes if o.withheld]),
    )


def _withheld_shares(verdicts: list[Verdict]) -> dict[str, Any]:
    """withheld_n and the shares of abstained, right and wrong; nothing without verdicts."""
    if not verdicts:
        return {}
    return {
        "withheld_n": len(verdicts),
        "withheld_abstained": verdicts.count("abstained") / len(verdicts),
        "withheld_right": verdicts.count("right") / len(verdicts),
        "withheld_wrong": verdicts.count("wrong") / len(verdicts),
    }
