"""What matching 1,000 chats' watches costs, against the refresh that brought the articles.

    python benchmarks/watch_cost.py                    # 300 + 50 articles, 1,000 chats
    python benchmarks/watch_cost.py --base 1000 --refresh 50 --chats 2000 --runs 5

In a temporary data directory, through `ingest_paths` (the only way into the index):

1. **existing index**: the `--base` articles of RealTime QA 2023 that precede the
   refresh by date (the encoder is loaded here, as it is in the long-running bot);
2. **watches**: `--chats` chats with 1-3 watches each (seeded), saved with
   `Subscriptions.add_watch` and embedded one by one as /watch does it (the query
   encoder, then `store_vectors`): timed apart, since it happens when users set
   watches, not on a refresh. The phrases: the 29 labelled watches (benchmarks/
   watch_labels.jsonl), each set by several chats, and names (runs of capitalised
   words) and 2-4-word phrases taken from the corpus's titles, mostly distinct;
3. **refresh**: the `--refresh` newest dated articles, ingested the same way (embedding,
   Chroma writes, BM25 rebuild: the whole call), then the bot's index reload;
4. **matching**: `plan_alerts(data, report.added)`, the whole path the bot runs after an
   ingest (every chat's watches read from SQLite, matched, grouped into stories per
   chat, claimed), `--runs` times with the claims table emptied before each, so no run
   finds the alerts claimed already. The median run's seconds, split into reading the
   arrivals, scoring (`article_scores`), the best sentence of each match (it embeds
   that chunk's sentences), and story grouping + claims, by timers wrapped around them.
   Then a what-if, not what ships: the same runs with every sentence text embedded once
   per `plan_alerts` (a memo around the encoder), to size the fix for the best-sentence
   cost (`--what-if-runs`, 0 to skip).

Printed: ingest seconds of the refresh, matching seconds, their ratio, and how many
alerts were planned. The machine is shared: compare the ratio, not the seconds.
"""

import argparse
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from report import print_table

HERE = Path(__file__).resolve().parent
DEFAULT_ARTICLES = HERE.parent.parent / "shared/eval/realtimeqa-2023-articles/articles.jsonl"
DEFAULT_LABELS = HERE / "watch_labels.jsonl"
_NAME = re.compile(r"\b[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,2}\b")  # 2-3 capitalised words
_WORD = re.compile(r"[A-Za-z][\w'-]*")


class Timers:
    """Seconds spent in wrapped functions, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Time every call of `owner.attribute` under `name`."""
        function: Callable[..., Any] = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(owner, attribute, timed)


class Sentences:
    """The query encoder's `embed_documents`, counting texts; with `memo`, each text once."""

    def __init__(self, embed: Callable[[list[str]], list[list[float]]]) -> None:
        self.embed = embed
        self.memo: dict[str, list[float]] | None = None
        self.asked = self.embedded = 0

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.asked += len(texts)
        if self.memo is None:
            self.embedded += len(texts)
            return self.embed(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.embed(missing), strict=True))
            self.embedded += len(missing)
        return [self.memo[t] for t in texts]


def read_articles(path: Path, base: int, refresh: int) -> tuple[list[Any], list[Any], list[str]]:
    """The existing articles, the refresh (the newest dated ones), and every title."""
    from index.articles import Article
    from index.ingest.loaders import load_file

    loaded = [a for a in load_file(path, 1 << 40) if isinstance(a, Article)]
    dated = sorted((a for a in loaded if a.date), key=lambda a: (a.date, a.id))
    chosen = dated[-(base + refresh) :]
    return chosen[:base], chosen[base:], [a.title for a in loaded]


