"""The knowledge base: getting articles in, and finding them again.

articles.py   the Article and its ids
ingest/       files and pages in: loaders, header metadata, chunking, the batched
              ingest, and the pipeline every writer goes through (lock, model, BM25)
web/          news from the web: polite fetching, the SSRF guard, pages, RSS/Atom
              feeds, the feed list, and following and refreshing them
embedding/    the sentence-transformers model, its int8 ONNX copy for questions, and
              the packaged all-mpnet-base-v2
store/        the Chroma collection, its client, the write lock, BM25 beside it, and
              the catalogue of what it holds
search/       hybrid, time-aware retrieval and the periods questions name
sentences.py  sentence spans; terms.py  content words and stems (shared with answering)
settings.py   the typed config sections; errors.py  errors meant for a person
retry.py      exponential backoff for Chroma server calls and web fetches

Nothing heavy is imported here; models and stores are built by the entry points.
`index` never imports `bot`.
"""
