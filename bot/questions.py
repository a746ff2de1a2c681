"""What a message asks for, before anything is retrieved: a question, or a short prompt.

"👍", "🎉", four thousand x's or "What are the latest news?" name nothing to search
for, and "What did his doctors say?" with no earlier turn names no one. Retrieving for
them answers about something else, so the front ends reply with a short prompt instead
(`clarification`). Every other message is a question; whether it leans on the previous
turn is `is_follow_up`'s decision, and two kinds of follow-up are answered from the
conversation itself: "and who else?" (`asks_for_more`: what the answers so far did not
say) and "when was that?" (`asks_when`: the date of what the last answer told).
"""

import re

from index.mentions import name_words
from index.terms import STOP_WORDS, terms, words

ASK_SOMETHING = "What would you like to know? Ask me about something in the news."
WHICH_TOPIC = (
    "Which topic? I answer questions about a person, a place or an event in the articles, "
    'e.g. "Who won the election?"'
)
WHO_IS_MEANT = "Who do you mean by “{pronoun}”? Please ask again with a name."

PERSONAL_PRONOUNS = re.compile(
    r"\b(he|she|they|him|her|his|hers|them|their|theirs|himself|herself|themselves)\b", re.I
)
_WH_OPENING = re.compile(r"^\W*(?:who|which|what)\b", re.I)
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they"})
_AUXILIARIES = frozenset(
    "do does did is was were are am has have had will would can could should may might".split()
)
_OTHER_PRONOUNS = re.compile(r"\b(it|its|this|that|these|those|there|the same)\b", re.I)
_CONTINUATIONS = re.compile(r"^\s*(and|but|also|so|what about|how about|what else)\b", re.I)
_MORE = re.compile(
    r"^\W*(?:(?:and|but|also|so|ok|okay)\W+)?(?:"
    r"(?:who|what|which|where|any(?:one|body|thing)?|some(?:one|body|thing)|anybody|others?)"
    r"\W+(?:else|others?)\b"  # "and who else?", "anyone else?", "any others?"
    r"|(?:what|which|who)\s+other\b"  # "what other films won?"
    r"|what\s+more\b|tell\s+me\s+more\b"  # "what more did police say?", "tell me more"
    r"|(?:any(?:thing)?\s+)?more\W*$"  # "more?", "anything more?", not "More than 100 …"
    r"|others\W*$)",
    re.I,
)
_WHEN = re.compile(
    r"^\W*(?:(?:and|but|so|ok|okay)\W+)?"
    r"(?:when|(?:on|in)?\s*(?:what|which)\s+(?:day|date|year|month))"
    r"(?:\s+(?:was|is|were|did|does|had|has))?"
    r"(?:\s+(?:that|this|it|they|all\s+(?:this|that)))?"
    r"(?:\s+(?:happen(?:ed)?|take\s+place|took\s+place|held|announced|again))?"
    r"\W*$",
    re.I,
)
_MIN_OWN_TERMS = 2  # fewer content words than this: a follow-up
_ENOUGH_TERMS = 3  # this many content words carry their own subject, even with "it"
_MAX_WORD = 30  # longer "words" ("xxxx…") are not words
# content words of a message that asks for news without naming a topic (Snowball stems)
_TOPICLESS = frozenset(
    terms(
        "latest new newest recent current top today tonight week happen happening go on "
        "headline update story anything something everything interesting important big"
    )
)
_NEWS_WORDS = frozenset({"news", "headline", "headlines", "happening", "latest"})


def own_terms(question: str) -> set[str]:
    """The question's content words that look like words (not "xxxx…" or "zzz")."""
    return {t for t in terms(question) if _is_word(t)}


def _is_word(term: str) -> bool:
    return term.isdigit() or (len(term) <= _MAX_WORD and len(set(term)) > 1)


def clarification(question: str, has_previous_turn: bool) -> str | None:
    """A short reply for a message that can't be searched for, or None for a question."""
    real_words = [w for w in words(question) if w in STOP_WORDS or _is_word(w)]
    own = own_terms(question)
    if not real_words or (not own and not has_previous_turn):
        return ASK_SOMETHING
    topicless = bool(own) and own <= _TOPICLESS and not name_words(question)
    if topicless and (not has_previous_turn or _NEWS_WORDS & set(real_words)):
        return WHICH_TOPIC
    if not has_previous_turn and not name_words(question):
        pronoun = referring_back(question)
        if pronoun:
            return WHO_IS_MEANT.format(pronoun=pronoun)
    return None


def referring_back(question: str) -> str | None:
    """The first personal pronoun that points outside the question, if any.

    One after a name points at it ("How old was Jimmy Carter when he died?"), and so does
    "he"/"she"/"they" after a verb in a who/which question ("Which quarterback announced
    he is retiring?"); "What did he tell Army Radio?" and "Who spoke at his funeral?"
    point back.
    """
    wh = bool(_WH_OPENING.match(question))
    for pronoun in PERSONAL_PRONOUNS.finditer(question):
        before = question[: pronoun.start()]
        if name_words(before):
            return None
        previous = (words(before) or [""])[-1]
        bound = pronoun.group(0).lower() in _SUBJECT_PRONOUNS and previous not in _AUXILIARIES
        if not (wh and bound and len(words(before)) > 1):
            return pronoun.group(0)
    return None


def is_follow_up(question: str) -> bool:
    """Whether a question leans on an earlier one.

    A leading "and"/"what about", a personal pronoun that points outside the question
    (`referring_back`: "What did he tell Army Radio?", but not "How old was Jimmy Carter
    when he died?"), or too few content words make a follow-up. "it"/"that" do only
    when the question has neither names of its own nor enough content words; "Why ..."
    alone does not.
    """
    if _CONTINUATIONS.match(question) or asks_for_more(question) or asks_when(question):
        return True
    if referring_back(question):
        return True
    own = own_terms(question)
    if len(own) < _MIN_OWN_TERMS:
        return True
    if _OTHER_PRONOUNS.search(question):
        return not name_words(question) and len(own) < _ENOUGH_TERMS
    return False


def asks_for_more(question: str) -> bool:
    """Whether the message asks for what the answers so far did not say ("and who else?")."""
    return bool(_MORE.search(question))


def asks_when(question: str) -> bool:
    """Whether the message asks only when the thing just discussed happened ("when was that?")."""
    return bool(_WHEN.match(question))