def phrases(titles: list[str], labelled: list[str], count: int, seed: int) -> list[str]:
    """`count` watch phrases: a tenth drawn from the labelled watches, the rest from titles.

    Up to three fifths of the rest are names (2-3 capitalised words in a row), the
    others 2-4-word spans of title words that neither start nor end with a stop word.
    """
    from index.terms import STOP_WORDS, terms

    names, spans = set(), set()
    for title in titles:
        title = title.split(" | ")[0]  # "... | CNN Politics"
        names.update(m.group(0) for m in _NAME.finditer(title))
        words = _WORD.findall(title)
        for n in (2, 3, 4):
            for i in range(len(words) - n + 1):
                span = words[i : i + n]
                if span[0].lower() not in STOP_WORDS and span[-1].lower() not in STOP_WORDS:
                    spans.add(" ".join(span).lower())
    rng = random.Random(seed)
    popular = [rng.choice(labelled) for _ in range(count // 10)]
    rest = count - len(popular)
    known = sorted(n for n in names if terms(n))
    named = rng.sample(known, min(len(known), rest * 3 // 5))
    spanned = rng.sample(sorted(s for s in spans if terms(s)), rest - len(named))
    chosen = popular + named + spanned
    rng.shuffle(chosen)
    return chosen


def run(args: argparse.Namespace, scratch: Path) -> list[tuple[str, str]]:
    """Every phase, timed; the table rows."""
    from bot.config import load_settings
    from bot.state import StateStore, Subscriptions, default_url, open_database
    from bot.telegram import alerts
    from bot.telegram.state import BotData
    from bot.telegram.watches import _embed  # what /watch runs once the watch is saved
    from index.ingest.pipeline import ingest_paths
    from index.search import watches

    settings = load_settings(args.config, data_dir=scratch / "index")
    base, refresh, titles = read_articles(args.articles, args.base, args.refresh)
    start = time.perf_counter()
    existing = ingest_paths(settings, [], None, base)
    base_s = time.perf_counter() - start
    data = BotData()
    data.settings = settings
    data.state = StateStore(open_database(default_url(scratch / "state.sqlite3")))
    data.subscriptions = Subscriptions(data.state)
    data.service()  # open, as in the running bot

    labelled = [json.loads(line)["watch"] for line in args.labels.read_text().splitlines()[1:]]
    rng = random.Random(args.seed)
    per_chat = [rng.randint(1, 3) for _ in range(args.chats)]
    words = iter(phrases(titles, labelled, sum(per_chat), args.seed))
    start = time.perf_counter()
    for chat_id, n in enumerate(per_chat, 1):
        for _ in range(n):
            phrase = next(words)
            number = data.subscriptions.add_watch(chat_id, phrase, settings.watch.max_per_chat)
            _embed(data, chat_id, number, phrase)
    set_s = time.perf_counter() - start
    saved = data.subscriptions.watches()

    start = time.perf_counter()
    report = ingest_paths(settings, [], None, refresh)
    ingest_s = time.perf_counter() - start
    start = time.perf_counter()
    data.reload_index()
    reload_s = time.perf_counter() - start

    timers = Timers()
    timers.wrap(data.subscriptions, "watches", "read watches (SQLite)")
    timers.wrap(alerts, "read_arrivals", "read_arrivals")
    timers.wrap(watches, "article_scores", "scoring (article_scores)")
    timers.wrap(watches, "best_sentence", "best sentence per match")
    timers.wrap(alerts, "_plan_chat", "story grouping + claims")
    embeddings = data.service().retriever.embeddings
    sentences = Sentences(embeddings.embed_documents)
    embeddings.embed_documents = sentences  # type: ignore[method-assign]
    measured = {"as shipped": measure(data, report.added, timers, sentences, args.runs, False)}
    if args.what_if_runs:
        measured["what-if: each sentence embedded once per ingest"] = measure(
            data, report.added, timers, sentences, args.what_if_runs, True
        )
    shipped = measured["as shipped"]
    plans = shipped["plans"]
    rows = [
        ("existing index", f"{existing.new} articles, {existing.chunks} chunks ({base_s:.0f} s)"),
        (
            "watches",
            f"{len(saved)} in {args.chats} chats, {len({w.words for w in saved})} distinct; "
            f"set and embedded as /watch does: {set_s:.1f} s, "
            f"{1000 * set_s / len(saved):.1f} ms a watch (not on a refresh)",
        ),
        (
            "refresh ingest",
            f"{report.new} new articles, {report.chunks} chunks: {ingest_s:.1f} s "
            f"(then index reload {reload_s:.2f} s)",
        ),
        (
            "alerts planned",
            f"{sum(len(p.alerts) for p in plans)} to {len(plans)} chats "
            f"(+{sum(p.more for p in plans)} in 'and N more') from {shipped['matches']} "
            "matching (watch, article) pairs",
        ),
    ]
    for name, figures in measured.items():
        total = figures["seconds"]
        rows += [
            (
                f"matching, {name}",
                f"{total:.2f} s, median of {figures['runs']}; "
                f"{figures['embedded']} sentences embedded",
            ),
            ("  ratio matching / refresh ingest", f"{total / ingest_s:.3f}"),
        ]
        for part, seconds in figures["parts"].items():
            rows.append((f"  {part}", f"{seconds:.3f} s ({100 * seconds / total:.0f}%)"))
        rows.append(("  the rest", f"{total - sum(figures['parts'].values()):.3f} s"))
    return rows


def measure(
    data: Any, ids: list[str], timers: Timers, sentences: Sentences, runs: int, memo: bool
) -> dict[str, Any]:
    """`plan_alerts` `runs` times, the claims emptied before each: medians and parts.

    With `memo`, each sentence text is embedded once per run (the what-if).
    """
    from bot.telegram import alerts

    totals, parts, plans = [], [], []
    for _ in range(runs):
        with data.state.transaction() as db:
            db.exec_driver_sql("DELETE FROM alerted")
            db.exec_driver_sql("DELETE FROM outbox")
        timers.seconds, timers.calls = {}, {}
        sentences.memo = {} if memo else None
        sentences.embedded = 0
        start = time.perf_counter()
        plans = alerts.plan_alerts(data, ids)
        totals.append(time.perf_counter() - start)
        parts.append(dict(timers.seconds))
    middle = totals.index(statistics.median_low(totals))  # its parts add up to its total
    return {
        "seconds": totals[middle],
        "runs": ", ".join(f"{t:.2f}" for t in totals),
        "parts": parts[middle],
        "plans": plans,
        "matches": timers.calls.get("best sentence per match", 0),
        "embedded": sentences.embedded,
    }


def main() -> None:
    """Build the index, set the watches, time a refresh and the matching; print it all."""
    args = _parse_args()
    from bot import main as entry

    for key, value in entry.QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    with tempfile.TemporaryDirectory(prefix="newsbot-watch-cost-") as scratch:
        rows = run(args, Path(scratch))
    print_table(
        f"watch matching against a refresh ({args.chats} chats, {args.refresh} new articles)",
        rows,
    )


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES, help="articles.jsonl")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="watch labels")
    parser.add_argument("--config", type=Path, help="newsbot config (default: ./config.yaml)")
    parser.add_argument("--base", type=int, default=300, help="articles already in the index")
    parser.add_argument("--refresh", type=int, default=50, help="articles the refresh brings")
    parser.add_argument("--chats", type=int, default=1000, help="chats with watches")
    parser.add_argument("--runs", type=int, default=3, help="timed plan_alerts runs of each kind")
    parser.add_argument(
        "--what-if-runs", type=int, default=1, help="timed runs with sentences embedded once"
    )
    parser.add_argument("--seed", type=int, default=14)
    return parser.parse_args()


if __name__ == "__main__":
    main()
