"""`newsbot chat` as a user meets it: new topics, empty messages, pronouns, commands,
and follow-ups that move on ("and who else?", "when was that?").

The index holds the sample article plus a handful of short crafted stories, so that a
question joined to the previous turn would visibly get the previous turn's answer. The
song-prize and senator stories are written like scraped news: a dateline, an "Updated"
stamp and a byline around the prose.
"""

import json
from pathlib import Path

import pytest
from harness.newsbot import SAMPLE, build_index, run_newsbot

GLOBES = "Who won best drama at the Golden Globes?"
TWITTER = "Why is Twitter being sued?"
MITCHELL = "How many points did Donovan Mitchell score?"
SOUTHWEST = "Why did Southwest cancel flights?"
GLOBES_SENTENCE = "The Fabelmans won best motion picture drama"
TWITTER_SENTENCE = "landlord sued Twitter"
MITCHELL_SENTENCE = "Donovan Mitchell scored 71 points"
SOUTHWEST_SENTENCE = "Southwest cancelled more than 15,000 flights"
HAMLIN_SENTENCE = "Damar Hamlin's doctors said"
ASK_SOMETHING = "What would you like to know?"
WHO = "Who do you mean by"


def crafted_stories() -> list[dict[str, str]]:
    """Short stories on unrelated topics, each answering one question of the issue."""
    return [
        {
            "doc_id": "globes",
            "title": "Golden Globes winners",
            "date": "2023-01-11",
            "text": "The Fabelmans won best motion picture drama at the Golden Globes on "
            "Tuesday night in Beverly Hills. Steven Spielberg thanked his family from the "
            "stage. The ceremony returned to television after a year off.",
        },
        {
            "doc_id": "twitter-rent",
            "title": "Twitter sued over unpaid rent",
            "date": "2023-01-24",
            "text": "The landlord sued Twitter for failing to pay the rent on its San "
            "Francisco headquarters, according to a lawsuit filed on Monday. The company "
            "owes more than $136,000, the landlord says. Twitter did not comment.",
        },
        {
            "doc_id": "mitchell-71",
            "title": "Mitchell scores 71 for the Cavaliers",
            "date": "2023-01-03",
            "text": "Donovan Mitchell scored 71 points for the Cleveland Cavaliers in an "
            "overtime win over the Chicago Bulls. It was the most points in a game since "
            "Kobe Bryant scored 81 in 2006.",
        },
        {
            "doc_id": "southwest-meltdown",
            "title": "Southwest's holiday meltdown",
            "date": "2022-12-29",
            "text": "Southwest cancelled more than 15,000 flights over the holidays because "
            "its crew scheduling system broke down during a winter storm. Passengers "
            "waited days for their luggage.",
        },
        {
            "doc_id": "hamlin-recovery",
            "title": "Hamlin breathing on his own",
            "date": "2023-01-06",
            "text": "Damar Hamlin's doctors said on Thursday that the Buffalo Bills safety "
            "was breathing on his own and talking to his family after his cardiac arrest "
            "on the field.",
        },
        {
            "doc_id": "song-prize",
            "title": "Mara Lind wins the Nordic Song Prize with 'Glass Harbour'",
            "date": "2023-02-05",
            "source": "Nordic Wire",
            "text": "OSLO, Norway \u2014\n\nUpdated 9:14 p.m. ET Feb. 4, 2023\n\n"
            "By Ingrid Solberg\n\n"
            "Swedish singer Mara Lind won the Nordic Song Prize on Saturday night in Oslo, "
            "beating eleven other acts with a ballad about her grandfather's boat.\n\n"
            "The Finnish duo Kettu Aalto and Susi Virta finished second with a song about "
            "foxes. Eirik Dahl of Norway came third with a folk song.\n\n"
            "Tickets for next year's final in Reykjavik go on sale in the spring.",
        },
        {
            "doc_id": "haines-dies",
            "title": "Former Vermont senator Walter Haines dies at 87",
            "date": "2023-01-16",
            "source": "Green Mountain Daily",
            "text": "BURLINGTON, Vt. \u2014\n\nUpdated 7:02 a.m. ET Jan. 16, 2023\n\n"
            "Walter Haines, who represented Vermont in the Senate for three terms, died on "
            "Sunday at his home in Burlington. He was 87.\n\n"
            "Haines was known for his work on rural broadband and dairy farm subsidies.",
        },
        {
            "doc_id": "haines-funeral",
            "title": "Here's who is speaking at Walter Haines' funeral",
            "date": "2023-01-20",
            "source": "Green Mountain Daily",
            "text": "BURLINGTON, Vt. \u2014\n\nBy Tom Reyes\n\n"
            "Governor Ruth Calloway and the former senator's grandson, Daniel Haines, gave "
            "eulogies at the funeral service on Friday at St. Paul's Cathedral in Burlington. "
            "About 900 mourners attended the service.",
        },
    ]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ./data holds the sample and the crafted stories."""
    path = tmp_path_factory.mktemp("conversation")
    stories = path / "stories.jsonl"
    stories.write_text("".join(json.dumps(s) + "\n" for s in crafted_stories()), "utf-8")
    build_index(path / "data", SAMPLE, stories)
    return path


def chat(workdir: Path, *lines: str) -> list[str]:
    """Run `newsbot chat` with these lines; what it printed after each of them."""
    result = run_newsbot("chat", "--data-dir", "data", cwd=workdir, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    replies = result.stdout.split("you> ")[1:]
    assert len(replies) == len(lines) + 1  # the last prompt meets the end of input
    return replies[:-1]


def test_a_new_topic_is_retrieved_on_its_own(workdir: Path) -> None:
    globes, twitter, mitchell, southwest = chat(workdir, GLOBES, TWITTER, MITCHELL, SOUTHWEST)
    assert GLOBES_SENTENCE in globes
    assert TWITTER_SENTENCE in twitter and GLOBES_SENTENCE not in twitter
    assert MITCHELL_SENTENCE in mitchell
    assert SOUTHWEST_SENTENCE in southwest and MITCHELL_SENTENCE not in southwest


def test_a_message_with_nothing_to_ask_about_gets_a_prompt(workdir: Path) -> None:
    replies = chat(workdir, GLOBES, "👍", "🎉🎉🎉", "x" * 4096, "What are the latest news?")
    assert GLOBES_SENTENCE in replies[0]
    for reply in replies[1:]:
        assert GLOBES_SENTENCE not in reply and "Sources" not in reply
    assert all(ASK_SOMETHING in r for r in replies[1:4])
    assert "Which topic" in replies[4]


def test_a_pronoun_with_no_one_to_refer_to_asks_who_is_meant(workdir: Path) -> None:
    first, reset, doctors = chat(workdir, MITCHELL, "/reset", "What did his doctors say?")
    assert MITCHELL_SENTENCE in first and "forgotten" in reset
    assert f"{WHO} “his”?" in doctors and HAMLIN_SENTENCE not in doctors


def test_follow_ups_still_lean_on_the_previous_turn(workdir: Path) -> None:
    michaeli, army_radio = chat(workdir, "Who is Ephraim Michaeli?", "What did he tell Army Radio?")
    assert "military attache" in michaeli
    assert "The Russians admire Israel in this sphere" in army_radio


def test_chat_commands_are_not_questions(workdir: Path) -> None:
    help_text, unknown = chat(workdir, "/help", "/foo")
    assert "/reset" in help_text and "/quit" in help_text and "Sources" not in help_text
    assert unknown.strip().splitlines() == ["Unknown command /foo; /help lists the commands."]


def test_and_who_else_tells_what_the_answer_did_not(workdir: Path) -> None:
    winner, others, more = chat(
        workdir, "Who won the Nordic Song Prize?", "and who else?", "any others?"
    )
    assert "Mara Lind won the Nordic Song Prize" in winner
    assert "Kettu Aalto" in others and "Mara Lind won" not in others
    assert "nothing more" in more and "Kettu Aalto" not in more and "Mara Lind won" not in more


def test_when_was_that_gives_the_date_of_what_was_said(workdir: Path) -> None:
    winner, when = chat(workdir, "Who won the Nordic Song Prize?", "when was that?")
    assert "Mara Lind won" in winner
    # "on Saturday night" in the paper of Sunday, February 5
    assert "Saturday, February 4, 2023" in when and "[1]" in when
    assert "Mara Lind won the Nordic Song Prize on Saturday night" in when  # the quote
    assert "Mara Lind won the Nordic Song Prize on Saturday" not in when.split("Sources")[0]


def test_a_question_naming_its_subject_is_not_merged_though_it_has_a_pronoun(
    workdir: Path,
) -> None:
    mitchell, age, funeral, when = chat(
        workdir,
        MITCHELL,
        "How old was Walter Haines when he died?",
        "Who spoke at his funeral?",
        "when was that?",
    )
    assert MITCHELL_SENTENCE in mitchell
    assert "He was 87" in age and MITCHELL_SENTENCE not in age
    assert "Ruth Calloway" in funeral and "don't answer" not in funeral
    assert "Friday, January 20, 2023" in when  # the funeral's day, not the death's


def test_a_song_named_only_in_the_title_is_answered_from_it(workdir: Path) -> None:
    _, song = chat(workdir, "Who won the Nordic Song Prize?", "What song did she sing?")
    body, sources = song.split("Sources")
    assert "\u201cGlass Harbour\u201d" in body and "[1]" in body
    # the quote under the title is still a sentence of the article
    assert "Mara Lind won the Nordic Song Prize on Saturday night" in sources
