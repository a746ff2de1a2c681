"""The grounding dev set: original articles, scripted model answers, and the reply that serves them.

tests/data/grounding/articles.jsonl  the articles, one ingestible JSON record a line
tests/data/grounding/answers.jsonl   one scripted answer a line: {id, question, answer, label, kind}

An answer cites articles as `[[doc_id]]`, because block numbers depend on retrieval
order. `ScriptedReply`, the `Reply` a `ScriptedLLM` plays, finds the item whose question
is in the prompt and turns each `[[doc_id]]` into the `[n]` of the <source> block(s)
titled with that article's title; when retrieval missed the article it writes `[99]`
(no such block) and records the item in `missed`, so a test can set it aside instead
of judging the grounding check on it.

Used by tests/test_grounding_devset.py and benchmarks/answers.py (imported by path):
no pytest here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "grounding"
ARTICLES = DATA / "articles.jsonl"
ANSWERS = DATA / "answers.jsonl"
MISSING_BLOCK = 99  # the block number written for an article retrieval missed

KINDS: dict[str, tuple[str, ...]] = {
    "good": ("paraphrase", "combined"),
    "invented": (
        "swapped_name",
        "swapped_place",
        "swapped_number",
        "swapped_quote",
        "restated_plus_invented",
        "wrong_citation",
        "outside_knowledge",
    ),
    "idk": ("no_answer",),
}

_ARTICLE_CITE = re.compile(r"\[\[([^\[\]]+)\]\]")
_SOURCE_TAG = re.compile(r"<source\b[^>]*?\bid=\"(\d+)\"[^>]*?\btitle=\"([^\"]*)\"")


@dataclass(frozen=True)
class DevItem:
    """One scripted model answer to one question, labelled good, invented or idk."""

    id: str
    question: str
    answer: str
    label: str
    kind: str

    @property
    def cites(self) -> list[str]:
        """The doc_ids the answer cites, in order of first citation."""
        return list(dict.fromkeys(_ARTICLE_CITE.findall(self.answer)))


def load_titles(path: Path = ARTICLES) -> dict[str, str]:
    """doc_id -> title of every dev-set article."""
    titles: dict[str, str] = {}
    for record in _records(path):
        if record["title"] in titles.values():
            raise ValueError(f"{path}: two articles titled {record['title']!r}")
        titles[record["doc_id"]] = record["title"]
    return titles


def load_items(path: Path = ANSWERS, titles: Mapping[str, str] | None = None) -> list[DevItem]:
    """The dev set, checked: unique ids and questions, known labels, kinds and articles."""
    known = load_titles() if titles is None else titles
    items = [DevItem(**record) for record in _records(path)]
    for n, item in enumerate(items, 1):
        where = f"{path}:{n} ({item.id})"
        if item.kind not in KINDS.get(item.label, ()):
            raise ValueError(f"{where}: kind {item.kind!r} is not one of label {item.label!r}")
        if unknown := [d for d in item.cites if d not in known]:
            raise ValueError(f"{where}: cites unknown articles {unknown}")
        if bool(item.cites) == (item.label == "idk"):
            raise ValueError(f"{where}: good and invented answers cite, idk answers don't")
    for attribute in ("id", "question"):
        values = [getattr(item, attribute) for item in items]
        if repeated := sorted({v for v in values if values.count(v) > 1}):
            raise ValueError(f"{path}: repeated {attribute}s {repeated}")
    return items


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@dataclass
class ScriptedReply:
    """A `Reply` for ScriptedLLM: the asked item's answer, citing the prompt's blocks."""

    items: Sequence[DevItem]
    titles: Mapping[str, str]
    asked: set[str] = field(default_factory=set)  # ids of the items the model was asked
    missed: dict[str, list[str]] = field(default_factory=dict)  # id -> cited, not in blocks
    unmatched: list[str] = field(default_factory=list)  # questions of no item

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        prompt = next(str(m["content"]) for m in reversed(messages) if m["role"] == "user")
        item = self.item_for(prompt)
        self.asked.add(item.id)
        text, missed = resolve(item.answer, prompt, self.titles)
        if missed:
            self.missed[item.id] = missed
        return text

    def item_for(self, prompt: str) -> DevItem:
        """The item whose question is in the prompt (the longest, if several are)."""
        found = [item for item in self.items if item.question in prompt]
        if not found:
            self.unmatched.append(prompt)
            tail = prompt[-300:]
            raise LookupError(f"no dev-set question is in the prompt; it ends: {tail!r}")
        return max(found, key=lambda item: len(item.question))


def scripted_reply(
    items: Sequence[DevItem], titles: Mapping[str, str] | None = None
) -> ScriptedReply:
    """The reply of a scripted model that gives each item's answer to its question."""
    return ScriptedReply(items, load_titles() if titles is None else titles)


def resolve(answer: str, prompt: str, titles: Mapping[str, str]) -> tuple[str, list[str]]:
    """The answer citing block numbers, and the cited doc_ids that no block holds.

    An article in several blocks (several of its chunks retrieved) is cited as `[2, 5]`.
    """
    blocks: dict[str, list[str]] = {}
    for n, title in _SOURCE_TAG.findall(prompt):
        blocks.setdefault(html.unescape(title), []).append(n)
    missed: list[str] = []

    def number(match: re.Match[str]) -> str:
        numbers = blocks.get(titles[match.group(1)])
        if not numbers:
            missed.append(match.group(1))
            return f"[{MISSING_BLOCK}]"
        return f"[{', '.join(numbers)}]"

    return _ARTICLE_CITE.sub(number, answer), list(dict.fromkeys(missed))
