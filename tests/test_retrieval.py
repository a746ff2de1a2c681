"""Hybrid fusion, the date preference and date filters, and the BM25 index kept in sync."""

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.service import AnsweringService
from index.ingest.batches import IngestReport
from index.search.periods import mentioned_period
from index.search.retriever import TimeScope
from index.store.bm25 import LexicalIndex, lexical_dir, open_lexical, stamp, sync_lexical
from index.store.chunks import ChunkStore

Ingest = Callable[..., IngestReport]


def service(settings: Settings, **retrieval: float) -> AnsweringService:
    tuned = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update=retrieval)}
    )
    return AnsweringService.open(tuned)


def top_ids(svc: AnsweringService, question: str, scope: TimeScope | None = None) -> list[str]:
    return [d.metadata["article_id"] for d in svc.retrieve(question, k=4, scope=scope)]


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


@pytest.fixture
def news(tmp_path: Path, ingest: Ingest, settings: Settings) -> Settings:
    folder = tmp_path / "news"
    folder.mkdir()
    write(
        folder,
        "budget.txt",
        "Council passes budget\n\nThe city council approved the annual "
        "budget after a long debate about spending on roads, parks and schools.",
    )
    write(
        folder,
        "plans.txt",
        "Mayor outlines spending plans\n\nThe mayor set out plans for spending on roads, "
        "parks and schools next year, ahead of a vote by the city council.",
    )
    write(
        folder,
        "zq.txt",
        "Committee notes\n\nMinutes recorded that resolution ZQ-4471 was "
        "tabled without discussion and filed with other papers of the session.",
    )
    write(
        folder,
        "flood-2023-01-03.txt",
        "River flood warning\n\nThe river burst its banks "
        "after days of heavy rain and the town centre was evacuated.",
    )
    write(
        folder,
        "flood-2023-03-20.txt",
        "River floods the town\n\nHeavy rain made the river "
        "burst its banks and the town centre had to be evacuated.",
    )
    ingest(folder)
    return settings


def test_lexical_fusion_lifts_an_exact_rare_term(news: Settings) -> None:
    question = "What became of the municipal expenditure motion ZQ-4471?"
    dense_only = top_ids(service(news, lexical_weight=0.0), question)
    hybrid = top_ids(service(news, lexical_weight=1.0), question)
    assert dense_only[:2] == ["budget", "zq"]  # closer in meaning, without the code
    assert hybrid[:2] == ["zq", "budget"]


def test_date_preference_follows_the_question_date(news: Settings) -> None:
    svc = service(news, date_weight=0.5)
    question = "Did the river flood the town?"
    early = top_ids(svc, question, TimeScope(as_of=date(2023, 1, 5)))
    late = top_ids(svc, question, TimeScope(as_of=date(2023, 3, 18)))
    assert early[0] == "flood-2023-01-03" and late[0] == "flood-2023-03-20"


def test_a_period_the_question_names_beats_nearness_to_its_date(news: Settings) -> None:
    svc = service(news)  # the default date weight
    in_march = TimeScope(as_of=date(2023, 3, 25))
    assert top_ids(svc, "Did the river flood the town?", in_march)[0] == "flood-2023-03-20"
    named = top_ids(svc, "Did the river flood the town in January 2023?", in_march)
    assert named[0] == "flood-2023-01-03"
    last_week = "Did the river flood the town last week?"
    assert top_ids(svc, last_week, TimeScope(as_of=date(2023, 1, 10)))[0] == "flood-2023-01-03"
    assert top_ids(svc, last_week, in_march)[0] == "flood-2023-03-20"
    undated = top_ids(svc, "Did the river flood the town in January 2023?", TimeScope())
    assert undated[0] == top_ids(svc, "Did the river flood the town?", TimeScope())[0]


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("What did Lavrov say in September 2004?", ("2004-09-01", "2004-09-30")),
        ("Who won the election in 2020?", ("2020-01-01", "2020-12-31")),
        ("What did the mayor promise this month?", ("2023-01-01", "2023-01-05")),
        ("What has the Fed done since March 2022?", ("2022-03-01", "2023-01-05")),
        ("What had the Fed said before 2020?", ("0001-01-01", "2019-12-31")),
        ("Which pope was laid to rest this week?", ("2022-12-30", "2023-01-05")),
        ("What happened in Ukraine last week?", ("2022-12-23", "2022-12-29")),
        ("Which bank failed on Monday?", ("2023-01-02", "2023-01-02")),
        ("What did Apple unveil yesterday?", ("2023-01-04", "2023-01-04")),
        ("What did the Fed decide in March?", ("2022-03-01", "2022-03-31")),
        ("What was reported on 2022-11-30?", ("2022-11-30", "2022-11-30")),
        ("What happened on September 6, 2004?", ("2004-09-06", "2004-09-06")),
        ("What did the FDA say on Dec. 3?", ("2022-12-03", "2022-12-03")),
        ("Where did protesters march on Monday?", ("2023-01-02", "2023-01-02")),
        ("May the president veto the bill?", None),
        ("How many of the 1900 passengers survived?", None),
        ("Which country will host the 2026 World Cup?", None),
        ("What did the Sunday Times report?", None),
        ("Which 2 candidates dropped out?", None),
        ("Which seed did the FDA add to its list of allergens?", None),
    ],
)
def test_periods_named_in_questions(question: str, period: tuple[str, str] | None) -> None:
    found = mentioned_period(question, date(2023, 1, 5))  # a Thursday
    got = (found.start.isoformat(), found.end.isoformat()) if found else None
    assert got == period


def test_date_filters_exclude_articles_outside_the_range(news: Settings) -> None:
    svc = service(news)
    since = top_ids(svc, "river flood", TimeScope(since=date(2023, 2, 1)))
    until = top_ids(svc, "river flood", TimeScope(until=date(2023, 2, 1)))
    assert since == ["flood-2023-03-20"]
    assert until == ["flood-2023-01-03"]  # undated articles fall outside any range


def test_lexical_index_follows_remove_and_reingest(
    news: Settings, ingest: Ingest, tmp_path: Path
) -> None:
    store = ChunkStore(news.data_dir)
    sync_lexical(store)
    assert [i for i, _ in LexicalIndex.load(lexical_dir(store)).search("ZQ-4471", 5)] == [  # type: ignore[union-attr]
        i for i in store.chunk_ids() if i.startswith("zq:")
    ]
    store.remove("zq")
    sync_lexical(store)
    saved = LexicalIndex.load(lexical_dir(store))
    assert saved is not None and saved.search("ZQ-4471", 5) == []
    assert saved.digest == stamp(store)

    before = tmp_path / "lexical-before"
    shutil.copytree(lexical_dir(store), before)
    (tmp_path / "news" / "zq.txt").write_text("Committee notes\n\nResolution ZQ-4471 passed.")
    ingest(tmp_path / "news")
    synced = LexicalIndex.load(lexical_dir(store))  # ingest rebuilt it with the new chunks
    assert synced is not None and synced.digest == stamp(store)
    # a cache left from before the ingest (e.g. copied from another host) is stale
    shutil.rmtree(lexical_dir(store))
    shutil.copytree(before, lexical_dir(store))
    stale = LexicalIndex.load(lexical_dir(store))
    assert stale is not None and stale.digest != stamp(store)
    fresh = open_lexical(store)  # a reader finds it stale and rebuilds it
    assert [i.split(":")[0] for i, _ in fresh.search("ZQ-4471", 5)] == ["zq"]
    assert LexicalIndex.load(lexical_dir(store)).digest == fresh.digest  # type: ignore[union-attr]
