"""Term weights for picking answer sentences among a handful of candidates."""

import math
from collections import Counter
from collections.abc import Iterable

from index.terms import terms

__all__ = ["overlap", "terms", "weights"]


def weights(documents: Iterable[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over a small set of documents."""
    docs = list(documents)
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    return {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}


def overlap(question: set[str], sentence: set[str], idf: dict[str, float]) -> float:
    """Weighted share of the question's terms that the sentence contains (0..1)."""
    if not question:
        return 0.0
    top = max(idf.values(), default=1.0)
    total = sum(idf.get(t, top) for t in question)
    return sum(idf.get(t, top) for t in question & sentence) / total
