"""LLM benchmark: extractive and LLM answers to the same questions, in one run.

Questions: the seed questions over the bundled seed article, and a seeded sample of
RealTime QA 2023 questions (default 100) over its 978 paragraphs, each asked as of its
question date. Every question is retrieved once; the extractive answerer and the
configured LLM (`llm:` in the config; by default SmolLM2 through llama.cpp) then
answer from the same chunks, the LLM streamed exactly as `newsbot ask --mode llm` does.

Per mode: p50/p95 total answer time (retrieval included), `answer_contained` (a gold
answer string in the answer text), abstentions. For the LLM: time to first token,
tokens/s while generating, how often grounding replaced the model's answer with the
extractive one, and model failures. Baseline in the same run: the raw llama.cpp
`create_chat_completion` on the very messages newsbot sent, for the first few
questions, so the tokens/s and first-token figures are also given as ratios.

    python benchmarks/llm.py                      # seed + 100 RealTime QA questions
    python benchmarks/llm.py --questions 20 --data-dir /work/bench-data/llm
"""

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from report import REPO, print_table

EVAL = REPO.parent / "shared" / "eval"
SEED = EVAL / "seed"
RTQA = EVAL / "realtimeqa-2023"


@dataclass(frozen=True)
class Question:
    """One benchmark question and what a right answer looks like."""

    text: str
    as_of: date | None
    answers: list[str]
    expect_abstain: bool = False


@dataclass
class Run:
    """What one question cost and gave, in both modes."""

    question: Question
    retrieve_s: float
    extractive_s: float
    extractive: Any
    llm_s: float
    first_token_s: float | None
    generate_s: float
    tokens: int
    llm: Any


@dataclass
class Figures:
    """Everything measured, per question set."""

    runs: dict[str, list[Run]] = field(default_factory=dict)
    raw: list[tuple[float, float, int]] = field(default_factory=list)  # ttft, gen s, tokens
    ours: list[tuple[float, float, int]] = field(default_factory=list)


