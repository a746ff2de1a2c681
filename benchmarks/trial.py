"""User trial: 30 hand-checked questions typed as people type them (issue #23).

Asks every question in benchmarks/trial_questions.jsonl through `AnsweringService.ask`
(extractive mode, as of 2023-03-01) over an index of the 1,495 RealTime QA 2023 articles
built with benchmarks/ingest.py, and prints per question its kind, the outcome and the
start of the answer, then the counts:

- answerable (18; the answer is stated in an article, a few only in a headline): right
  when the bot answers and the answer contains one of the question's `expect_any`
  strings (case-insensitive), wrong when it answers without one, declined-but-answerable
  when it abstains.
- absent_topic (6; no article covers the subject) and absent_detail (6; articles cover
  the story but never state the detail asked): declined is the right outcome, any
  answer is wrong.

    python benchmarks/trial.py
    python benchmarks/trial.py --data-dir /work/bench-data/articles --json

To measure another checkout's code (say the last commit, in a git worktree), run from
it with it first on the path, and give it a copy of the index:

    cd /work/trial-base && PYTHONPATH=$PWD python /work/main/benchmarks/trial.py \\
        --config $PWD/config.yaml --data-dir /tmp/articles-copy
"""

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from report import print_table

REPO = Path(__file__).resolve().parent.parent
# Appended, not inserted: an installed newsbot or a checkout on PYTHONPATH comes first.
sys.path.append(str(REPO))

QUESTIONS = Path(__file__).resolve().parent / "trial_questions.jsonl"
DATA_DIR = Path("/work/bench-data/articles")
AS_OF = date(2023, 3, 1)
KINDS = ("answerable", "absent_topic", "absent_detail")


def main() -> None:
    """Ask the trial questions and print the outcome of each, then the counts."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    service = _open_service(args.config, args.data_dir)
    counts = {kind: 0 for kind in KINDS}
    for question in questions:
        outcome, text = ask(service, question)
        counts[question["kind"]] += outcome in ("right", "declined")
        snippet = " ".join(text.split())[:160]
        print(f"{question['id']} {question['kind']:<13} {outcome:<23} {question['question']}")
        print(f"    {snippet}")
    code = _code_origin()
    totals = {kind: sum(q["kind"] == kind for q in questions) for kind in KINDS}
    print_table(
        "user trial",
        [
            ("answering code", code),
            ("index", str(args.data_dir)),
            ("answerable right", f"{counts['answerable']} of {totals['answerable']}"),
            ("absent_topic declined", f"{counts['absent_topic']} of {totals['absent_topic']}"),
            ("absent_detail declined", f"{counts['absent_detail']} of {totals['absent_detail']}"),
        ],
    )
    if args.json:
        figures = {
            "answerable_right": counts["answerable"],
            "absent_topic_declined": counts["absent_topic"],
            "absent_detail_declined": counts["absent_detail"],
        }
        print(json.dumps({**figures, "of": totals, "code": code}))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="an ingested index")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="trial, JSON Lines")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of counts")
    return parser.parse_args()


def _open_service(config: Path, data_dir: Path) -> Any:
    """The answering service the CLI opens, in extractive mode, over `data_dir`."""
    from bot.config import load_settings
    from bot.service import AnsweringService

    settings = load_settings(config).model_copy(update={"data_dir": data_dir})
    return AnsweringService.open(settings, mode="extractive")


def ask(service: Any, question: dict[str, Any]) -> tuple[str, str]:
    """The outcome of one trial question and the answer's text."""
    from index.search.retriever import TimeScope

    answer = service.ask(question["question"], scope=TimeScope(as_of=AS_OF))
    answerable = question["kind"] == "answerable"
    if answer.abstained:
        return ("declined-but-answerable" if answerable else "declined"), answer.text
    text = answer.text.lower()
    found = any(expected.lower() in text for expected in question["expect_any"])
    return ("right" if found else "wrong"), answer.text


def _code_origin() -> str:
    """Where the `bot` package was imported from, with that checkout's commit."""
    import bot

    checkout = Path(bot.__file__).resolve().parent.parent
    done = subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"{checkout} ({done.stdout.strip() or 'not a git checkout'})"


if __name__ == "__main__":
    main()
