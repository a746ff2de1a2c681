"""The `newsbot` console script, run as a real process."""

import json
import shutil
from pathlib import Path

import pytest
from harness.newsbot import SAMPLE, run_newsbot

from bot.answer import NOT_FOUND


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an index of the sample, built by `newsbot ingest`."""
    path = tmp_path_factory.mktemp("cli")
    result = run_newsbot("ingest", str(SAMPLE), "--data-dir", "data", cwd=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 new, 0 updated, 0 unchanged")
    return path


def test_ingest_again_reports_unchanged(workdir: Path) -> None:
    result = run_newsbot("ingest", str(SAMPLE), cwd=workdir, env={"NEWSBOT_DATA_DIR": "data"})
    assert result.returncode == 0
    assert result.stdout.startswith("0 new, 0 updated, 1 unchanged")


def test_ask_prints_the_answer_and_numbered_sources(workdir: Path) -> None:
    result = run_newsbot("ask", "What did Shalom cite?", "--data-dir", "data", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Shalom cited the 2001 Dolphinarium nightclub suicide bombing")
    assert "Sources" in lines
    assert lines[lines.index("Sources") + 1].startswith(
        "[1] Russian FM welcomes Israeli cooperation on terror (Haaretz, 2004-09-06)"
    )


def test_ask_json_shape(workdir: Path) -> None:
    result = run_newsbot(
        "ask", "--json", "What did Shalom cite?", "--data-dir", "data", cwd=workdir
    )
    (line,) = result.stdout.splitlines()
    answer = json.loads(line)
    assert set(answer) == {
        "text",
        "abstained",
        "citations",
        "mode",
        "grounding",
        "notice",
        "confidence",
        "closest",
    }
    assert answer["abstained"] is False
    assert (answer["mode"], answer["grounding"], answer["notice"]) == ("extractive", None, None)
    assert 0 < answer["confidence"] <= 1 and answer["closest"] is None
    citation = answer["citations"][0]
    assert set(citation) == {
        "n",
        "article_id",
        "title",
        "date",
        "source",
        "url",
        "snippet",
        "score",
        "start",
        "end",
        "quotes",
    }
    first = {k: citation[k] for k in ("snippet", "start", "end")}
    assert citation["quotes"][0] == first  # the first quote is the snippet, as before
    assert citation["article_id"] == "haaretz-2004-09-06-lavrov"
    assert any("Dolphinarium" in quote["snippet"] for quote in citation["quotes"])
    article = SAMPLE.read_text(encoding="utf-8")  # each quote is the article's own text
    for quote in citation["quotes"]:
        assert quote["snippet"] in article
        assert quote["end"] - quote["start"] == len(quote["snippet"])


def test_articles_stats_and_remove(workdir: Path, tmp_path: Path) -> None:
    listed = run_newsbot("articles", "--data-dir", "data", cwd=workdir)
    assert "haaretz-2004-09-06-lavrov  2004-09-06" in listed.stdout
    old_name = run_newsbot("sources", "--data-dir", "data", cwd=workdir)  # kept for scripts
    assert old_name.returncode == 0 and old_name.stdout == listed.stdout
    assert "  sources " not in run_newsbot("--help", cwd=workdir).stdout  # hidden alias
    stats = run_newsbot("stats", "--data-dir", "data", cwd=workdir)
    assert "articles:   1" in stats.stdout
    assert "model:      sentence-transformers/all-MiniLM-L6-v2" in stats.stdout
    assert "cut:        256 word pieces overlapping 24" in stats.stdout

    copy = tmp_path / "copy.txt"
    copy.write_text("A removable story\n\nThis story exists to be removed. It is short.")
    assert run_newsbot("ingest", str(copy), "--data-dir", "data", cwd=workdir).returncode == 0
    removed = run_newsbot("remove", "copy", "--data-dir", "data", cwd=workdir)
    assert removed.stdout.strip() == "removed copy (1 chunks)"
    again = run_newsbot("remove", "copy", "--data-dir", "data", cwd=workdir)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "newsbot: no article with id 'copy'; `newsbot articles` lists them"
    )


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("retrieval:\n  k: 0\n")
    bad_config = run_newsbot("ask", "x", "--config", "bad.yaml", cwd=tmp_path)
    assert bad_config.returncode == 2
    assert len(bad_config.stderr.strip().splitlines()) == 1
    assert "retrieval.k" in bad_config.stderr

    no_index = run_newsbot("ask", "What did Shalom cite?", cwd=tmp_path)
    assert no_index.returncode == 1
    assert no_index.stderr.strip() == (
        "newsbot: no index in data; add articles first with: newsbot ingest PATH"
    )

    blocker = tmp_path / "file"
    blocker.write_text("")
    unwritable = run_newsbot("ingest", str(SAMPLE), "--data-dir", str(blocker / "d"), cwd=tmp_path)
    assert unwritable.returncode == 1
    assert unwritable.stderr.startswith(f"newsbot: can't write to data directory {blocker}/d")
    for result in (bad_config, no_index, unwritable):
        assert "Traceback" not in result.stderr


def test_an_index_refuses_a_config_naming_another_model(workdir: Path) -> None:
    other = workdir / "other-model.yaml"
    other.write_text("embedding:\n  model: sentence-transformers/all-mpnet-base-v2\n")
    expected = (
        "newsbot: the index in data/chroma was embedded with "
        "'sentence-transformers/all-MiniLM-L6-v2', but the config names "
        "'sentence-transformers/all-mpnet-base-v2'; use the config it was built with, or "
        "give this model its own data_dir (or store.collection) and ingest again"
    )
    for args in (["ask", "What did Shalom cite?"], ["ingest", str(SAMPLE)]):
        refused = run_newsbot(*args, "--config", str(other), "--data-dir", "data", cwd=workdir)
        assert refused.returncode == 1
        assert refused.stderr.strip() == expected
    stats = run_newsbot("stats", "--data-dir", "data", cwd=workdir)
    assert "articles:   1" in stats.stdout  # the refused ingest wrote nothing


def test_an_index_from_before_models_were_recorded_is_checked_by_dimension(
    workdir: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer, models

    from index.embedding.models import packaged_minilm_dir
    from index.store.chunks import ChunkStore

    legacy = tmp_path / "legacy"
    shutil.copytree(workdir / "data", legacy)
    store = ChunkStore(legacy)
    store.collection.modify(metadata={"generation": "before-models-were-recorded"})
    minilm = SentenceTransformer(str(packaged_minilm_dir()), device="cpu")
    narrow = models.Dense(384, 128)  # a real sentence-transformers model making 128 numbers
    SentenceTransformer(modules=[*minilm, narrow], device="cpu").save(str(tmp_path / "narrow"))
    (tmp_path / "narrow.yaml").write_text(f"embedding:\n  model: {tmp_path / 'narrow'}\n")

    refused = run_newsbot(
        "ask",
        "What did Shalom cite?",
        "--config",
        "narrow.yaml",
        "--data-dir",
        str(legacy),
        cwd=tmp_path,
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"newsbot: the index in {legacy}/chroma holds vectors of 384 dimensions, but "
        f"'{tmp_path / 'narrow'}' makes 128; use the model it was built with, or give this "
        "model its own data_dir (or store.collection) and ingest again"
    )
    same = run_newsbot("ask", "What did Shalom cite?", "--data-dir", str(legacy), cwd=tmp_path)
    assert same.returncode == 0 and "[1]" in same.stdout


NEW_ARTICLE = (
    "Title: Harbour ferry returns\nDate: 2023-03-02\n\n"
    "The electric ferry returned to Quillmouth harbour on Thursday after repairs. "
    "The council said the crossing will run every hour from Monday.\n"
)


@pytest.mark.parametrize(
    ("unrecorded", "own", "other"),
    [((), 24, 48), (("chunking",), 48, 24), (("chunking", "embedding_model"), 48, 24)],
    ids=["recorded", "from-before-cuts-were-recorded", "from-before-models-were-recorded"],
)
def test_an_index_refuses_articles_cut_another_way(
    workdir: Path, tmp_path: Path, unrecorded: tuple[str, ...], own: int, other: int
) -> None:
    from index.store.chunks import ChunkStore

    index = tmp_path / "index"
    shutil.copytree(workdir / "data", index)  # cut by today's default, 256/24
    if unrecorded:  # as an index built before newsbot recorded these (cut 256/48 then)
        store = ChunkStore(index)
        kept = {k: v for k, v in store.metadata().items() if k not in unrecorded}
        store.collection.modify(metadata=kept)
        assert store.cut() is None
    (tmp_path / "other.yaml").write_text(f"chunking:\n  overlap_tokens: {other}\n")
    (tmp_path / "ferry.txt").write_text(NEW_ARTICLE)

    refused = run_newsbot(
        "ingest", "ferry.txt", "--config", "other.yaml", "--data-dir", str(index), cwd=tmp_path
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"newsbot: the index in {index}/chroma was cut into chunks of 256 word pieces "
        f"overlapping {own}, but the config says 256 word pieces overlapping {other}; leave "
        "chunking.max_tokens and overlap_tokens out of the config to keep the index's own "
        "cut, or ingest into a fresh data_dir to cut every article anew"
    )
    stats = run_newsbot("stats", "--data-dir", str(index), cwd=tmp_path)
    assert "articles:   1" in stats.stdout  # nothing of the refused ingest was written
    asked = run_newsbot(
        "ask",
        "What did Shalom cite?",
        "--config",
        "other.yaml",
        "--data-dir",
        str(index),
        cwd=tmp_path,
    )
    assert asked.returncode == 0 and "[1]" in asked.stdout  # reading needs no cut

    # a config that names no cut keeps the index's own, whatever the default
    added = run_newsbot("ingest", "ferry.txt", "--data-dir", str(index), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("1 new")
    fresh = run_newsbot(
        "ingest", "ferry.txt", "--config", "other.yaml", "--data-dir", "fresh", cwd=tmp_path
    )
    assert fresh.returncode == 0, fresh.stderr
    assert str(ChunkStore(tmp_path / "fresh").cut()) == f"256/{other}"
    (tmp_path / "ferry.txt").write_text(NEW_ARTICLE.replace("every hour", "twice an hour"))
    kept = run_newsbot("ingest", "ferry.txt", "--data-dir", "fresh", cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.startswith("0 new, 1 updated")
    assert str(ChunkStore(tmp_path / "fresh").cut()) == f"256/{other}"


def test_ingest_with_a_bad_file_keeps_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Good story\n\nA perfectly good story. It ingests.")
    (tmp_path / "bad.jsonl").write_text('{"text": "fine line"}\n{oops}\n')
    result = run_newsbot("ingest", ".", "--data-dir", "data", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("skipped bad.jsonl:2: malformed JSON line")
    assert result.stdout.startswith("2 new, 0 updated, 0 unchanged")
    assert "Traceback" not in result.stderr


def test_chat_uses_the_previous_turn(workdir: Path) -> None:
    result = run_newsbot(
        "chat",
        "--data-dir",
        "data",
        cwd=workdir,
        stdin="Who is Ephraim Michaeli?\nWhat did he tell Army Radio?\n",
    )
    assert result.returncode == 0, result.stderr
    assert "The Russians admire Israel in this sphere" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "2023-02-01", "--until", "2023-01-01"],
            "newsbot: --since 2023-02-01 is after --until 2023-01-01; no article can match",
        ),
        (
            ["--as-of", "2023-02-30"],
            "newsbot: --as-of: 2023-02-30 is not a date (day is out of range for month)",
        ),
        (
            ["--as-of", "someday soon"],
            "newsbot: --as-of: can't read 'someday soon' as a date; use YYYY-MM-DD, "
            "or e.g. yesterday, last monday, 3 days ago",
        ),
    ],
)
def test_bad_dates_are_refused_in_one_line(workdir: Path, args: list[str], message: str) -> None:
    result = run_newsbot("ask", "What did Shalom cite?", *args, "--data-dir", "data", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr == message + "\n" and result.stdout == ""


def test_dates_in_words_work(workdir: Path) -> None:
    for as_of in ("yesterday", "last monday"):
        args = ["--as-of", as_of, "--json", "--data-dir", "data"]
        result = run_newsbot("ask", "What did Shalom cite?", *args, cwd=workdir)
        assert result.returncode == 0, result.stderr
        assert "Dolphinarium" in json.loads(result.stdout)["text"]
    early = run_newsbot(
        "ask", "What did Shalom cite?", "--until", "2004-09-05", "--data-dir", "data", cwd=workdir
    )
    assert early.returncode == 0 and early.stdout == f"{NOT_FOUND}\n"  # no article that early
