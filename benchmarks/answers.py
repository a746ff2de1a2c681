"""Right or silent: the old and the new answerer side by side, in one run.

    python benchmarks/answers.py --data-dir /work/bench-data/answers
    python benchmarks/answers.py --baseline 33626c7      # the code to compare against

The old answerer and grounding check are read from git at `--baseline` (default: the
commit before issue #13), the new ones are the working tree's. Both answer from the
very same retrieved chunks and model answers.

- **Extractive, RealTime QA 2023** (999 answerable questions, `--no-dates`):
  `answer_contained` (a gold answer string in a non-abstaining answer) and abstention;
  the answerer's own time per question (p50/p95) and the new one's extra time; warm
  `AnsweringService.ask` p50/p95 (retrieval included) with the new answerer.
- **Unanswerable**: the same questions' seeded sample with their gold paragraphs
  withheld from the corpus (`--withhold`, `--seed`; as `newsbot eval --withhold`):
  abstained, wrong (an answer without the gold answer) and right (from another article).
- **LLM dev set** (tests/data/grounding): each question asked through the real service
  in LLM mode, the model played by the scripted OpenAI-compatible server on 127.0.0.1
  (no capable model can run here), which answers faithfully, inventively or "I don't
  know". New: the service's own verdicts. Old: the old grounding check on the same
  model text and source blocks (an unsupported answer fell back to the old extractive
  answer). Good answers kept, invented ones shown as LLM answers, "I don't know"s that
  end as abstentions; per kind, and which check caught what.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from pathlib import Path
from typing import Any

from realtimeqa import add_arguments, question_sets
from report import REPO, print_table

BASELINE = "33626c7"  # the last commit before "Right or silent" (#13)
sys.path.insert(0, str(REPO / "tests"))  # the dev set's harness


def main() -> None:
    """Answer every question with both answerers; print the three tables."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-bench-answers-"))
    base = args.data_dir or scratch
    try:
        old_extractive = _from_git(args.baseline, "bot/answerers/extractive.py")
        old_grounding = _from_git(args.baseline, "bot/llm/grounding.py")
        sets = question_sets(args.config, base, args.withhold, args.seed)
        _extractive_tables(sets, old_extractive)
        _devset_table(args, base / "devset", old_extractive, old_grounding)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _from_git(revision: str, path: str) -> types.ModuleType:
    """The module at `path` as it was at `revision`."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"baseline_{Path(path).stem}")
    exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)
    return module


def _old_answerer(old: types.ModuleType, settings: Any) -> Any:
    """The old extractive answerer with its own default min_evidence (0.3)."""
    return old.ExtractiveAnswerer(settings.retrieval.min_score, 0.3, settings.answer.max_sentences)


def _extractive_tables(sets: dict[str, Any], old: types.ModuleType) -> None:
    from bot.evaluation.metrics import contains_answer, percentile

    service, answerable = sets["answerable"]
    answerers = {"old": _old_answerer(old, service.settings), "new": service.extractive}
    outcomes: dict[str, dict[str, Counter[str]]] = {}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for name, (_, asked) in sets.items():
        outcomes[name] = {}
        for who, answerer in answerers.items():
            counts: Counter[str] = Counter()
            for a in asked:
                started = time.perf_counter()
                answer = answerer.answer(a.query.question, a.chunks)
                if name == "answerable":
                    times[who].append((time.perf_counter() - started) * 1000)
                right = not answer.abstained and contains_answer(answer.text, a.query.answers)
                counts["abstained" if answer.abstained else "right" if right else "wrong"] += 1
            outcomes[name][who] = counts
    extra = [new - old for old, new in zip(times["old"], times["new"], strict=True)]
    asks = _warm_asks(service, [a.query.question for a in answerable])
    rows = []
    for who in ("old", "new"):
        a, w = outcomes["answerable"][who], outcomes["withheld"][who]
        rows += [
            (
                f"{who}: answerable ({a.total()})",
                f"answer_contained {a['right'] / a.total():.3f}, "
                f"abstained {a['abstained'] / a.total():.3f}",
            ),
            (
                f"{who}: withheld ({w.total()})",
                f"abstained {w['abstained'] / w.total():.3f}, wrong {w['wrong'] / w.total():.3f}, "
                f"right {w['right'] / w.total():.3f}",
            ),
            (
                f"{who}: answerer ms p50 / p95",
                f"{percentile(times[who], 50):.1f} / {percentile(times[who], 95):.1f}",
            ),
        ]
    rows += [
        ("new - old ms p50 / p95", f"{percentile(extra, 50):.1f} / {percentile(extra, 95):.1f}"),
        ("warm ask (new) ms p50 / p95", f"{percentile(asks, 50):.1f} / {percentile(asks, 95):.1f}"),
    ]
    print_table("Extractive answers, RealTime QA 2023 (--no-dates)", rows)


def _warm_asks(service: Any, questions: list[str]) -> list[float]:
    """ms per `service.ask` (retrieval and answer), after five untimed ones."""
    from index.search.retriever import TimeScope

    for q in questions[:5]:
        service.ask(q, scope=TimeScope(as_of=None))
    times = []
    for q in questions[:300]:
        started = time.perf_counter()
        service.ask(q, scope=TimeScope(as_of=None))
        times.append((time.perf_counter() - started) * 1000)
    return times


def _devset_table(
    args: argparse.Namespace, data_dir: Path, old_extractive: Any, old_grounding: Any
) -> None:
    from harness.devset import ARTICLES, load_items, load_titles, scripted_reply
    from harness.llm_server import ScriptedLLM

    from bot.config import load_settings
    from bot.evaluation.eval_index import prepare_index
    from bot.service import AnsweringService

    titles = load_titles()
    items = load_items(titles=titles)
    reply = scripted_reply(items, titles)
    rows: dict[tuple[str, str], Counter[str]] = {}
    caught: Counter[str] = Counter()
    started = time.perf_counter()
    with ScriptedLLM(reply) as llm:
        settings = load_settings(args.config, data_dir=data_dir)
        settings = settings.model_copy(
            update={
                "llm": settings.llm.model_copy(
                    update={"provider": "openai", "base_url": llm.base_url, "model": "scripted"}
                )
            }
        )
        prepare_index(settings, ARTICLES)
        service = AnsweringService.open(settings, mode="llm")
        old = _old_answerer(old_extractive, settings)
        for item in items:
            new = service.ask(item.question)
            text = reply(llm.requests[-1]["messages"])
            chunks = service.retrieve(item.question, k=settings.retrieval.k)
            blocks, _ = service.generative.context(item.question, chunks)
            sources = {n: doc.page_content for n, doc in enumerate(blocks, 1)}
            kept_before = old_grounding.check(text, sources, settings.llm.min_support)
            counts = rows.setdefault((item.label, item.kind), Counter())
            counts["n"] += 1
            counts["new kept"] += new.mode == "llm" and not new.abstained
            counts["new abstained"] += new.abstained
            counts["old kept"] += kept_before.grounding.supported
            counts["old abstained"] += (
                not kept_before.grounding.supported and old.answer(item.question, chunks).abstained
            )
            for check in new.grounding.failed if new.grounding else []:
                caught[f"{item.label}: {check}"] += 1
    seconds = time.perf_counter() - started
    table = [
        (
            f"{label} / {kind} ({c['n']})",
            f"kept old {c['old kept']} -> new {c['new kept']}; "
            f"abstained old {c['old abstained']} -> new {c['new abstained']}",
        )
        for (label, kind), c in sorted(rows.items())
    ]
    totals = {
        label: sum((c for (lab, _), c in rows.items() if lab == label), Counter())
        for label in ("good", "invented", "idk")
    }
    for label, goal in (("good", "kept"), ("invented", "kept"), ("idk", "abstained")):
        c = totals[label]
        table.append(
            (
                f"{label}: {goal} (of {c['n']})",
                f"old {c[f'old {goal}']} ({c[f'old {goal}'] / c['n']:.0%}) -> "
                f"new {c[f'new {goal}']} ({c[f'new {goal}'] / c['n']:.0%})",
            )
        )
    table.append(("checks failed (new)", ", ".join(f"{k} {v}" for k, v in sorted(caught.items()))))
    table.append(("seconds per question", f"{seconds / len(items):.2f}"))
    print_table("LLM dev set (scripted model on 127.0.0.1)", table)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old answerer")
    return parser.parse_args()


if __name__ == "__main__":
    main()
