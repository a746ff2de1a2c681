"""Pool the candidate articles of each watch, for labelling by hand.

    python benchmarks/watch_candidates.py                       # the watches of the labels
    python benchmarks/watch_candidates.py --watches my.jsonl --per-method 20
    python benchmarks/watch_candidates.py --watch "Damar Hamlin" --watch "egg prices"

A watch is what a chat sets with `/watch PHRASE`; it should alert on each new article
*about* its topic. `benchmarks/watch_labels.jsonl` holds, for 29 watches over
RealTime QA 2023 (`realtimeqa-2023-articles/articles.jsonl`), a judgement for every
article pooled here. This script rebuilds those pools and prints each candidate with
its label, so the labels can be checked or extended (new watches, deeper pools); it
never writes to the index.

Pooling, independent of any one scorer, so the labels don't favour one method:

- the top N articles by dense score: the highest cosine between the watch phrase,
  embedded with the project's query encoder, and any chunk of the article (the
  vectors stored in Chroma);
- the top N by BM25: the best-scoring chunk of the article, on the lexical index
  stored beside Chroma (`index.store.bm25`, the same terms the retriever uses);
- every article whose title holds the watch's title words: each alternative of the
  watch's `title_words` (default: the watch phrase itself) matches when all of its
  stemmed content words occur in the title.

N is 15, or the watch's own `per_method`: the watches whose 15-deep pool was mostly
about them (so more positives were likely just below it) were pooled 25 deep and the
extra candidates labelled too; `--per-method` overrides both. The dense and BM25 tops
always stay; title-only matches are added, best dense score first, while the pool
holds fewer than `--cap` (35) articles, so a 25-deep pool can exceed the cap. Only
articles in the index are pooled: the 29 records of the jsonl whose text is only an ad
or a newsletter form were never ingested, so no matcher could alert on them.

Labelling rule (the header line of watch_labels.jsonl says the same): an article is
*about* a watch when a person who set the watch would want to be told of it: the
watch's topic is the article's subject or a substantial part of it (its headline, or at
least a full paragraph reports on it). A passing mention (one clause, an item in a list
of other stories, a "related" link, a photo caption, an ad) is not about it. For a
broad topic ("central bank interest rates") the article must report on that topic (a
rate decision, central bank policy), not just mention rates in passing. Applied so:

- a news digest, newsletter or live blog with a headed section or entry of full
  paragraphs on the topic is about it;
- a paragraph that only recalls the topic as background to another story, and an item
  of a retrospective list (year in review, decade ranking), are not;
- the same words in another sense (Santos the football club, Denny Hamlin the driver,
  a political "earthquake", a jackpot that balloons) are not.

Each pooled article was judged by reading its title, its lead paragraphs and every
paragraph mentioning the watch's words; a hesitant judgement carries a short `note`.

Watches files are JSON lines with `watch` and optional `title_words` (a list of
alternative phrases) and `per_method`; lines without `watch` (the labels' header) are
skipped, and a line of plain text is a watch on its own. Titles are printed, never
stored: the labels hold ids and judgements only.
"""

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_ARTICLES = ROOT.parent / "shared/eval/realtimeqa-2023-articles/articles.jsonl"
DEFAULT_DATA_DIR = Path("/work/bench-data/articles")
DEFAULT_LABELS = HERE / "watch_labels.jsonl"
DEFAULT_PER_METHOD = 15


@dataclass
class Watch:
    """A watch phrase and the title words that pool its title matches."""

    phrase: str
    title_words: list[str]
    per_method: int | None = None


@dataclass
class Candidate:
    """A pooled article with its scores and how it was pooled."""

    doc_id: str
    dense: float
    bm25: float
    dense_rank: int
    bm25_rank: int
    by_title: bool

    @property
    def pooled_by(self) -> str:
        """Which pooling methods put it in: d(ense), b(m25), t(itle)."""
        return "".join(
            flag
            for flag, hit in (
                ("d", self.dense_rank > 0),
                ("b", self.bm25_rank > 0),
                ("t", self.by_title),
            )
            if hit
        )


