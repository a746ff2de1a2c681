"""Sentence spans on news style: abbreviations, initials and glued headings and credits."""

import pytest

from index.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    """The sentences of text, each checked to be a slice of it."""
    spans = sentence_spans(text)
    assert all(text[s:e] == text[s:e].strip() and e > s for s, e in spans)
    return [text[s:e] for s, e in spans]


@pytest.mark.parametrize(
    "sentence",
    [
        "Rep. Elise Stefanik, R-N.Y., nominated Kevin McCarthy as speaker.",
        "Twitter was sued by then-St. Louis Cardinals manager Tony La Russa in 2009.",
        "Sen. Bob Casey, D-Pa., and Gov. Kathy Hochul met Lt. Gen. Ann Smith on Dec. 1.",
        "Non-U.S. citizens can enter, said Dr. Who of the No. 2 team.",
        "—J. K. Dobbins ran for 211 yards for the Buckeyes.",
        "E!'s red-carpet coverage joined in.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(sentence: str) -> None:
    assert sentences(f"He left. {sentence} She stayed.") == ["He left.", sentence, "She stayed."]


def test_a_state_abbreviation_can_still_end_a_sentence() -> None:
    text = "He lives in Buffalo, N.Y. He said so. Ohio State is No. 1. Then it rained."
    assert sentences(text) == [
        "He lives in Buffalo, N.Y.",
        "He said so.",
        "Ohio State is No. 1.",
        "Then it rained.",
    ]


def test_a_glued_heading_and_a_glued_photo_credit_are_split_off() -> None:
    text = (
        "DOCTOR UPDATES:Here's what the doctors said.\n"
        "What's happening in the House:Who are the holdouts?\n"
        'He shook hands. Jack Guez/AFP/Getty Images "We will go," Biden said.\n'
        "A re:Store shop opened. See https://example.org/A today."
    )
    assert sentences(text) == [
        "DOCTOR UPDATES:",
        "Here's what the doctors said.",
        "What's happening in the House:",
        "Who are the holdouts?",
        "He shook hands.",
        "Jack Guez/AFP/Getty Images",
        '"We will go," Biden said.',
        "A re:Store shop opened.",
        "See https://example.org/A today.",
    ]
