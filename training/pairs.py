"""Training pairs for the answer model, built the way the answerer meets them.

    python training/pairs.py --out /work/bench-data/reader/pairs.jsonl

RealTime QA 2020-2022 (`../shared/eval/realtimeqa-2020-2022`, 1,980 questions over 1,969
evidence paragraphs) is indexed through `newsbot eval`'s own entry point, and every
question is retrieved with newsbot's hybrid retriever, as asking does. Each question
gives two groups of candidate sentences (the quotable sentences of the top chunks):

- *answerable*: the top RETRIEVED chunks as retrieved;
- *withheld*: the same question with its gold paragraphs left out of the results, so the
  candidates are the same story's other paragraphs and the week's other news ("same
  story, no answer").

A sentence is a positive when it contains a gold answer string (whole words, ignoring
case), else a negative. Questions are split by a seeded hash into `train` (80%) and
`calibration` (20%): the model is fitted on the first and its probability calibrated on
the second. No 2023 data is read.
"""

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "eval" / "realtimeqa-2020-2022"
RETRIEVED = 10  # chunks whose sentences are candidates (the answerer's rerank pool)
CALIBRATION_SHARE = 0.2


def main() -> None:
    """Index the 2020-22 corpus, retrieve every question, write the groups as JSON Lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data/reader/index"))
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bot.answerers.candidates import candidates
    from bot.config import load_settings
    from bot.evaluation import eval_index
    from bot.evaluation.queries import read_corpus_ids, read_queries
    from bot.service import AnsweringService
    from index.search.retriever import TimeScope

    corpus = DATA / "corpus.jsonl"
    queries = read_queries(DATA / "queries.jsonl", read_corpus_ids(corpus))
    settings = eval_index.eval_settings(load_settings(args.config), corpus, args.data_dir)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    seconds = eval_index.prepare_index(settings, corpus)
    print(f"indexed in {seconds:.0f} s", flush=True)
    service = AnsweringService.open(settings, mode="extractive")
    written = 0
    with args.out.open("w", encoding="utf-8") as out:
        for q in queries:
            chunks = service.retrieve(q.question, k=RETRIEVED + 6, scope=TimeScope(as_of=None))
            gold = set(q.gold)
            for kind, kept in (
                ("answerable", chunks[:RETRIEVED]),
                (
                    "withheld",
                    [c for c in chunks if c.metadata["article_id"] not in gold][:RETRIEVED],
                ),
            ):
                found = candidates(kept)
                group = {
                    "question_id": q.id,
                    "question": q.question,
                    "answers": q.answers,
                    "kind": kind,
                    "split": split_of(q.id),
                    "candidates": [
                        {
                            "text": c.text,
                            "title": c.meta.get("title", ""),
                            "chunk_rank": c.chunk_rank,
                            "chunk_score": round(c.chunk_score, 4),
                            "gold": c.meta["article_id"] in gold,
                            "label": int(holds_answer(c.text, q.answers)),
                        }
                        for c in found
                    ],
                }
                out.write(json.dumps(group) + "\n")
                written += 1
    print(f"wrote {written} groups to {args.out}")


def holds_answer(text: str, answers: list[str]) -> bool:
    """Whether a gold answer appears in the text as whole words, ignoring case."""
    return any(
        a.strip() and re.search(rf"(?<!\w){re.escape(a.strip())}(?!\w)", text, re.IGNORECASE)
        for a in answers
    )


def split_of(question_id: str) -> str:
    """`train` or `calibration`, by a stable hash of the question id."""
    digest = int(hashlib.sha256(question_id.encode()).hexdigest()[:8], 16)
    return "calibration" if digest / 0xFFFFFFFF < CALIBRATION_SHARE else "train"


if __name__ == "__main__":
    main()
