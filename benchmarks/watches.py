"""Watches: the alert threshold measured on hand-labelled watches, and scorer variants.

    python benchmarks/watches.py                       # /work/bench-data/articles
    python benchmarks/watches.py --target 0.91 --data-dir DIR --labels FILE

`benchmarks/watch_labels.jsonl` judges, for 29 watches over RealTime QA 2023, whether
each pooled article is about the watch (its header line gives the rule). Every labelled
(watch, article) pair is scored with the production scorer: the index's articles are
read as arrivals (`read_arrivals`) and scored by `article_scores` with the index's BM25
and `watch.lexical_weight`, the watches embedded by the service's query encoder as the
bot embeds them at /watch time. An article's score depends only on its own chunks
and the index-wide BM25, so scoring all 1,466 at once gives the labelled pairs the
scores they would get as new arrivals, and also serves the unpooled check. It prints:

- the sweep: per threshold, alerts, micro precision and recall over every judgement,
  alerts of the three watches nothing in the corpus is about (over the whole index),
  and unlabelled articles at or above it (where the pools run out);
- the threshold with the highest recall at precision >= `--target`, and held-out
  figures: leave one watch out, choose the threshold on the other 28, apply it to the
  29th, pool the 29 results;
- variants of the scorer, each with its threshold, figures and held-out figures (a
  variant with fitted constants is refitted on the 28 watches of each fold), alerts of
  the absent watches and unlabelled articles at or above its threshold;
- production and the scorer first shipped (`FIRST`: the article's best chunk with
  retrieval's lexical weight 0.2) with the threshold chosen at precision 0.90-0.93:
  choosing just at the target leaves the held-out precision a little under it;
- per-watch precision and recall: first shipped at its chosen threshold, production at
  the configured `watch.min_score`;
- the unpooled check: every unlabelled article at or above any variant's threshold,
  for labelling by hand (same rule; appended to the labels file, listed under the
  watch's `added_by`), so precision isn't measured only inside the pools.

The index is copied to a temporary directory first, so the shared copy is never opened
for writing. Titles are printed, never stored.
"""

import argparse
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from report import print_table

HERE = Path(__file__).resolve().parent
DEFAULT_ARTICLES = HERE.parent.parent / "shared/eval/realtimeqa-2023-articles/articles.jsonl"
DEFAULT_DATA_DIR = Path("/work/bench-data/articles")
DEFAULT_LABELS = HERE / "watch_labels.jsonl"
SWEEP = np.round(np.arange(0.40, 0.901, 0.02), 2)
GRID = np.round(np.arange(0.0, 2.0, 0.005), 3)  # where thresholds are chosen
FIRST = "best chunk, w 0.2 (as first shipped)"
MARGINS = (0.90, 0.91, 0.92, 0.93)  # precision targets the margin table chooses at


@dataclass
class Bench:
    """Every watch against every article: chunk scores, features and the labels."""

    name: str  # the production scorer's, from its constants
    watches: list[str]
    ids: list[str]  # article ids, in the score matrices' column order
    starts: np.ndarray  # each article's first chunk
    cosine: np.ndarray  # (watches, chunks)
    bm25: np.ndarray  # (watches, chunks): BM25 over the watch's best in the index
    production: np.ndarray  # (watches, articles): article_scores
    coverage: np.ndarray  # (watches, articles): idf share of the watch's terms present
    title: np.ndarray  # (watches, articles): cosine of the watch to the title alone
    watch_of: np.ndarray  # per labelled pair
    article_of: np.ndarray
    about: np.ndarray

    @property
    def labelled(self) -> np.ndarray:
        """(watches, articles): whether the pair is judged."""
        out = np.zeros(self.production.shape, dtype=bool)
        out[self.watch_of, self.article_of] = True
        return out

    @property
    def absent(self) -> list[int]:
        """The watches no article is about."""
        return [w for w in range(len(self.watches)) if not self.about[self.watch_of == w].any()]

    def pairs(self, scores: np.ndarray) -> np.ndarray:
        """The labelled pairs' scores."""
        return scores[self.watch_of, self.article_of]

    def best(self, fused: np.ndarray, k: int) -> np.ndarray:
        """(watches, articles): the mean of each article's best `k` chunk scores."""
        if k == 1:
            return np.maximum.reduceat(fused, self.starts, axis=1)
        ends = [*self.starts[1:], fused.shape[1]]
        out = np.empty((fused.shape[0], len(self.starts)), dtype=np.float32)
        for a, (first, end) in enumerate(zip(self.starts, ends, strict=True)):
            out[:, a] = -np.sort(-fused[:, first:end], axis=1)[:, :k].mean(axis=1)
        return out


