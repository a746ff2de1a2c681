"""Where the chunks live, and what is derived from them.

chunks.py   the Chroma collection: schema, generation marker, metadata, paging
recorded.py the embedding model and cut an index records, and the checks against them
client.py   the one place a Chroma client is made (embedded or server), reachability
locking.py  the write lock: the data directory's file lock, and across hosts a
            Postgres advisory lock
database.py the engine of the shared `state` database (SQLite or Postgres)
bm25.py     the BM25 index derived from the chunks and cached beside them
catalog.py  the articles and figures the CLI and the bot list
"""
