"""The grounding check: is a generated answer supported by the sources it cites?

1. Citation markers `[n]` that point to no provided source are removed.
2. An answer that only says the sources don't answer (in any common phrasing, citing
   nothing: "I don't know.", "The articles don't mention ...", "It is not possible to
   determine ...") is *declined*: the caller shows it as an abstention, with no other
   answer appended. Such sentences inside a longer answer are set aside; the rest is
   checked.
3. Each other sentence is judged on what it adds beyond the question, against the
   sources it cites (its own markers, else the answer's):
   - every *number* in it must appear in those sources (a year, a count, an amount);
   - every *name* (a capitalised word that doesn't open the sentence: people, places,
     organisations) must appear in them, including names the question gave;
   - every *quoted* passage must appear in them word for word;
   - its *support* is the share of its content words (Snowball stems, stop words
     dropped) that the sources contain, counting only words the question doesn't have,
     so restating the question earns nothing. A sentence that fails a check above
     scores 0.
   - the names, numbers and quotes the question lacks must be stated together, within
     two sentences of one cited article (its chunks read as one text), and its words
     within three (bot/llm/support.py).
4. The answer's support is the smallest sentence support. It is *supported* when it
   cites at least one real source and its support is at least `min_support`
   (default 0.6). Otherwise the caller replaces it with the extractive answer.
   `failed` names the checks that failed (number, name, quote).
5. Optionally (`llm.attribute_uncited`, off by default), an answer that cites nothing
   (small models often forget) is attributed instead: each sentence gets the source
   that supports it best, and only if every sentence reaches `min_support` against
   that one source, and has at least two content words, is the answer kept, with
   those citations and `attributed` set.

Checking the words an answer adds, and its names, numbers and quotes where the article
states them, catches most swapped names, places, numbers and quotes, invented facts
added to a restated question, and citations of a block that doesn't hold the fact
(benchmarks/answers.py). It does not catch a role swapped within one passage ("chaired
by" a person the passage names as a member), nor a negation ("did not") slipped into
otherwise supported words.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from bot.llm.markers import MARKER
from bot.llm.support import judge_locally, sentence_support
from index.sentences import sentence_spans
from index.terms import terms

_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?])")
_RUN_OF_SPACES = re.compile(r"[ \t]{2,}")
_CLOSING = ".!?\"'\u201d\u2019)"  # a sentence's marker goes before these
_ATTRIBUTABLE_WORDS = 2
_DECLINES = re.compile(
    r"\b(?:i|we) (?:do not|don't|don\u2019t|cannot|can't|can\u2019t|could not|couldn't|"
    r"couldn\u2019t|am unable to|was unable to|have no|am not able to) (?:know|find|say|tell|"
    r"answer|determine|information|confirm|see)"
    r"|\b(?:i'm|i\u2019m|i am) (?:not able|unable) to\b"
    r"|\b(?:none|neither) of the (?:provided |given )?(?:sources?|articles?|passages?|texts?)\b"
    r"|\b(?:not|no) (?:possible|able) to (?:determine|answer|say|tell|know|confirm)"
    r"|\bunable to (?:determine|answer|find|say|confirm)"
    r"|\b(?:sources?|articles?|context|texts?|documents?|information|passages?|excerpts?)"
    r"(?: \w+){0,3} (?:do not|does not|don't|doesn't|don\u2019t|doesn\u2019t|did not|didn't|"
    r"fail to|contain no|provide no|make no|give no|offer no) ?(?:say|mention|state|specify|"
    r"contain|include|provide|address|cover|answer|indicate|reveal|discuss|name|identify|"
    r"report|detail|tell|information|mention)?"
    r"|\bno (?:information|mention|details?|data|indication|record)\b"
    r"|\b(?:is|are|was|were) not (?:mentioned|stated|specified|given|provided|reported|"
    r"covered|included|available)\b"
    r"|^\s*(?:unknown|not known|no answer)\b",
    re.IGNORECASE,
)


class Grounding(BaseModel):
    """The outcome of the grounding check, reported with every LLM answer."""

    supported: bool
    support: float
    cited: list[int]
    removed_citations: list[int]
    reason: str
    attributed: bool = False
    declined: bool = False
    failed: list[str] = []


@dataclass(frozen=True)
class CheckedAnswer:
    """The answer text with invalid markers removed, and the verdict."""

    text: str
    grounding: Grounding


def cited_numbers(text: str) -> list[int]:
    """Every source number cited in the text, in order of first citation."""
    found: list[int] = []
    for match in MARKER.finditer(text):
        for part in match.group(1).split(","):
            if int(part) not in found:
                found.append(int(part))
    return found


def check(
    text: str,
    sources: Mapping[int, str],
    min_support: float = 0.6,
    attribute: bool = False,
    question: str = "",
    articles: Mapping[int, str] | None = None,
) -> CheckedAnswer:
    """Remove invalid citations and measure how well the sources support the answer.

    `articles` names the article of each source: sources from one article (its chunks)
    are read as one text, so a fact must be stated together within that article.
    """
    removed = [n for n in cited_numbers(text) if n not in sources]
    text = _strip_markers(text, set(removed)).strip()
    claims = _claims(text)
    if not claims:
        return _unsupported(text, removed, "the model said the sources don't answer this", True)
    cited = [n for n in cited_numbers(text) if n in sources]
    attributed = False
    if not cited and attribute and (with_citations := attributed_text(text, sources, min_support)):
        text, attributed = with_citations, True
        cited = cited_numbers(text)
        claims = _claims(text)
    if not cited:
        return _unsupported(text, removed, "no citation of a provided source")
    support, weakest, failed = 1.0, "", []
    for sentence in claims:
        own = [n for n in cited_numbers(sentence) if n in sources] or cited
        score, failures = judge_locally(sentence, _by_article(own, sources, articles), question)
        failed += [f for f in failures if f not in failed]
        if score < support:
            support, weakest = score, sentence
    supported = support >= min_support
    reason = (
        ("supported by its sources" + (" (citations added by newsbot)" if attributed else ""))
        if supported
        else (
            f"not supported by the cited sources (support {support:.2f} < {min_support:.2f}"
            + (f"; {', '.join(failed)} not in them" if failed else "")
            + f"): {weakest[:80]!r}"
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
            failed=failed if not supported else [],
        ),
    )


def _claims(text: str) -> list[str]:
    """The sentences of the answer that claim something (refusals set aside)."""
    return [text[a:b] for a, b in sentence_spans(text) if not declines(text[a:b])]


def _unsupported(
    text: str, removed: list[int], reason: str, declined: bool = False
) -> CheckedAnswer:
    """The verdict on an answer that cites nothing checkable."""
    grounding = Grounding(
        supported=False,
        support=0.0,
        cited=[],
        removed_citations=removed,
        reason=reason,
        declined=declined,
    )
    return CheckedAnswer(text, grounding)


def _by_article(
    cited: Sequence[int], sources: Mapping[int, str], articles: Mapping[int, str] | None
) -> list[str]:
    """The cited sources' texts, the chunks of one article joined into one text."""
    texts: dict[str, list[str]] = {}
    for n in cited:
        texts.setdefault((articles or {}).get(n, str(n)), []).append(sources[n])
    return ["\n".join(parts) for parts in texts.values()]


def declines(sentence: str) -> bool:
    """Whether the sentence says the sources don't answer ("I don't know.", ...).

    A sentence citing a source is a claim from it ("Police gave no details [1]."), never
    a refusal.
    """
    return not MARKER.search(sentence) and bool(_DECLINES.search(sentence))


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


def _strip_markers(text: str, invalid: set[int]) -> str:
    """Drop invalid numbers from markers, and markers left empty, with their spacing."""
    if not invalid:
        return text

    def keep(match: re.Match[str]) -> str:
        numbers = [p.strip() for p in match.group(1).split(",") if int(p) not in invalid]
        return f"[{', '.join(numbers)}]" if numbers else ""

    text = MARKER.sub(keep, text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    return _RUN_OF_SPACES.sub(" ", text)
