"""How strongly a retrieved sentence answers a question, and how likely the answer is right.

Two small logistic models over features that need no model beyond the query encoder:

- **Sentence likelihood**: the chance that a candidate sentence holds the answer, from
  the weighted share of the question's words it contains, its chunk's retrieval score,
  its own cosine similarity to the question, whether it supplies what the question asks
  for (a name the question lacks for "who"/"which", a number for "how many", a date for
  "when"), the share of the question's names it keeps, whether it only restates the
  question, the same three scores relative to the question's best candidate, its length,
  and whether it opens its article (a news lead).
- **Answer confidence**: the chance that the answer built from the best sentences is
  right, from the best two likelihoods, the best chunk, sentence cosine and word share,
  the best chunk's share of the question's words, and the share of the question's
  names found in any retrieved chunk. The answerer abstains below `answer.min_evidence`,
  and whenever the best sentence is less likely than MIN_LIKELIHOOD.

Both were fitted with `benchmarks/calibrate.py` on RealTime QA 2023 (999 answerable
questions, and 300 whose gold paragraphs were withheld from the corpus), which prints
these coefficients and the held-out figures behind them.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index import mentions
from index.terms import terms

SENTENCE_FEATURES = (
    "overlap",
    "chunk",
    "cosine",
    "supplies",
    "keeps_names",
    "restates",
    "overlap_share",
    "cosine_gap",
    "chunk_gap",
    "length",
    "lead",
)
SENTENCE_WEIGHTS = np.array([1.61, 3.33, 2.49, 0.24, 0.34, -0.47, 0.53, 0.58, 2.86, -1.46, 1.56])
SENTENCE_BIAS = -6.37
CONFIDENCE_FEATURES = (
    "best",
    "runner_up",
    "best_chunk",
    "best_cosine",
    "best_overlap",
    "chunk_coverage",
    "names_found",
)
CONFIDENCE_WEIGHTS = np.array([2.80, 0.54, -0.28, 1.63, 0.75, -0.48, 0.89])
CONFIDENCE_BIAS = -2.96

# The least likelihood of the best sentence: below it no sentence plausibly answers,
# whatever the confidence model says ("What is the capital of Australia?" over news
# that mentions Australia). With it, RealTime QA's answerable questions abstain 3% of the
# time at any min_evidence up to 0.1, and a quarter of those with withheld evidence.
MIN_LIKELIHOOD = 0.07
_ASKED_LAST = re.compile(r"(?<=\?)\s+")
_LONG = 400  # characters: longer sentences count as this long
_RESTATES = 2  # a sentence adding fewer content words than this only restates the question


@dataclass(frozen=True)
class Question:
    """What the features need to know about the question."""

    text: str
    terms: frozenset[str]
    names: frozenset[str]
    expected: mentions.Expected

    @classmethod
    def of(cls, text: str) -> "Question":
        """The question; a follow-up joined to the one before it ("Who is Michaeli? What did
        he tell Army Radio?") asks what its last part asks.
        """
        last = _ASKED_LAST.split(text.strip())[-1]
        return cls(
            text, frozenset(terms(text)), frozenset(mentions.names(text)), mentions.expected(last)
        )


def sentence_features(
    question: Question,
    sentences: Sequence[str],
    overlaps: Sequence[float],
    chunk_scores: Sequence[float],
    cosines: "Sequence[float] | np.ndarray",
    leads: Sequence[bool],
    contexts: Sequence[frozenset[str]],
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate sentence.

    A sentence keeps the question's names that it, or the context it is read with (its
    article's title, the sentence its pronoun refers to), holds.
    """
    if not sentences:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    best_overlap = max(overlaps) or 1.0
    best_cosine, best_chunk = max(cosines), max(chunk_scores)
    rows = []
    for text, ov, chunk, cos, lead, context in zip(
        sentences, overlaps, chunk_scores, cosines, leads, contexts, strict=True
    ):
        own = set(terms(text))
        held = own | context
        kept = len(question.names & held) / len(question.names) if question.names else 1.0
        rows.append(
            [
                ov,
                chunk,
                cos,
                float(mentions.supplies(question.expected, text, set(question.names))),
                kept,
                float(len(own - question.terms) < _RESTATES),
                ov / best_overlap,
                cos - best_cosine,
                chunk - best_chunk,
                min(len(text), _LONG) / _LONG,
                float(lead),
            ]
        )
    return np.array(rows)


def likelihoods(features: np.ndarray) -> np.ndarray:
    """The chance that each sentence holds the answer."""
    return _sigmoid(features @ SENTENCE_WEIGHTS + SENTENCE_BIAS)


def confidence_features(
    question: Question,
    chunk_texts: Sequence[str],
    chunk_scores: Sequence[float],
    features: np.ndarray,
    chances: np.ndarray,
) -> np.ndarray:
    """CONFIDENCE_FEATURES of an answer whose candidates have these features and chances."""
    ranked = np.sort(chances)[::-1]
    chunk_terms = [set(terms(text)) for text in chunk_texts]
    asked = question.terms or frozenset({""})
    coverage = max((len(asked & found) / len(asked) for found in chunk_terms), default=0.0)
    found = set().union(*chunk_terms) if chunk_terms else set()
    names = len(question.names & found) / len(question.names) if question.names else 1.0
    return np.array(
        [
            ranked[0],
            ranked[1] if len(ranked) > 1 else 0.0,
            max(chunk_scores),
            features[:, SENTENCE_FEATURES.index("cosine")].max(),
            features[:, SENTENCE_FEATURES.index("overlap")].max(),
            coverage,
            names,
        ]
    )


def confidence(features: np.ndarray) -> float:
    """The chance that the answer is right."""
    return float(_sigmoid(features @ CONFIDENCE_WEIGHTS + CONFIDENCE_BIAS))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def cosines(question: Sequence[float], sentences: Sequence[Sequence[float]]) -> np.ndarray:
    """Cosine similarity of each sentence vector to the question's."""
    matrix = np.asarray(sentences, dtype=np.float32).reshape(len(sentences), -1)
    q = np.asarray(question, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
    return (matrix @ q) / np.clip(norms, 1e-12, None)


def term_weights(documents: Iterable[set[str]]) -> dict[str, float]:
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
