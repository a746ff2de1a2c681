"""Shared fixtures: the real packaged embedding model, real Chroma stores in tmp dirs,
indexes built through the same ingest entry point the CLI uses, and the emulator."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.chroma_server import ChromaServer
from harness.emulator_client import TelegramEmulator, free_port
from harness.newsbot import SAMPLE, build_index
from harness.postgres import PostgresCluster, throwaway_cluster

from bot.config import Settings, load_settings
from index.embedding.models import DocumentEncoder, load_document_encoder
from index.ingest.batches import IngestReport
from index.ingest.pipeline import ingest_paths

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No NEWSBOT_* variables or ./config.yaml from the developer's shell leak into tests."""
    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def encoder() -> DocumentEncoder:
    """The packaged all-MiniLM-L6-v2, loaded once."""
    return load_document_encoder(Settings().embedding)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a fresh data directory."""
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def ingest(settings: Settings) -> Callable[..., IngestReport]:
    """Ingest paths into the test's data directory, as `newsbot ingest` does."""

    def run(*paths: Path) -> IngestReport:
        return ingest_paths(settings, list(paths))

    return run


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the ingested sample article (read-only for tests)."""
    return build_index(tmp_path_factory.mktemp("sample") / "data", SAMPLE)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real `chroma run` server on 127.0.0.1 for one test module."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL cluster (Debian's initdb and pg_ctl) for one test module."""
    with throwaway_cluster() as server:
        yield server


@pytest.fixture(scope="module")
def emulator() -> Iterator[TelegramEmulator]:
    """The Telegram Bot API emulator on 127.0.0.1, one per test module (its request log
    kept, so tests can count Bot API calls)."""
    with TelegramEmulator(verbose=True).start(free_port()) as emu:
        yield emu
