"""Words as both the lexical index and the answer picker see them: stems minus stop words."""

import re
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
    return _stemmer().stemWords([w for w in words(text) if w not in STOP_WORDS])


def words(text: str) -> list[str]:
    """Lower-cased words, possessives folded ("Russia's" -> "russia")."""
    return [w.lower().replace("\u2019", "'").removesuffix("'s") for w in _WORD.findall(text)]


def stem(tokens: list[str]) -> list[str]:
    """Snowball English stems."""
    return _stemmer().stemWords(tokens)
