"""The grounding check: is a generated answer supported by the sources it cites?

1. Citation markers `[n]` that point to no provided source are removed.
2. The answer is cut into sentences. A sentence's support is the share of its content
   words (Snowball stems, stop words dropped) found in the sources it cites: its own
   markers, else the answer's. A number in a sentence (a year, a count, an amount)
   must appear in those sources too, or the sentence scores 0.
3. The answer's support is the smallest sentence support. It is *supported* when it
   cites at least one real source and its support is at least `min_support`
   (default 0.6). Otherwise the caller replaces it with the extractive answer.
4. Optionally (`llm.attribute_uncited`, off by default), an answer that cites nothing
   (small models often forget) is attributed instead: each sentence gets the source
   that supports it best, and only if every sentence reaches `min_support` against
   that one source, and has at least two content words, is the answer kept, with
   those citations and `attributed` set.

Word overlap is crude but measurable and cheap; it catches invented names, wrong
numbers and answers drawn from outside the sources, which is what a small model
gets wrong. It does not catch a negation ("did not") slipped into quoted words.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from index.sentences import sentence_spans
from index.terms import terms

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?])")
_RUN_OF_SPACES = re.compile(r"[ \t]{2,}")
_CLOSING = ".!?\"'\u201d\u2019)"  # a sentence's marker goes before these
_ATTRIBUTABLE_WORDS = 2


class Grounding(BaseModel):
    """The outcome of the grounding check, reported with every LLM answer."""

    supported: bool
    support: float
    cited: list[int]
    removed_citations: list[int]
    reason: str
    attributed: bool = False


@dataclass(frozen=True)
class CheckedAnswer:
    """The answer text with invalid markers removed, and the verdict."""

    text: str
    grounding: Grounding


def cited_numbers(text: str) -> list[int]:
    """Every source number cited in the text, in order of first citation."""
    found: list[int] = []
    for match in _MARKER.finditer(text):
        for part in match.group(1).split(","):
            if int(part) not in found:
                found.append(int(part))
    return found


def check(
    text: str, sources: Mapping[int, str], min_support: float = 0.6, attribute: bool = False
) -> CheckedAnswer:
    """Remove invalid citations and measure how well the sources support the answer."""
    removed = [n for n in cited_numbers(text) if n not in sources]
    text = _strip_markers(text, set(removed)).strip()
    cited = [n for n in cited_numbers(text) if n in sources]
    attributed = False
    if not cited and attribute and (with_citations := attributed_text(text, sources, min_support)):
        text, attributed = with_citations, True
        cited = cited_numbers(text)
    if not cited:
        return CheckedAnswer(
            text,
            Grounding(
                supported=False,
                support=0.0,
                cited=[],
                removed_citations=removed,
                reason="no citation of a provided source",
            ),
        )
    support, weakest = 1.0, ""
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        own = [n for n in cited_numbers(sentence) if n in sources] or cited
        score = sentence_support(sentence, " ".join(sources[n] for n in own))
        if score < support:
            support, weakest = score, sentence
    supported = support >= min_support
    reason = (
        ("supported by its sources" + (" (citations added by newsbot)" if attributed else ""))
        if supported
        else (
            f"not supported by the cited sources (support {support:.2f} < {min_support:.2f}): "
            f"{weakest[:80]!r}"
        )
    )
    return CheckedAnswer(
        text,
        Grounding(
            supported=supported,
            support=round(support, 3),
            cited=cited,
            removed_citations=removed,
            reason=reason,
            attributed=attributed,
        ),
    )


def attributed_text(text: str, sources: Mapping[int, str], min_support: float) -> str | None:
    """The text with each sentence citing its best-supporting source, or None if one has none."""
    cites: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if len(set(terms(sentence))) < _ATTRIBUTABLE_WORDS:
            return None
        score, best = max((sentence_support(sentence, s), -n) for n, s in sources.items())
        if score < min_support:
            return None
        cites.append((start + len(sentence.rstrip(_CLOSING)), -best))
    if not cites:
        return None
    for at, n in reversed(cites):
        text = f"{text[:at]} [{n}]{text[at:]}"
    return text


def sentence_support(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words found in the evidence; 0 for a foreign number."""
    bare = _MARKER.sub(" ", sentence)
    evidence_numbers = {n.replace(",", "") for n in _NUMBER.findall(evidence)}
    if any(n.replace(",", "") not in evidence_numbers for n in _NUMBER.findall(bare)):
        return 0.0
    words = set(terms(bare))
    if not words:
        return 1.0
    return len(words & set(terms(evidence))) / len(words)


def _strip_markers(text: str, invalid: set[int]) -> str:
    """Drop invalid numbers from markers, and markers left empty, with their spacing."""
    if not invalid:
        return text

    def keep(match: re.Match[str]) -> str:
        numbers = [p.strip() for p in match.group(1).split(",") if int(p) not in invalid]
        return f"[{', '.join(numbers)}]" if numbers else ""

    text = _MARKER.sub(keep, text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    return _RUN_OF_SPACES.sub(" ", text)