def main() -> None:
    """Build both indexes, ask every question in both modes, print the table."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-bench-llm-"))
    base = args.data_dir or scratch
    try:
        figures = Figures()
        for name, corpus, questions in _question_sets(args):
            service = _service(args, base / name, corpus)
            figures.runs[name] = [_ask(service, q, figures, args.raw) for q in questions]
            print(f"{name}: {len(questions)} questions done", flush=True)
        print_table("LLM benchmark", _rows(figures, service.settings))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _question_sets(args: argparse.Namespace) -> list[tuple[str, Path, list[Question]]]:
    from bot.evaluation.queries import read_corpus_ids, read_queries

    seed = [
        Question(r["question"], None, r.get("expect_any", []), r.get("expect_abstain", False))
        for r in map(json.loads, (SEED / "questions.jsonl").read_text().splitlines())
    ]
    corpus = RTQA / "corpus.jsonl"
    pool = [q for q in read_queries(RTQA / "queries.jsonl", read_corpus_ids(corpus)) if q.answers]
    picked = random.Random(args.seed).sample(pool, min(args.questions, len(pool)))
    rtqa = [Question(q.question, q.as_of, q.answers) for q in picked]
    return [("seed", next(SEED.glob("*.txt")), seed), ("realtimeqa", corpus, rtqa)]


def _service(args: argparse.Namespace, data_dir: Path, corpus: Path) -> Any:
    """The LLM-mode answering service over an index of `corpus` (reused when unchanged)."""
    from bot.config import load_settings
    from bot.evaluation.eval_index import prepare_index
    from bot.service import AnsweringService

    settings = load_settings(args.config, data_dir=data_dir)
    seconds = prepare_index(settings, corpus)
    if seconds:
        print(f"indexed {corpus.name} in {seconds:.0f} s", flush=True)
    service = AnsweringService.open(settings, mode="llm")
    if service.generative is None or service.generative.chat is None:
        raise SystemExit(
            f"the LLM is unavailable: {service.generative and service.generative.unavailable}"
        )
    return service


def _ask(service: Any, question: Question, figures: Figures, raw_runs: int) -> Run:
    """Retrieve once; answer extractively, then with the LLM streamed; maybe the raw baseline."""
    from bot.answer import Answer
    from index.search.retriever import TimeScope

    started = time.perf_counter()
    chunks = service.retrieve(
        question.text, k=service.settings.retrieval.k, scope=TimeScope(as_of=question.as_of)
    )
    retrieve_s = time.perf_counter() - started

    started = time.perf_counter()
    extractive = service.extractive.answer(question.text, chunks)
    extractive_s = time.perf_counter() - started

    generative = service.generative
    parts: list[str] = []
    first = last = None
    final: Answer | None = None
    _forget_prompt_cache(generative)
    started = time.perf_counter()
    for item in generative.stream(question.text, chunks):
        if isinstance(item, Answer):
            final = item
        else:
            last = time.perf_counter() - started
            first = last if first is None else first
            parts.append(item)
    llm_s = time.perf_counter() - started
    tokens = generative.chat.count_tokens("".join(parts)) if parts else 0
    generate_s = (last or 0.0) - (first or 0.0)
    if first is not None:
        figures.ours.append((first, generate_s, tokens))
        if len(figures.raw) < raw_runs and generative.chat.where.startswith("llamacpp"):
            figures.raw.append(_raw_llamacpp(generative, question.text, chunks))
    return Run(
        question, retrieve_s, extractive_s, extractive, llm_s, first, generate_s, tokens, final
    )


def _raw_llamacpp(generative: Any, question: str, chunks: list[Any]) -> tuple[float, float, int]:
    """llama.cpp alone on the messages newsbot sends: first-token seconds, generating s, tokens."""
    _, context = generative.context(question, chunks)
    messages = generative.prompt.format_messages(context=context, question=question)
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    payload = [{"role": roles[m.type], "content": m.content} for m in messages]
    model = generative.chat.model
    pieces: list[str] = []
    first = last = 0.0
    _forget_prompt_cache(generative)
    started = time.perf_counter()
    with generative.lock:
        stream = model.client.create_chat_completion(
            payload, max_tokens=model.max_tokens, temperature=model.temperature, stream=True
        )
        for event in stream:
            text = event["choices"][0]["delta"].get("content")
            if text:
                last = time.perf_counter() - started
                first = first or last
                pieces.append(text)
    return first, last - first, generative.chat.count_tokens("".join(pieces))


def _forget_prompt_cache(generative: Any) -> None:
    """Make llama.cpp read the whole prompt again, as it would for a new question."""
    client = getattr(generative.chat.model, "client", None)
    if client is not None and hasattr(client, "reset"):
        client.reset()


def _rows(figures: Figures, settings: Any) -> list[tuple[str, str]]:
    from bot.evaluation.run import contains_answer

    llm = settings.llm
    rows = [("LLM", f"{llm.provider} {llm.model or llm.model_path or '(packaged SmolLM2)'}")]
    for name, runs in figures.runs.items():
        rows.append((name, f"{len(runs)} questions"))
        for mode in ("extractive", "llm"):
            totals = [
                r.retrieve_s + (r.extractive_s if mode == "extractive" else r.llm_s) for r in runs
            ]
            answers = [getattr(r, mode) for r in runs]
            contained = [
                contains_answer(a.text, r.question.answers)
                for a, r in zip(answers, runs, strict=True)
                if r.question.answers
            ]
            right_abstain = [
                a.abstained for a, r in zip(answers, runs, strict=True) if r.question.expect_abstain
            ]
            abstained = [a.abstained for a in answers]
            text = f"{_ms(totals)}; answer_contained {_share(contained)}"
            text += f"; abstained {_share(abstained)}"
            if right_abstain:
                text += f", where expected {_share(right_abstain)}"
            rows.append((f"  {mode}", text))
        asked = [r for r in runs if r.first_token_s is not None]
        replaced = [r.llm.mode == "extractive-fallback" for r in asked]
        attributed = [bool(r.llm.grounding and r.llm.grounding.attributed) for r in asked]
        reasons = Counter(
            r.llm.grounding.reason.split(" (")[0].split(":")[0]
            for r in asked
            if r.llm.grounding is not None
        )
        failed = sum("LLM failed" in (r.llm.notice or "") for r in asked)
        rows.append(
            (
                "  llm: model asked",
                f"{len(asked)}/{len(runs)} (the rest had no chunk above retrieval.min_score)",
            )
        )
        rows.append(
            (
                "  llm: grounding replaced",
                f"{_share(replaced)} of the model's answers; {failed} failures",
            )
        )
        rows.append(("  llm: citations added", f"{_share(attributed)} (the model cited none)"))
        rows.append(
            ("  llm: grounding verdicts", ", ".join(f"{n} {r}" for r, n in reasons.most_common()))
        )
    rows += _speed_rows(figures)
    return rows


def _speed_rows(figures: Figures) -> list[tuple[str, str]]:

    if not figures.ours:
        return [("llm speed", "the model never answered")]
    ttft = [f for f, _, _ in figures.ours]
    rate = sum(t for _, _, t in figures.ours) / max(sum(g for _, g, _ in figures.ours), 1e-9)
    rows = [
        ("llm time to first token", _ms(ttft)),
        ("llm tokens/s generating", f"{rate:.1f} over {len(figures.ours)} answers"),
    ]
    if figures.raw:
        n = len(figures.raw)
        raw_rate = sum(t for _, _, t in figures.raw) / max(sum(g for _, g, _ in figures.raw), 1e-9)
        ours = figures.ours[:n]
        our_rate = sum(t for _, _, t in ours) / max(sum(g for _, g, _ in ours), 1e-9)
        raw_ttft = statistics.fmean(f for f, _, _ in figures.raw)
        our_ttft = statistics.fmean(f for f, _, _ in ours)
        rows += [
            (
                "baseline: raw llama.cpp",
                f"same messages, first {n} answers: {raw_rate:.1f} tokens/s, "
                f"first token {raw_ttft * 1000:.0f} ms",
            ),
            (
                "  ratio newsbot / raw",
                f"tokens/s {our_rate / raw_rate:.2f}, first token {our_ttft / raw_ttft:.2f} "
                "(first token includes the extractive fallback and context fitting)",
            ),
        ]
    return rows


def _ms(seconds: list[float]) -> str:
    from bot.evaluation.metrics import percentile

    return (
        f"p50 {percentile(seconds, 50) * 1000:.0f} ms, p95 {percentile(seconds, 95) * 1000:.0f} ms"
    )


def _share(values: list[bool]) -> str:
    return f"{statistics.fmean(values):.3f} ({sum(values)}/{len(values)})" if values else "n/a"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="config file")
    parser.add_argument("--data-dir", type=Path, help="keep the indexes here (default: temp)")
    parser.add_argument("--questions", type=int, default=100, help="RealTime QA questions")
    parser.add_argument("--seed", type=int, default=20230106, help="seed for the sample")
    parser.add_argument("--raw", type=int, default=5, help="answers to repeat on raw llama.cpp")
    return parser.parse_args()


if __name__ == "__main__":
    main()
