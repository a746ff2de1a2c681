"""The LangChain RAG tutorial's indexing, as a whole process: the baseline of `ingest.py`.

    python benchmarks/ingest_tutorial.py ARTICLES.jsonl MODEL_DIR PERSIST_DIR RESULT.json

What it does, in this order, and nothing else:

1. Reads ARTICLES.jsonl one record per line and makes one LangChain `Document` per
   record: `page_content` is the record's `text`, `metadata` its `title`, `date` and
   `url` (an empty string where missing). No cleaning, no title in the text.
2. Splits them with the tutorial's `RecursiveCharacterTextSplitter(chunk_size=1000,
   chunk_overlap=200)` (`split_documents`, default separators and length function).
3. Loads `HuggingFaceEmbeddings(model_name=MODEL_DIR, model_kwargs={"device": "cpu"})`
   with the default encode kwargs (batch size 32, no normalisation); MODEL_DIR is the
   packaged all-MiniLM-L6-v2 that newsbot uses, so nothing is downloaded.
4. `Chroma.from_documents(splits, embeddings, persist_directory=PERSIST_DIR)`: one
   `embed_documents` call over all chunks (per Chroma max batch), then the upserts.

The only additions are timers: `embed_documents` is timed by a subclass that calls the
original, and the phases are written to RESULT.json (with the chunk texts, so that the
caller can count the tokens embedded outside this process's wall time).
"""

import json
import sys
import time

STARTED = time.perf_counter()

from langchain_chroma import Chroma  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402


class TimedEmbeddings(HuggingFaceEmbeddings):
    """HuggingFaceEmbeddings whose `embed_documents` adds its wall and CPU seconds to
    `EMBED_SECONDS` and `EMBED_CPU`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed as the parent class does, timed."""
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return super().embed_documents(texts)
        finally:
            EMBED_SECONDS.append(time.perf_counter() - started)
            EMBED_CPU.append(time.process_time() - cpu_started)


EMBED_SECONDS: list[float] = []
EMBED_CPU: list[float] = []


def load_documents(path: str) -> list[Document]:
    """One Document per JSON Lines record, with title, date and url as metadata."""
    docs = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                metadata = {key: record.get(key) or "" for key in ("title", "date", "url")}
                docs.append(Document(page_content=record["text"], metadata=metadata))
    return docs


def main() -> None:
    """Index the articles as the tutorial does and write the timings."""
    articles, model_dir, persist_dir, result = sys.argv[1:5]
    phases = {"imports": time.perf_counter() - STARTED}
    mark = time.perf_counter()
    docs = load_documents(articles)
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    phases["load + split"] = time.perf_counter() - mark
    mark = time.perf_counter()
    embeddings = TimedEmbeddings(model_name=model_dir, model_kwargs={"device": "cpu"})
    phases["model load"] = time.perf_counter() - mark
    mark = time.perf_counter()
    Chroma.from_documents(splits, embeddings, persist_directory=persist_dir)
    phases["from_documents"] = time.perf_counter() - mark
    phases["embed_documents"] = sum(EMBED_SECONDS)
    phases["embed_documents CPU"] = sum(EMBED_CPU)
    figures = {
        "articles": len(docs),
        "chunks": len(splits),
        "embed_calls": len(EMBED_SECONDS),
        "phases": phases,
        "texts": [d.page_content for d in splits],
    }
    with open(result, "w", encoding="utf-8") as out:
        json.dump(figures, out)


if __name__ == "__main__":
    main()
