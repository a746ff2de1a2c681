"""The sentence gate: an answer streamed word by word is released only as checked sentences.

The source is the seed article; the answers are fed a word at a time, as a model
streams them, and what the gate releases after each word is recorded.
"""

from harness.newsbot import SAMPLE

from bot.llm.sentence_gate import SentenceGate

SOURCES = {1: SAMPLE.read_text(encoding="utf-8")}
CITED = "Shalom cited the 2001 Dolphinarium nightclub suicide bombing [1]."
ALLIANCE = "Lavrov and Sharon called for an international anti-terrorist alliance [1]."
INVENTED = "Shalom said that Boris Yeltsin had planned the bombing himself [1]."


def streamed(answer: str) -> tuple[SentenceGate, list[tuple[str, str]]]:
    """Feed the answer a word at a time until the gate rejects it: the gate, and (text so
    far, released) per release."""
    gate = SentenceGate(SOURCES, question="What did Shalom cite?", articles={}, min_support=0.6)
    releases = []
    words = answer.split(" ")
    for n, word in enumerate(words):
        piece = word if n == len(words) - 1 else f"{word} "
        if released := gate.feed(piece):
            releases.append((gate.text, released))
        if gate.rejected is not None:
            break  # as the answerer does: it stops the model
    return gate, releases


def test_each_sentence_is_released_as_soon_as_it_ends_on_a_citation() -> None:
    gate, releases = streamed(f"{CITED} {ALLIANCE}")
    assert gate.rejected is None
    assert releases == [(f"{CITED} ", CITED), (f"{CITED} {ALLIANCE}", f" {ALLIANCE}")]


def test_an_invented_sentence_is_never_released_nor_anything_after_it() -> None:
    gate, releases = streamed(f"{CITED} {INVENTED} {ALLIANCE}")
    assert gate.rejected == INVENTED
    assert [released for _, released in releases] == [CITED]
    assert gate.text.endswith("himself [1]. ")  # rejected as soon as it ended


def test_an_uncited_sentence_is_held_and_holds_those_after_it() -> None:
    uncited = "He also met Peres."
    gate, releases = streamed(f"{CITED} {uncited} {ALLIANCE}")
    assert gate.rejected is None
    assert [released for _, released in releases] == [CITED]  # the rest waits for the end


def test_a_number_is_not_judged_before_it_is_whole() -> None:
    """ "… 21st century." is judged whole: "the 2" of a half-written figure never is."""
    answer = "Lavrov called terrorism the scourge of the 21st century [1]."
    gate = SentenceGate(SOURCES, question="", articles={}, min_support=0.6)
    for piece in ["Lavrov called terrorism the scourge of the 2", "1st century [1]."]:
        gate.feed(piece)
    assert gate.rejected is None and gate.text == answer
