"""What a text mentions that an answer can get wrong: names, numbers, dates and quoted words.

Both answerers use these: the extractive one to prefer a sentence that adds what the
question asks for (a person for "who", a number for "how many") and keeps the question's
names; the grounding check to require that an LLM answer's names, numbers and quotes
appear in the sources it cites. Questions find their names here too (`bot.questions`).

A *name* is a capitalised word that does not open a sentence (so "The" and "However"
are not names, and neither is a lone name opening a sentence: "Smith said" counts
"Smith" only when another capitalised word follows, as in "Jane Roe said").
"""

import calendar
import re
import unicodedata
from typing import Literal

from index.terms import STOP_WORDS, stem, words

Expected = Literal["number", "date", "person", "name", "any"]

_CAPITALISED = re.compile(r"[^\W\d_][\w'\u2019.-]*")
_OPENS_SENTENCE = frozenset('.!?:;"\u201c\u2018([\u2014\u2013')
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPELLED_NUMBER = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|"
    r"billions?|trillions?|half|double|twice|triple|quarter)\b",
    re.I,
)
# Month names and their abbreviations ("Sept" too), capitalised as in running text.
_MONTHS = dict.fromkeys([*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept"])
_MONTH = rf"(?:{'|'.join(_MONTHS)})\b\.?"
_DATE = re.compile(
    rf"{_MONTH}|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:1[5-9]|20)\d\d\b|\b(?:yesterday|today|tomorrow|tonight)\b"
    r"|\b(?:last|next|this) (?:week|month|year|weekend)\b"
    r"|\b\d+ (?:days?|weeks?|months?|years?) ago\b",
)
_QUOTED = re.compile(r"\u201c([^\u201d]{3,})\u201d|\"([^\"]{3,})\"")
_EXPECTS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|far|big|large|tall|high|often|fast)\b"
    r"|\b(?:what|which) (?:percentage|percent|share|proportion|number|amount|age|price|"
    r"sum|fee|rate|total|figure|score)\b|\bby how\b",
    re.I,
)
_EXPECTS_DATE = re.compile(r"\bwhen\b|\b(?:what|which) (?:year|date|day|month|time)\b", re.I)
_EXPECTS_PERSON = re.compile(r"\bwho(?:m|se)?\b", re.I)
_EXPECTS_NAME = re.compile(r"\bwhich\b|^\s*name\b", re.I)
_FOLDED = re.compile(r"[\W_]+")
_SAID = re.compile(
    r"\b(?i:what|how|why) (?:did|does|do|has|have|had|is|was) ((?:[A-Z][\w'\u2019.-]* ?){1,4}) ?"
    r"(?:say|said|tell|told|cite|claim|argue|announce|write|warn|promise|mean|think|"
    r"describe|call|saying|telling|claiming|arguing|warning)\b"
)
_HOW_MANY = re.compile(r"\bhow many ([^\W\d_]+)", re.I)
_COUNT = re.compile(
    r"(?:\d[\d,.]*|\b(?:two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|"
    r"thousands?|millions?)\b)(?: million| billion| thousand)?((?: [^\W\d_]+){1,3})",
    re.I,
)
_POSSESSIVE = re.compile(r"(?<=\w)'s\b")
_SPELLED = {
    w: str(n)
    for n, w in enumerate(
        "_ _ two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_SPELLED_WORD = re.compile(rf"\b(?:{'|'.join(w for w in _SPELLED if w != '_')})\b")
_NAME_RUN = re.compile(
    r"(?<![\w.'\u2019])(?:(?:Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gov|Gen|Lt|Col|Sgt)\.? )?"
    r"[A-Z][a-z]+(?: [A-Z][a-z]+)+(?![\w'\u2019])"
)
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof"})


def name_words(text: str) -> list[str]:
    """The capitalised words of a text that don't open a sentence and aren't stop words."""
    found: list[str] = []
    for match in _CAPITALISED.finditer(text):
        word = match.group().rstrip(".'\u2019-")
        if not word[:1].isupper() or word.lower() in STOP_WORDS:
            continue
        before = text[: match.start()].rstrip()
        if not before or before[-1] in _OPENS_SENTENCE:
            after = text[match.end() :].lstrip()[:1]
            if not after.isupper():  # "Smith said": a lone opening word is not counted
                continue
        found.append(word)
    return found


def names(text: str) -> set[str]:
    """The stems of the text's names, for matching ("Russia's" and "Russia" are one)."""
    found = [w for word in name_words(text) for w in words(word)]
    return set(stem([w for w in found if len(w) > 1 and w not in STOP_WORDS]))


def numbers(text: str, spelled: bool = False) -> set[str]:
    """The numbers in a text as digits without separators or leading zeros.

    "10,000" and "10000" are one, and "06" (of "2:06:41") is "6". With `spelled`, the
    numbers two to twenty written as words count too, as digits ("two in the morning"
    has a 2): for evidence, so that an answer's "2 a.m." is found in it.
    """
    found = {n.replace(",", "").rstrip(".").lstrip("0") or "0" for n in _NUMBER.findall(text)}
    if spelled:
        found.update(_SPELLED[w] for w in _SPELLED_WORD.findall(text.lower()))
    return found


def full_names(text: str) -> list[str]:
    """The runs of two or more names in a row ("Alan Mercer", "St Brigid"), folded.

    An answer's full name must appear as a run in its source: "Dr. Alan Gallagher" is not
    supported by an article naming "Dr. Alan Mercer" and "Fiona Gallagher".
    """
    runs = []
    for run in _NAME_RUN.findall(text):
        names = fold(run).split()
        while names and (names[0] in STOP_WORDS or names[0] in _TITLES):
            names.pop(0)
        if len(names) > 1:
            runs.append(" ".join(names))
    return runs


def quotations(text: str) -> list[str]:
    """The quoted passages of a text (at least three characters), folded for comparison."""
    return [fold(a or b) for a, b in _QUOTED.findall(text) if fold(a or b)]


def fold(text: str) -> str:
    """Lower-case words separated by single spaces: punctuation and quote styles don't count."""
    normal = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(_FOLDED.sub(" ", _POSSESSIVE.sub("", normal)).split())


def missing_from(text: str, given: str) -> bool:
    """Whether the text has a name, number, date or quotation that `given` lacks."""
    return bool(
        names(text) - names(given) - set(stem(words(given)))
        or numbers(text) - numbers(given)
        or {m.lower() for m in _DATE.findall(text)} - {m.lower() for m in _DATE.findall(given)}
        or set(quotations(text)) - set(quotations(given))
    )


def expected(question: str) -> Expected:
    """What kind of answer the question asks for."""
    if _EXPECTS_NUMBER.search(question):
        return "number"
    if _EXPECTS_DATE.search(question):
        return "date"
    if _EXPECTS_PERSON.search(question):
        return "person"
    if _EXPECTS_NAME.search(question):
        return "name"
    return "any"


def speaker(question: str) -> set[str]:
    """The stems of whoever a "What did NAME say ..." question asks about (else empty)."""
    match = _SAID.search(question)
    return names(f"x {match.group(1)}") if match else set()


def counted(question: str) -> str | None:
    """The stem of what "how many" counts ("How many votes did ..." -> "vote"), if anything."""
    match = _HOW_MANY.search(question)
    found = stem(words(match.group(1))) if match else []
    return found[0] if found else None


def counts(sentence: str, thing: str) -> bool:
    """Whether a number in the sentence counts `thing` (a stem): "216 votes", "12 new buses"."""
    return any(thing in stem(words(match.group(1))) for match in _COUNT.finditer(sentence))


def supplies(kind: Expected, sentence: str, question_names: set[str]) -> bool:
    """Whether the sentence holds an answer of that kind (a name: one the question lacks)."""
    if kind == "number":
        return bool(_NUMBER.search(sentence) or _SPELLED_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    if kind in ("person", "name"):
        return bool(names(sentence) - question_names or _QUOTED.search(sentence))
    return True
