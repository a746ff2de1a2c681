"""Grounding benchmark (#24): what the check lets through, against the check before #24.

Two sets of scripted model answers, each labelled good, invented or idk:

- the dev set (tests/data/grounding, 12 hand-written articles), split by a hash of each
  item's id into a tuning half (the rules were developed looking at it) and a held-out
  half (reported, never looked at while writing the rules);
- the adversarial set (benchmarks/grounding_adversarial.jsonl), answers written against
  real articles of ../shared/eval/realtimeqa-2023-articles, which are read from there
  and ingested into a temporary index (never copied into the repository).

Each question is retrieved as the LLM answerer retrieves it, its <source> blocks built
as the model would read them (`GenerativeAnswerer.context`) and the scripted answer
resolved to those block numbers, exactly as the scripted server does in the tests
(tests/harness/devset.py). The current check judges it in this process; the baseline
(the code at --baseline, by default 72a227c, the last commit before #24, checked out
with `git worktree add`) judges the same inputs in a subprocess. An item whose cited
article was not among the blocks is left out and counted.

Then the time to the first checked sentence against the time to the first raw token, and
to the moment the model has written its whole first sentence (what no check of whole
sentences can beat): the scripted server at 0.5 s to the first token and 40 words a
second, the dev set's good answers of two or more sentences streamed through the LLM
answerer (each sentence released once it passes) and, alternating, through the bare
prompt | model chain.

With `--sweep`, also what the claim verifier (bot/llm/claims, trained separately; its
weights are not shipped) would change if an answer had to pass it too, at each threshold.

    python benchmarks/grounding.py
    python benchmarks/grounding.py --baseline-dir /work/grounding-base --eval-dir ../shared/eval
"""

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from report import REPO, print_table

sys.path.insert(0, str(REPO / "tests"))
from harness.devset import ANSWERS, ARTICLES, DevItem, load_titles, resolve

EVAL = REPO.parent / "shared" / "eval"
ADVERSARIAL = Path(__file__).resolve().parent / "grounding_adversarial.jsonl"
BASELINE = "72a227c"
FIRST_TOKEN_S, WORDS_PER_S = 0.5, 40
# Other model speeds for --speeds: the ratio to the first raw token is mostly the time the
# model takes to write its first sentence, against its time to the first token.
SPEEDS = ((1.0, 40), (0.5, 80), (1.0, 80), (0.3, 40))


def half(item_id: str) -> str:
    """The dev set half an item is in: "tuning" or "held-out", by a hash of its id."""
    return ("tuning", "held-out")[int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 2]


def load(path: Path) -> list[DevItem]:
    fields = ("id", "question", "answer", "label", "kind")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [DevItem(**{k: r[k] for k in fields}) for r in map(json.loads, filter(None, lines))]


def adversarial_articles(tmp: Path, eval_dir: Path) -> tuple[Path, dict[str, str]]:
    """The adversarial set's articles, as one JSON Lines file in `tmp`, and their titles."""
    wanted = {d for line in ADVERSARIAL.open(encoding="utf-8") for d in json.loads(line)["doc_ids"]}
    articles = eval_dir / "realtimeqa-2023-articles" / "articles.jsonl"
    records = [json.loads(line) for line in articles.open(encoding="utf-8")]
    chosen = [r for r in records if r["doc_id"] in wanted]
    path = tmp / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8")
    return path, {r["doc_id"]: r["title"] for r in chosen}


def open_service(data_dir: Path, base_url: str, articles: Path) -> Any:
    """The answering service over `articles` (ingested first), with built-in defaults, in
    LLM mode on the scripted server."""
    from bot.config import load_settings
    from bot.service import AnsweringService
    from index.ingest.pipeline import ingest_paths

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    empty = data_dir.parent / "config.yaml"
    empty.write_text("", encoding="utf-8")
    base = load_settings(empty, data_dir=data_dir)
    llm = base.llm.model_copy(
        update={"provider": "openai", "base_url": base_url, "model": "scripted", "timeout_s": 30}
    )
    settings = base.model_copy(update={"llm": llm})
    report = ingest_paths(settings, [articles])
    if report.problems:
        raise SystemExit(f"ingest failed: {report.problems}")
    return AnsweringService.open(settings, mode="llm")


def capture(
    articles: Path, items: Sequence[DevItem], titles: dict[str, str], tmp: Path
) -> list[dict[str, Any]]:
    """Per item: the resolved answer text, its sources and articles, or `missed`."""
    service = open_service(tmp / "data", "http://127.0.0.1:9/v1", articles)  # asks no model
    captured = []
    for item in items:
        chunks = service.retrieve(item.question, k=service.settings.retrieval.k)
        blocks, context = service.generative.context(item.question, chunks)
        text, missed = resolve(item.answer, context, titles)
        sources = {n: b.page_content for n, b in enumerate(blocks, 1)}
        owners = {n: str(b.metadata.get("article_id", n)) for n, b in enumerate(blocks, 1)}
        captured.append(
            {
                "id": item.id,
                "label": item.label,
                "kind": item.kind,
                "question": item.question,
                "text": text,
                "sources": sources,
                "articles": owners,
                "missed": bool(missed),
            }
        )
    return captured


