"""What `newsbot ask` quotes from scraped-looking articles: never a line that isn't prose.

The newsdesk articles (tests/data/newsdesk) carry what scrapers keep: bylines over the
outlet's name, "Jan. 6, 2026 Updated Jan. 7, 2026, 1:27 a.m. ET", an "AI-assisted
summary" block of bullet sentences, a caption ending in its photo credit, promos and
credit lines. Ingest records them; the extractive answerer quotes none of them, and
every quote is still the exact slice of the article at its offsets. Without the
record, the summary bullets and the caption were quoted for these questions.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from harness.newsbot import run_newsbot

from index.furniture import recognise

NEWSDESK = Path(__file__).parent / "data" / "newsdesk" / "articles.jsonl"
ARTICLES = {
    row["doc_id"]: row
    for row in (json.loads(line) for line in NEWSDESK.read_text("utf-8").splitlines())
}
QUESTIONS = [
    "When was the Harrowgate ferry fire story updated?",
    "Is the cause of the Harrowgate ferry fire known?",
    "Who took the photo of the firefighters at Harrowgate pier?",
    "How many passengers were on the Harrowgate ferry?",
    "Who took the photo of the Kettle Bay lighthouse?",
    "Who reported on the Orm Island council pier vote?",
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("furniture")
    result = run_newsbot("ingest", str(NEWSDESK), "--data-dir", "data", cwd=path)
    assert result.returncode == 0, result.stderr
    return path


def ask(workdir: Path, question: str) -> dict[str, Any]:
    result = run_newsbot(
        "ask", "--json", question, "--as-of", "2026-01-10", "--data-dir", "data", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("question", QUESTIONS)
def test_no_quote_is_a_dateline_byline_caption_summary_or_promo(
    workdir: Path, question: str
) -> None:
    answer = ask(workdir, question)
    for citation in answer["citations"]:
        article = ARTICLES[citation["article_id"]]
        text = article["text"]
        furniture = recognise(text, article["source"])
        for quote in citation["quotes"]:
            assert text[quote["start"] : quote["end"]] == quote["snippet"]
            inside = [s for s in furniture if s.start < quote["end"] and s.end > quote["start"]]
            assert not inside, (question, quote["snippet"], inside)


def test_an_llm_answer_is_never_cited_with_a_furniture_line(workdir: Path) -> None:
    """The scripted OpenAI-compatible server stands in for a capable model (none runs
    here). Its answer matches the AI-assisted summary's bullet word for word, but the
    snippet its citation shows is the article's own sentence."""
    from harness.llm_server import ScriptedLLM

    pytest.importorskip("langchain_openai", reason="the llm extra is not installed")
    said = "All 212 passengers were taken off the Harrowgate ferry safely, officials said [1]."
    with ScriptedLLM(lambda messages: said) as llm:
        config = workdir / "llm.yaml"
        llm_section = {"provider": "openai", "base_url": llm.base_url, "model": "scripted"}
        config.write_text(json.dumps({"llm": llm_section}), encoding="utf-8")
        result = run_newsbot(
            "ask", "--json", "--mode", "llm", "How many passengers were on the Harrowgate ferry?",
            "--config", str(config), "--data-dir", "data", "--as-of", "2026-01-10", cwd=workdir,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["mode"] == "llm", answer.get("notice")
    (citation,) = answer["citations"]
    article = ARTICLES[citation["article_id"]]
    furniture = recognise(article["text"], article["source"])
    start, end = citation["start"], citation["end"]
    assert not [s for s in furniture if s.start < end and s.end > start], citation["snippet"]
    assert "212 passengers" in citation["snippet"]
