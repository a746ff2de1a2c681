"""`newsbot eval`: the metrics by hand, input errors, and the command end to end."""

import json
from pathlib import Path

import pytest
from harness.newsbot import SAMPLE, run_newsbot

from bot.evaluation.metrics import contains_answer, hit_at, percentile, reciprocal_rank
from bot.evaluation.queries import EvalInputError, read_corpus_ids, read_queries

CORPUS = [
    {
        "doc_id": "pope",
        "date": "2023/01/05",
        "title": "Benedict XVI laid to rest",
        "text": "Pope Francis presided over the funeral of former Pope Benedict XVI in St. "
        "Peter's Square on Thursday, before tens of thousands of mourners.",
    },
    {
        "doc_id": "sesame",
        "date": "2023/01/02",
        "title": "Sesame becomes a major allergen",
        "text": "The FDA added sesame to its list of major food allergens, so packaged foods "
        "containing sesame seeds must now be labelled.",
    },
    {
        "doc_id": "storm",
        "date": "2023/01/06",
        "title": "Bomb cyclone hits California",
        "text": "A powerful bomb cyclone brought flooding rain and hurricane-force winds to "
        "California, cutting power to tens of thousands of homes.",
    },
    {
        "doc_id": "miles",
        "date": "2023/01/04",
        "title": "Southwest offers frequent flyer miles",
        "text": "Southwest Airlines will give 25,000 frequent flyer miles to passengers hit "
        "by its holiday travel meltdown, the airline said.",
    },
]
QUERIES = [
    {
        "question_id": "q1",
        "question": "Which former pope was laid to rest this week?",
        "question_date": "2023/01/05",
        "answers": ["Benedict XVI"],
        "gold_doc_ids": ["pope"],
    },
    {
        "question_id": "q2",
        "question": "Which seed did the FDA add to its list of allergens?",
        "answers": ["Sesame"],
        "gold_doc_ids": ["sesame"],
    },
    {
        "question_id": "q3",
        "question": "Which airline will give passengers frequent flyer miles?",
        "answers": ["Southwest"],
        "gold_doc_ids": ["miles"],
    },
    {
        "question_id": "q4",
        "question": "Which state was hit by a bomb cyclone?",
        "gold_doc_ids": ["storm"],
    },
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_metrics_by_hand() -> None:
    ranked = ["a", "b", "c", "d"]
    assert [hit_at(ranked, {"c"}, k) for k in (1, 2, 3)] == [0.0, 0.0, 1.0]
    assert reciprocal_rank(ranked, {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"z"}) == 0.0
    assert reciprocal_rank(ranked, {"d"}, k=3) == 0.0
    assert contains_answer("It was the BUFFALO Bills.", ["Buffalo Bills"])
    assert not contains_answer("It was Buffalo.", ["Buffalo Bills", " "])
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
    assert percentile([5.0], 95) == 5.0


def test_bad_inputs_name_the_file_and_line(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    ids = read_corpus_ids(corpus)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(CORPUS[0]) + "\n{oops\n")
    unknown = write_jsonl(
        tmp_path / "q.jsonl", [QUERIES[0], {**QUERIES[1], "gold_doc_ids": ["nope"]}]
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    cases = [
        (
            lambda: read_corpus_ids(tmp_path / "missing.jsonl"),
            f"{tmp_path}/missing.jsonl: no such file",
        ),
        (lambda: read_corpus_ids(broken), f"{broken}:2: malformed JSON"),
        (
            lambda: read_queries(unknown, ids),
            f"{unknown}:2: gold doc id 'nope' is not in the corpus",
        ),
        (lambda: read_corpus_ids(empty), f"{empty}: the corpus is empty"),
    ]
    for call, message in cases:
        with pytest.raises(EvalInputError) as err:
            call()
        assert str(err.value).startswith(message)


def test_eval_command_end_to_end(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    args = [
        "eval",
        "--corpus",
        str(corpus),
        "--queries",
        str(queries),
        "--json",
        "--index-dir",
        "idx",
    ]
    first = run_newsbot(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    figures = json.loads(first.stdout.splitlines()[-1])
    for key in (
        "hit@1",
        "hit@5",
        "hit@10",
        "mrr@10",
        "answer_contained",
        "abstained",
        "n",
        "p50_ms",
        "p95_ms",
    ):
        assert key in figures
    assert figures["n"] == 4
    assert figures["hit@1"] == 1.0 and figures["mrr@10"] == 1.0
    assert figures["answer_contained"] == 1.0  # three questions carry answers
    assert figures["ingest_s"] > 0
    again = run_newsbot(*args, "--no-dates", cwd=tmp_path)
    reused = json.loads(again.stdout.splitlines()[-1])
    assert reused["ingest_s"] == 0.0 and reused["dates"] is False

    table = run_newsbot(*args[:-3], "--index-dir", "idx", cwd=tmp_path)
    assert "MRR@10" in table.stdout and "1.000" in table.stdout


def test_eval_rebuilds_its_index_for_another_pipeline_and_refuses_a_foreign_one(
    tmp_path: Path,
) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    args = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--json"]

    def figures(*extra: str) -> dict:
        result = run_newsbot(*args, *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    def chunks() -> str:
        stats = run_newsbot("stats", "--data-dir", "idx", cwd=tmp_path).stdout
        assert "articles:   4" in stats
        return next(line for line in stats.splitlines() if line.startswith("chunks:"))

    assert figures("--index-dir", "idx")["ingest_s"] > 0
    assert figures("--index-dir", "idx")["ingest_s"] == 0.0
    assert chunks() == "chunks:     4"
    # a build that was interrupted is resumed, not refused as somebody else's index
    stamp = tmp_path / "idx" / "eval-corpus.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "finished": False}))
    assert figures("--index-dir", "idx")["ingest_s"] > 0
    assert figures("--index-dir", "idx")["ingest_s"] == 0.0
    # another pipeline: the same articles are chunked anew, not kept as "unchanged"
    (tmp_path / "small.yaml").write_text("chunking:\n  max_tokens: 32\n  overlap_tokens: 4\n")
    assert figures("--index-dir", "idx", "--config", "small.yaml")["n"] == 4
    assert chunks() != "chunks:     4"

    assert run_newsbot("ingest", str(SAMPLE), "--data-dir", "mine", cwd=tmp_path).returncode == 0
    refused = run_newsbot(*args, "--index-dir", "mine", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "newsbot: mine holds an index that newsbot eval did not build; give --index-dir "
        "an empty directory, or one an earlier eval made"
    )
    listed = run_newsbot("articles", "--data-dir", "mine", cwd=tmp_path)
    assert "haaretz-2004-09-06-lavrov" in listed.stdout  # left as it was


def test_eval_command_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(
        tmp_path / "queries.jsonl", [{"question_id": "x", "gold_doc_ids": ["pope"]}]
    )
    result = run_newsbot("eval", "--corpus", str(corpus), "--queries", str(queries), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"newsbot: {queries}:1: missing or empty 'question' field")
