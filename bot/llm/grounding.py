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
4. The answer's support is the smallest sentence support. It is *supported* when it
   cites at least one real source and its support is at least `min_support`
   (default 0.6). Otherwise the caller replaces it with the extractive answer.
   `failed` names the checks that failed (number, name, quote, words).
5. Optionally (`llm.attribute_uncited`, off by default), an answer that cites nothing
   (small models often forget) is attributed instead: each sentence gets the source
   that supports it best, and only if every sentence reaches `min_support` against
   that one source, and has at least two content words, is the answer kept, with
   those citations and `attributed` set.

Checking the words an answer adds, and its names, numbers and quotes exactly, catches
a swapped name, place, number or quote, an invented fact added to a restated question,
and a citation of a block that doesn't hold the fact. It does not catch a negation
("did not") slipped into otherwise supported words.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from bot import mentions
from index.sentences import sentence_spans
from index.terms import stem, terms

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?])")
_RUN_OF_SPACES = re.compile(r"[ \t]{2,}")
_CLOSING = ".!?\"'\u201d\u2019)"  # a sentence's marker goes before these
_ATTRIBUTABLE_WORDS = 2
_DISCOURSE = frozenset(
    stem(
        "report reports account accounts differ differs vary varies slightly source sources "
        "articles another separately however meanwhile".split()
    )
)
WINDOW = 3  # sentences of a source that together must hold an answer sentence's words
FACT_WINDOW = 2  # ... and its names, numbers and quotes
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
    for match in _MARKER.finditer(text):
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
    claims = [text[a:b] for a, b in sentence_spans(text) if not declines(text[a:b])]
    if not claims:
        return CheckedAnswer(
            text,
            Grounding(
                supported=False,
                support=0.0,
                cited=[],
                removed_citations=removed,
                reason="the model said the sources don't answer this",
                declined=True,
            ),
        )
    cited = [n for n in cited_numbers(text) if n in sources]
    attributed = False
    if not cited and attribute and (with_citations := attributed_text(text, sources, min_support)):
        text, attributed = with_citations, True
        cited = cited_numbers(text)
        claims = [text[a:b] for a, b in sentence_spans(text) if not declines(text[a:b])]
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
    return not _MARKER.search(sentence) and bool(_DECLINES.search(sentence))


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


def judge(sentence: str, evidence: str, question: str = "") -> tuple[float, list[str]]:
    """A sentence's support by the evidence (0-1), and the checks it failed.

    Its numbers, names and quotes must be in the evidence (else 0); its support is the
    share of the content words it adds beyond the question that the evidence contains.
    """
    failed = missing(sentence, evidence)
    return (0.0 if failed else share(sentence, evidence, question)), failed


def missing(sentence: str, evidence: str, given: str = "") -> list[str]:
    """Which of the sentence's numbers, names and quotes the evidence lacks.

    Those the `given` text (the question) also has are not asked of the evidence.
    """
    bare = _MARKER.sub(" ", sentence)
    failed = []
    wanted = mentions.numbers(bare) - mentions.numbers(given)
    if not wanted <= mentions.numbers(evidence, spelled=True):
        failed.append("number")
    folded, known = mentions.fold(evidence), f" {mentions.fold(given)} "
    runs = [run for run in mentions.full_names(bare) if f" {run} " not in known]
    names = mentions.names(bare) - mentions.names(given) - set(terms(given))
    if not names <= set(terms(evidence)) | mentions.names(evidence) or any(
        f" {run} " not in f" {folded} " for run in runs
    ):
        failed.append("name")
    if any(quote not in folded for quote in mentions.quotations(bare)):
        failed.append("quote")
    return failed


def share(sentence: str, evidence: str, question: str = "") -> float:
    """The share of the content words the sentence adds beyond the question found in evidence."""
    added = set(terms(_MARKER.sub(" ", sentence))) - set(terms(question)) - _DISCOURSE
    return len(added & set(terms(evidence))) / len(added) if added else 1.0


def judge_locally(
    sentence: str, sources: Sequence[str], question: str = ""
) -> tuple[float, list[str]]:
    """Like `judge`, against the passages of the cited sources that best support it.

    Its numbers, names and quotes must be in the sources, and those the question lacks
    must be stated together, within FACT_WINDOW sentences of one source: "the previous
    record, set in 2007, was 4.7 metres" fails when the article gives 2007 with another
    level and 4.7 metres sentences away, and so does a quote given to someone the article
    names elsewhere. Its words must be within
    WINDOW sentences. A sentence that combines sources is judged against the best
    passage of each, together.
    """
    facts = [_passages(source, FACT_WINDOW) for source in sources]
    failed = missing(sentence, "\n".join(sources))  # the question's own names too
    if not failed:
        failed = min((missing(sentence, p, question) for each in facts for p in each), key=len)
    if failed and len(sources) > 1:
        together = " ".join(max(each, key=lambda p: _facts_held(sentence, p)) for each in facts)
        failed = min(failed, missing(sentence, together, question), key=len)
    if failed:
        return 0.0, failed
    wording = [_passages(source, WINDOW) for source in sources]
    best = max(share(sentence, p, question) for each in wording for p in each)
    if best < 1.0 and len(sources) > 1:
        together = " ".join(
            max(each, key=lambda p: share(sentence, p, question)) for each in wording
        )
        best = max(best, share(sentence, together, question))
    return best, []


def _passages(source: str, window: int) -> list[str]:
    """Every run of up to `window` consecutive sentences of the source."""
    spans = sentence_spans(source) or [(0, len(source))]
    return [
        source[spans[i][0] : spans[min(i + window, len(spans)) - 1][1]] for i in range(len(spans))
    ]


def _facts_held(sentence: str, passage: str) -> int:
    """How many of the sentence's numbers and names the passage holds."""
    bare = _MARKER.sub(" ", sentence)
    numbers = mentions.numbers(bare) & mentions.numbers(passage, spelled=True)
    names = mentions.names(bare) & (set(terms(passage)) | mentions.names(passage))
    return len(numbers) + len(names)


def sentence_support(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words in the evidence; 0 for a foreign number or name."""
    return judge(sentence, evidence)[0]


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
