"""An unanswerable set made from a labelled one, by withholding evidence.

The gold documents of a seeded sample of questions are removed from the corpus, and
those questions are asked over what remains. Abstaining is the good outcome; an answer
that still contains a gold answer string came from another article and is right too.
"""

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from bot.answer import Answer
from bot.evaluation.metrics import contains_answer
from bot.evaluation.queries import EvalInputError, Query
from index.store.locking import ensure_writable

REDUCED_CORPUS = "withheld-corpus.jsonl"

Verdict = Literal["right", "abstained", "wrong"]


def withheld_questions(queries: Sequence[Query], n: int, seed: int) -> list[Query]:
    """A sample of n questions with gold documents (all of them when fewer), in file order.

    The same queries, n and seed always give the same sample.
    """
    labelled = [q for q in queries if q.gold]
    chosen = set(random.Random(seed).sample(range(len(labelled)), min(n, len(labelled))))
    return [q for i, q in enumerate(labelled) if i in chosen]


def withheld_doc_ids(questions: Sequence[Query]) -> set[str]:
    """Every gold document of the questions: all of them leave the corpus."""
    return {doc for question in questions for doc in question.gold}


def write_reduced_corpus(corpus: Path, withheld: set[str], directory: Path) -> Path:
    """The corpus without the withheld documents, as JSONL in `directory`.

    Its lines are the corpus's own, so the same sample writes the same bytes and the
    eval index built from it is reused; another sample changes it, and the index is rebuilt.
    """
    kept = [
        line
        for line in corpus.read_text(encoding="utf-8").splitlines()
        if line.strip() and str(json.loads(line)["doc_id"]) not in withheld
    ]
    if not kept:
        raise EvalInputError(f"{corpus}: nothing is left once the gold documents are withheld")
    ensure_writable(directory)
    reduced = directory / REDUCED_CORPUS
    reduced.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return reduced


def verdict(answer: Answer, question: Query) -> Verdict:
    """Right if the answer still holds a gold answer string, abstained, or else wrong."""
    if answer.abstained:
        return "abstained"
    return "right" if contains_answer(answer.body, question.answers) else "wrong"
