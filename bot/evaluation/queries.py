"""The labelled files of `newsbot eval`: a corpus and its questions, checked line by line.

Corpus lines are articles (`doc_id`, `text`, optional `title/date/url/source`); query
lines are `{question_id, question, question_date?, answers?, gold_doc_ids?}`.
"""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from index.errors import NewsbotError
from index.ingest.metadata import parse_date


class EvalInputError(NewsbotError):
    """An evaluation file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Query:
    """One labelled question."""

    id: str
    question: str
    as_of: date | None
    answers: list[str]
    gold: list[str]


def read_corpus_ids(path: Path) -> set[str]:
    """The doc ids in a corpus file, checking every line is a usable record."""
    ids: set[str] = set()
    for lineno, record in _json_lines(path):
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise EvalInputError(f"{path}:{lineno}: missing or empty 'text' field")
        if not isinstance(record.get("doc_id"), str | int):
            raise EvalInputError(f"{path}:{lineno}: missing 'doc_id'")
        ids.add(str(record["doc_id"]))
    if not ids:
        raise EvalInputError(f"{path}: the corpus is empty")
    return ids


def read_queries(path: Path, corpus_ids: set[str]) -> list[Query]:
    """The queries, checking that every gold document is in the corpus."""
    queries = []
    for lineno, record in _json_lines(path):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise EvalInputError(f"{path}:{lineno}: missing or empty 'question' field")
        gold = [str(g) for g in record.get("gold_doc_ids") or []]
        missing = [g for g in gold if g not in corpus_ids]
        if missing:
            raise EvalInputError(
                f"{path}:{lineno}: gold doc id '{missing[0]}' is not in the corpus"
            )
        raw_date = record.get("question_date")
        as_of = parse_date(str(raw_date), dayfirst=False) if raw_date else None
        answers = record.get("answers") or []
        queries.append(
            Query(
                id=str(record.get("question_id", lineno)),
                question=question.strip(),
                as_of=date.fromisoformat(as_of[:10]) if as_of else None,
                answers=[str(a) for a in (answers if isinstance(answers, list) else [answers])],
                gold=gold,
            )
        )
    if not queries:
        raise EvalInputError(f"{path}: no queries")
    return queries


def _json_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: can't read ({exc})") from None
    records = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise EvalInputError(f"{path}:{lineno}: expected a JSON object")
        records.append((lineno, record))
    return records
