"""A running bot keeps answering while other processes ingest and remove articles.

Two real processes share one index: `newsbot telegram` (against the emulator) and the
`newsbot` CLI run beside it, as a cron job would. An embedded Chroma client caches its
vectors, so the bot must reopen its client and BM25 together when the store changes,
and a candidate it can't fetch must drop out alone instead of failing the answer. The
reopening runs in the background: questions asked meanwhile answer from the old
snapshot instead of waiting for it.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
from harness.chroma_server import ChromaServer
from harness.emulator_client import TelegramEmulator
from harness.newsbot import NewsbotProcess, replies_to, run_newsbot
from langchain_core.embeddings import Embeddings

from bot.config import Settings, load_settings
from bot.service import AnsweringService
from index.embedding.models import load_query_embeddings
from index.ingest.pipeline import ingest_paths
from index.search import live as live_module
from index.search.live import LiveIndex
from index.search.retriever import FusionWeights, make_retriever
from index.store.bm25 import lexical_dir
from index.store.chunks import ChunkStore, open_existing
from index.store.locking import write_lock

FERRY = (
    "Harbour council approves new ferry\n\nThe Quillmouth harbour council approved a new "
    "electric ferry on Tuesday. The ferry will carry 300 passengers between the islands. "
    "Councillor Anna Brisk said the vote was unanimous.\n"
)
MINE = (
    "Zinc mine reopens in Tallowmere\n\nThe old zinc mine in Tallowmere reopened on "
    "Wednesday after ten years. Mine director Olaf Gruen said 120 miners were hired. The "
    "mine expects to ship its first ore in May.\n"
)
APOLOGY = "Sorry, something went wrong"


@pytest.fixture(params=["embedded", "server"])
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The store section: the embedded Chroma, or a real Chroma server."""
    if request.param == "embedded":
        return {"backend": "embedded", "refresh_s": 0}
    chroma: ChromaServer = request.getfixturevalue("chroma")
    return {
        "backend": "server",
        "host": "127.0.0.1",
        "port": chroma.port,
        "refresh_s": 0,
        "collection": f"live-{tmp_path.name[-20:]}",
    }


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    (folder / "mine.txt").write_text(MINE, encoding="utf-8")
    return folder


def ask(emulator: TelegramEmulator, user: int, question: str) -> str:
    sent = emulator.send_message(question, user_id=user)
    reply = emulator.wait_for_bot_message(
        user, lambda m: replies_to(m, sent), after_message_id=sent["message_id"], timeout=60
    )
    return str(reply["text"])


