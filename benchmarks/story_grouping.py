"""How well the digest groups articles into stories: precision and recall of "same story".

    python benchmarks/story_grouping.py                      # the labelled pairs
    python benchmarks/story_grouping.py --similarity 0.7     # another threshold
    python benchmarks/story_grouping.py --pool 40            # candidate pairs to label

`benchmarks/story_pairs.jsonl` holds article pairs of RealTime QA 2023
(`realtimeqa-2023-articles/articles.jsonl`) judged by reading their titles and leads:
`same` is true when both report one event (one crash, one vote, one ceremony; a
follow-up a day later on the same event counts), false for the same topic but another
event (two storms, two court rulings, two weeks' layoffs). `half` says whether a pair
was used to choose the grouping rule ("tune") or kept for measuring it ("held"); the
figures that matter are the held-out ones. Ids and judgements only: no article text.

The articles are loaded by the ingest loader and cut by the ingest chunker; each
article's first chunk is embedded with the project's document encoder, as ingest embeds
it, and `index.search.stories.group_stories` groups them all (1,495 articles, so chains
through unlabelled articles count, as in a real digest). A pair is "same story" when
both articles land in one story. `--pool N` prints, for labelling, the N most similar
cross-article pairs within the digest's day limit in each band of cosine, nothing else.
"""

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import load_settings
from index.articles import Article
from index.embedding.models import load_document_encoder
from index.furniture import recognise
from index.ingest.chunking import Chunker, cut_to_use
from index.ingest.loaders import load_file
from index.search.stories import Lead, group_stories, unit
from index.store.schema import StoredArticle, date_ordinal

ARTICLES = Path(__file__).resolve().parents[2] / "shared/eval/realtimeqa-2023-articles"
PAIRS = Path(__file__).resolve().parent / "story_pairs.jsonl"
_HEAD = 4000  # characters: more than a first chunk of 256 word pieces can hold
BANDS = ((0.85, 1.01), (0.75, 0.85), (0.65, 0.75), (0.55, 0.65))


def main() -> None:
    """Print precision and recall of "same story" on the labelled pairs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=Path, default=ARTICLES / "articles.jsonl")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--similarity", type=float, help="default: digest.story_similarity")
    parser.add_argument("--days", type=int, help="default: digest.story_days")
    parser.add_argument("--pool", type=int, help="print N candidate pairs per band instead")
    args = parser.parse_args()
    if not args.articles.exists():
        sys.exit(f"story_grouping: {args.articles} not found (the eval data is not in the repo)")
    settings = load_settings()
    similarity = args.similarity or settings.digest.story_similarity
    days = settings.digest.story_days if args.days is None else args.days
    started = time.perf_counter()
    articles, leads = first_chunks(args.articles)
    print(f"{len(leads)} articles embedded in {time.perf_counter() - started:.0f} s")
    if args.pool:
        pool(articles, leads, days, args.pool)
        return
    labels = [json.loads(line) for line in args.pairs.read_text("utf-8").splitlines() if line]
    labels = [row for row in labels if "a" in row]
    stories = group_stories(leads, similarity, days)
    story_of = {lead.article.id: n for n, story in enumerate(stories) for lead in story.leads}
    vectors = {lead.article.id: lead.vector for lead in leads}
    print(f"similarity {similarity}, days {days}: {len(stories)} stories")
    for half in ("tune", "held", None):
        rows = [row for row in labels if half is None or row["half"] == half]
        report(half or "all", rows, story_of)
    print("pairs judged wrongly (cosine, judgement, half):")
    for row in labels:
        grouped = story_of[row["a"]] == story_of[row["b"]]
        if grouped != row["same"]:
            cosine = float(vectors[row["a"]] @ vectors[row["b"]])
            print(f"  {row['a']} {row['b']} {cosine:.3f} same={row['same']} {row['half']}")


def report(name: str, rows: Sequence[dict[str, Any]], story_of: dict[str, int]) -> None:
    """One line: the pairs, and precision and recall of grouping them together."""
    grouped = [story_of[row["a"]] == story_of[row["b"]] for row in rows]
    same = [bool(row["same"]) for row in rows]
    hits = sum(g and s for g, s in zip(grouped, same, strict=True))
    precision = hits / sum(grouped) if any(grouped) else float("nan")
    recall = hits / sum(same) if any(same) else float("nan")
    print(
        f"{name:>5}: {len(rows)} pairs ({sum(same)} same), grouped {sum(grouped)}: "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )


def first_chunks(path: Path) -> tuple[dict[str, Article], list[Lead]]:
    """Every article of the file, and its first chunk as the digest reads it. The
    vectors are kept in the temp dir, so a second run takes seconds, not minutes."""
    settings = load_settings()
    encoder = load_document_encoder(settings.embedding)
    cut = cut_to_use(settings.chunking, None, encoder.window)
    chunker = Chunker(encoder.tokenizer, cut.max_tokens, cut.overlap_tokens)
    articles = {a.id: a for a in load_file(path, 1 << 30) if isinstance(a, Article)}
    # chunk 0 only depends on the first sentences: cut the rest off, which saves minutes
    firsts = {i: chunker.chunk(replace(a, text=a.text[:_HEAD]))[:1] for i, a in articles.items()}
    kept = [i for i, chunks in firsts.items() if chunks]
    stat = path.stat()
    cut_name = str(cut).replace("/", "-")
    cache = Path(tempfile.gettempdir()) / f"newsbot-story-vectors-{stat.st_size}-{cut_name}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = np.asarray(
            encoder.embeddings.embed_documents([firsts[i][0].embed_text for i in kept])
        )
        np.save(cache, vectors)
    leads = []
    for i, vector in zip(kept, vectors, strict=True):
        a, chunk = articles[i], firsts[i][0]
        stored = StoredArticle(a.id, a.title, a.date, a.source, a.url, a.origin, "", 1)
        furniture = recognise(chunk.text, a.source)
        furniture = [
            replace(f, start=f.start + chunk.start, end=f.end + chunk.start) for f in furniture
        ]
        leads.append(Lead(stored, chunk.text, unit(vector), chunk.start, furniture))
    return articles, leads


def pool(articles: dict[str, Article], leads: Sequence[Lead], days: int, per_band: int) -> None:
    """Print the most similar pairs within `days` of each other, by band of cosine."""
    vectors = np.stack([lead.vector for lead in leads])
    cosines = vectors @ vectors.T
    ordinals = [date_ordinal(lead.article.date) for lead in leads]
    for low, high in BANDS:
        print(f"== cosine {low:.2f} to {high:.2f}")
        found = []
        for i in range(len(leads)):
            for j in range(i + 1, len(leads)):
                near = ordinals[i] and ordinals[j] and abs(ordinals[i] - ordinals[j]) <= days
                if near and low <= cosines[i, j] < high:
                    found.append((float(cosines[i, j]), i, j))
        for cosine, i, j in sorted(found, reverse=True)[:per_band]:
            for k in (i, j):
                a = articles[leads[k].article.id]
                print(f"  {a.id} {a.date} {a.source}: {a.title}")
                print(f"      {leads[k].sentence[:220]}")
            print(f"  cosine {cosine:.3f}\n")


if __name__ == "__main__":
    main()
