"""Ingest, ask, sources and remove through the same code on both store backends: an
embedded Chroma in the data directory, and a real `chroma run` server on 127.0.0.1.

Server-only tests: an unreachable server is named in one line; a server killed during
ingest and restarted ends with exactly the expected chunks; writes retry until the
server is back; migrate copies an embedded index without re-embedding.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from harness.chroma_server import ChromaServer
from harness.emulator_client import free_port
from harness.newsbot import SAMPLE, run_newsbot

from bot.config import Settings, load_settings
from bot.service import AnsweringService
from index.embedding.models import DocumentEncoder
from index.errors import StoreUnavailableError
from index.ingest.migrate import migrate
from index.ingest.pipeline import ingest_paths
from index.store.bm25 import lexical_dir, stamp
from index.store.chunks import open_existing

SHALOM = "What did Shalom cite?"
ZQ = "Committee notes\n\nResolution ZQ-4471 on harbour dredging passed by nine votes."


def store_section(kind: str, chroma: ChromaServer | None) -> dict[str, Any]:
    """The config's store section for a backend; each server test gets its own collection."""
    if kind == "embedded" or chroma is None:
        return {"backend": "embedded"}
    return {
        "backend": "server",
        "host": "127.0.0.1",
        "port": chroma.port,
        "collection": f"test-{uuid.uuid4().hex[:12]}",
        "retries": 0,
        "refresh_s": 0,
    }


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one backend, with a fresh data directory (and a fresh collection)."""
    chroma = request.getfixturevalue("chroma") if request.param == "server" else None
    section = store_section(request.param, chroma)
    return load_settings(data_dir=tmp_path / "data", store=section)


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as a config file, for the real console script."""
    path.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True)))
    return path


def test_ingest_is_idempotent_and_lists_the_article(backend: Settings) -> None:
    first = ingest_paths(backend, [SAMPLE])
    assert (first.new, first.chunks > 1) == (1, True)
    store = open_existing(backend.data_dir, backend.store)
    assert store.count() == first.chunks
    again = ingest_paths(backend, [SAMPLE])
    assert (again.new, again.unchanged, again.chunks) == (0, 1, 0)
    assert store.count() == first.chunks
    assert list(store.articles()) == ["haaretz-2004-09-06-lavrov"]
    assert lexical_dir(store).is_dir()


def test_ask_answers_with_hybrid_retrieval(backend: Settings) -> None:
    ingest_paths(backend, [SAMPLE])
    service = AnsweringService.open(backend)
    answer = service.ask(SHALOM)
    assert "Dolphinarium" in answer.text and answer.citations
    assert service.stats().location == open_existing(backend.data_dir, backend.store).location


def test_a_running_reader_sees_another_writers_ingest(backend: Settings, tmp_path: Path) -> None:
    ingest_paths(backend, [SAMPLE])
    settings = backend.model_copy(
        update={"store": backend.store.model_copy(update={"refresh_s": 0.0})}
    )
    service = AnsweringService.open(settings)
    assert service.live.current().lexical.search("ZQ-4471", 5) == []
    news = tmp_path / "news"
    news.mkdir()
    (news / "zq.txt").write_text(ZQ)
    ingest_paths(backend, [news])  # a separate store object, as another process would use
    deadline = time.monotonic() + 60  # the reader reopens its index in the background
    while not (found := service.live.current().lexical.search("ZQ-4471", 5)):
        assert time.monotonic() < deadline, "the reader never saw the other writer's ingest"
        time.sleep(0.1)
    assert [i.split(":")[0] for i, _ in found] == ["zq"]
    assert "nine votes" in service.ask("How many votes passed resolution ZQ-4471?").text


def test_cli_sources_remove_and_stats(backend: Settings, tmp_path: Path) -> None:
    config = write_config(backend, tmp_path / "config.yaml")
    ingested = run_newsbot("ingest", str(SAMPLE), "--config", str(config), cwd=tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    listed = run_newsbot("articles", "--config", str(config), cwd=tmp_path)
    assert "haaretz-2004-09-06-lavrov" in listed.stdout and "1 articles" in listed.stdout
    before = stamp(open_existing(backend.data_dir, backend.store))
    removed = run_newsbot(
        "remove", "haaretz-2004-09-06-lavrov", "--config", str(config), cwd=tmp_path
    )
    assert removed.returncode == 0, removed.stderr
    store = open_existing(backend.data_dir, backend.store)
    assert store.count() == 0 and store.articles() == {}
    assert stamp(store) != before  # readers elsewhere will notice
    stats = run_newsbot("stats", "--config", str(config), cwd=tmp_path)
    assert "chunks:     0" in stats.stdout and store.location in stats.stdout


def test_eval_on_a_server_uses_its_own_collection(chroma: ChromaServer, tmp_path: Path) -> None:
    served = load_settings(data_dir=tmp_path / "data", store=store_section("server", chroma))
    ingest_paths(served, [SAMPLE])
    before = open_existing(served.data_dir, served.store).count()
    corpus = tmp_path / "corpus.jsonl"
    doc = {"doc_id": "zq", "text": ZQ, "title": "Harbour committee", "date": "2023-01-05"}
    corpus.write_text(json.dumps(doc) + "\n")
    queries = tmp_path / "queries.jsonl"
    question = {"question_id": "q", "question": "Which resolution passed?", "gold_doc_ids": ["zq"]}
    queries.write_text(json.dumps(question) + "\n")
    config = write_config(served, tmp_path / "config.yaml")
    args = ["--corpus", str(corpus), "--queries", str(queries), "--json"]
    done = run_newsbot("eval", "--config", str(config), *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["hit@1"] == 1.0
    assert open_existing(served.data_dir, served.store).count() == before  # untouched


def test_unreachable_server_is_named_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        store={"backend": "server", "host": "127.0.0.1", "port": port, "retries": 0},
    )
    config = write_config(settings, tmp_path / "config.yaml")
    for command in (["ask", SHALOM], ["articles"], ["ingest", str(SAMPLE)]):
        result = run_newsbot(*command, "--config", str(config), cwd=tmp_path)
        assert result.returncode == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], (command, lines)
        assert "Chroma server" in lines[0]


