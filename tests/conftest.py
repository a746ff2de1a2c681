"""Shared fixtures: the real packaged embedding model and real Chroma stores in tmp dirs."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from chroma_server import ChromaServer
from emulator_client import free_port

from bot.config import Settings, load_settings
from index.chunking import Chunker
from index.embeddings import DocumentEncoder, load_document_encoder
from index.ingest import Ingestor, IngestReport
from index.store import ChunkStore

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "haaretz-2004-09-06-lavrov.txt"

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
def ingest(settings: Settings, encoder: DocumentEncoder) -> Callable[..., IngestReport]:
    """Ingest paths into the test's data directory with the real pipeline."""

    def run(*paths: Path, max_file_bytes: int = 50_000_000) -> IngestReport:
        store = ChunkStore(settings.data_dir)
        chunker = Chunker(encoder.tokenizer, encoder.window, settings.chunking.overlap_tokens)
        return Ingestor(store, encoder, chunker, max_file_bytes).ingest(paths)

    return run


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory, encoder: DocumentEncoder) -> Path:
    """A data directory holding the ingested sample article (read-only for tests)."""
    data_dir = tmp_path_factory.mktemp("sample") / "data"
    settings = load_settings(data_dir=data_dir)
    chunker = Chunker(encoder.tokenizer, encoder.window, settings.chunking.overlap_tokens)
    Ingestor(ChunkStore(data_dir), encoder, chunker, 50_000_000).ingest([SAMPLE])
    return data_dir


def run_newsbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `newsbot` console script as a separate process."""
    script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
    assert script, "the newsbot console script is not installed (pip install -e .)"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [script, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real `chroma run` server on 127.0.0.1 for one test module."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port()).start()
    try:
        yield server
    finally:
        server.stop()
