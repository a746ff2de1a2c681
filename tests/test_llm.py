"""LLM answer mode with real models: SmolLM2 via llama.cpp, and an OpenAI-compatible server.

The OpenAI-compatible server is llama-cpp-python's own (`python -m llama_cpp.server`)
serving the same packaged GGUF on 127.0.0.1. No Ollama server can run here, so the
ollama provider is tested for configuration and error paths only.
"""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.newsbot import run_newsbot

from bot.answer import Answer, dated
from bot.config import ConfigError, Settings, load_settings
from bot.llm.grounding import check
from bot.llm.models import packaged_smollm
from bot.service import AnsweringService

pytestmark = pytest.mark.skipif(
    packaged_smollm() is None, reason="the llm extra is not installed (pip install '.[llm]')"
)

SEED = [
    ("What did Shalom cite?", "Dolphinarium"),
    ("Who is Russia's foreign minister?", "Lavrov"),
    ("What kind of data will Israel propose to share with Russia?", "intelligence"),
]


def llm_settings(data_dir: Path, **llm: object) -> Settings:
    base = load_settings(data_dir=data_dir)
    tuned = base.llm.model_copy(update={"temperature": 0.0, "max_tokens": 96, **llm})
    return base.model_copy(update={"llm": tuned})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llamacpp_service(sample_data_dir: Path) -> AnsweringService:
    return AnsweringService.open(llm_settings(sample_data_dir), mode="llm")


def start_llama_server() -> tuple["subprocess.Popen[bytes]", str]:
    """llama-cpp-python's OpenAI-compatible server with the packaged GGUF, once it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(packaged_smollm()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "llama_cpp.server exited"
        try:
            if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("llama_cpp.server did not start within 120 s")


@pytest.fixture(scope="module")
def openai_server() -> Iterator[str]:
    """One server for the module."""
    process, base = start_llama_server()
    yield base
    process.terminate()
    process.wait(timeout=10)


def assert_grounding_kept_or_replaced_correctly(
    answer: Answer, service: AnsweringService, question: str
) -> None:
    """An LLM answer must pass the check; a failed one must be the labelled extractive one."""
    assert answer.grounding is not None or answer.abstained
    if answer.mode == "llm":
        assert answer.grounding is not None and answer.grounding.supported
        sources = {c.n: c.snippet for c in answer.citations}
        assert all(f"[{n}]" in answer.text for n in sources)
        assert check(answer.text, {n: s for n, s in sources.items()}).grounding.cited
    else:
        assert answer.mode == "extractive-fallback"
        assert answer.notice and "not supported" in answer.notice
        chunks = service.retrieve(question, k=service.settings.retrieval.k)
        assert answer.text == dated(service.extractive.answer(question, chunks)).text


@pytest.mark.parametrize(("question", "expected"), SEED)
def test_llamacpp_answers_seed_questions_grounded(
    llamacpp_service: AnsweringService, question: str, expected: str
) -> None:
    answer = llamacpp_service.ask(question)
    assert_grounding_kept_or_replaced_correctly(answer, llamacpp_service, question)
    assert expected.lower() in answer.text.lower()


def test_llamacpp_off_topic_question_abstains(llamacpp_service: AnsweringService) -> None:
    answer = llamacpp_service.ask("What did the article say about the Olympic Games?")
    assert answer.abstained and answer.mode == "extractive"


def test_openai_provider_streams_from_a_real_server(
    sample_data_dir: Path, openai_server: str
) -> None:
    settings = llm_settings(
        sample_data_dir, provider="openai", base_url=openai_server, model="smollm2", timeout_s=60
    )
    service = AnsweringService.open(settings, mode="llm")
    items = list(service.stream("What did Shalom cite?"))
    pieces = [i for i in items if isinstance(i, str)]
    final = items[-1]
    assert isinstance(final, Answer)
    # what streamed is whole sentences that passed the check, never a word at a time
    assert all(piece.rstrip()[-1:] in ".!?\"'”])" for piece in pieces), pieces
    assert_grounding_kept_or_replaced_correctly(final, service, "What did Shalom cite?")
    assert "dolphinarium" in final.text.lower()


def test_server_stopped_mid_test_falls_back_with_a_notice(sample_data_dir: Path) -> None:
    process, base = start_llama_server()
    settings = llm_settings(sample_data_dir, provider="openai", base_url=base, timeout_s=5)
    service = AnsweringService.open(settings, mode="llm")
    process.terminate()
    process.wait(timeout=10)
    started = time.monotonic()
    answer = service.ask("What did Shalom cite?")
    assert time.monotonic() - started < 30
    assert answer.mode == "extractive-fallback"
    assert answer.notice and answer.notice.startswith(f"LLM failed (openai {base})")
    assert "Dolphinarium" in answer.text


def test_missing_model_file_falls_back(sample_data_dir: Path, tmp_path: Path) -> None:
    settings = llm_settings(sample_data_dir, model_path=tmp_path / "nope.gguf")
    answer = AnsweringService.open(settings, mode="llm").ask("What did Shalom cite?")
    assert answer.mode == "extractive-fallback"
    assert answer.notice == (
        f"LLM unavailable: llm.model_path {tmp_path / 'nope.gguf'} does "
        "not exist; point it at a GGUF file"
    )


def test_ollama_unreachable_falls_back(sample_data_dir: Path) -> None:
    """Configuration and error path only: no Ollama server can run on these machines."""
    base = f"http://127.0.0.1:{free_port()}"
    settings = llm_settings(sample_data_dir, provider="ollama", base_url=base, timeout_s=3)
    answer = AnsweringService.open(settings, mode="llm").ask("What did Shalom cite?")
    assert answer.mode == "extractive-fallback"
    assert answer.notice and answer.notice.startswith(f"LLM failed (ollama {base})")


def test_unknown_provider_lists_the_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("llm:\n  provider: gpt5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "c.yaml")
    assert "llm.provider: Input should be 'llamacpp', 'openai' or 'ollama'" in str(err.value)


def test_cli_ask_llm_json_carries_the_grounding(sample_data_dir: Path, tmp_path: Path) -> None:
    result = run_newsbot(
        "ask",
        "--mode",
        "llm",
        "--json",
        "What did Shalom cite?",
        "--data-dir",
        str(sample_data_dir),
        cwd=tmp_path,
        env={"NEWSBOT_LLM__TEMPERATURE": "0"},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["mode"] in {"llm", "extractive-fallback"}
    assert set(answer["grounding"]) >= {"supported", "support", "cited", "reason"}
