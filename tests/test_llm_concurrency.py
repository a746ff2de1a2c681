"""LLM requests to an HTTP endpoint run in parallel, up to `llm.max_concurrency` (#27).

The scripted OpenAI-compatible server (harness.llm_server) stands in for a hosted model,
which can't run here. Its reply waits at a barrier until the number of requests the
test expects to be in flight at once have arrived: serialised requests never fill it,
so the barrier breaks after its timeout and every answer falls back. No wall-clock
figure is asserted; the barrier decides.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from harness.llm_server import ScriptedLLM

from bot.answer import Answer
from bot.config import load_settings
from bot.service import AnsweringService

pytest.importorskip("langchain_openai", reason="the llm extra is not installed")

ANSWER = (
    "Shalom cited the 2001 Dolphinarium nightclub suicide bombing, in which many of the "
    "casualties were young immigrants from Russia [1]."
)
BARRIER_TIMEOUT_S = 20


def ask_at_once(sample_data_dir: Path, max_concurrency: int, asking: int) -> list[Answer]:
    """`asking` questions at once, answered by a model that needs `max_concurrency` at once."""
    barrier = threading.Barrier(max_concurrency, timeout=BARRIER_TIMEOUT_S)

    def reply(messages: list[dict[str, Any]]) -> str:
        barrier.wait()  # BrokenBarrierError: the server answers 500, the answer falls back
        return ANSWER

    with ScriptedLLM(reply) as llm:
        base = load_settings(data_dir=sample_data_dir)
        model = base.llm.model_copy(
            update={
                "provider": "openai",
                "base_url": llm.base_url,
                "model": "scripted",
                "max_concurrency": max_concurrency,
                "timeout_s": 60,
            }
        )
        service = AnsweringService.open(base.model_copy(update={"llm": model}), mode="llm")
        with ThreadPoolExecutor(asking) as pool:
            return list(pool.map(lambda _: service.ask("What did Shalom cite?"), range(asking)))


def test_http_requests_run_in_parallel(sample_data_dir: Path) -> None:
    answers = ask_at_once(sample_data_dir, max_concurrency=4, asking=4)
    assert [a.mode for a in answers] == ["llm"] * 4, [a.notice for a in answers]