def judge(captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The verdict of the `bot` on sys.path on each captured answer."""
    from bot.llm import grounding

    verdicts = []
    for c in captured:
        sources = {int(n): s for n, s in c["sources"].items()}
        owners = {int(n): a for n, a in c["articles"].items()}
        g = grounding.check(c["text"], sources, 0.6, False, c["question"], owners).grounding
        verdicts.append({"supported": g.supported, "declined": g.declined, "reason": g.reason})
    return verdicts


def verified(captured: list[dict[str, Any]], rules: list[dict[str, Any]]) -> list[float]:
    """Per answer the check passes, the verifier's smallest probability over its claims
    (else 0), each read against the windows of its cited articles holding most of its
    words. Needs the weights of a training run (bot/llm/claims/model/MODEL_CARD.md)."""
    from bot.llm import grounding
    from bot.llm.claims import verifier

    if not (verifier.MODEL_DIR / verifier.MODEL_FILE).is_file():
        raise SystemExit("no claim verifier weights: python -m bot.llm.claims.train")
    model = verifier.ClaimVerifier()
    smallest = []
    for c, v in zip(captured, rules, strict=True):
        if not v["supported"]:
            smallest.append(0.0)
            continue
        sources = {int(n): s for n, s in c["sources"].items()}
        owners = {int(n): a for n, a in c["articles"].items()}
        cited = grounding.cited_numbers(c["text"])
        probabilities = [1.0]
        for claim in grounding._claims(c["text"], c["question"]):
            own = [n for n in grounding.cited_numbers(claim) if n in sources] or cited
            texts = grounding._by_article(own, sources, owners)
            probabilities.append(verifier.stated_probability(model, claim, texts, c["question"]))
        smallest.append(min(probabilities))
    return smallest


THRESHOLDS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def sweep(captured: list[dict[str, Any]], smallest: list[float]) -> list[tuple[str, str]]:
    """Invented shown and good kept if the verifier also had to pass, as its threshold moves
    (0: the check as it is)."""
    rows = []
    for threshold in THRESHOLDS:
        figures = score(captured, _passing(smallest, threshold))
        invented, good = figures["invented shown as grounded"], figures["good answers kept"]
        rows.append((f"threshold {threshold:.2f}", f"invented {invented}, good {good}"))
    return rows


def pick(captured: list[dict[str, Any]], smallest: list[float]) -> float:
    """The threshold that catches most invented answers net of good ones lost (the lowest
    of equals), as picked on the tuning half."""

    def net(threshold: float) -> int:
        passing = _passing(smallest, threshold)
        return sum(
            (c["label"] == "invented") - (c["label"] == "good")
            for c, before, now in zip(captured, _passing(smallest, 0.0), passing, strict=True)
            if not c["missed"] and before["supported"] and not now["supported"]
        )

    return max(THRESHOLDS, key=lambda t: (net(t), -t))


def _passing(smallest: list[float], threshold: float) -> list[dict[str, bool]]:
    return [{"supported": p > 0 and p >= threshold, "declined": False} for p in smallest]


def judge_at(code: Path, captured: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    """The verdicts of the code checked out at `code`, in a subprocess."""
    inputs = tmp / "captured.json"
    inputs.write_text(json.dumps(captured), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, __file__, "--judge", str(inputs), "--code", str(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def score(captured: list[dict[str, Any]], verdicts: list[dict[str, Any]]) -> dict[str, str]:
    """Invented shown, good kept, idk honoured: counts and shares over the judged items."""
    tally: Counter[tuple[str, bool]] = Counter()
    for c, v in zip(captured, verdicts, strict=True):
        if c["missed"]:
            continue
        ok = {"good": v["supported"], "invented": v["supported"], "idk": v["declined"]}
        tally[(c["label"], ok[c["label"]])] += 1

    def share(label: str) -> str:
        yes, total = tally[(label, True)], tally[(label, True)] + tally[(label, False)]
        return f"{yes}/{total} ({yes / total:.1%})" if total else "-"

    return {
        "invented shown as grounded": share("invented"),
        "good answers kept": share("good"),
        "idk honoured": share("idk"),
    }


def streaming(
    items: Sequence[DevItem],
    titles: dict[str, str],
    tmp: Path,
    first_token_s: float = FIRST_TOKEN_S,
    words_per_s: float = WORDS_PER_S,
) -> list[tuple[str, str]]:
    """Time to the first checked sentence against the first raw token, alternating."""
    from harness.llm_server import ScriptedLLM
    from langchain_core.output_parsers import StrOutputParser

    multi = [i for i in items if i.label == "good" and i.answer.count("[[") >= 2]
    by_question = {i.question: i for i in multi}

    def reply(messages: list[dict[str, Any]]) -> str:
        prompt = str(messages[-1]["content"])
        item = max(
            (i for q, i in by_question.items() if q in prompt), key=lambda i: len(i.question)
        )
        return resolve(item.answer, prompt, titles)[0]

    from index.sentences import sentence_spans

    raw_s, written_s, checked_s, kept = [], [], [], 0
    with ScriptedLLM(reply, delay_s=1 / words_per_s, first_token_s=first_token_s) as llm:
        service = open_service(
            tmp / f"stream-{first_token_s}-{words_per_s}" / "data", llm.base_url, ARTICLES
        )
        answerer = service.generative
        chain = answerer.prompt | answerer.chat.model | StrOutputParser()
        for item in multi:
            chunks = service.retrieve(item.question, k=service.settings.retrieval.k)
            _, context = answerer.context(item.question, chunks)
            first_end = sentence_spans(resolve(item.answer, context, titles)[0])[0][1]
            started, text = time.perf_counter(), ""
            for piece in chain.stream({"context": context, "question": item.question}):
                if piece.strip() and not text.strip():
                    raw_s.append(time.perf_counter() - started)
                text += piece
                if len(text.rstrip()) >= first_end:  # the model has written its first sentence
                    written_s.append(time.perf_counter() - started)
                    break
            started = time.perf_counter()
            for part in answerer.stream(item.question, chunks):
                if isinstance(part, str):
                    checked_s.append(time.perf_counter() - started)
                    kept += 1
                    break
    raw, checked = statistics.median(raw_s), statistics.median(checked_s)
    written = statistics.median(written_s)
    return [
        ("answers streamed", f"{len(multi)} good dev-set answers of 2+ sentences"),
        ("scripted model", f"{first_token_s} s to the first token, {words_per_s} words/s"),
        ("first raw token, median", f"{raw:.3f} s"),
        ("first sentence written by the model, median", f"{written:.3f} s"),
        ("first checked sentence, median", f"{checked:.3f} s ({kept} showed one)"),
        ("ratio, checked / raw", f"{checked / raw:.2f}x"),
        ("ratio, written / raw (no sentence check can beat it)", f"{written / raw:.2f}x"),
        ("ratio, checked / written (the check's own cost)", f"{checked / written:.2f}x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-dir", type=Path, default=Path("/work/grounding-base"))
    parser.add_argument("--eval-dir", type=Path, default=EVAL, help="../shared/eval by default")
    parser.add_argument(
        "--sweep", action="store_true", help="also the claim verifier's threshold sweep (#24)"
    )
    parser.add_argument("--no-streaming", action="store_true", help="skip the streaming timing")
    parser.add_argument(
        "--speeds",
        action="store_true",
        help="also time streaming with faster and slower scripted models (SPEEDS)",
    )
    parser.add_argument("--details", type=Path, help="write each item's verdicts here (JSONL)")
    parser.add_argument("--judge", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge:  # the subprocess side: judge with the code at --code
        sys.path.insert(0, str(args.code))
        print(json.dumps(judge(json.loads(args.judge.read_text(encoding="utf-8")))))
        return
    if not args.baseline_dir.is_dir():
        raise SystemExit(
            f"no baseline checkout at {args.baseline_dir}: "
            f"git -C {REPO} worktree add {args.baseline_dir} {BASELINE}"
        )
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        dev = load(ANSWERS)
        dev_captured = capture(ARTICLES, dev, load_titles(), tmp / "dev")
        sets = {
            f"dev set, {name} half": [c for c in dev_captured if half(c["id"]) == name]
            for name in ("held-out", "tuning")
        }
        adversarial = load(ADVERSARIAL)
        path, titles = adversarial_articles(tmp, args.eval_dir)
        sets["adversarial set (2023 articles)"] = capture(path, adversarial, titles, tmp / "adv")
        details = []
        for name, captured in sets.items():
            now, then = judge(captured), judge_at(args.baseline_dir, captured, tmp)
            new, old = score(captured, now), score(captured, then)
            details += [
                {"set": name, **{k: c[k] for k in ("id", "label", "kind", "text")}}
                | {"verdict": n, "baseline": b}
                for c, n, b in zip(captured, now, then, strict=True)
            ]
            missed = sum(c["missed"] for c in captured)
            rows = [("items (not retrieved)", f"{len(captured)} ({missed})")]
            rows += [(k, f"{new[k]}   baseline {old[k]}") for k in new]
            print_table(f"Grounding check, {name}", rows)
            if args.sweep:
                smallest = verified(captured, now)
                rows = sweep(captured, smallest)
                if "tuning" in name:
                    rows.append(
                        (
                            "picked here (most invented caught net of good lost)",
                            f"{pick(captured, smallest):.2f}",
                        )
                    )
                print_table(f"Verifier threshold sweep, {name}", rows)
        if args.details:
            args.details.write_text("".join(json.dumps(d) + "\n" for d in details), "utf-8")
        if not args.no_streaming:
            timing = streaming(dev, load_titles(), tmp)
            print_table("Time to the first checked sentence", timing)
        for first_token_s, words_per_s in SPEEDS if args.speeds else ():
            timing = streaming(dev, load_titles(), tmp, first_token_s, words_per_s)
            print_table(
                f"... with {first_token_s} s to the first token, {words_per_s} words/s", timing
            )


if __name__ == "__main__":
    main()
