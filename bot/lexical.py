"""Word matching for picking answer sentences: stems, stop words, term weights."""

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves s t said says say according also one
    whose tell told article news report reported""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Stemmed content words of a text, in order."""
    words = [w.lower().replace("\u2019", "'").removesuffix("'s") for w in _WORD.findall(text)]
    return _stemmer().stemWords([w for w in words if w not in STOP_WORDS])


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