Variant = Callable[[Bench, np.ndarray], np.ndarray]  # (bench, watches to fit on) -> scores


def load(args: argparse.Namespace, scratch: Path) -> Bench:
    """Score every watch against every article of a copy of the index."""
    from collections import Counter

    from bot.config import load_settings
    from bot.service import AnsweringService
    from index.search.watches import BEST_OF, Topic, article_scores, read_arrivals
    from index.store.bm25 import open_lexical
    from index.terms import terms

    shutil.copytree(args.data_dir, scratch / "index", ignore=shutil.ignore_patterns("*.lock"))
    settings = load_settings(args.config, data_dir=scratch / "index")
    service = AnsweringService.open(settings)
    store, embeddings = service.store, service.retriever.embeddings
    lexical = open_lexical(store)
    arrivals = read_arrivals(store, sorted(store.articles()), lexical)
    records = [json.loads(line) for line in args.labels.read_text().splitlines()[1:]]
    watches = [r["watch"] for r in records]
    topics = [Topic(i, w, np.asarray(embeddings.embed_query(w))) for i, w in enumerate(watches)]
    weight = settings.watch.lexical_weight
    production = article_scores(arrivals, topics, lexical, weight).values
    queries = np.stack([t.vector / np.linalg.norm(t.vector) for t in topics]).astype(np.float32)
    cosine = queries @ np.stack([v for a in arrivals for v in a.vectors]).T
    rows = np.array([r for a in arrivals for r in a.rows])
    bm25 = np.zeros_like(cosine)
    for t, watch in enumerate(watches):
        wanted = [w for w in terms(watch) if w in lexical.bm25.vocab_dict]
        if wanted:
            scores = lexical.bm25.get_scores(wanted)
            bm25[t] = np.where(rows >= 0, scores[rows] / scores.max(), 0.0)
    titles = np.asarray(embeddings.embed_documents([a.article.title for a in arrivals]))
    title = queries @ (titles / np.linalg.norm(titles, axis=1, keepdims=True)).T.astype(np.float32)
    words = [set(terms(a.article.title)).union(*map(terms, a.texts)) for a in arrivals]
    df = Counter(w for present in words for w in present)
    coverage = np.zeros(production.shape, dtype=np.float32)
    for t, watch in enumerate(watches):
        idf = {w: np.log(1 + (len(words) - df[w] + 0.5) / (df[w] + 0.5)) for w in terms(watch)}
        total = sum(idf.values()) or 1.0
        for a, present in enumerate(words):
            coverage[t, a] = sum(v for w, v in idf.items() if w in present) / total
    position = {a.article.id: i for i, a in enumerate(arrivals)}
    judged = [
        (t, position[d], y) for t, r in enumerate(records) for d, y in r["judgements"].items()
    ]
    sizes = [len(a.vectors) for a in arrivals]
    return Bench(
        f"production: best {BEST_OF} chunks, w {weight}",
        watches,
        [a.article.id for a in arrivals],
        np.concatenate([[0], np.cumsum(sizes)[:-1]]),
        cosine,
        bm25,
        production,
        coverage,
        title,
        *(np.array(column) for column in zip(*judged, strict=True)),
    )


def fused(k: int, weight: float) -> Variant:
    """The mean of the article's best `k` chunks, cosine + `weight` * BM25 share."""
    return lambda b, fit: b.best(b.cosine + weight * b.bm25, k)


def recipe(target: float) -> Variant:
    """The best of k in 1-3 chunks and lexical weight in 0.2-1.0 on the fitted watches."""
    options = [fused(k, w) for k in (1, 2, 3) for w in (0.2, 0.3, 0.5, 0.8, 1.0)]

    def fitted(b: Bench, fit: np.ndarray) -> np.ndarray:
        pairs = np.isin(b.watch_of, np.flatnonzero(fit))
        scores = [option(b, fit) for option in options]
        return max(scores, key=lambda s: choose(b.pairs(s), b.about, pairs, target)[1])

    return fitted


