"""What a text mentions that an answer can get wrong: names, numbers and quoted words.

The grounding check requires an LLM answer's names, numbers and quotes to appear in
the sources it cites; questions and answers find their names here.

A *name* is a capitalised word that does not open a sentence (so "The" and "However"
are not names, and neither is a lone name opening a sentence: "Smith said" counts
"Smith" only when another capitalised word follows, as in "Jane Roe said").
"""

import re
import unicodedata

from index.terms import STOP_WORDS, stem, words

_CAPITALISED = re.compile(r"[^\W\d_][\w'\u2019.-]*")
_OPENS_SENTENCE = frozenset('.!?:;"\u201c\u2018([\u2014\u2013')
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"\u201c([^\u201d]{3,})\u201d|\"([^\"]{3,})\"")
_FOLDED = re.compile(r"[\W_]+")
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
