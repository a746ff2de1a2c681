"""The claim verifier's training pairs, made from a hand-written article (tests/data/claims):
supported rewrites add no word the passage lacks; each negative is the sentence edited,
so it shares the passage's topic and most of its words but says something else."""

import random
from pathlib import Path

from bot.llm.claims.pairs import negatives, pairs, passages, rewrites
from index.terms import terms

ARTICLE = (Path(__file__).parent / "data" / "claims" / "council.txt").read_text(encoding="utf-8")


def test_each_sentence_is_paired_with_its_window() -> None:
    windows = list(passages(ARTICLE))
    assert len(windows) == 4
    for sentence, passage, _ in windows:
        assert sentence in passage
        assert passage.count(". ") <= 2  # at most three sentences: support.WINDOW


def test_rewrites_add_nothing_the_passage_lacks() -> None:
    rng = random.Random(0)
    for sentence, passage, following in passages(ARTICLE):
        for kind, text in rewrites(sentence, following, rng):
            assert set(terms(text)) <= set(terms(passage)), (kind, text)


def test_negatives_change_a_fact_but_keep_most_words() -> None:
    rng = random.Random(0)
    sentence, passage, _ = next(passages(ARTICLE))
    edited = dict(negatives(sentence, passage, ARTICLE, rng))
    assert {"swap number", "swap date", "negation", "other act"} <= set(edited)
    assert edited["other act"].startswith("The Harwick city council rejected")
    assert "$4.2 million" not in edited["swap number"]
    for text in edited.values():
        assert text != sentence
        shared = set(terms(text)) & set(terms(sentence))
        assert len(shared) >= 0.6 * len(set(terms(sentence)))


def test_pairs_are_balanced_enough_to_learn_from() -> None:
    made = pairs([ARTICLE] * 3, seed=0)
    supported = sum(p.supported for p in made)
    assert 0.3 < supported / len(made) < 0.7
