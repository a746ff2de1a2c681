"""Training pairs for the claim verifier: (claim, passage, supported) from real paragraphs.

Every claim is made from a sentence of the passage it is paired with, so a claim and
its passage always share the topic and most words; only support tells them apart.

- Supported: the sentence as written, and light rewrites of it that add nothing: a
  clause dropped, two clauses reordered, a modifier deleted, the sentence merged with
  its neighbour.
- Not supported, the same sentence edited: a name swapped for another name of the
  passage, a number or date changed, a negation inserted or removed, two names (or
  numbers) trading places, an act replaced by another verb of the passage or its
  opposite, or a clause from another article appended.

The passage is the run of up to `support.WINDOW` sentences around the sentence: the
window the grounding check reads.
"""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.llm.support import WINDOW
from index.sentences import sentence_spans


@dataclass(frozen=True)
class Pair:
    """One training or evaluation example."""

    claim: str
    passage: str
    supported: bool
    kind: str
    group: int = 0  # the sentence it was made from: its original and its edits share one


_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_AUXILIARY = re.compile(
    r"\b(is|are|was|were|has|have|had|will|would|can|could|should|must|did|does|do)\b(?! not\b)"
)
_NEGATED = re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|should|did|does|do) not\b")
_CONTRACTED = re.compile(
    r"\b(is|are|was|were|has|have|had|would|could|should|did|does|do)n[\u2019']t\b"
)
_PAST = re.compile(r"\b[a-z]{3,}ed\b")
_OPPOSITES = dict(
    pair
    for a, b in (
        ("approved", "rejected"),
        ("won", "lost"),
        ("rose", "fell"),
        ("increased", "decreased"),
        ("raised", "lowered"),
        ("passed", "failed"),
        ("signed", "vetoed"),
        ("accepted", "declined"),
        ("joined", "left"),
        ("allowed", "banned"),
        ("opened", "closed"),
        ("supported", "opposed"),
        ("hired", "fired"),
        ("arrested", "released"),
        ("gained", "lost"),
        ("before", "after"),
        ("more", "fewer"),
        ("highest", "lowest"),
        ("largest", "smallest"),
        ("first", "last"),
    )
    for pair in ((a, b), (b, a))
)
_MODIFIERS = re.compile(
    r"\s\b(?:also|still|now|just|recently|reportedly|officially|already|currently|finally|"
    r"very|largely|nearly|roughly|about|around)\b"
)


def passages(text: str) -> Iterator[tuple[str, str, str | None]]:
    """Each sentence of a text with its window (WINDOW sentences around it) and its successor."""
    spans = sentence_spans(text)
    for i, (a, b) in enumerate(spans):
        first = max(0, min(i - 1, len(spans) - WINDOW))
        last = min(len(spans), first + WINDOW) - 1
        following = text[spans[i + 1][0] : spans[i + 1][1]] if i + 1 < len(spans) else None
        yield text[a:b], text[spans[first][0] : spans[last][1]], following


def rewrites(sentence: str, following: str | None, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Light rewrites that add nothing the sentence doesn't say: (kind, text)."""
    parts = [p.strip() for p in sentence.rstrip(".").split(",")]
    if len(parts) >= 3:
        drop = rng.randrange(1, len(parts) - 1)
        yield "drop clause", ", ".join(parts[:drop] + parts[drop + 1 :]) + "."
    if len(parts) == 2 and min(len(p.split()) for p in parts) >= 3:
        second = parts[1][0].upper() + parts[1][1:]
        yield "reorder", f"{second}, {parts[0][0].lower() + parts[0][1:]}."
    if (shorter := _MODIFIERS.sub("", sentence, count=1)) != sentence:
        yield "delete modifier", shorter
    if following and len(sentence.split()) + len(following.split()) < 60:
        yield "merge", f"{sentence.rstrip('.')}, and {following[0].lower() + following[1:]}"


def negatives(
    sentence: str, passage: str, elsewhere: str, rng: random.Random
) -> Iterator[tuple[str, str]]:
    """The sentence edited to say what the passage doesn't: (kind, text)."""
    own = _name_runs(sentence)
    others = [n for n in _name_runs(passage) if n not in own and n.lower() not in sentence.lower()]
    if own and others:
        yield "swap name", _replace_once(sentence, rng.choice(own), rng.choice(others))
    if len(own) >= 2:
        a, b = rng.sample(own, 2)
        if a not in b and b not in a:
            yield "swap roles", _swap(sentence, a, b)
    numbers = _NUMBER.findall(sentence)
    if numbers:
        number = rng.choice(numbers)
        pool = [n for n in _NUMBER.findall(passage) if n != number]
        yield (
            "swap number",
            _replace_once(sentence, number, rng.choice(pool) if pool else _nudge(number, rng)),
        )
    if len(set(numbers)) >= 2:
        a, b = rng.sample(sorted(set(numbers)), 2)
        yield "swap numbers", _swap(sentence, a, b)
    for pattern, values in ((_MONTH, _MONTHS), (_WEEKDAY, _WEEKDAYS)):
        if found := pattern.search(sentence):
            other = rng.choice([v for v in values if v != found.group(1)])
            yield "swap date", sentence[: found.start()] + other + sentence[found.end() :]
    if negated := _negate(sentence):
        yield "negation", negated
    verbs = [v for v in _PAST.findall(sentence) if v in _OPPOSITES or len(v) > 4]
    if verbs:
        verb = rng.choice(verbs)
        candidates = [v for v in set(_PAST.findall(passage)) if v != verb and v not in sentence]
        replacement = _OPPOSITES.get(verb) or (
            rng.choice(sorted(candidates)) if candidates else None
        )
        if replacement:
            yield "other act", re.sub(rf"\b{verb}\b", replacement, sentence, count=1)
    for word, opposite in _OPPOSITES.items():
        if not word.endswith("ed") and re.search(rf"\b{word}\b", sentence):
            yield "opposite", re.sub(rf"\b{word}\b", opposite, sentence, count=1)
            break
    clause = _a_clause(elsewhere, rng)
    if clause:
        yield "added clause", f"{sentence.rstrip('.')}, {clause}."


def _name_runs(text: str) -> list[str]:
    """Capitalised word runs of the text that aren't sentence openers: its names."""
    runs = re.findall(
        r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zA-Z'\u2019-]+(?: [A-Z][a-zA-Z'\u2019-]+)*)", text
    )
    return sorted({r for r in runs if r not in _MONTHS and r not in _WEEKDAYS and len(r) > 2})


