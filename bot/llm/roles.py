"""Who did what: a claim's negations and the words beside its names and numbers, as cited.

The word and fact checks (support.py) find each word, name and number of a sentence in
its sources, but not how they are tied together. Two rules, measured on the grounding
dev set (benchmarks/grounding.py), catch inventions made of supported words:

- *Polarity.* The word a negator governs (the first content word after "not", "no",
  "never", "n't" …, in one clause: "Shalom did *not cite* …") must be governed by a
  negator somewhere in the sources, and a word the sources only ever negate ("police
  gave *no details*") must not be asserted.
- *Roles.* The content words tied to a name or a number in the claim ("*chaired* by
  Gloria Tran", "Kessler *proposed*", "*cost* of $50,000") are its role. When every
  place the sources use that word has another name (or number) nearest, within
  SOURCE_REACH words, and never this one, the claim gave the role to the wrong person
  or the figure to the wrong thing. A word the sources have beside no name or number
  says nothing either way.

Words are compared as Snowball stems; names are the words `mentions.name_words` finds,
plus the claim's opening word when the sources never write it in lower case
(`opening_name`). Titles ("Dr", "Mr") and dates ("September 1") are not anchors.
What these rules can't see: a role stated far from its name, or a figure given to the
other side in a clause of its own ("the union wants 18%; the hospital offered 9%").
"""

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.llm.markers import MARKER
from index import mentions
from index.sentences import sentence_spans
from index.terms import STOP_WORDS, stem, words

SOURCE_REACH = 6  # words around a source's use of a role word where its holder is named
_NEGATORS = frozenset({"not", "no", "never", "neither", "nor", "without", "none", "nobody"})
_TOKEN = re.compile(
    r"\d+(?:[.,:]\d+)*|[^\W\d_]+(?:['\u2019][^\W\d_]+)*|[,;:()\"\u201c\u201d\u2014\u2013]"
)
_CALENDAR = frozenset(
    w.lower() for w in [*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name]
)
_OPENERS = frozenset(
    """although though however meanwhile despite instead since unlike like roughly nearly
    almost about around earlier later last next first second third finally overall still
    yesterday today tomorrow tonight this these those several many most some both each
    every another other others such""".split()
)  # common words that open sentences, never names
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof", "st"})
_LINKS: dict[str, list[tuple[int, tuple[str, ...]]]] = {  # (direction, words between)
    "number": [(-1, ("of",))],
    "name": [(-1, ()), (-1, ("by",)), (1, ()), (1, (",", "who")), (1, ("who",))],
}
_AUXILIARIES = frozenset(
    stem("be been being is was were are has have had do does did get got yet ever".split())
)


@dataclass(frozen=True)
class _Token:
    stem: str
    kind: str  # "word", "name", "number", "negator", "break" (punctuation), "" (stop word)


def role_failures(claim: str, sources: Sequence[str], given: str = "") -> list[str]:
    """Which of "negation" and "role" the claim fails against the cited sources' texts."""
    opening = opening_name(claim, sources)
    said = _tokens(claim, mentions.names(claim) | set(stem([opening] if opening else [])))
    named = mentions.names("\n".join(sources))  # "Shalom cited …": a name said elsewhere
    heard = [_tokens(s[a:b], named) for s in sources for a, b in sentence_spans(s)]
    failed = []
    if _polarity_differs(said, heard):
        failed.append("negation")
    if _role_differs(said, heard):
        failed.append("role")
    return failed


def opening_name(sentence: str, sources: Sequence[str]) -> str | None:
    """The sentence's opening word if it is a name: capitalised, never lower case in the sources.

    "Putin cited …" opens with a name the article never writes in lower case; "Officials
    said …" opens with a word it does ("officials"), "The …" with a stop word.
    """
    opening = sentence.lstrip(" \"'\u201c\u2018([")
    found = words(opening[:60])
    if not found or not opening[:1].isupper() or found[0] in STOP_WORDS | _CALENDAR | _OPENERS:
        return None
    if found[0].endswith("ly") or found[0] in found[1:]:
        return None  # "Roughly …", or a word the sentence also writes in lower case
    lower = re.compile(rf"(?<![\w'\u2019]){re.escape(found[0])}(?!\w)")
    return None if any(lower.search(source) for source in sources) else found[0]


