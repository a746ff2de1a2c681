"""What `newsbot ask` quotes, as a user meets it: whole sentences, each once, no headings,
one number per article, and the date of every cited article in the answer.

The articles are small and made up, but built from the real patterns that broke quoting:
AP-style state abbreviations, "then-St. Louis", a wire sentence carried by two outlets
with different dashes, and promo lines, photo credits and headings around the text.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from harness.newsbot import run_newsbot

STEFANIK = (
    "Rep. Elise Stefanik, R-N.Y., nominated House Republican Leader Kevin McCarthy as "
    "speaker shortly after noon on the third day of voting."
)
LA_RUSSA = (
    "In 2009, after Twitter was sued by then-St. Louis Cardinals manager Tony La Russa for "
    "being impersonated on the platform, the company introduced a blue check mark."
)
PIER = "The Marrowby harbour council voted {dash} 7 to 2 {dash} to close the old Marrowby pier."
FLOOD = "The Quillfeather flood closed twelve roads and the Quillfeather river bridge on Tuesday."
CREST = "The Quillfeather river crested at nine metres on Wednesday night, the flood office said."
FLOOD_CLUTTER = [
    "LATEST VISUAL EXPLANATIONS: Mapping the Quillfeather flood and the river",
    "Quillfeather flood: what we know about the river and the roads",
    "Jack Guez/AFP/Getty Images",
    "By Ann Writer, Example Wire",
    "Follow every update: Latest Quillfeather flood and river news",
]
FERRY = [
    "The Glimmerstone ferry strike began on Monday when the Glimmerstone ferry crews walked out.",
    "A spokesman said passengers should check the timetable.",
    "The Glimmerstone ferry strike ended on Friday after the Glimmerstone ferry crews won a raise.",
]
LONE_START = re.compile(r"^(?:[a-z]|[A-Z]\.(?:[\s,]|$))")


def article(doc_id: str, text: str, date: str, source: str, **extra: str) -> dict[str, str]:
    """One article as a JSONL row."""
    return {
        "doc_id": doc_id,
        "title": doc_id.replace("-", " "),
        "date": date,
        "source": source,
        "url": f"https://example.org/{doc_id}",
        "text": text,
        **extra,
    }


ARTICLES = [
    article(
        "speaker-vote",
        "Live updates from the House\n\n"
        + "Lawmakers met again at noon. Rep. Mike Gallagher spoke first.\n\n"
        + STEFANIK
        + " The vote followed.",
        "2023-01-05",
        "Example Wire",
    ),
    article(
        "blue-checks",
        LA_RUSSA + " The check indicated a verified account.",
        "2022-11-03",
        "Daily Example",
    ),
    article(
        "pier-gazette",
        PIER.format(dash="\u2014") + " Fishermen said they would moor their boats at the new quay.",
        "2023-01-02",
        "Marrowby Gazette",
    ),
    article(
        "pier-courier",
        "Storms damaged the harbour wall twice this winter. " + PIER.format(dash="\u2013"),
        "2023-01-02",
        "Marrowby Courier",
    ),
    article(
        "flood",
        "\n\n".join([FLOOD_CLUTTER[0], FLOOD, FLOOD_CLUTTER[1], FLOOD_CLUTTER[2]])
        + "\n\nFLOOD UPDATES:"
        + CREST
        + "\n\n"
        + "\n\n".join(FLOOD_CLUTTER[3:]),
        "2023-01-04",
        "Example Wire",
    ),
    article("ferry", " ".join(FERRY), "2023-01-04", "Glimmerstone Times"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an index of the made-up articles, built by `newsbot ingest`."""
    path = tmp_path_factory.mktemp("quoting")
    feed = path / "articles.jsonl"
    feed.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), "utf-8")
    result = run_newsbot("ingest", str(feed), "--data-dir", "data", cwd=path)
    assert result.returncode == 0, result.stderr
    return path


def ask(workdir: Path, question: str, *options: str) -> dict[str, Any]:
    """`newsbot ask --json` as of 2023-01-05, parsed."""
    result = run_newsbot(
        "ask",
        "--json",
        question,
        "--as-of",
        "2023-01-05",
        *options,
        "--data-dir",
        "data",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def quotes(answer: dict[str, Any]) -> list[str]:
    """Every quoted sentence of every citation."""
    return [q["snippet"] for c in answer["citations"] for q in c.get("quotes", [c])]


def test_abbreviations_and_initials_stay_inside_the_quoted_sentence(workdir: Path) -> None:
    answer = ask(workdir, "Who nominated Kevin McCarthy as speaker?")
    assert STEFANIK in quotes(answer)
    assert answer["text"].startswith(STEFANIK + " [1]")
    sued = ask(workdir, "Who sued Twitter for being impersonated?")
    assert LA_RUSSA in quotes(sued)
    for quoted in quotes(answer) + quotes(sued):
        assert not LONE_START.match(quoted), quoted


def test_a_wire_sentence_from_two_outlets_is_quoted_once(workdir: Path) -> None:
    answer = ask(workdir, "How did the Marrowby harbour council vote on the pier?")
    assert answer["text"].count("to close the old Marrowby pier") == 1
    quoting = [
        c
        for c in answer["citations"]
        if any("old Marrowby pier" in q["snippet"] for q in c["quotes"])
    ]
    assert len(quoting) == 1  # one outlet's copy, the other's not cited for it


def test_one_article_is_cited_once_with_each_of_its_sentences(workdir: Path) -> None:
    answer = ask(workdir, "When did the Glimmerstone ferry strike begin and end?")
    (citation,) = answer["citations"]
    assert citation["article_id"] == "ferry"
    assert [q["snippet"] for q in citation["quotes"]] == [FERRY[0], FERRY[2]]
    assert (citation["snippet"], citation["start"]) == (FERRY[0], 0)
    text = " ".join(FERRY)
    for quote in citation["quotes"]:
        assert text[quote["start"] : quote["end"]] == quote["snippet"]
    assert answer["text"].startswith(f"{FERRY[0]} [1] {FERRY[2]} [1]")
    assert "[2]" not in answer["text"]


def test_headlines_captions_bylines_and_promo_lines_are_not_answers(workdir: Path) -> None:
    answer = ask(workdir, "What did the Quillfeather flood do to the river and the roads?")
    quoted = quotes(answer)
    assert FLOOD in quoted
    for clutter in FLOOD_CLUTTER:
        assert clutter not in answer["text"]
    # "FLOOD UPDATES:The … river crested …" has the shape of USA Today's links to related
    # stories ("Podcasts:True crime …"; of 1,662 such lines in realtimeqa-2023-articles,
    # those ending in a full stop are links too), so ingest records it as a promo
    # (index/furniture.py): neither the heading nor the sentence glued to it is quoted.
    crest = ask(workdir, "How high did the Quillfeather river crest?")
    assert CREST not in quotes(crest) and "UPDATES" not in crest["text"]


def test_each_cited_article_is_dated_in_the_answer(workdir: Path) -> None:
    answer = ask(workdir, "Who nominated Kevin McCarthy as speaker?")
    assert "[1] Example Wire, 2023-01-05" in answer["text"]
    assert "older than" not in answer["text"]


def test_an_old_answer_says_how_old_it_is(workdir: Path) -> None:
    result = run_newsbot(
        "ask",
        "How did the Marrowby harbour council vote on the pier?",
        "--as-of",
        "2023-01-27",
        "--data-dir",
        "data",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    answer = result.stdout.split("\nSources")[0]
    assert "2023-01-02" in answer
    assert "(The newest of these articles is 25 days older than 2023-01-27.)" in answer
