"""Getting articles in: files and already-fetched pages become chunks in the store.

pipeline.py  `ingest_paths` and `remove_article`, what every writer calls: the write
             lock, the model check and record, and the BM25 sync afterwards
batches.py   the Ingestor: skip unchanged and duplicate articles, embed in batches
             (progress in steps), write behind
loaders.py   .txt/.md/.html/.json/.jsonl files to Articles, one LoadProblem per bad input
             (and per unsupported type in a folder), a LoadNote for a guessed encoding
encodings.py decoding text that is not UTF-8 (charset-normalizer)
metadata.py  titles, dates and bylines from header lines, file names and URLs
publishers.py  the publisher a URL names: well-known news sites, else the domain
chunking.py  sentence-aligned chunks that fit the embedder's window
migrate.py   copying an embedded index into a Chroma server, vectors and all
"""
