"""The follow-ups answered from the conversation: "and who else?" and "when was that?".

"and who else?" is retrieved like the question before it, but the sentences the answers
on this topic already quoted are cut out of the retrieved chunks (`unsaid`), so the
answerer can only pick something new; when nothing new is left, the answer says so
(`nothing_more`). Each remaining piece of a chunk is still an exact slice of its
article, so quotes stay exact.

"when was that?" is answered from the last answer's own citations (`when_it_was`): the
date a quoted sentence states ("on Tuesday", "Jan. 10"), read against its article's
date, or else the date of the article that reported it, said as such.

"What song did she sing?" is often answered only by a headline ("Mara Lind wins with
'Glass Harbour'"), which is embedded with every chunk but is not article text, so it
can't be quoted. `from_title` answers with the work the title names, cites the article
(every front end shows its title) and quotes its first sentence, an exact slice.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from langchain_core.documents import Document

from bot.answer import Answer, Citation, Quote, cite_quotes
from index.mentions import names
from index.sentences import sentence_spans

NOTHING_MORE = "The articles say nothing more about this than what I already said."
MORE_CONFIDENCE = 0.5  # "who else" answers are this share as sure as the answer before
_ASKS_FOR_A_WORK = re.compile(
    r"\b(?:what|which)\s+(?:song|single|album|record|film|movie|show|series|book|memoir|"
    r"novel|play|painting|dish|title)\b",
    re.I,
)
_QUOTED_WORK = re.compile(
    r"(?<!\w)[\"\u201c'\u2018]([^\"\u201d'\u2019]{2,80}?)[\"\u201d'\u2019](?!\w)"
)
NO_DATE = "The articles I quoted don't say when that was."
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_STATED_DATE = re.compile(
    rf"\b(?:{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:, \d{{4}})?(?!\d)"  # "Jan. 10", "May 3, 2022"
    rf"|\d{{1,2}} {_MONTH}(?: \d{{4}})?"  # "10 January 2023"
    r"|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"  # "on Tuesday"
    r"|[Yy]esterday|[Ll]ast night)\b"
)


@dataclass(frozen=True)
class Said:
    """A sentence an answer quoted: where it is, and its words (a wire copy elsewhere is
    the same sentence)."""

    article_id: str
    start: int
    words: str


def said_in(answer: Answer) -> frozenset[Said]:
    """Every sentence the answer quotes."""
    return frozenset(
        Said(c.article_id, q.start, _words(q.snippet)) for c in answer.citations for q in c.quoted()
    )


def unsaid(chunks: Sequence[Document], said: Iterable[Said]) -> list[Document]:
    """The chunks without the sentences already said, each left piece an exact article slice.

    A chunk loses every quoted sentence (by position, or by its words when another outlet
    carries it); what stays between them becomes a chunk of its own with its own `start`.
    """
    said = list(said)
    if not said:
        return list(chunks)
    places = {(s.article_id, s.start) for s in said}
    texts = {s.words for s in said}
    kept: list[Document] = []
    for chunk in chunks:
        meta, text = chunk.metadata, chunk.page_content
        base = int(meta.get("start", 0))
        piece: tuple[int, int] | None = None
        for start, end in sentence_spans(text):
            if (meta["article_id"], base + start) in places or _words(text[start:end]) in texts:
                if piece:
                    kept.append(_piece(chunk, *piece))
                piece = None
            else:
                piece = (piece[0] if piece else start, end)
        if piece:
            kept.append(_piece(chunk, *piece))
    return kept


def _piece(chunk: Document, start: int, end: int) -> Document:
    base = int(chunk.metadata.get("start", 0))
    meta = chunk.metadata | {"start": base + start, "end": base + end}
    return Document(page_content=chunk.page_content[start:end], metadata=meta)


def nothing_more(
    answer: Answer, said: Iterable[Said], asks_who: bool, before: Answer | None = None
) -> Answer:
    """The answer to "and who else?": `answer` when it tells something new, else NOTHING_MORE.

    What is left after the best sentences were said is often a stray line of the same
    article, so the answer must be at least MORE_CONFIDENCE as sure as the one `before`
    it; for "who else" a sentence that names no one new is nothing new.
    """
    sure, was = answer.confidence, before.confidence if before else None
    if answer.abstained or (sure is not None and was and sure < MORE_CONFIDENCE * was):
        return Answer(text=NOTHING_MORE, abstained=True, mode=answer.mode)
    if asks_who:
        known = {n for s in said for n in names(s.words.title())}
        quoted = " ".join(q.snippet for c in answer.citations for q in c.quoted())
        if not names(quoted) - known:
            return Answer(text=NOTHING_MORE, abstained=True, mode=answer.mode)
    return answer


def from_title(
    question: str, answer: Answer, chunks: Sequence[Document], said: Iterable[Said] = ()
) -> Answer | None:
    """An answer from a retrieved article's title when the question asks which song, film or
    book, the articles' text has nothing new to say (the answer abstains, or only repeats
    what the topic's answers `said`), and a title names one ("... with 'Glass Harbour'")."""
    repeated = {s.words for s in said_in(answer)} <= {s.words for s in said}
    if not _ASKS_FOR_A_WORK.search(question) or not (answer.abstained or repeated):
        return None
    asked = question.casefold()
    for chunk in chunks:
        title = str(chunk.metadata.get("title", ""))
        work = _QUOTED_WORK.search(title)
        content = chunk.page_content
        spans = [(a, b) for a, b in sentence_spans(content) if _ends_sentence(content[a:b])]
        if not work or work.group(1).casefold() in asked or not spans:
            continue
        start, end = spans[0]
        base = int(chunk.metadata.get("start", 0))
        quote = Quote(snippet=content[start:end], start=base + start, end=base + end)
        named = f"\u201c{work.group(1)}\u201d, as the article\u2019s title says"
        text = f"{named}: \u201c{title}\u201d [1]."
        return Answer(text=text, citations=[cite_quotes(1, chunk.metadata, [quote])])
    return None


