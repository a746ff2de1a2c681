"""Answer quality, the old and the new answerer side by side on four question sets (#23).

    python benchmarks/answer_quality.py                       # all sets, old and new
    python benchmarks/answer_quality.py --reuse               # old side from a saved run
    python benchmarks/answer_quality.py --sets articles --sides old --limit 20

The old side is the code at `--baseline` (fa0d633, before the answerer rewrite), checked
out once with `git -C /work/main worktree add /work/answers-base fa0d633`; the new side
is the working tree. Each side runs in its own process (this script with `--side`), the
old one with the baseline checkout first on PYTHONPATH, and writes one JSON line per
question. Both ask the same questions (`service.ask`, extractive, no dates) over the same
indexes, which the baseline code builds once per set through `newsbot eval`'s own entry
point (`eval_index.prepare_index`) under `--data-dir` and reuses while unchanged.

1. **rtqa**: the 999 RealTime QA 2023 questions over the 978 paragraphs. hit@1 and MRR@10
   by gold paragraph (documents ranked by their best chunk among the top 60, as
   `newsbot eval`), answer_contained (a gold answer string, ignoring case, in an answer
   that does not abstain) and abstained.
2. **rtqa-withheld**: the 300 questions `withheld_questions(queries, 300, 13)` over the
   paragraphs without their gold ones: abstained, wrong (an answer without a gold
   string) and right.
3. **articles**: the 240 questions over the 1,495 full articles: answer_contained,
   abstained, and a gold string in the top 4 / top 10 chunks `service.retrieve` returns.
4. **articles-withheld**: of the questions whose answer string occurs in 1 to 3
   articles, a seeded half (13) is made unanswerable by removing every article holding
   one of their answer strings; all 240 are asked over what remains. The withheld half:
   abstained, wrong, right; the questions whose answer still occurs somewhere: their
   answer_contained and abstained, beside the same questions' answer_contained in set 3.

The goals of #23 are printed beside each figure, with p50/p95 of `service.ask`. The
figures are computed here, not by either side's code, so both are scored alike.
"""

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"
RTQA, ARTICLES = EVAL / "realtimeqa-2023", EVAL / "realtimeqa-2023-articles"
SETS = ("rtqa", "rtqa-withheld", "articles", "articles-withheld")
BASELINE = "fa0d633"  # the last commit before the answerer rewrite (#23)
SEED, WITHHELD_RTQA, MOST_HOLDERS = 13, 300, 3
GROUPS = ("withheld", "kept", "lost", "absent")  # set 4's questions
CHUNKS_PER_QUERY = 60  # enough chunks to rank 10 distinct documents (as bot.evaluation.run)
ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}


@dataclass(frozen=True)
class ArticlesWithheld:
    """Set 4: the articles taken out, and what became of each question."""

    removed: set[str]
    group: dict[str, str]  # question id -> withheld | kept | lost | absent
    eligible: int  # questions whose answer occurs in 1 to MOST_HOLDERS articles


