"""Scripted conversations: how many turns of multi-turn dialogues come out right.

    python benchmarks/conversations.py --data-dir DIR [--set benchmarks/conversations.jsonl]
        [--mode extractive|llm] [--details]

Each line of the set is one dialogue, `{id, as_of, turns: [{q, expect_any?, expect?}]}`,
written as users type them over realtimeqa-2023-articles (ids, questions and judgements
only; no article text). Every dialogue runs in a fresh conversation through the same
calls as `newsbot chat` (clarification, then `AnsweringService.stream` with the
conversation), as of its `as_of` day, against an index of the articles built once with
`newsbot ingest --data-dir DIR .../articles.jsonl`.

A turn is right when:
- `expect_any`: the answer, without its dated footer, contains one of the strings
  (case-insensitive); for "more" turns it must also repeat no sentence quoted before;
- `expect: "abstain"`: the answer says the articles don't answer it (or asks who is meant);
- `expect: "more"` alone ("and who else?"): it says there is nothing more, or quotes only
  sentences that no earlier answer of the dialogue quoted.
"""

import argparse
import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run the set and print the right turns, overall and by kind of turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="index of the articles")
    parser.add_argument("--set", type=Path, default=HERE / "conversations.jsonl")
    parser.add_argument("--mode", choices=["extractive", "llm"], default=None)
    parser.add_argument("--details", action="store_true", help="print every turn")
    args = parser.parse_args()

    from bot.config import load_settings
    from bot.service import AnsweringService
    from index.search.retriever import TimeScope

    service = AnsweringService.open(load_settings(data_dir=args.data_dir), args.mode)
    dialogues = [json.loads(line) for line in args.set.read_text("utf-8").splitlines() if line]
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    whole = 0
    for dialogue in dialogues:
        scope = TimeScope(as_of=date.fromisoformat(dialogue["as_of"]))
        conversation = service.new_conversation()
        quoted: set[str] = set()
        all_right = True
        for turn in dialogue["turns"]:
            reply, abstained, sentences = _reply(service, conversation, turn["q"], scope)
            ok = judge(turn, reply, abstained, sentences, quoted)
            kind = _kind(turn)
            total[kind] += 1
            right[kind] += ok
            all_right &= ok
            quoted |= sentences
            if args.details:
                mark = "ok " if ok else "BAD"
                print(f"{mark} {dialogue['id']:18} {turn['q']}\n      {_one_line(reply)[:220]}")
        whole += all_right
    n = sum(total.values())
    print(f"conversations: {len(dialogues)} dialogues, {n} turns, mode {service.mode}")
    print(f"turns right: {sum(right.values())}/{n} ({sum(right.values()) / n:.1%})")
    for kind in sorted(total):
        print(f"  {kind:9} {right[kind]}/{total[kind]}")
    print(f"dialogues entirely right: {whole}/{len(dialogues)}")


def _reply(service: Any, conversation: Any, line: str, scope: Any) -> tuple[str, bool, set[str]]:
    """What `newsbot chat` answers to one line: its text, whether it abstains, its quotes."""
    from bot.answer import Answer

    question = " ".join(line.split())
    prompt = conversation.clarification(question)
    if prompt is not None:
        return prompt, True, set()
    final: Answer | None = None
    for item in service.stream(question, conversation, scope):
        if isinstance(item, Answer):
            final = item
    assert final is not None
    sentences = {_words(q.snippet) for c in final.citations for q in c.quoted()}
    return final.body, final.abstained, sentences


def judge(
    turn: dict[str, Any], reply: str, abstained: bool, sentences: set[str], quoted: set[str]
) -> bool:
    """Whether the reply is right for the turn (see the module docstring)."""
    expect = turn.get("expect")
    wanted = turn.get("expect_any")
    if expect == "abstain":
        return abstained
    if expect == "more":
        repeats = bool(sentences & quoted)
        if wanted:
            return not abstained and not repeats and _contains(reply, wanted)
        return abstained or not repeats
    return not abstained and _contains(reply, wanted or [])


def _kind(turn: dict[str, Any]) -> str:
    if turn.get("expect") in {"more", "abstain"}:
        return str(turn["expect"])
    if re.match(r"^\W*(?:and\s+)?when\b.{0,25}$", turn["q"], re.I):
        return "when"
    return "answer"


def _contains(reply: str, wanted: list[str]) -> bool:
    text = _folded(reply)
    return any(_folded(w) in text for w in wanted)


def _folded(text: str) -> str:
    return text.casefold().replace("\u2019", "'")


def _words(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.casefold()))


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
