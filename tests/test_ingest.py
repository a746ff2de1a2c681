"""Ingest into a real Chroma store with the real model: idempotence, replacement, bad input."""

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.newsbot import SAMPLE, clean_env, newsbot_script

from bot.config import Settings
from index.errors import DataDirError, StoreLockedError
from index.ingest.batches import IngestReport
from index.store.chunks import ChunkStore
from index.store.locking import ensure_writable, write_lock

Ingest = Callable[..., IngestReport]


def stored_chunks(settings: Settings, article_id: str) -> list[tuple[str, dict]]:
    found = ChunkStore(settings.data_dir).collection.get(
        where={"article_id": article_id}, include=["documents", "metadatas"]
    )
    return list(zip(found["documents"], found["metadatas"], strict=True))


def test_reingesting_unchanged_articles_is_a_no_op(ingest: Ingest, settings: Settings) -> None:
    first = ingest(SAMPLE)
    assert (first.new, first.updated, first.unchanged) == (1, 0, 0)
    count = ChunkStore(settings.data_dir).count()
    assert count == first.chunks > 1
    again = ingest(SAMPLE)
    assert (again.new, again.updated, again.unchanged, again.chunks) == (0, 0, 1, 0)
    assert again.summary().startswith("0 new, 0 updated, 1 unchanged")
    assert ChunkStore(settings.data_dir).count() == count


def test_every_chunk_carries_metadata_and_quotes_the_article(
    ingest: Ingest, settings: Settings
) -> None:
    ingest(SAMPLE)
    body = SAMPLE.read_text()
    body = body[body.index("Russian Foreign Minister") :]
    chunks = stored_chunks(settings, "haaretz-2004-09-06-lavrov")
    assert {m["chunk_index"] for _, m in chunks} == set(range(len(chunks)))
    for text, meta in chunks:
        assert text == body[meta["start"] : meta["end"]]
        assert meta["title"] == "Russian FM welcomes Israeli cooperation on terror"
        assert meta["date"] == "2004-09-06T13:45"
        assert meta["source"] == "Haaretz"
        assert meta["chunk_count"] == len(chunks)


def test_changed_article_replaces_all_old_chunks(
    ingest: Ingest, settings: Settings, tmp_path: Path
) -> None:
    article = tmp_path / "story.txt"
    article.write_text("Harbour story\n\n" + "The harbour reopened on Friday. " * 200)
    ingest(article)
    old = stored_chunks(settings, "story")
    article.write_text("Harbour story\n\nThe mayor resigned on Monday after a vote.")
    report = ingest(article)
    assert (report.new, report.updated) == (0, 1)
    new = stored_chunks(settings, "story")
    assert [t for t, _ in new] == ["The mayor resigned on Monday after a vote."]
    assert len(old) > 1
    assert ChunkStore(settings.data_dir).count() == 1


def test_same_file_name_in_two_folders_gives_two_articles(
    ingest: Ingest, settings: Settings, tmp_path: Path
) -> None:
    for folder, text in (("a", "Alpha story text."), ("b", "Beta story text.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.txt").write_text(text)
    report = ingest(tmp_path / "a", tmp_path / "b")
    assert report.new == 2
    assert len(ChunkStore(settings.data_dir).articles()) == 2
    assert ingest(tmp_path / "a", tmp_path / "b").unchanged == 2


def test_bad_inputs_are_reported_and_the_rest_is_kept(
    ingest: Ingest, settings: Settings, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    rows = [
        json.dumps({"doc_id": f"d{i}", "title": f"T{i}", "text": f"Story {i}."}) for i in range(3)
    ]
    feed.write_text(f"{rows[0]}\n{{not json\n{rows[1]}\n{rows[2]}\n{rows[0]}\n")
    (tmp_path / "empty.md").write_text("")
    report = ingest(feed, tmp_path / "empty.md", tmp_path / "nope.txt", SAMPLE)
    assert report.new == 4
    assert sorted(ChunkStore(settings.data_dir).articles()) == [
        "d0",
        "d1",
        "d2",
        "haaretz-2004-09-06-lavrov",
    ]
    reasons = sorted(p.reason.split(" (")[0].split(";")[0] for p in report.problems)
    assert reasons == [
        "duplicate article id 'd0'",
        "empty file",
        "malformed JSON line",
        "no such file or directory",
    ]
    assert any(p.location == f"{feed}:2" for p in report.problems)


def test_a_second_writer_is_refused_clearly(settings: Settings) -> None:
    with (
        write_lock(settings.data_dir),
        pytest.raises(StoreLockedError) as err,
        write_lock(settings.data_dir),
    ):
        pass
    assert "another newsbot process is writing to" in str(err.value)


def test_unwritable_data_dir_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DataDirError) as err:
        ensure_writable(blocker / "data")
    assert str(blocker / "data") in str(err.value)
    assert "--data-dir" in str(err.value)


def test_an_interrupted_ingest_keeps_what_it_embedded(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.ingest.chunking import Chunker
    from index.ingest.pipeline import ingest_paths
    from index.store.bm25 import LexicalIndex, lexical_dir

    for n in range(3):
        (tmp_path / f"story{n}.txt").write_text(
            f"Harbour story {n}\n\nThe harbour of town {n} reopened on Friday after repairs."
        )
    chunk_article = Chunker.chunk
    cutting: list[str] = []

    def interrupted_at_the_third(self: Chunker, article):  # type: ignore[no-untyped-def]
        cutting.append(article.id)
        if len(cutting) == 3:  # Ctrl-C while the third article is cut (injected here)
            raise KeyboardInterrupt
        return chunk_article(self, article)

    monkeypatch.setattr(Chunker, "chunk", interrupted_at_the_third)
    one_chunk_batches = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"batch_chunks": 1})}
    )
    files = [tmp_path / f"story{n}.txt" for n in range(3)]
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(one_chunk_batches, files)
    store = ChunkStore(settings.data_dir)
    assert sorted(store.articles()) == ["story0", "story1"]  # both embedded ones are stored
    saved = LexicalIndex.load(lexical_dir(store))  # BM25 was synced after the interruption
    assert saved is not None and sorted(saved.ids) == store.chunk_ids()


def test_newsbot_ingest_runs_as_a_batch_job_at_lower_cpu_priority(tmp_path: Path) -> None:
    """`newsbot ingest` lowers its own priority (ingest.nice, default 10), so a bot on the
    same machine keeps answering while it embeds (#27). The article is a named pipe, so
    the real ingest is caught mid-run, opening it, while its priority is read from /proc."""
    pipe = tmp_path / "articles" / "strike.txt"
    pipe.parent.mkdir()
    os.mkfifo(pipe)
    ingest = subprocess.Popen(
        [newsbot_script(), "ingest", str(pipe.parent), "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # opening a pipe no one writes to waits in the kernel's wait_for_partner
        while Path(f"/proc/{ingest.pid}/wchan").read_text() != "wait_for_partner":
            assert ingest.poll() is None, ingest.communicate()
            assert time.monotonic() < deadline, "the ingest never opened the article"
            time.sleep(0.1)
        nice = int(Path(f"/proc/{ingest.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        pipe.write_text("Port strike\n\nDockers in Hamburg struck for three days in May.\n")
        out, err = ingest.communicate(timeout=120)
    finally:
        ingest.kill()
    assert ingest.returncode == 0, err
    assert out.startswith("1 new"), out
    assert nice == min(os.nice(0) + 10, 19)  # 19 is the lowest priority there is
