"""The answering service over the sample: seed questions, abstention, follow-ups."""

from pathlib import Path

import pytest
from harness.newsbot import SAMPLE

from bot.config import load_settings
from bot.service import AnsweringService
from index.errors import EmptyIndexError
from index.store.chunks import ChunkStore

# The seed questions shipped with the design (shared/eval/seed/questions.jsonl).
SEED = [
    ("What did Shalom cite?", ["Dolphinarium"]),
    ("Who is Russia's foreign minister?", ["Lavrov"]),
    ("What did Israel offer to do for child victims of the hostage siege?", ["rehabilitation"]),
    ("What kind of data will Israel propose to share with Russia?", ["intelligence"]),
]
OFF_TOPIC = "What did the article say about the Olympic Games?"


@pytest.fixture(scope="module")
def service(sample_data_dir: Path) -> AnsweringService:
    return AnsweringService.open(load_settings(data_dir=sample_data_dir))


@pytest.mark.parametrize(("question", "expect_any"), SEED)
def test_seed_questions(service: AnsweringService, question: str, expect_any: list[str]) -> None:
    answer = service.ask(question)
    assert not answer.abstained
    assert any(e.lower() in answer.text.lower() for e in expect_any), answer.text
    assert answer.citations and "[1]" in answer.text


def test_shalom_is_answered_with_the_dolphinarium_sentence(service: AnsweringService) -> None:
    answer = service.ask("What did Shalom cite?")
    first = answer.citations[0]
    assert answer.text.startswith("Shalom cited the 2001 Dolphinarium nightclub suicide bombing")
    (cited,) = [q for q in first.quoted() if q.snippet.startswith("Shalom cited the 2001")]
    assert first.article_id == "haaretz-2004-09-06-lavrov"
    assert first.title == "Russian FM welcomes Israeli cooperation on terror"
    assert first.date == "2004-09-06T13:45"
    assert first.source == "Haaretz"
    assert answer.text.startswith(cited.snippet + " [1]")


def test_every_snippet_is_quoted_exactly_from_the_article(service: AnsweringService) -> None:
    raw = SAMPLE.read_text()
    body = raw[raw.index("Russian Foreign Minister") :]
    for question, _ in SEED:
        for citation in service.ask(question).citations:
            assert body[citation.start : citation.end] == citation.snippet


def test_off_topic_question_abstains(service: AnsweringService) -> None:
    answer = service.ask(OFF_TOPIC)
    assert answer.abstained
    assert answer.text.startswith("The indexed articles don't answer this.")
    assert "which does not answer it" in answer.text or answer.closest is None
    assert answer.citations == []


def test_follow_up_uses_the_previous_turn(service: AnsweringService) -> None:
    conversation = service.new_conversation()
    first = service.ask("Who is Ephraim Michaeli?", conversation)
    assert "Michaeli" in first.text
    follow_up = service.ask("What did he tell Army Radio?", conversation)
    assert "The Russians admire Israel in this sphere" in follow_up.text
    assert conversation.turns[-1].standalone.startswith("Who is Ephraim Michaeli?")


def test_standalone_question_is_not_rewritten(service: AnsweringService) -> None:
    conversation = service.new_conversation()
    service.ask("Who is Ephraim Michaeli?", conversation)
    service.ask("What did Shalom cite?", conversation)
    assert conversation.turns[-1].standalone == "What did Shalom cite?"


def test_missing_and_empty_index_say_how_to_ingest(tmp_path: Path) -> None:
    with pytest.raises(EmptyIndexError, match="newsbot ingest"):
        AnsweringService.open(load_settings(data_dir=tmp_path / "none"))
    ChunkStore(tmp_path / "empty")
    service = AnsweringService.open(load_settings(data_dir=tmp_path / "empty"))
    with pytest.raises(EmptyIndexError, match="is empty; add articles with: newsbot ingest"):
        service.ask("Anything?")
