"""Right or silent (issue #13): the grounding check on a dev set of model answers.

A capable chat model can't run here, so the scripted OpenAI-compatible server on
127.0.0.1 stands in for one: to each dev-set question it gives a hosted model's answer,
faithful or dishonest (tests/data/grounding/answers.jsonl), over real HTTP through the
real openai provider. Everything else is real: the dev set's articles ingested with
`ingest_paths`, the packaged embedding model, Chroma in a temp dir, retrieval, the
prompt and the grounding check. Every question is asked once, through `service.ask`;
each test checks one goal of the issue on those answers. An item whose cited article
was not retrieved is left out of the goals and counted by the sanity test.

Run with -s for a table of kept and replaced answers per kind.
"""

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness.devset import ARTICLES, DevItem, load_items, load_titles, scripted_reply
from harness.llm_server import ScriptedLLM

from bot.answer import Answer
from bot.config import Settings, load_settings
from bot.service import AnsweringService
from index.ingest.pipeline import ingest_paths
from index.sentences import sentence_spans

GOOD_KEPT = 0.90  # the goal
# What the grounding check reaches today, held as a floor so it can't slip unnoticed.
# The goals (no invented answer shown, 90% of good ones kept) are missed: a role or
# figure stated far from its holder, or invented words under the support share, get
# through, and facts spread over 3+ sentences are refused; see the xfail tests below and
# benchmarks/grounding.py for the held-out half of this set.
INVENTED_SHOWN_AT_MOST = 8
GOOD_KEPT_AT_LEAST = 0.85
RETRIEVED = 0.95
_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Outcome:
    """One dev-set item, the answer newsbot gave, and whether the model saw its articles."""

    item: DevItem
    answer: Answer
    retrieved: bool  # the model was asked, and every article it cites was among the blocks


@dataclass(frozen=True)
class DevRun:
    """The service that answered, and every item's outcome by id."""

    service: AnsweringService = field(repr=False)
    outcomes: dict[str, Outcome] = field(repr=False)
    unmatched: list[str] = field(repr=False)

    def judged(self, label: str) -> list[Outcome]:
        """The outcomes of a label whose articles were retrieved."""
        return [o for o in self.outcomes.values() if o.item.label == label and o.retrieved]


def devset_settings(tmp: Path, base_url: str) -> Settings:
    """The built-in defaults (no ./config.yaml, no NEWSBOT_*), in LLM mode on the server."""
    empty = tmp / "config.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("NEWSBOT_")]:
            env.delenv(key)
        base = load_settings(empty, data_dir=tmp / "data")
    llm = base.llm.model_copy(
        update={"provider": "openai", "base_url": base_url, "model": "scripted", "timeout_s": 30}
    )
    answer = base.answer.model_copy(update={"mode": "llm"})
    return base.model_copy(update={"llm": llm, "answer": answer})


@pytest.fixture(scope="module")
def devset(tmp_path_factory: pytest.TempPathFactory) -> DevRun:
    """Ask every dev-set question once, and print the per-kind table."""
    titles = load_titles()
    items = load_items(titles=titles)
    reply = scripted_reply(items, titles)
    with ScriptedLLM(reply) as llm:
        settings = devset_settings(tmp_path_factory.mktemp("grounding-devset"), llm.base_url)
        report = ingest_paths(settings, [ARTICLES])
        assert not report.problems, report.problems
        service = AnsweringService.open(settings, mode="llm")
        answers = {item.id: service.ask(item.question) for item in items}
    outcomes = {
        item.id: Outcome(
            item,
            answers[item.id],
            retrieved=item.id in reply.asked and item.id not in reply.missed,
        )
        for item in items
    }
    run = DevRun(service, outcomes, reply.unmatched)
    print(f"\n{per_kind_table(run)}")
    return run


