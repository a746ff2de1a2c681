"""Retrieval and latency figures: hit@k, reciprocal rank, answer containment, percentiles."""

import statistics
from collections.abc import Sequence


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