def _ends_sentence(sentence: str) -> bool:
    return sentence.rstrip('"\u201d\u2019)')[-1:] in {".", "!", "?"}


def when_it_was(answers: Sequence[Answer]) -> Answer:
    """When what the answers on this topic told happened (newest answer first), cited: a
    date their quotes state, else the date of the article that reported it (said to be the
    article's), else NO_DATE.

    An answer's own news comes first: after "Who spoke at his funeral?" answered with the
    death (said before) and the funeral, the funeral's day is meant.
    """
    citations = [c for answer in answers for c in answer.citations]
    quoted = [(c, q) for c in citations for q in c.quoted()]
    seen: dict[str, int] = {}  # sentence words: how many answers quote it
    for answer in answers:
        for words in {s.words for s in said_in(answer)}:
            seen[words] = seen.get(words, 0) + 1
    quoted.sort(key=lambda cq: seen[_words(cq[1].snippet)] > 1)  # stable: newest first
    for citation, quote in quoted:
        published = _day(citation.date)
        match = _STATED_DATE.search(quote.snippet)
        stated = _resolved(match.group(), published) if match else None
        if match and stated:
            where = f" in an article of {_long(published)}" if published else ""
            text = f"It was on {_long(stated)} (\u201c{match.group()}\u201d{where}) [1]."
            return Answer(text=text, citations=[_renumbered(citation, quote)])
    for citation in citations:
        published = _day(citation.date)
        if published:
            text = (
                f"The article that reported it is dated {_long(published)} [1]; "
                "it does not say on which day it happened."
            )
            return Answer(text=text, citations=[_renumbered(citation, citation.quoted()[0])])
    return Answer(text=NO_DATE, abstained=True)


def _resolved(words: str, published: date | None) -> date | None:
    """The day that date words name, read as of the article's date."""
    import dateparser  # only when a date is asked for: it loads its language data

    if words.lower() in _WEEKDAYS and published and _WEEKDAYS[published.weekday()] == words.lower():
        return published  # "on Tuesday" in Tuesday's paper
    base = datetime.combine(published, datetime.min.time()) if published else None
    settings: dict = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    if base:
        settings["RELATIVE_BASE"] = base
    elif not re.search(r"\d{4}", words):
        return None  # "on Tuesday" of an undated article names no day
    found = dateparser.parse(words.rstrip("."), languages=["en"], settings=settings)
    return found.date() if found else None


def _renumbered(citation: Citation, quote: Quote) -> Citation:
    update = {"n": 1, "snippet": quote.snippet, "start": quote.start, "end": quote.end}
    return citation.model_copy(update=update | {"quotes": [quote]})


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _long(day: date) -> str:
    """Tuesday, January 10, 2023."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def _words(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.casefold()))