def many_articles(path: Path, n: int = 12) -> Path:
    """n articles of a few chunks each, as one JSON-lines file."""
    records = [
        {
            "doc_id": f"story-{i}",
            "title": f"Story {i} about the harbour council",
            "date": f"2023-03-{i + 1:02d}",
            "text": " ".join(
                f"In story {i}, paragraph {p}, the harbour council of town {i} debated "
                f"dredging plan {i}-{p}, and the mayor answered questions from residents."
                for p in range(40)
            ),
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_server_killed_during_ingest_then_rerun_gives_exact_count(
    chroma: ChromaServer, encoder: DocumentEncoder, tmp_path: Path
) -> None:
    corpus = many_articles(tmp_path / "stories.jsonl")
    embedded = load_settings(data_dir=tmp_path / "expected")
    expected = ingest_paths(embedded, [corpus]).chunks
    settings = load_settings(data_dir=tmp_path / "data", store=store_section("server", chroma))

    class KillAfterFirstBatch:
        stored = 0

        def files_found(self, count: int) -> None: ...
        def file_done(self, path: Path) -> None: ...
        def articles_found(self, count: int) -> None: ...
        def article_done(self) -> None: ...
        def chunks_planned(self, count: int) -> None: ...
        def chunks_embedded(self, count: int) -> None: ...

        def chunks_stored(self, count: int) -> None:
            self.stored += count
            if self.stored == count:
                chroma.kill()

    small_steps = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"batch_chunks": 16})}
    )
    progress = KillAfterFirstBatch()
    try:
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{chroma.port}"):
            ingest_paths(small_steps, [corpus], progress)
    finally:
        chroma.start()
    assert 0 < progress.stored < expected
    partial = open_existing(settings.data_dir, settings.store)
    assert partial.count() == progress.stored  # what finished was kept
    rerun = ingest_paths(settings, [corpus])
    assert rerun.new > 0 and not rerun.problems
    assert partial.count() == expected
    assert len(partial.articles()) == 12
    assert ingest_paths(settings, [corpus]).chunks == 0


def test_writes_retry_with_backoff_until_the_server_is_back(
    chroma: ChromaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    section = store_section("server", chroma) | {"retries": 5, "retry_backoff_s": 0.5}
    settings = load_settings(data_dir=tmp_path / "data", store=section)
    restart: list[threading.Thread] = []

    class KillOnceLoaded:  # after ingest has read the store, before its first write
        def files_found(self, count: int) -> None: ...
        def articles_found(self, count: int) -> None: ...
        def article_done(self) -> None: ...
        def chunks_planned(self, count: int) -> None: ...
        def chunks_embedded(self, count: int) -> None: ...
        def chunks_stored(self, count: int) -> None: ...

        def file_done(self, path: Path) -> None:
            chroma.kill()  # and back a second later, while the writes retry
            restart.append(threading.Timer(1.0, chroma.start))
            restart[0].start()

    try:
        with caplog.at_level(logging.WARNING, logger="index.retry"):
            report = ingest_paths(settings, [SAMPLE], KillOnceLoaded())
    finally:
        for thread in restart:
            thread.join()
        if chroma.proc is None or chroma.proc.poll() is not None:
            chroma.start()
    retries = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    assert retries and "retry 1 in 0.5s" in retries[0], retries
    assert open_existing(settings.data_dir, settings.store).count() == report.chunks > 1


def test_migrate_copies_vectors_and_is_rerunnable(chroma: ChromaServer, tmp_path: Path) -> None:
    section = store_section("server", chroma)
    embedded = load_settings(data_dir=tmp_path / "data", store=section | {"backend": "embedded"})
    ingest_paths(embedded, [SAMPLE])
    source = open_existing(embedded.data_dir, embedded.store)
    # a model that can't load: migrate copies the stored vectors, it never embeds
    unloadable = embedded.embedding.model_copy(update={"model": str(tmp_path / "no-model")})
    config = write_config(
        embedded.model_copy(update={"embedding": unloadable}), tmp_path / "migrate.yaml"
    )
    first = run_newsbot("migrate", "--to", "server", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    n = source.count()
    assert f"copied {n} chunks (0 were already there)" in first.stdout
    server = load_settings(data_dir=tmp_path / "data", store=section)
    target = open_existing(server.data_dir, server.store)
    assert target.chunk_ids() == source.chunk_ids()
    ids = source.chunk_ids()[:3]
    got = target.collection.get(ids=ids, include=["embeddings"])
    want = source.collection.get(ids=ids, include=["embeddings"])
    vectors = dict(zip(want["ids"], want["embeddings"], strict=True))
    for chunk, vector in zip(got["ids"], got["embeddings"], strict=True):
        # the server may return a fresh write rounded to 8 significant digits
        assert np.allclose(vector, vectors[chunk], rtol=0, atol=1e-7)
    again = migrate(source, target)  # re-run: nothing copied, counts verified
    assert (again.copied, again.already_there, again.target_chunks) == (0, n, n)
    assert "Dolphinarium" in AnsweringService.open(server).ask(SHALOM).text
