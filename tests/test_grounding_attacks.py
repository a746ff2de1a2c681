"""The grounding check against a model that talks around it (issue #24's examples).

Each answer below was written as a dishonest model would, to pass the check of the
time: an invented claim behind refusal wording, a name opening its sentence, a
negation or a role swapped inside supported words. The source is the seed article,
read whole, as the check reads the cited chunks of one article. The honest answers
beside them must still pass, so a rule that refuses everything fails here too.
"""

import pytest
from harness.newsbot import SAMPLE

from bot.llm.grounding import check

SOURCES = {1: SAMPLE.read_text(encoding="utf-8")}
QUESTION = "What did Shalom cite?"
BOMBING = "Shalom cited the 2001 Dolphinarium nightclub suicide bombing [1]."


def _verdict(answer: str, question: str = QUESTION) -> tuple[bool, bool, list[str]]:
    grounding = check(answer, SOURCES, question=question).grounding
    return grounding.supported, grounding.declined, grounding.failed


@pytest.mark.parametrize(
    "answer",
    [
        f"{BOMBING} The articles don't mention the death toll, but 300 people were killed in "
        "Moscow.",
        f"{BOMBING} The death toll was not reported, though 300 people died.",
        f"{BOMBING} There is no record of a warning, but the bomber was 22 years old.",
        "The articles don't mention Shalom, but Lavrov cited the Beslan school siege.",
        f"{BOMBING} The articles don't say who planned it, which officials blamed on Hamas.",
    ],
)
def test_refusal_wording_does_not_hide_a_claim(answer: str) -> None:
    supported, declined, _ = _verdict(answer)
    assert not supported and not declined


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        ("Putin cited the 2001 Dolphinarium nightclub suicide bombing [1].", "role"),
        ("Netanyahu cited the 2001 Dolphinarium nightclub suicide bombing [1].", "name"),
        ("Shalom did not cite the 2001 Dolphinarium nightclub suicide bombing [1].", "negation"),
        ("Sharon offered no condolences for the attack [1].", "negation"),
        ("The Dolphinarium nightclub suicide bombing was cited by Lavrov [1].", "role"),
    ],
)
def test_names_negations_and_roles_are_checked(answer: str, failed: str) -> None:
    supported, _, failures = _verdict(answer)
    assert not supported
    assert failed in failures


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        (BOMBING, QUESTION),
        (
            f"{BOMBING} The articles don't say how many died.",
            QUESTION,
        ),
        (
            "Sharon said terror does not distinguish between adults and children [1].",
            "What did Sharon say about terror?",
        ),
        ("Michaeli told Army Radio that the Russians admire Israel in this sphere [1].", ""),
        ("Lavrov said Russia will fight this evil resolutely [1].", "What did Lavrov say?"),
    ],
)
def test_honest_answers_still_pass(answer: str, question: str) -> None:
    supported, _, failures = _verdict(answer, question)
    assert supported, failures


@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "The articles don't say what Shalom cited.",
        "Sorry, the sources don't mention that.",
        "The articles don't say how the talks ended or what the two ministers agreed.",
    ],
)
def test_a_pure_refusal_is_honoured(answer: str) -> None:
    supported, declined, _ = _verdict(answer)
    assert declined and not supported