def _tokens(text: str, names: set[str]) -> list[_Token]:
    text = MARKER.sub(" ", text)
    found: list[_Token] = []
    for match in _TOKEN.finditer(text):
        word = match.group().lower().replace("\u2019", "'").removesuffix("'s")
        if not word[0].isalnum():
            found.append(_Token(word, "break"))
        elif word[0].isdigit():
            day = bool(found) and found[-1].stem in _CALENDAR  # "September 1" is a date
            found.append(_Token(word.replace(",", "").lstrip("0") or "0", "" if day else "number"))
        elif word in _NEGATORS or word.endswith("n't"):
            found.append(_Token(word, "negator"))
        elif word in STOP_WORDS or word in _CALENDAR or word in _TITLES:
            found.append(_Token(word, ""))
        else:
            root = stem([word])[0]
            found.append(_Token(root, "name" if root in names else "word"))
    return found


def _negations(tokens: list[_Token]) -> Iterator[tuple[int, bool, bool]]:
    """Each content word's position; whether a negator governs it; whether one precedes it.

    A negator governs the first content word after it ("did *not cite*"); it precedes
    every later word of its clause ("were *not* fitted with *sensors*").
    """
    governs, clause = False, False
    for i, token in enumerate(tokens):
        if token.kind == "break":
            governs, clause = False, False
        elif token.kind == "negator":
            governs, clause = True, True
        elif token.kind in ("name", "number"):
            governs = False
        elif token.kind == "word" and token.stem not in _AUXILIARIES:
            yield i, governs, clause
            governs = False


def _polarity_differs(said: list[_Token], heard: list[list[_Token]]) -> bool:
    """A word the claim negates that no source negates, or asserts that sources only negate."""
    in_clause: dict[str, set[bool]] = {}
    governed: dict[str, set[bool]] = {}
    for sentence in heard:
        for j, governs, clause in _negations(sentence):
            in_clause.setdefault(sentence[j].stem, set()).add(clause)
            governed.setdefault(sentence[j].stem, set()).add(governs)
    for i, governs, clause in _negations(said):
        word = said[i].stem
        if governs and word in in_clause and True not in in_clause[word]:
            return True  # "Shalom did not cite …" where the article says he cited
        if not clause and word in governed and False not in governed[word]:
            return True  # "police gave details" where the article says "no details"
    return False


def _role_differs(said: list[_Token], heard: list[list[_Token]]) -> bool:
    for role in _roles(said):
        beside_it, beside_other = False, False
        for sentence in heard:
            for j in (j for j, t in enumerate(sentence) if t.stem == role.word):
                window = sentence[max(0, j - SOURCE_REACH) : j + SOURCE_REACH + 1]
                beside_it |= any(t.stem in role.holder for t in window)
                nearest = {t.stem for t in _nearest(sentence, j, role.kind)}
                beside_other |= bool(nearest) and not nearest & role.holder
        if beside_other and not beside_it:
            return True
    return False


@dataclass(frozen=True)
class _Role:
    word: str  # the stem of the role word: "chair", "cost"
    kind: str  # what holds it: "name" or "number"
    holder: frozenset[str]  # the holder's stems: the whole name ("teresa delgado port ellery")


def _roles(said: list[_Token]) -> set[_Role]:
    """The words each name or number is tied to, by the links in `_LINKS`.

    Before a number, what it measures ("*cost* of $50,000"); not its unit, which every
    figure of a kind shares ("21 *points*"). Before a name, its title or the act it was
    the agent of ("*chaired* by Tran"); after a name, what it did ("Kessler *proposed*", "Tran, who
    *chairs*"). A name is all of its words, "of" included ("Teresa Delgado of Port Ellery").
    """
    found = set()
    for start, end, kind in _holders(said):
        holder = frozenset(t.stem for t in said[start:end] if t.kind == kind)
        for step, between in _LINKS[kind]:
            j = start - 1 if step < 0 else end
            for link in between if step > 0 else reversed(between):
                j = j + step if 0 <= j < len(said) and said[j].stem == link else -1
            if 0 <= j < len(said) and said[j].kind == "word" and said[j].stem not in _AUXILIARIES:
                found.add(_Role(said[j].stem, kind, holder))
    return found


def _holders(said: list[_Token]) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of each run of names (joined by "of") or numbers ("7-4")."""
    i = 0
    while i < len(said):
        kind = said[i].kind
        if kind not in ("name", "number"):
            i += 1
            continue
        end = i + 1
        while end < len(said) and (
            said[end].kind == kind
            or (
                kind == "name"
                and said[end].stem == "of"
                and end + 1 < len(said)
                and said[end + 1].kind == "name"
            )
        ):
            end += 1
        yield i, end, kind
        i = end


def _nearest(tokens: list[_Token], at: int, kind: str) -> list[_Token]:
    """The tokens of that kind closest to position `at`, within SOURCE_REACH words."""
    for distance in range(1, SOURCE_REACH + 1):
        found = [
            tokens[j]
            for j in (at - distance, at + distance)
            if 0 <= j < len(tokens) and tokens[j].kind == kind
        ]
        if found:
            return found
    return []
