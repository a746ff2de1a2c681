"""The answer model (issue #23) through the CLI's entry points, over a tiny corpus.

The articles are written for these tests: each answerable question has a same-topic
distractor sentence sharing its words, and the missing-detail question's story is
indexed without the detail. `newsbot ingest` builds the index and `newsbot ask --json`
answers, as a user runs them, with the hub switched off: the packaged answer model
loads from the package, offline, and without PyTorch.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness.newsbot import clean_env, run_newsbot

ARTICLES = [
    {
        "doc_id": "riverton-budget",
        "title": "Riverton council approves next year's budget",
        "date": "2023-03-08",
        "source": "Valley Ledger",
        "text": "The Riverton city council spent much of Tuesday night debating the budget, "
        "as it did for weeks last year. "
        "In the end the council approved a budget of $4.2 million for next year, by a "
        "vote of five to two. "
        "Council member Dana Whitfield said most of the money would go to road repairs "
        "and the public library. "
        "Last year's budget fight ended without a vote.",
    },
    {
        "doc_id": "millbrook-budget",
        "title": "Millbrook board still split on spending",
        "date": "2023-03-07",
        "source": "Valley Ledger",
        "text": "The Millbrook town board argued over its budget for a third week on Monday. "
        "Board members could not agree on how much the town should spend on roads. "
        "The board meets again on Thursday.",
    },
    {
        "doc_id": "speaker-vote",
        "title": "House elects a speaker after 15 votes",
        "date": "2023-01-07",
        "source": "Capitol Report",
        "text": "The vote on a new speaker took place over four days. "
        "Kevin McCarthy was elected speaker of the House early on Saturday, after "
        "conservative holdouts switched to voting present. "
        "He received 216 votes to 212 for Hakeem Jeffries.",
    },
    {
        "doc_id": "oscars-night",
        "title": "Everything Everywhere All at Once wins best picture at the Oscars",
        "date": "2023-03-13",
        "source": "Screen Weekly",
        "text": "The ceremony at the Dolby Theatre in Los Angeles ran for more than three "
        "hours on Sunday night. "
        "The film's two directors thanked their parents from the stage. "
        "Jimmy Kimmel hosted the show for the third time.",
    },
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("answer-model")
    corpus = folder / "articles.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    done = run_newsbot("ingest", str(corpus), "--data-dir", str(folder / "data"), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "data"


def ask(data_dir: Path, question: str) -> dict:
    """`newsbot ask --json`, offline: no model hub, as a user without internet runs it."""
    offline = clean_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = run_newsbot(
        "ask", question, "--json", "--data-dir", str(data_dir), cwd=data_dir, env=offline
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_answer_sentence_is_chosen_over_a_same_topic_distractor(data_dir: Path) -> None:
    answer = ask(data_dir, "How much is the budget the Riverton council approved?")
    assert not answer["abstained"], answer["text"]
    assert answer["text"].startswith("In the end the council approved a budget of $4.2 million")
    assert answer["citations"][0]["article_id"] == "riverton-budget"


def test_a_same_story_question_whose_detail_is_missing_abstains(data_dir: Path) -> None:
    answer = ask(data_dir, "Who will chair the new Riverton budget committee?")
    assert answer["abstained"], answer["text"]
    assert answer["citations"] == []
    assert answer["closest"]["article_id"] == "riverton-budget"
    assert "which does not answer it" in answer["text"]


def test_a_sentence_saying_only_he_is_quoted_with_the_one_naming_him(data_dir: Path) -> None:
    answer = ask(data_dir, "How many votes did the new speaker get?")
    assert not answer["abstained"], answer["text"]
    assert "216" in answer["text"]
    text = answer["text"]
    assert text.index("Kevin McCarthy") < text.index("He received 216 votes")
    quotes = [q["snippet"] for q in answer["citations"][0]["quotes"]]
    assert quotes[0].startswith("Kevin McCarthy was elected") and quotes[1].startswith(
        "He received"
    )


LOADS = """
import sys
from bot.main import main
sys.argv = ["newsbot", "ask", "--data-dir", sys.argv[1], "How many votes did the new speaker get?"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
from bot.answerers.reader import load_reader
print("reader:", load_reader().session.get_providers()[0], "torch:", "torch" in sys.modules)
"""


def test_the_model_loads_offline_and_without_torch(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADS, str(data_dir)],
        capture_output=True,
        text=True,
        env=clean_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "216" in done.stdout
    assert done.stdout.splitlines()[-1] == "reader: CPUExecutionProvider torch: False"


def test_a_title_that_answers_is_cited_as_the_headline(data_dir: Path) -> None:
    answer = ask(data_dir, "Which film won best picture at the Oscars?")
    assert not answer["abstained"], answer["text"]
    assert "Everything Everywhere All at Once" in answer["text"]
    first = answer["citations"][0]
    assert first["article_id"] == "oscars-night"
    assert first["quotes"][0]["part"] == "title"
