"""`newsbot eval`: the metrics by hand, input errors, the command end to end, its
`--details` lines, and the unanswerable set `--withhold` makes."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from harness.newsbot import SAMPLE, run_newsbot

from bot.answer import Answer, Citation, dated
from bot.evaluation.metrics import contains_answer, hit_at, percentile, reciprocal_rank
from bot.evaluation.queries import EvalInputError, Query, read_corpus_ids, read_queries
from bot.evaluation.run import Outcome
from bot.evaluation.withheld import (
    verdict,
    withheld_doc_ids,
    withheld_questions,
    write_reduced_corpus,
)

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


# Another article holding q2's answer: with q2's gold withheld, "Sesame" can still be right.
SESAME_WIRE = {
    "doc_id": "sesame-wire",
    "date": "2023/01/03",
    "title": "Sesame labels now required",
    "text": "Sesame is now a major food allergen: the FDA requires packaged foods made with "
    "sesame seeds to say so on the label.",
}
DETAIL_KEYS = [
    "question_id",
    "question",
    "answer",
    "abstained",
    "mode",
    "citations",
    "contains_answer",
    "gold_in_top",
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


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_details_has_one_line_per_question(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    result = run_newsbot(
        "eval", "--corpus", str(corpus), "--queries", str(queries), "--details", "d.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = read_jsonl(tmp_path / "d.jsonl")
    assert [line["question_id"] for line in lines] == ["q1", "q2", "q3", "q4"]
    for line in lines:
        assert list(line) == DETAIL_KEYS  # no "withheld" outside a --withhold run
        assert line["mode"] == "extractive" and line["abstained"] is False
        assert line["gold_in_top"] == 1
        for citation in line["citations"]:
            assert list(citation) == ["n", "article_id", "title", "date", "snippet"]
    pope = lines[0]
    assert pope["question"] == QUERIES[0]["question"]
    assert pope["contains_answer"] is True and "Benedict XVI" in pope["answer"]
    assert pope["citations"][0]["article_id"] == "pope"
    assert pope["citations"][0]["date"] == "2023-01-05"
    assert pope["citations"][0]["snippet"] in CORPUS[0]["text"]
    assert lines[3]["contains_answer"] is None  # q4 has no answers


def test_unusable_options_are_refused_in_one_line_before_any_work(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    args = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--index-dir", "idx"]
    for details, reason in (("no/d.jsonl", "No such file or directory"), (".", "Is a directory")):
        result = run_newsbot(*args, "--details", details, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr == f"newsbot: can't write the details file {details}: {reason}\n"
    assert not (tmp_path / "idx").exists()
    zero = run_newsbot(*args, "--withhold", "0", cwd=tmp_path)
    assert zero.returncode == 2 and "Invalid value for '--withhold'" in zero.stderr


def labelled(*golds: list[str]) -> list[Query]:
    return [
        Query(id=f"q{i}", question=f"question {i}?", as_of=None, answers=["x"], gold=gold)
        for i, gold in enumerate(golds)
    ]


def test_withheld_questions_are_a_seeded_sample_of_those_with_gold() -> None:
    queries = labelled(*([f"d{i}"] if i % 4 else [] for i in range(40)))
    with_gold = [q for q in queries if q.gold]
    sample = withheld_questions(queries, 10, seed=13)
    assert sample == withheld_questions(queries, 10, seed=13)
    assert sample != withheld_questions(queries, 10, seed=14)
    assert len(sample) == 10 and all(q in with_gold for q in sample)
    assert sample == sorted(sample, key=queries.index)  # asked in file order
    assert withheld_questions(queries, 100, seed=13) == with_gold  # fewer than asked: all


def test_withheld_docs_are_exactly_the_samples_gold_including_shared_ones(tmp_path: Path) -> None:
    shared, alone, other = labelled(["d1"], ["d1", "d2"], ["d3"])
    assert withheld_doc_ids([shared, alone]) == {"d1", "d2"}
    # a question outside the sample is not asked, even when it loses a gold document
    sample = withheld_questions([shared, alone, other], 1, seed=13)
    assert len(sample) == 1 and withheld_doc_ids(sample) == set(sample[0].gold)

    rows = [{"doc_id": d, "text": f"article {d}"} for d in ("d1", "d2", "d3", "d4")]
    rows[3]["doc_id"] = 4  # integer ids are compared as strings, as read_corpus_ids does
    corpus = write_jsonl(tmp_path / "corpus.jsonl", rows)
    reduced = write_reduced_corpus(corpus, {"d1", "d2", "4"}, tmp_path / "idx")
    assert reduced.parent == tmp_path / "idx"
    assert read_jsonl(reduced) == [rows[2]]
    before = reduced.read_bytes()
    assert write_reduced_corpus(corpus, {"d1", "d2", "4"}, tmp_path / "idx").read_bytes() == before
    with pytest.raises(EvalInputError, match="nothing is left"):
        write_reduced_corpus(corpus, {"d1", "d2", "d3", "4"}, tmp_path / "idx")


def test_verdict_on_a_withheld_question() -> None:
    question = replace(labelled(["d1"])[0], answers=["Sesame"])
    assert verdict(Answer(text="Sesame seeds. [1]"), question) == "right"
    assert verdict(Answer(text="Peanuts. [1]"), question) == "wrong"
    assert verdict(Answer(text="Not found.", abstained=True), question) == "abstained"


def test_a_gold_string_only_in_the_dated_footer_is_not_an_answer() -> None:
    question = replace(labelled(["d1"])[0], answers=["CNN"])
    cited = Citation(
        n=1,
        article_id="d1",
        title="t",
        source="CNN",
        date="2023-01-04",
        snippet="Peanuts.",
        score=0.5,
        start=0,
        end=8,
    )
    answer = dated(Answer(text="Peanuts. [1]", citations=[cited]), date(2023, 1, 5))
    assert "CNN" in answer.text and answer.body == "Peanuts. [1]"
    assert verdict(answer, question) == "wrong"
    assert Outcome(question, ["d1"], answer).contained is False


def test_eval_withhold_end_to_end(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [*CORPUS, SESAME_WIRE])
    no_gold = {"question_id": "q5", "question": "Who presided?", "answers": ["Francis"]}
    queries = write_jsonl(tmp_path / "queries.jsonl", [QUERIES[1], QUERIES[2], no_gold])
    args = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--index-dir", "idx"]

    def figures(*extra: str) -> dict:
        result = run_newsbot(*args, "--json", *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    result = run_newsbot(*args, "--withhold", "5", "--details", "d.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "only 2 questions have gold_doc_ids; withholding all of them, not 5" in result.stderr
    assert "Unanswerable (gold withheld)" in result.stdout
    assert "n/a" in result.stdout  # hit@k and MRR don't apply
    lines = {line["question_id"]: line for line in read_jsonl(tmp_path / "d.jsonl")}
    assert list(lines) == ["q2", "q3"]  # q5 has no gold: not asked
    assert all(line["withheld"] is True and line["gold_in_top"] is None for line in lines.values())
    sesame, miles = lines["q2"], lines["q3"]
    assert sesame["contains_answer"] is True  # from the other article: right
    assert {c["article_id"] for c in sesame["citations"]} == {"sesame-wire"}
    assert not any(c["article_id"] == "miles" for c in miles["citations"])

    report = figures("--withhold", "5")
    assert report["ingest_s"] == 0.0  # the same sample: the same reduced corpus, reused
    assert list(report)[:9] == [
        "hit@1", "hit@5", "hit@10", "mrr@10", "answer_contained", "abstained", "n",
        "p50_ms", "p95_ms",
    ]  # fmt: skip
    assert report["hit@1"] is None and report["mrr@10"] is None and report["n"] == 2
    assert report["withheld_n"] == 2 and report["withheld_right"] == 0.5
    shares = [report[f"withheld_{v}"] for v in ("abstained", "right", "wrong")]
    assert sum(shares) == pytest.approx(1.0)
    miles_verdict = "abstained" if miles["abstained"] else "wrong"
    assert report[f"withheld_{miles_verdict}"] == 0.5

    assert figures("--withhold", "1")["ingest_s"] > 0  # another sample: rebuilt
    normal = figures()
    assert normal["ingest_s"] > 0 and normal["n"] == 3 and normal["hit@10"] == 1.0
    withheld_keys = ["withheld_n", "withheld_abstained", "withheld_right", "withheld_wrong"]
    assert list(normal)[-4:] == withheld_keys
    assert all(normal[key] is None for key in withheld_keys)