def withhold_articles(
    articles: Sequence[dict[str, Any]], queries: Sequence[Any], seed: int
) -> ArticlesWithheld:
    """Withhold a seeded half of the questions answered in 1 to 3 articles.

    Every article holding (title or text, ignoring case) any answer string of a withheld
    question leaves the corpus. The others are *kept* when their answer still occurs in
    a remaining article, *lost* when it went with the removed ones, *absent* when it was
    in no article to begin with.
    """
    texts = {str(a["doc_id"]): f"{a.get('title') or ''}\n{a['text']}".lower() for a in articles}
    holders = {
        q.id: {doc for doc, text in texts.items() if any(n in text for n in _needles(q.answers))}
        for q in queries
    }
    eligible = [q for q in queries if 1 <= len(holders[q.id]) <= MOST_HOLDERS]
    chosen = random.Random(seed).sample(range(len(eligible)), len(eligible) // 2)
    held = {eligible[i].id for i in chosen}
    removed = set().union(*(holders[q] for q in held))
    group = {
        q.id: "withheld"
        if q.id in held
        else "kept"
        if holders[q.id] - removed
        else "lost"
        if holders[q.id]
        else "absent"
        for q in queries
    }
    return ArticlesWithheld(removed, group, len(eligible))


def prepare(name: str, config: Path, data_dir: Path) -> None:
    """Write the set's corpus (when reduced) and questions, and build or reuse its index."""
    from bot.config import load_settings
    from bot.evaluation import eval_index, withheld
    from bot.evaluation.queries import read_corpus_ids, read_queries

    where = data_dir / name
    where.mkdir(parents=True, exist_ok=True)
    source = RTQA if name.startswith("rtqa") else ARTICLES
    corpus = source / ("corpus.jsonl" if source == RTQA else "articles.jsonl")
    queries = read_queries(source / "queries.jsonl", read_corpus_ids(corpus))
    group: dict[str, str] = {}
    info: dict[str, Any] = {}
    if name == "rtqa-withheld":
        queries = withheld.withheld_questions(queries, WITHHELD_RTQA, SEED)
        corpus = withheld.write_reduced_corpus(corpus, withheld.withheld_doc_ids(queries), where)
    elif name == "articles-withheld":
        plan = withhold_articles(_read_jsonl(corpus), queries, SEED)
        corpus = withheld.write_reduced_corpus(corpus, plan.removed, where)
        group = plan.group
        sizes = Counter(plan.group.values())
        info = {
            "eligible": plan.eligible,
            "removed_articles": len(plan.removed),
            **{f"{g}_questions": sizes[g] for g in GROUPS},
        }
    settings = eval_index.eval_settings(load_settings(config), corpus, where)
    seconds = eval_index.prepare_index(settings, corpus)
    print(f"{name}: index of {corpus} " + (f"built in {seconds:.0f} s" if seconds else "reused"))
    lines = [
        {"question_id": q.id, "question": q.question, "answers": q.answers, "gold": q.gold}
        | ({"group": group[q.id]} if group else {})
        for q in queries
    ]
    (where / "questions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (where / "set.json").write_text(json.dumps({"corpus": str(corpus), **info}))


def ask(side: str, name: str, args: argparse.Namespace) -> None:
    """Ask the set's questions with this process's code; one JSON line each to --out."""
    import bot

    code = Path(bot.__file__).resolve().parent.parent
    print(f"{side}: bot from {bot.__file__} ({_revision(code)})", flush=True)
    if code != (args.baseline_tree if side == "old" else REPO).resolve():
        raise SystemExit(f"the {side} side imported bot from {code}")
    from bot.config import load_settings
    from bot.evaluation import eval_index
    from bot.service import AnsweringService
    from index.search.retriever import TimeScope

    where = args.data_dir / name
    corpus = Path(json.loads((where / "set.json").read_text())["corpus"])
    questions = _read_jsonl(where / "questions.jsonl")[: args.limit]
    config = args.old_config if side == "old" else args.config
    settings = eval_index.eval_settings(load_settings(config), corpus, where)
    service = AnsweringService.open(settings, mode="extractive")
    scope = TimeScope(as_of=None)
    for q in questions[:2]:  # warm-up, untimed
        service.ask(q["question"], scope=scope)
    with args.out.open("w", encoding="utf-8") as out:
        for q in questions:
            started = time.perf_counter()
            answer = service.ask(q["question"], scope=scope)
            ms = (time.perf_counter() - started) * 1000
            right = not answer.abstained and _contains(answer.text, q["answers"])
            line = {
                "question_id": q["question_id"],
                "set": name,
                "abstained": answer.abstained,
                "answer": answer.text,
                "answer_contained": right,
                "verdict": "abstained" if answer.abstained else "right" if right else "wrong",
                "ask_ms": round(ms, 1),
            }
            if name == "rtqa":
                found = service.retrieve(q["question"], k=CHUNKS_PER_QUERY, scope=scope)
                ranked = list(dict.fromkeys(c.metadata["article_id"] for c in found))
                gold = set(q["gold"])
                line["gold_rank"] = next((r for r, d in enumerate(ranked, 1) if d in gold), None)
            if name.startswith("articles"):
                for k in (4, 10):
                    found = service.retrieve(q["question"], k=k, scope=scope)
                    text = "\n".join(c.page_content for c in found)
                    line[f"top{k}"] = _contains(text, q["answers"])
                line["group"] = q.get("group")
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def main() -> None:
    """Run each chosen side on each chosen set in its own process; print the table."""
    args = _parse_args()
    if args.prepare:
        prepare(args.set, args.old_config, args.data_dir)
        return
    if args.side:
        ask(args.side, args.set, args)
        return
    head = _revision(args.baseline_tree) if args.baseline_tree.is_dir() else ""
    if head.removesuffix("-dirty") != _revision(REPO, args.baseline).removesuffix("-dirty"):
        raise SystemExit(
            f"{args.baseline_tree} should be a checkout of {args.baseline}: "
            f"git -C {REPO} worktree add {args.baseline_tree} {args.baseline}"
        )
    sides = [s.strip() for s in args.sides.split(",")]
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in [s.strip() for s in args.sets.split(",")]:
        if name not in SETS:
            raise SystemExit(f"unknown set {name!r}; choose from {', '.join(SETS)}")
        _child(args, "old", name, ["--prepare"])
        results[name] = {side: _run_side(args, side, name, head) for side in sides}
    _print_tables(args, results)


def _run_side(args: argparse.Namespace, side: str, name: str, head: str) -> list[dict[str, Any]]:
    """One side's answers to one set: reused (old, same code, questions and config) or run."""
    limited = "" if args.limit is None else f".limit{args.limit}"
    out = args.data_dir / "answers" / f"{name}.{side}{limited}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta_path = out.with_suffix(".meta.json")
    meta = {
        "revision": head if side == "old" else _revision(REPO),
        "questions": _digest(args.data_dir / name / "questions.jsonl"),
        "config": _digest(args.old_config if side == "old" else args.config),
        "limit": args.limit,
    }
    if args.reuse and side == "old" and out.is_file() and meta_path.is_file():
        saved = json.loads(meta_path.read_text())
        if {k: saved.get(k) for k in meta} == meta and "-dirty" not in head:
            print(f"{name} / old: reused {out} (run in {saved['seconds']:.0f} s)", flush=True)
            return _read_jsonl(out)
    meta_path.unlink(missing_ok=True)
    seconds = _child(args, side, name, ["--out", str(out)])
    meta_path.write_text(json.dumps({**meta, "seconds": seconds}))
    return _read_jsonl(out)


def _child(args: argparse.Namespace, side: str, name: str, extra: list[str]) -> float:
    """Run this script for one side and set; the old side imports the baseline checkout."""
    env = {**os.environ, **{k: v for k, v in ENV.items() if k not in os.environ}}
    env.pop("PYTHONPATH", None)
    if side == "old":
        env["PYTHONPATH"] = str(args.baseline_tree)
    command = [sys.executable, __file__, "--side", side, "--set", name, *extra]
    command += ["--data-dir", str(args.data_dir), "--config", str(args.config)]
    command += ["--old-config", str(args.old_config), "--baseline-tree", str(args.baseline_tree)]
    command += [] if args.limit is None else ["--limit", str(args.limit)]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    seconds = time.perf_counter() - started
    what = "prepared" if "--prepare" in extra else f"{side} answered"
    print(f"{name}: {what} in {seconds:.0f} s", flush=True)
    return seconds


GOALS = {
    ("rtqa", "MRR@10"): ">= 0.88",
    ("rtqa", "hit@1"): ">= 0.82",
    ("rtqa", "answer_contained"): ">= 0.58",
    ("rtqa", "abstained"): "<= 0.05",
    ("rtqa-withheld", "wrong"): "<= 0.25",
    ("articles", "answer_contained"): ">= 0.38",
    ("articles", "top4"): ">= 0.52",
    ("articles-withheld", "withheld: wrong"): "<= 0.35",
}


def _figures(
    name: str, lines: list[dict[str, Any]], articles: list[dict[str, Any]]
) -> dict[str, str]:
    """The set's figures from one side's lines, formatted; counts in the labels."""
    share = lambda rows, key, value=True: f"{_mean(r[key] == value for r in rows):.3f}"  # noqa: E731
    ms = [r["ask_ms"] for r in lines]
    timing = {"ask ms p50 / p95": f"{_percentile(ms, 50):.0f} / {_percentile(ms, 95):.0f}"}
    if name == "rtqa":
        ranks = [r["gold_rank"] for r in lines]
        return {
            "hit@1": f"{_mean(r == 1 for r in ranks):.3f}",
            "MRR@10": f"{_mean(1 / r if r and r <= 10 else 0.0 for r in ranks):.3f}",
            "answer_contained": share(lines, "answer_contained"),
            "abstained": share(lines, "abstained"),
        } | timing
    if name == "rtqa-withheld":
        return {v: share(lines, "verdict", v) for v in ("abstained", "wrong", "right")} | timing
    if name == "articles":
        keys = ("answer_contained", "abstained", "top4", "top10")
        return {k: share(lines, k) for k in keys} | timing
    held = [r for r in lines if r["group"] == "withheld"]
    kept = [r for r in lines if r["group"] == "kept"]
    before = {r["question_id"]: r["answer_contained"] for r in articles}
    same = [before[r["question_id"]] for r in kept if r["question_id"] in before]
    figures = {
        "withheld: questions asked": str(len(held)),
        **{f"withheld: {v}": share(held, "verdict", v) for v in ("abstained", "wrong", "right")},
        "kept: questions asked": str(len(kept)),
        "kept: answer_contained": share(kept, "answer_contained"),
        "kept: abstained": share(kept, "abstained"),
        "kept: answer_contained in set 3": f"{_mean(same):.3f}" if same else "n/a",
    }
    return figures | timing


def _print_tables(
    args: argparse.Namespace, results: dict[str, dict[str, list[dict[str, Any]]]]
) -> None:
    from report import print_table

    sides = ("old", "new")
    for name, by_side in results.items():
        figures = {
            side: _figures(name, lines, results.get("articles", {}).get(side, []))
            for side, lines in by_side.items()
        }
        labels = list(dict.fromkeys(k for f in figures.values() for k in f))
        cells = [[figures.get(s, {}).get(label, "") for s in sides] for label in labels]
        width = max(len(c) for row in cells for c in [*row, "old"])
        rows = [("", "  ".join(s.ljust(width) for s in sides) + "  goal")]
        for label, row in zip(labels, cells, strict=True):
            goal = GOALS.get((name, label), "")
            rows.append((label, ("  ".join(c.ljust(width) for c in row) + f"  {goal}").rstrip()))
        about = ", ".join(f"{len(lines)} questions {s}" for s, lines in by_side.items())
        extra = json.loads((args.data_dir / name / "set.json").read_text())
        extra.pop("corpus")
        about += "".join(f", {k.replace('_', ' ')} {v}" for k, v in extra.items())
        print_table(f"{name} ({about}; old = {args.baseline})", rows)


def _contains(text: str, answers: Sequence[str]) -> bool:
    """Whether a gold answer string appears in the text, ignoring case (as `newsbot eval`)."""
    lowered = text.lower()
    return any(n in lowered for n in _needles(answers))


def _needles(answers: Sequence[str]) -> list[str]:
    return [a.strip().lower() for a in answers if a.strip()]


def _mean(values: Any) -> float:
    items = [float(v) for v in values]
    return statistics.fmean(items) if items else float("nan")


def _percentile(values: Sequence[float], q: int) -> float:
    """As bot.evaluation.metrics.percentile (kept here: that code is being rewritten)."""
    if len(values) < 2:
        return float(values[0]) if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _revision(tree: Path, commit: str = "HEAD") -> str:
    """The commit (7 digits); HEAD's marked -dirty when tracked files changed. Read-only git."""
    git = ["git", "--no-optional-locks", "-C", str(tree)]
    run = lambda *a: subprocess.run([*git, *a], capture_output=True, text=True).stdout  # noqa: E731
    sha = run("rev-parse", "--short=7", commit).strip() or "unknown"
    changed = commit == "HEAD" and run("status", "--porcelain", "--untracked-files=no").strip()
    return f"{sha}-dirty" if changed else sha


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"some of {', '.join(SETS)}")
    parser.add_argument("--sides", default="old,new", help="old, new or both")
    parser.add_argument("--limit", type=int, help="first N questions of each set")
    parser.add_argument("--reuse", action="store_true", help="reuse a saved old run")
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data/quality"))
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="new side")
    parser.add_argument("--baseline", default=BASELINE, help="the old side's commit")
    parser.add_argument("--baseline-tree", type=Path, default=REPO.parent / "answers-base")
    parser.add_argument(
        "--old-config", type=Path, help="old side (default: config.yaml of the baseline)"
    )
    parser.add_argument("--side", choices=("old", "new"), help=argparse.SUPPRESS)
    parser.add_argument("--set", choices=SETS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.old_config = args.old_config or args.baseline_tree / "config.yaml"
    return args


if __name__ == "__main__":
    main()