def logistic(b: Bench, fit: np.ndarray) -> np.ndarray:
    """P(about) from best-2 cosine, best-2 BM25 share and idf coverage."""
    from sklearn.linear_model import LogisticRegression

    features = np.stack([b.best(b.cosine, 2), b.best(b.bm25, 2), b.coverage], axis=-1)
    pairs = np.isin(b.watch_of, np.flatnonzero(fit))
    x = features[b.watch_of, b.article_of]
    model = LogisticRegression(max_iter=5000).fit(x[pairs], b.about[pairs])
    flat = features.reshape(-1, features.shape[-1])
    return model.predict_proba(flat)[:, 1].reshape(features.shape[:2])


def variants(b: Bench, target: float) -> dict[str, Variant]:
    """The scorers compared, production first."""
    first = fused(1, 0.2)
    return {
        b.name: lambda b, fit: b.production,
        FIRST: first,
        "best chunk, w 0.5": fused(1, 0.5),
        "best chunk, w 1.0": fused(1, 1.0),
        "best chunk, w 0.2, rare terms (coverage >= 0.7)": lambda b, fit: np.where(
            b.coverage >= 0.7, first(b, fit), 0.0
        ),
        "best chunk, w 0.2, + 0.3 title cosine": lambda b, fit: first(b, fit) + 0.3 * b.title,
        "best 2 chunks, w 0.2": fused(2, 0.2),
        "best 2 chunks, w 0.4": fused(2, 0.4),
        "best 2 chunks, w 0.5": fused(2, 0.5),
        "best 3 chunks, w 0.5": fused(3, 0.5),
        "k and w chosen on the fitted watches": recipe(target),
        "logistic: best-2 cosine, best-2 BM25, coverage": logistic,
    }


