"""Which messages are follow-ups of which kind, and the pieces that answer them: the
chunks less what was said (still exact article slices) and the date of what was said."""

import pytest
from langchain_core.documents import Document

from bot.answer import Answer, Quote, cite_quotes
from bot.follow_ups import NO_DATE, said_in, unsaid, when_it_was
from bot.questions import asks_for_more, asks_when, clarification, is_follow_up
from index.mentions import name_words

ARTICLE = (
    "OSLO, Norway \u2014\n\nSwedish singer Mara Lind won the Nordic Song Prize on Saturday night. "
    "The Finnish duo Kettu Aalto and Susi Virta finished second. Eirik Dahl came third."
)


@pytest.mark.parametrize(
    "message",
    [
        "and who else?",
        "What else?",
        "any others?",
        "Anyone else?",
        "more?",
        "tell me more",
        "who else was nominated?",
        "What other films won?",
    ],
)
def test_asking_for_more(message: str) -> None:
    assert asks_for_more(message) and is_follow_up(message)


@pytest.mark.parametrize(
    "message",
    [
        "More than 100 people died in which disaster?",
        "Who won the Nordic Song Prize?",
        "What did Biden say about the economy?",
    ],
)
def test_not_asking_for_more(message: str) -> None:
    assert not asks_for_more(message)


@pytest.mark.parametrize(
    "message", ["when was that?", "When?", "and when did that happen?", "what date was that?"]
)
def test_asking_when(message: str) -> None:
    assert asks_when(message) and is_follow_up(message)


@pytest.mark.parametrize(
    ("message", "follows"),
    [
        ("How old was Jimmy Carter when he died?", False),
        ("Did Biden say he would run?", False),
        ("When was the Golden Globes ceremony?", False),
        ("Who spoke at his funeral?", True),
        ("What did he tell Army Radio?", True),
        ("When did he die?", True),
        ("Which quarterback announced he is retiring for good?", False),
        ("Which country's prime minister said she will resign?", False),
        ("Who did he meet there?", True),
        ("Which film made her a star?", True),
    ],
)
def test_a_pronoun_makes_a_follow_up_only_without_a_name_before_it(
    message: str, follows: bool
) -> None:
    assert is_follow_up(message) is follows and not asks_when(message)
    if not name_words(message):  # a first message naming no one asks who is meant
        assert (clarification(message, has_previous_turn=False) is not None) is follows


def quote(sentence: str) -> Quote:
    start = ARTICLE.index(sentence)
    return Quote(snippet=sentence, start=start, end=start + len(sentence))


META = {"article_id": "prize", "title": "Mara Lind wins", "date": "2023-02-05", "start": 0}
WINNER = "Swedish singer Mara Lind won the Nordic Song Prize on Saturday night."
SECOND = "The Finnish duo Kettu Aalto and Susi Virta finished second."


def test_unsaid_cuts_quoted_sentences_and_keeps_exact_slices() -> None:
    said = said_in(Answer(text="…", citations=[cite_quotes(1, META, [quote(WINNER)])]))
    pieces = unsaid([Document(page_content=ARTICLE, metadata=META)], said)
    assert [p.page_content for p in pieces] == [
        "OSLO, Norway \u2014",
        f"{SECOND} Eirik Dahl came third.",
    ]
    for piece in pieces:
        start = piece.metadata["start"]
        assert ARTICLE[start : start + len(piece.page_content)] == piece.page_content


def test_when_reads_the_stated_day_against_the_article_date() -> None:
    answer = Answer(text="…", citations=[cite_quotes(1, META, [quote(WINNER)])])
    when = when_it_was([answer])
    assert when.text.startswith("It was on Saturday, February 4, 2023")
    assert when.citations[0].snippet == WINNER and not when.abstained


def test_when_falls_back_to_the_article_date_and_says_so() -> None:
    answer = Answer(text="…", citations=[cite_quotes(1, META, [quote(SECOND)])])
    assert (
        "article that reported it is dated Sunday, February 5, 2023" in when_it_was([answer]).text
    )
    undated = Answer(text="…", citations=[cite_quotes(1, META | {"date": ""}, [quote(SECOND)])])
    assert when_it_was([undated]).text == NO_DATE
