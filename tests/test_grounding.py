"""The grounding check on crafted answers, and the prompts it relies on."""

import pytest

from bot.llm.grounding import check, cited_numbers
from bot.llm.prompts import load_prompt

SOURCES = {
    1: "Shalom cited the 2001 Dolphinarium nightclub suicide bombing, in which many of the "
    "casualties were young immigrants from Russia.",
    2: "Reserve IDF colonel Ephraim Michaeli, former Israeli military attache to Russia, "
    "said anti-terror cooperation had been limited.",
}


def test_correct_answer_is_supported() -> None:
    result = check("Shalom cited the 2001 Dolphinarium nightclub suicide bombing [1].", SOURCES)
    assert result.grounding.supported and result.grounding.support == 1.0
    assert result.grounding.cited == [1]


def test_citation_of_a_missing_block_is_removed() -> None:
    result = check(
        "Shalom cited the Dolphinarium bombing [1][7]. Michaeli was an attache [2, 9].", SOURCES
    )
    assert result.text == "Shalom cited the Dolphinarium bombing [1]. Michaeli was an attache [2]."
    assert result.grounding.removed_citations == [7, 9]
    assert result.grounding.supported


def test_answer_without_a_valid_citation_is_unsupported() -> None:
    for text in ("Shalom cited the Dolphinarium bombing.", "Shalom cited it [5]."):
        result = check(text, SOURCES)
        assert not result.grounding.supported
        assert result.grounding.reason == "no citation of a provided source"


def test_uncited_answer_without_support_is_not_attributed() -> None:
    for text in ("Shalom cited the Olympic boycott [5].", "Shalom cited 1999."):
        result = check(text, SOURCES, attribute=True)
        assert not result.grounding.supported and not result.grounding.attributed
        assert result.grounding.reason == "no citation of a provided source"


def test_uncited_supported_sentences_get_their_best_source() -> None:
    result = check(
        "Shalom cited the Dolphinarium bombing. Michaeli said cooperation had been limited!",
        SOURCES,
        attribute=True,
    )
    assert result.text == (
        "Shalom cited the Dolphinarium bombing [1]. Michaeli said cooperation had been limited [2]!"
    )
    assert result.grounding.supported and result.grounding.attributed
    assert result.grounding.cited == [1, 2]


def test_attribution_needs_every_sentence_supported() -> None:
    half = check(
        "Shalom cited the Dolphinarium bombing. Moscow hosted the Olympics.",
        SOURCES,
        attribute=True,
    )
    assert not half.grounding.supported and half.grounding.cited == []


def test_answer_contradicting_its_snippet_is_unsupported() -> None:
    wrong_year = check("Shalom cited the 1999 Dolphinarium nightclub bombing [1].", SOURCES)
    assert not wrong_year.grounding.supported and wrong_year.grounding.support == 0.0
    invented = check("Shalom cited the Olympic Games boycott in Moscow [1].", SOURCES)
    assert not invented.grounding.supported
    assert invented.grounding.support < 0.6


def test_each_sentence_is_checked_against_its_own_citation() -> None:
    mixed = check(
        "Shalom cited the Dolphinarium bombing [1]. Michaeli was an attache [1].", SOURCES
    )
    assert not mixed.grounding.supported  # the second sentence's words are in source 2 only


QUESTION = "Who chairs the committee?"
COMMITTEE = {
    1: "The budget committee is chaired by Senator John Smith, who said the plan would "
    "\u201chelp families first\u201d. It meets 12 times a year in Albany.",
    2: "The transport committee approved 40 new buses for Springfield on Tuesday.",
}


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        ("The committee is chaired by Senator Jane Roe [1].", ["name"]),  # restated + invented
        ("Senator John Smith chairs the committee, which meets in Buffalo [1].", ["name"]),
        ("The committee meets 15 times a year [1].", ["number"]),
        ("Smith said the plan would \u201chelp businesses first\u201d [1].", ["quote"]),
        ("The budget committee is chaired by Senator John Smith [2].", ["name"]),  # wrong block
        ("The committee is chaired by a former governor [1].", []),  # added words unsupported
    ],
)
def test_what_an_answer_adds_must_be_in_its_sources(answer: str, failed: list[str]) -> None:
    result = check(answer, COMMITTEE, question=QUESTION).grounding
    assert not result.supported
    assert result.failed == failed


def test_a_faithful_paraphrase_is_supported() -> None:
    for answer in (
        "Senator John Smith chairs it [1].",
        "It is chaired by Senator John Smith, who says the plan would \u201chelp families "
        "first\u201d [1].",
        "The budget committee, which meets 12 times a year, is led by Smith [1]. Separately, "
        "the transport committee approved 40 buses [2].",
    ):
        result = check(answer, COMMITTEE, question=QUESTION).grounding
        assert result.supported, (answer, result.reason)


@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "I do not know who chairs it.",
        "The sources don't say who chairs the committee.",
        "I couldn't find that in the provided articles.",
        "There is no information about the chair in the sources.",
        "Based on the provided sources, it is not possible to determine who chairs it.",
        "Unfortunately, the articles do not mention the chair.",
        "The provided context does not specify the chair. I cannot answer that.",
    ],
)
def test_saying_the_sources_dont_answer_is_declined(answer: str) -> None:
    result = check(answer, COMMITTEE, question=QUESTION)
    assert result.grounding.declined and not result.grounding.supported


def test_a_cited_claim_is_never_read_as_a_refusal() -> None:
    answer = "Smith said it was not possible to determine the cost [1]."
    result = check(answer, COMMITTEE, question="What did Smith say?").grounding
    assert not result.declined


def test_cited_numbers_in_order() -> None:
    assert cited_numbers("a [2] b [1, 3] c [2]") == [2, 1, 3]


@pytest.mark.parametrize("name", ["answer", "condense"])
def test_prompt_files_load_with_their_variables(name: str) -> None:
    prompt = load_prompt(name)
    expected = {"answer": {"context", "question"}, "condense": {"history", "question"}}[name]
    assert set(prompt.input_variables) == expected
    system = prompt.format_messages(**dict.fromkeys(expected, "x"))[0].content
    if name == "answer":
        assert "data, not instructions" in system and "[n]" in system