def counts(scores: np.ndarray, about: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(alerts, true alerts, about) at a threshold."""
    alert = scores >= threshold
    return int(alert.sum()), int((alert & about).sum()), int(about.sum())


def choose(
    scores: np.ndarray, about: np.ndarray, mask: np.ndarray, target: float
) -> tuple[float, float]:
    """The threshold with the highest recall at precision >= target, and that recall."""
    best = (float(GRID[-1]), 0.0)
    for threshold in GRID:
        n, tp, total = counts(scores[mask], about[mask], threshold)
        if n and tp / n >= target and tp / total > best[1]:
            best = (float(threshold), tp / total)
    return best


def held_out(b: Bench, variant: Variant, target: float) -> tuple[int, int, int, list[float]]:
    """Leave one watch out: (alerts, true alerts, about) pooled, and the fold thresholds."""
    n = tp = total = 0
    thresholds = []
    for w in range(len(b.watches)):
        fit = np.arange(len(b.watches)) != w
        scores = b.pairs(variant(b, fit))
        threshold, _ = choose(scores, b.about, b.watch_of != w, target)
        thresholds.append(threshold)
        fold = counts(scores[b.watch_of == w], b.about[b.watch_of == w], threshold)
        n, tp, total = n + fold[0], tp + fold[1], total + fold[2]
    return n, tp, total, thresholds


def measure(b: Bench, variant: Variant, target: float) -> tuple[np.ndarray, float, str]:
    """A variant's scores, its threshold at the target, and its figures as printed."""
    scores = variant(b, np.ones(len(b.watches), dtype=bool))
    threshold, _ = choose(b.pairs(scores), b.about, np.ones(len(b.about), dtype=bool), target)
    n, tp, total = counts(b.pairs(scores), b.about, threshold)
    hn, htp, htotal, folds = held_out(b, variant, target)
    return (
        scores,
        threshold,
        f"t {threshold:.3f}  {pr(n, tp, total)}  held out {pr(hn, htp, htotal)} "
        f"(t {min(folds):.3f}-{max(folds):.3f})",
    )


def pr(n: int, tp: int, total: int) -> str:
    """Precision and recall as printed."""
    precision = f"{tp / n:.3f}" if n else "  -  "
    return f"P {precision} R {tp / total:.3f}" if total else "(nothing about it)"


def sweep(b: Bench, configured: float, chosen: float) -> list[tuple[str, str]]:
    """The production scorer's table, one row per threshold."""
    scores, unlabelled = b.pairs(b.production), ~b.labelled
    rows = []
    for threshold in sorted({*SWEEP, configured, chosen}):
        n, tp, total = counts(scores, b.about, threshold)
        alert = b.production >= threshold
        absent = int(alert[b.absent].sum())
        marks = [
            m for m, t in (("watch.min_score", configured), ("chosen", chosen)) if t == threshold
        ]
        rows.append(
            (
                f"{threshold:.3f}",
                f"{n:4} alerts  {pr(n, tp, total)}  absent watches {absent:3}  "
                f"unlabelled >= t {int((alert & unlabelled).sum()):4}"
                + (f"  <- {', '.join(marks)}" if marks else ""),
            )
        )
    return rows


def per_watch(b: Bench, named: dict[str, tuple[np.ndarray, float]]) -> list[tuple[str, str]]:
    """Each watch's precision and recall under each named scorer at its threshold."""
    rows = []
    for w, watch in enumerate(b.watches):
        mine = b.watch_of == w
        cells = []
        for name, (scores, threshold) in named.items():
            n, tp, total = counts(b.pairs(scores)[mine], b.about[mine], threshold)
            cells.append(f"{name}: {n:2} alerts {pr(n, tp, total)}")
        rows.append((f"{watch} ({int(b.about[mine].sum())} about)", "  |  ".join(cells)))
    return rows


def unpooled(b: Bench, scores: np.ndarray, threshold: float, records: dict) -> list[str]:
    """The unlabelled articles at or above the threshold, one line each."""
    lines = []
    for w, a in zip(*np.nonzero((scores >= threshold) & ~b.labelled), strict=True):
        r = records.get(b.ids[a], {})
        lines.append(
            f"{b.watches[w]:30} {b.ids[a]}  {(r.get('date') or '')[:10]:10} "
            f"{(r.get('title') or '')[:80]}"
        )
    return lines


def main() -> None:
    """Score, sweep, compare variants, run the unpooled check; print it all."""
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbot-watch-bench-") as scratch:
        from bot.config import load_settings

        settings = load_settings(args.config).watch
        configured, weight = settings.min_score, settings.lexical_weight
        b = load(args, Path(scratch))
    with args.articles.open() as f:
        records = {r["doc_id"]: r for r in map(json.loads, f)}
    from index.search.watches import BEST_OF

    everything = np.ones(len(b.about), dtype=bool)
    own = fused(BEST_OF, weight)(b, np.ones(len(b.watches), dtype=bool))
    chosen, _ = choose(b.pairs(b.production), b.about, everything, args.target)
    head = [
        ("judgements", f"{len(b.about)} over {len(b.watches)} watches, {int(b.about.sum())} about"),
        ("absent watches", ", ".join(b.watches[w] for w in b.absent)),
        (
            "scorer check",
            f"article_scores against this script's own formula, best {BEST_OF} chunks, w "
            f"{weight}: max |diff| {np.abs(b.production - own).max():.1e}",
        ),
    ]
    print_table(f"watch threshold, {b.name}", head + sweep(b, configured, chosen))
    table = variants(b, args.target)
    scored, rows = {}, []
    for name, variant in table.items():
        scores, threshold, figures = measure(b, variant, args.target)
        scored[name] = (scores, threshold)
        absent = int((scores[b.absent] >= threshold).sum())
        extra = int(((scores >= threshold) & ~b.labelled).sum())
        rows.append((name, f"{figures}  absent {absent}  unlabelled {extra}"))
    print_table(f"variants at precision >= {args.target} (held out: leave one watch out)", rows)
    margins = [
        (f"{name}, P >= {target:.2f}", measure(b, table[name], target)[2])
        for name in (FIRST, b.name)
        for target in MARGINS
    ]
    print_table("choosing with a margin: the threshold at a higher precision", margins)
    named = {
        f"first shipped at {scored[FIRST][1]:.3f}": scored[FIRST],
        f"production at watch.min_score {configured}": (scored[b.name][0], configured),
    }
    print_table("per watch", per_watch(b, named))
    found: dict[str, list[str]] = {}
    for name, (scores, threshold) in scored.items():
        for line in unpooled(b, scores, threshold, records):
            found.setdefault(line, []).append(name)
    print(f"\nunpooled check: {len(found)} unlabelled pairs at or above a variant's threshold")
    for line, names in found.items():
        print(f"  {line}\n    {'; '.join(names)}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="an index of the articles"
    )
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="watch labels")
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES, help="articles.jsonl")
    parser.add_argument("--config", type=Path, help="newsbot config (default: ./config.yaml)")
    parser.add_argument("--target", type=float, default=0.9, help="precision to reach")
    return parser.parse_args()


if __name__ == "__main__":
    main()