def _replace_once(text: str, old: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", lambda _: new, text, count=1)


def _swap(text: str, a: str, b: str) -> str:
    marker = "\x00"
    return _replace_once(_replace_once(_replace_once(text, a, marker), b, a), marker, b)


def _nudge(number: str, rng: random.Random) -> str:
    digits = number.replace(",", "")
    if "." in digits:
        return f"{float(digits) * rng.choice((0.5, 1.5, 2)):.1f}"
    value = int(digits)
    changed = (
        value + rng.choice((1, 2, 3)) if value < 10 else int(value * rng.choice((0.6, 1.4, 2)))
    )
    return f"{changed:,}" if "," in number else str(changed)


def _negate(sentence: str) -> str | None:
    """The sentence with a negation removed, or else one inserted."""
    if found := _NEGATED.search(sentence):
        return sentence[: found.start()] + found.group(1) + sentence[found.end() :]
    if found := _CONTRACTED.search(sentence):
        return sentence[: found.start()] + found.group(1) + sentence[found.end() :]
    if " never " in sentence:
        return sentence.replace(" never ", " ", 1)
    if found := _AUXILIARY.search(sentence):
        return sentence[: found.end()] + " not" + sentence[found.end() :]
    if found := _PAST.search(sentence):  # "approved" -> "never approved"
        return sentence[: found.start()] + "never " + sentence[found.start() :]
    return None


def _a_clause(text: str, rng: random.Random) -> str | None:
    """A clause of another article's sentence, to be appended as an invention."""
    spans = sentence_spans(text)
    if not spans:
        return None
    a, b = rng.choice(spans)
    words = text[a:b].rstrip(".").split()
    if len(words) < 6:
        return None
    start = rng.randrange(0, max(1, len(words) - 8))
    joint = rng.choice(("which", "and", "as", "after", "while", "so"))
    return f"{joint} " + " ".join(words[start : start + rng.randint(5, 9)]).lower()


_SURFACE = frozenset({"negation", "added clause"})  # edits a "not" or a stray clause gives away


def pairs(texts: list[str], seed: int = 0) -> list[Pair]:
    """Positive and negative pairs from every sentence of the texts, grouped by sentence.

    Up to three negatives a sentence, swaps and replaced acts first: an inserted "not"
    or an appended clause is learnt from surface cues alone (MODEL_CARD.md, second run),
    so each is kept only when the sentence allows fewer than three other edits.
    """
    rng = random.Random(seed)
    made: list[Pair] = []
    for text in texts:
        for sentence, passage, following in passages(text):
            if len(sentence.split()) < 5:
                continue
            group = len(made)
            made.append(Pair(sentence, passage, True, "as written", group))
            made += [
                Pair(t, passage, True, k, group) for k, t in rewrites(sentence, following, rng)
            ]
            edited = [
                (k, t)
                for k, t in negatives(sentence, passage, rng.choice(texts), rng)
                if t != sentence
            ]
            rng.shuffle(edited)
            edited.sort(key=lambda edit: edit[0] in _SURFACE)
            made += [Pair(t, passage, False, k, group) for k, t in edited[:3]]
    return made