def eventually(
    answer: Callable[[], str], holds: Callable[[str], bool], within_s: float = 60
) -> str:
    """The first answer that `holds`, asked again while the index is reopened behind it."""
    deadline = time.monotonic() + within_s
    while not holds(text := answer()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return text


@pytest.fixture
def bot(
    emulator: TelegramEmulator, store_config: dict[str, Any], articles: Path, tmp_path: Path
) -> Iterator[tuple[NewsbotProcess, Path]]:
    """The bot over an index holding only the ferry story, and that index's config file."""
    settings = load_settings(data_dir=tmp_path / "data", store=store_config)
    ingest_paths(settings, [articles / "ferry.txt"])
    config = {"data_dir": str(settings.data_dir), "store": store_config}
    bot_id = {"embedded": 7300000001, "server": 7300000002}[store_config["backend"]]
    token = f"{bot_id}:AAE-newsbot-live-index-{store_config['backend']}"
    with emulator.another_bot(token) as own:  # a bot of its own per backend
        process = NewsbotProcess(tmp_path / "bot", own, config)
        try:
            yield process.wait_ready(), process.config_file
        finally:
            process.stop()


def test_a_running_bot_answers_from_what_another_process_ingests_and_removes(
    bot: tuple[NewsbotProcess, Path], articles: Path, tmp_path: Path
) -> None:
    process, config = bot
    emulator = process.emulator
    assert "approved a new electric ferry" in ask(emulator, 4101, "Who approved the new ferry?")

    added = run_newsbot("ingest", str(articles / "mine.txt"), "--config", str(config), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    mine = eventually(
        lambda: ask(emulator, 4101, "How many miners were hired at the zinc mine?"),
        lambda text: "120 miners were hired" in text,
    )
    assert "120 miners were hired" in mine, process.output()[-3000:]
    assert "approved a new electric ferry" in ask(emulator, 4101, "Who approved the new ferry?")

    removed = run_newsbot("remove", "ferry", "--config", str(config), cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    gone = eventually(
        lambda: ask(emulator, 4101, "Who approved the new ferry?"),
        lambda text: "electric ferry" not in text,
    )
    assert "electric ferry" not in gone and APOLOGY not in gone
    assert "Traceback" not in process.output()


def retriever_over(store: ChunkStore, embeddings: Embeddings) -> Any:
    live = LiveIndex(store, embeddings, refresh_s=3600)
    return make_retriever(live, embeddings, k=6, fetch_k=40, weights=FusionWeights())


def test_a_candidate_the_client_cannot_fetch_drops_out_alone(
    articles: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = load_settings(data_dir=tmp_path / "data")
    ingest_paths(settings, [articles / "ferry.txt"])
    embeddings = load_query_embeddings(settings.embedding)
    stale = open_existing(settings.data_dir)
    retriever_over(stale, embeddings).invoke("Who approved the new ferry?")  # vectors loaded

    added = run_newsbot("ingest", str(articles / "mine.txt"), "--data-dir", "data", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    # BM25 built now names the mine's chunks, which the old client can't fetch
    with caplog.at_level(logging.INFO, logger="index.search.retriever"):
        found = retriever_over(stale, embeddings).invoke("How many miners were hired?")
    assert found and {d.metadata["article_id"] for d in found} == {"ferry"}
    assert any("one by one" in r.getMessage() for r in caplog.records)
    fresh = retriever_over(stale.reopened(), embeddings).invoke("How many miners were hired?")
    assert fresh[0].metadata["article_id"] == "mine"


def reader_waits_on(fifo: Path) -> int:
    """Once a reader is blocked opening `fifo`, the writing end that lets it go on."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody reads yet
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_questions_during_a_rebuild_answer_from_the_old_snapshot_without_waiting(
    articles: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", store={"refresh_s": 0})
    ingest_paths(settings, [articles / "ferry.txt"])
    service = AnsweringService.open(settings, mode="extractive")
    assert "electric ferry" in service.ask("Who approved the new ferry?").text

    added = run_newsbot("ingest", str(articles / "mine.txt"), "--data-dir", "data", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    # The rebuild reads the BM25 cache the ingest saved; a pipe in its place holds the
    # rebuild there (a real read of a real file, blocked) until the test lets it go on.
    state = lexical_dir(service.store) / "chunks.json"
    saved = state.read_bytes()
    state.unlink()
    os.mkfifo(state)
    questions = ["Who approved the new ferry?", "How many miners were hired at the zinc mine?"]
    with ThreadPoolExecutor(4) as pool, caplog.at_level(logging.INFO, "index.search.live"):
        first = pool.submit(service.ask, questions[1])  # notices the change: rebuild starts
        writer = reader_waits_on(state)
        try:
            during = [pool.submit(service.ask, q) for q in questions * 3]
            waiting = wait([first, *during], timeout=60)
            assert not waiting.not_done, "questions waited for the rebuild"
            for question, future in zip(questions * 3, during, strict=True):
                text = future.result().text
                if question == questions[0]:
                    assert "electric ferry" in text
                else:  # the old snapshot holds no mine
                    assert "120 miners" not in text
            assert "120 miners" not in first.result().text
        finally:
            os.write(writer, saved)
            os.close(writer)
        mine = eventually(lambda: service.ask(questions[1]).text, lambda text: "120 miners" in text)
    assert "120 miners were hired" in mine
    changed = [r for r in caplog.records if "the store changed" in r.getMessage()]
    assert len(changed) == 1, "one rebuild at a time, and one per change"


def test_a_replaced_client_is_stopped_once_retired_and_no_ingest_runs(
    articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "RETIRE_AFTER_S", 0.0)  # retired long enough at once
    settings = load_settings(data_dir=tmp_path / "data")
    ingest_paths(settings, [articles / "ferry.txt"])
    old = open_existing(settings.data_dir)
    live = LiveIndex(old, load_query_embeddings(settings.embedding), refresh_s=3600)
    added = run_newsbot("ingest", str(articles / "mine.txt"), "--data-dir", "data", cwd=tmp_path)
    assert added.returncode == 0, added.stderr

    assert live.refresh(force=True) and live.snapshot.store is not old
    assert old._system is not None  # retired by this swap, stopped at a later check
    with write_lock(settings.data_dir):  # as an ingest that may still use it would
        assert not live.refresh(force=True)
    assert old._system is not None
    live.refresh(force=True)
    assert old._system is None
    assert live.snapshot.store._system is not None
    assert live.snapshot.lexical and live.snapshot.lexical.search("miners hired", 3)