class Corpus:
    """The index's chunk vectors and BM25, scored per article."""

    def __init__(self, data_dir: Path) -> None:
        sys.path.insert(0, str(ROOT))
        from bot.config import load_settings
        from index.embedding.models import load_query_embeddings
        from index.store.bm25 import LexicalIndex, lexical_dir, stamp
        from index.store.chunks import open_existing

        settings = load_settings(data_dir=data_dir)
        store = open_existing(settings.data_dir, settings.store)
        self.encoder = load_query_embeddings(settings.embedding)
        ids: list[str] = []
        vectors: list[Any] = []
        articles: list[str] = []
        for page in store.pages(include=["embeddings", "metadatas"]):
            ids.extend(page["ids"])
            vectors.extend(page["embeddings"])
            articles.extend(m["article_id"] for m in page["metadatas"])
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.article_ids = sorted(set(articles))
        position = {a: i for i, a in enumerate(self.article_ids)}
        self.chunk_article = np.array([position[a] for a in articles])
        lexical = LexicalIndex.load(lexical_dir(store))
        if lexical is None or lexical.digest != stamp(store):
            print("lexical index missing or stale: building it in memory", file=sys.stderr)
            lexical = LexicalIndex.build(store)
        self.lexical = lexical
        row = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self.lexical_article = np.array([self.chunk_article[row[c]] for c in lexical.ids])
        store.close()

    def dense(self, phrase: str) -> np.ndarray:
        """Per article, the best cosine of any chunk to the phrase."""
        query = np.asarray(self.encoder.embed_query(phrase), dtype=np.float32)
        return _best_per_article(self.vectors @ query, self.chunk_article, len(self.article_ids))

    def bm25(self, phrase: str) -> np.ndarray:
        """Per article, the best BM25 score of any chunk for the phrase."""
        from index.terms import terms

        vocab = self.lexical.bm25.vocab_dict
        query = [t for t in terms(phrase) if t in vocab]
        if not query:
            return np.zeros(len(self.article_ids), dtype=np.float32)
        scores = np.asarray(self.lexical.bm25.get_scores(query), dtype=np.float32)
        return _best_per_article(scores, self.lexical_article, len(self.article_ids))


