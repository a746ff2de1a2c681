"""RealTime QA 2023 as the answer benchmarks use it: answerable, and with evidence withheld.

- *answerable*: the 999 questions over the 978 paragraphs;
- *withheld*: the gold paragraphs of a seeded sample of questions taken out of the
  corpus (`bot.evaluation.withheld`, as `newsbot eval --withhold` does), and those
  questions asked over what remains.

Indexes are built through `newsbot eval`'s own entry point (`eval_index.prepare_index`)
in `DIR/answerable` and `DIR/withheld`, and reused while unchanged. Every question is
retrieved once, without dates (as `--no-dates`), with the configured `retrieval.k`.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report import REPO

RTQA = REPO.parent / "shared" / "eval" / "realtimeqa-2023"


@dataclass(frozen=True)
class Asked:
    """One question and the chunks the answerer sees for it."""

    query: Any
    chunks: list[Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --data-dir, --withhold and --seed, as `question_sets` takes them."""
    parser.add_argument("--config", type=Path, help="newsbot config (default: ./config.yaml)")
    parser.add_argument("--data-dir", type=Path, help="keep the indexes here (reused)")
    parser.add_argument("--withhold", type=int, default=300, help="questions withheld")
    parser.add_argument("--seed", type=int, default=13, help="seed of the withheld sample")


def question_sets(config: Path | None, base: Path, withhold: int, seed: int) -> dict[str, Any]:
    """{"answerable": (service, [Asked]), "withheld": (service, [Asked])}."""
    from bot.config import load_settings
    from bot.evaluation import eval_index, withheld
    from bot.evaluation.queries import read_corpus_ids, read_queries

    corpus = RTQA / "corpus.jsonl"
    queries = read_queries(RTQA / "queries.jsonl", read_corpus_ids(corpus))
    held = withheld.withheld_questions(queries, withhold, seed)
    (base / "withheld").mkdir(parents=True, exist_ok=True)
    reduced = withheld.write_reduced_corpus(
        corpus, withheld.withheld_doc_ids(held), base / "withheld"
    )
    sets = {}
    for name, source, asked in (("answerable", corpus, queries), ("withheld", reduced, held)):
        settings = eval_index.eval_settings(load_settings(config), source, base / name)
        seconds = eval_index.prepare_index(settings, source)
        if seconds:
            print(f"indexed {name} ({source.name}) in {seconds:.0f} s", flush=True)
        sets[name] = _retrieved(settings, asked)
    return sets


def _retrieved(settings: Any, queries: list[Any]) -> tuple[Any, list[Asked]]:
    from bot.service import AnsweringService
    from index.search.retriever import TimeScope

    service = AnsweringService.open(settings, mode="extractive")
    k = settings.retrieval.k
    return service, [
        Asked(q, service.retrieve(q.question, k=k, scope=TimeScope(as_of=None))) for q in queries
    ]