def per_kind_table(run: DevRun) -> str:
    """Kept (shown as the LLM's answer) and replaced answers, per label and kind."""
    rows = [["label", "kind", "items", "not retrieved", "kept", "replaced", "abstained"]]
    groups = Counter((o.item.label, o.item.kind) for o in run.outcomes.values())
    for label, kind in sorted(groups, key=lambda g: (g[0] != "good", g[0], g[1])):
        group = [o for o in run.outcomes.values() if (o.item.label, o.item.kind) == (label, kind)]
        seen = [o for o in group if o.retrieved or not o.item.cites]
        kept = sum(o.answer.mode == "llm" for o in seen)
        missed = str(len(group) - len(seen)) if label != "idk" else "-"
        abstained = sum(o.answer.abstained for o in seen)
        rows.append([label, kind, str(len(group)), missed, str(kept), str(len(seen) - kept)])
        rows[-1].append(str(abstained))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def _shown_invented(devset: DevRun) -> tuple[list[str], str]:
    shown = [o for o in devset.judged("invented") if o.answer.mode == "llm"]
    details = "\n".join(f"  {o.item.id} ({o.item.kind}): {_body(o.answer)!r}" for o in shown)
    return [o.item.id for o in shown], details


def _kept_good(devset: DevRun) -> tuple[float, str]:
    good = devset.judged("good")
    replaced = [o for o in good if o.answer.mode != "llm"]
    details = "\n".join(
        f"  {o.item.id}: {o.answer.grounding.reason if o.answer.grounding else o.answer.notice}"
        for o in replaced
    )
    return 1 - len(replaced) / len(good), f"{len(good)} good answers; replaced:\n{details}"


@pytest.mark.xfail(strict=True, reason="goal missed: role swaps within a passage get through")
def test_no_invented_answer_is_shown_as_the_llm_answer(devset: DevRun) -> None:
    ids, details = _shown_invented(devset)
    assert not ids, f"{len(ids)} invented answers shown as LLM answers: {ids}\n{details}"


def test_invented_answers_shown_stay_at_most_todays(devset: DevRun) -> None:
    ids, details = _shown_invented(devset)
    assert len(ids) <= INVENTED_SHOWN_AT_MOST, f"{len(ids)} shown: {ids}\n{details}"


@pytest.mark.xfail(strict=True, reason="goal missed: facts spread over 3+ sentences are refused")
def test_good_answers_are_kept(devset: DevRun) -> None:
    kept, details = _kept_good(devset)
    assert kept >= GOOD_KEPT, f"{kept:.0%} kept (want {GOOD_KEPT:.0%}) of {details}"


def test_good_answers_kept_stay_at_least_todays(devset: DevRun) -> None:
    kept, details = _kept_good(devset)
    assert kept >= GOOD_KEPT_AT_LEAST, f"{kept:.0%} kept of {details}"


def test_idk_answers_end_as_abstentions(devset: DevRun) -> None:
    wrong: list[Outcome] = []
    for outcome in (o for o in devset.outcomes.values() if o.item.label == "idk"):
        answer, question = outcome.answer, outcome.item.question
        chunks = devset.service.retrieve(question, k=devset.service.settings.retrieval.k)
        quoted = [
            sentence
            for chunk in chunks
            for start, end in sentence_spans(chunk.page_content)
            if len(sentence := chunk.page_content[start:end].strip()) > 20
            and sentence in answer.text
        ]
        if not answer.abstained or answer.citations or _MARKER.search(answer.text) or quoted:
            wrong.append(outcome)
    ids = [o.item.id for o in wrong]
    details = "\n".join(f"  {o.item.id} ({o.answer.mode}): {_body(o.answer)!r}" for o in wrong)
    assert not ids, f"{len(ids)} idk answers did not end as abstentions: {ids}\n{details}"


def test_dev_set_articles_are_retrieved(devset: DevRun) -> None:
    """Sanity of the test data: the model saw the articles its answers cite."""
    assert not devset.unmatched, f"prompts matching no dev-set question: {devset.unmatched}"
    failed = [o.item.id for o in devset.outcomes.values() if _llm_failed(o.answer)]
    assert not failed, f"the scripted model's request failed for {failed}"
    citing = [o for o in devset.outcomes.values() if o.item.cites]
    missed = [o.item.id for o in citing if not o.retrieved]
    share = 1 - len(missed) / len(citing)
    assert share >= RETRIEVED, f"{share:.0%} of items had their articles retrieved; not: {missed}"


def _body(answer: Answer) -> str:
    """The answer text without the dates footer."""
    return answer.text.removesuffix(answer.dates).rstrip()


def _llm_failed(answer: Answer) -> bool:
    return bool(answer.notice and answer.notice.startswith("LLM failed"))