def _best_per_article(scores: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    best = np.full(n, -np.inf, dtype=np.float32)
    np.maximum.at(best, owner, scores)
    return best


def title_match(title: str, alternatives: Iterable[str]) -> bool:
    """Whether all stemmed content words of any alternative occur in the title."""
    from index.terms import terms

    words = set(terms(title))
    return any((wanted := set(terms(a))) and wanted <= words for a in alternatives)


def pool(
    watch: Watch,
    corpus: Corpus,
    titles: dict[str, str],
    per_method: int,
    cap: int,
) -> list[Candidate]:
    """The watch's candidates: dense top, BM25 top and title matches, capped."""
    dense = corpus.dense(watch.phrase)
    bm25 = corpus.bm25(watch.phrase)
    dense_order = np.argsort(-dense, kind="stable")
    bm25_order = [i for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
    dense_rank = {int(i): r + 1 for r, i in enumerate(dense_order[:per_method])}
    bm25_rank = {int(i): r + 1 for r, i in enumerate(bm25_order[:per_method])}
    by_title = {
        i
        for i, doc_id in enumerate(corpus.article_ids)
        if title_match(titles.get(doc_id, ""), watch.title_words)
    }
    chosen = list(dict.fromkeys([*dense_rank, *bm25_rank]))
    extra = sorted(by_title - set(chosen), key=lambda i: -dense[i])
    chosen += extra[: max(0, cap - len(chosen))]
    found = [
        Candidate(
            corpus.article_ids[i],
            float(dense[i]),
            float(bm25[i]),
            dense_rank.get(i, 0),
            bm25_rank.get(i, 0),
            i in by_title,
        )
        for i in chosen
    ]
    return sorted(found, key=lambda c: -c.dense)


def read_watches(path: Path) -> tuple[list[Watch], dict[str, dict[str, Any]]]:
    """Watches from a JSON-lines or plain-text file, and any labels it holds by watch."""
    watches: list[Watch] = []
    labels: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            watches.append(Watch(line, [line]))
            continue
        record = json.loads(line)
        if "watch" not in record:
            continue
        phrase = record["watch"]
        watches.append(
            Watch(phrase, record.get("title_words") or [phrase], record.get("per_method"))
        )
        labels[phrase] = record
    return watches, labels


def read_articles(path: Path) -> dict[str, dict[str, Any]]:
    """The corpus records by doc_id."""
    with path.open() as f:
        return {r["doc_id"]: r for r in map(json.loads, f)}


def main() -> None:
    """Pool every watch and print its candidates, then a summary."""
    args = _parse_args()
    records = read_articles(args.articles)
    if args.watch:
        watches, labels = [Watch(w, [w]) for w in args.watch], {}
    else:
        watches, labels = read_watches(args.watches)
    corpus = Corpus(args.data_dir)
    unknown = set(corpus.article_ids) - set(records)
    if unknown:
        print(f"warning: {len(unknown)} indexed articles are not in {args.articles}")
    print(
        f"{len(records)} articles in the jsonl, {len(corpus.article_ids)} in the index "
        f"({len(set(records) - set(corpus.article_ids))} not indexed, never pooled)"
    )
    titles = {doc_id: r.get("title") or "" for doc_id, r in records.items()}
    summary = []
    dump = []
    for watch in watches:
        depth = args.per_method or watch.per_method or DEFAULT_PER_METHOD
        found = pool(watch, corpus, titles, depth, args.cap)
        judged = labels.get(watch.phrase, {}).get("judgements", {})
        words = " | ".join(watch.title_words)
        print(f"\n== {watch.phrase}  (title words: {words}; top {depth} per scorer)")
        print(f"{'doc_id':15} {'date':10} {'dense':>6} {'bm25':>6} pool label  title")
        for c in found:
            r = records.get(c.doc_id, {})
            label = {True: "about", False: "-"}.get(judged.get(c.doc_id), "?")
            print(
                f"{c.doc_id:15} {(r.get('date') or '')[:10]:10} {c.dense:6.3f} {c.bm25:6.2f} "
                f"{c.pooled_by:4} {label:6} {(r.get('title') or '')[:90]}"
            )
        stale = sorted(set(judged) - {c.doc_id for c in found})
        if stale:
            print(f"  labelled but not pooled now: {', '.join(stale)}")
        positives = sum(bool(judged.get(c.doc_id)) for c in found)
        unlabelled = sum(c.doc_id not in judged for c in found)
        summary.append((watch.phrase, len(found), positives, unlabelled))
        dump.append({"watch": watch.phrase, "candidates": [vars(c) for c in found]})
    print(f"\n{'watch':40} {'pooled':>6} {'about':>6} {'unlabelled':>10}")
    for phrase, n, positives, unlabelled in summary:
        print(f"{phrase:40} {n:6} {positives:6} {unlabelled:10}")
    total = sum(s[1] for s in summary)
    print(f"{'total':40} {total:6} {sum(s[2] for s in summary):6} {sum(s[3] for s in summary):10}")
    if args.json:
        args.json.write_text("\n".join(json.dumps(d) for d in dump) + "\n")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES, help="articles.jsonl")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="an index of those articles"
    )
    parser.add_argument(
        "--watches",
        type=Path,
        default=DEFAULT_LABELS,
        help="watches (JSON lines with 'watch' and optional 'title_words', or one a line); "
        "default: the labels file, whose judgements are then shown",
    )
    parser.add_argument("--watch", action="append", help="a watch phrase (repeatable)")
    parser.add_argument(
        "--per-method",
        type=int,
        help=f"top articles per scorer (default: the watch's per_method, else "
        f"{DEFAULT_PER_METHOD})",
    )
    parser.add_argument("--cap", type=int, default=35, help="most candidates per watch")
    parser.add_argument("--json", type=Path, help="also write the pools (ids, scores) here")
    return parser.parse_args()


if __name__ == "__main__":
    main()
