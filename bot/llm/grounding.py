"""The grounding check: is a generated answer supported by the sources it cites?

1. Citation markers `[n]` that point to no provided source are removed.
2. An answer that only says the sources don't answer (in any common phrasing, citing
   nothing: "I don't know.", "The articles don't mention ...", "It is not possible to
   determine ...") is *declined*: the caller shows it as an abstention, with no other
   answer appended. Such a sentence inside a longer answer is set aside only when it
   adds nothing of its own: no name, number, date or quoted words the question lacks,
   and at most one content word beyond the question's and the refusal's own
   (`only_declines`). "The articles don't mention the death toll, but 300 people were
   killed" is a claim.
3. Each claim is judged on what it adds beyond the question, against the sources it
   cites (its own markers, else the answer's), by `judge_sentence`:
   - every *number* in it must appear in those sources (a year, a count, an amount);
   - every *name* (a capitalised word, and the opening word when the sources never
     write it in lower case: "Putin cited ...") must appear in them, including names
     the question gave;
   - every *quoted* passage must appear in them word for word;
   - the names, numbers and quotes the question lacks must be stated together, within
     two sentences of one cited article (its chunks read as one text), and its words
     within three (bot/llm/support.py);
   - its negations and the words tied to its names and numbers must be as the article
     has them (bot/llm/roles.py): "Shalom did not cite ...", "chaired by" the wrong
     person;
   - its *support* is the share of its content words (Snowball stems, stop words
     dropped) that the sources contain, counting only words the question doesn't have,
     so restating the question earns nothing. A sentence that fails a check above
     scores 0.
4. The answer's support is the smallest sentence support. It is *supported* when it
   cites at least one real source and its support is at least `min_support`
   (default 0.6). Otherwise the caller replaces it with the extractive answer.
   `failed` names the checks that failed (number, name, quote, negation, role).
5. Optionally (`llm.attribute_uncited`, off by default), an answer that cites nothing
   (small models often forget) is attributed instead: each sentence gets the source
   that supports it best, and only if every sentence reaches `min_support` against
   that one source, and has at least two content words, is the answer kept, with
   those citations and `attributed` set.

The same judgement releases sentences while the model streams (sentence_gate.py).
Measured in benchmarks/grounding.py, on a held-out half of the dev set and on answers
written against real 2023 articles. It does not catch a role or figure stated far from
its holder, who said what when the article names the speaker far from the verb, nor
invented words under the 40% the support share allows.

No learned model reads the claim and its passage together. One was trained for this
(bot/llm/claims: a MiniLM cross-encoder trained on 2020-22 sentences against edited
copies of themselves). Its best run catches most swapped names, numbers, dates and acts
in held-out sentences but also refuses honest paraphrase, so in front of these rules it
cost more good answers than it caught invented ones on the dev set's tuning half
(bot/llm/claims/model/MODEL_CARD.md): the check is the rules.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from bot.llm.markers import MARKER
from bot.llm.support import judge_locally, sentence_support
from index import mentions
from index.sentences import sentence_spans
from index.terms import stem, terms

_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?])")
_RUN_OF_SPACES = re.compile(r"[ \t]{2,}")
_CLOSING = ".!?\"'\u201d\u2019)"  # a sentence's marker goes before these
_ATTRIBUTABLE_WORDS = 2
# What joins a claim to a refusal: "…, but 300 died", "…; police said …", "…, which …"
_SECOND_CLAUSE = re.compile(
    r"\b(?:but|though|although|however|yet|whereas|while|except|instead|because|since)\b"
    r"|[;:\u2014\u2013]|\s-\s|,\s*(?:which|who|and|so)\b",
    re.IGNORECASE,
)
# The words refusals are made of: "The provided articles do not specify any information …"
_REFUSAL_WORDS = frozenset(
    stem(
        """i we know find say tell answer determine information confirm see able unable
        possible none neither provided given source sources article articles passage
        passages text texts context document documents excerpt excerpts mention mentions
        state states specify specifies contain contains include includes provide provides
        address cover indicate reveal discuss name identify detail details data indication
        record records fail make give offer unknown known available covered reported stated
        specified mentioned included clear clearly any sorry unfortunately apologies based
        many much long whether exactly precisely number current currently
        cannot can't couldn't don't doesn't didn't i'm i've isn't aren't wasn't weren't""".split()
    )
)
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
    claims = _claims(text, question)
    if not claims:
        return _unsupported(text, removed, "the model said the sources don't answer this", True)
    cited = [n for n in cited_numbers(text) if n in sources]
    attributed = False
    if not cited and attribute and (with_citations := attributed_text(text, sources, min_support)):
        text, attributed = with_citations, True
        cited = cited_numbers(text)
        claims = _claims(text, question)
    if not cited:
        return _unsupported(text, removed, "no citation of a provided source")
    support, weakest, failed = 1.0, "", []
    for sentence in claims:
        score, failures = judge_sentence(sentence, sources, cited, question, articles)
        failed += [f for f in failures if f not in failed]
        if score < support:
            support, weakest = score, sentence
    supported = support >= min_support
    reason = (
        ("supported by its sources" + (" (citations added by newsbot)" if attributed else ""))
        if supported
        else (
            f"not supported by the cited sources (support {support:.2f} < {min_support:.2f}"
            + (f"; {', '.join(failed)} check{'s' * (len(failed) > 1)} failed" if failed else "")
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


def judge_sentence(
    sentence: str,
    sources: Mapping[int, str],
    cited: Sequence[int],
    question: str = "",
    articles: Mapping[int, str] | None = None,
) -> tuple[float, list[str]]:
    """One claim's support by the sources it cites (else the answer's `cited`), and its failures."""
    own = [n for n in cited_numbers(sentence) if n in sources] or list(cited)
    return judge_locally(sentence, _by_article(own, sources, articles), question)


def _claims(text: str, question: str = "") -> list[str]:
    """The sentences of the answer that claim something (pure refusals set aside)."""
    return [text[a:b] for a, b in sentence_spans(text) if not only_declines(text[a:b], question)]


def only_declines(sentence: str, question: str = "") -> bool:
    """Whether the sentence only says the sources don't answer, adding nothing of its own.

    Refusal wording doesn't make a sentence a refusal: "The articles don't mention the
    death toll, but 300 people were killed" claims something. A pure refusal adds no
    name, number, date or quoted words the question lacks, and either at most one
    content word beyond the question's and the refusal's own ("The articles don't say
    who chairs it") or is one clause, with no "but", "though", "which" … or semicolon
    to carry a claim ("The articles don't say how the cuts are split across divisions").
    """
    if not declines(sentence) or mentions.missing_from(sentence, question):
        return False
    added = set(terms(sentence)) - set(terms(question)) - _REFUSAL_WORDS
    return len(added) <= 1 or not _SECOND_CLAUSE.search(sentence)


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
