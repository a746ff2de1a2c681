"""The chunk store: one Chroma collection of chunks (their metadata: schema.py).

An article is complete when its chunk 0 is stored; ingest writes chunk 0 last, so a
crash mid-article leaves no complete-looking partial article. Listing articles reads
the chunk-0 records only.

The collection's metadata holds a `generation` marker that every write session changes
(see `bump_generation`); readers in other processes compare it to notice new data. It
also records the `embedding_model` the chunks were embedded with and how articles were
cut, which writers and readers are checked against (recorded.py).
The client comes from `index.store.client`, so the same class serves both backends;
calls that can't reach a server raise `StoreUnavailableError`, and writes retry first.
"""

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import EmptyIndexError
from index.ingest.chunking import Cut
from index.settings import StoreSettings
from index.store.client import location, make_client, reachable, with_retries
from index.store.locking import ensure_writable
from index.store.schema import StoredArticle, stored_article

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

COLLECTION = StoreSettings().collection
_CONFIGURATION: Any = {"hnsw": {"space": "cosine"}}
_PAGE = 5000
MODEL_KEY = "embedding_model"
FORMAT_KEY = "embed_format"  # the embedded-text format a new index started with
CUT_KEY = "chunking"  # how a new index cuts articles: a `Cut` as "256/48"


class ChunkStore:
    """The persistent Chroma collection holding every chunk."""

    def __init__(
        self, data_dir: Path, create: bool = True, backend: StoreSettings | None = None
    ) -> None:
        self.data_dir = data_dir
        self.settings = backend or StoreSettings()
        self.embedded = self.settings.backend == "embedded"
        self.path = data_dir / "chroma"
        self.location = location(self.settings, data_dir)
        self._marked = False  # whether this object has changed the generation marker yet
        if create and self.embedded:
            ensure_writable(data_dir)
        self.client = make_client(self.settings, data_dir)
        # the client system now behind this client (Chroma looks it up by path, and
        # `reopened` replaces that entry), so that `close` stops this one
        self._system = getattr(self.client, "_system", None)
        name = self.settings.collection
        with self.reach():
            if create:
                self.collection = self.client.get_or_create_collection(
                    name,
                    configuration=_CONFIGURATION,
                    embedding_function=None,  # type: ignore[arg-type]
                )
            else:
                self.collection = self._existing(name)

    def _existing(self, name: str) -> Any:
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(name, embedding_function=None)  # type: ignore[arg-type]
        except NotFoundError:
            where = "in" if self.embedded else "on the Chroma server at"
            raise EmptyIndexError(
                f"no collection '{name}' {where} {self.location}; "
                "add articles first with: newsbot ingest PATH"
            ) from None

    def reopened(self) -> "ChunkStore":
        """A store whose client sees other processes' writes: a new one when embedded.

        An embedded client caches its vector segments, and Chroma shares one client
        system per path within a process, so that cache is dropped first; objects still
        holding the old client keep working on what they saw. A server's client caches
        nothing, so it is kept.
        """
        if not self.embedded:
            return self
        from chromadb.api.client import SharedSystemClient

        # forget only this path's system: clear_system_cache() would orphan every other
        # client's (a server client's open connections among them)
        identifier = getattr(self.client, "_identifier", None)
        systems = getattr(SharedSystemClient, "_identifier_to_system", None)
        if identifier is None or not isinstance(systems, dict):
            SharedSystemClient.clear_system_cache()
        else:
            systems.pop(identifier, None)
            getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(identifier, None)
        return ChunkStore(self.data_dir, create=False, backend=self.settings)

    def close(self) -> None:
        """Stop this store's client system (its caches and connections); nothing else
        may be using it, including stores opened before the last `reopened`."""
        if self._system is not None:
            self._system.stop()
            self._system = None

    def reach(self) -> Any:
        """A context in which "server unreachable" becomes a StoreUnavailableError."""
        return reachable(self.settings, self.data_dir)

    def _write(self, what: str, call: Any) -> None:
        """Run a write, retrying with backoff while the server is unreachable.

        The first write through this object changes the generation marker first, so
        readers notice even a write session that dies before it can mark its end.
        """
        if not self._marked:
            self._marked = True
            self.bump_generation()

        def attempt() -> None:
            with self.reach():
                call()

        with_retries(attempt, self.settings, f"{what} on {self.location}")

    def count(self) -> int:
        """Number of chunks stored."""
        with self.reach():
            return self.collection.count()

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata, read afresh (`collection.metadata` is a snapshot)."""
        with self.reach():
            meta = self.client.get_collection(
                self.collection.name,
                embedding_function=None,  # type: ignore[arg-type]
            ).metadata
        return dict(meta or {})

    def set_metadata(self, what: str, **values: Any) -> None:
        # modify() replaces the whole mapping, so keep the keys not being changed
        self._write(what, lambda: self.collection.modify(metadata=self.metadata() | values))

    def generation(self) -> str | None:
        """The marker every write session changes; None if nothing ever set it."""
        value = self.metadata().get("generation")
        return str(value) if value else None

    def bump_generation(self) -> str:
        """Change the generation marker, so other processes see that the data changed."""
        marker = uuid.uuid4().hex
        self._marked = True
        self.set_metadata("marking the change", generation=marker)
        return marker

    def embed_format(self) -> int | None:
        """The embedded-text format (`index.chunking.EMBED_FORMAT`) the index began with."""
        value = self.metadata().get(FORMAT_KEY)
        return int(value) if value is not None else None

    def embedding_model(self) -> str | None:
        """The embedding model the chunks were embedded with, if recorded."""
        value = self.metadata().get(MODEL_KEY)
        return str(value) if value else None

    def cut(self, unrecorded: Cut | None = None) -> Cut | None:
        """How the index's articles were cut, as it records; None if it records none.

        An index that records no cut but holds chunks was built before newsbot recorded
        it, with the chunking defaults of then: `unrecorded`, when given.
        """
        value = self.metadata().get(CUT_KEY)
        if value:
            return Cut.parse(str(value))
        return unrecorded if unrecorded is not None and self.count() else None

    def chunk_ids(self) -> list[str]:
        """Every chunk id, sorted."""
        return sorted(i for page in self.pages(include=[]) for i in page["ids"])

    def all_chunks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every chunk as (id, text, metadata), page by page."""
        for page in self.pages(include=["documents", "metadatas"]):
            yield from zip(
                page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True
            )

    def pages(self, include: Any, where: dict[str, Any] | None = None) -> Iterator[Any]:
        """The chunks (matching `where`) in pages of Chroma `get` results."""
        offset = 0
        while True:
            with self.reach():
                page = self.collection.get(where=where, include=include, limit=_PAGE, offset=offset)
            if page["ids"]:
                yield page
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def articles(self) -> dict[str, StoredArticle]:
        """Every complete article, by id."""
        found: dict[str, StoredArticle] = {}
        for page in self.pages(include=["metadatas"], where={"chunk_index": 0}):
            for meta in page["metadatas"] or []:
                article = stored_article(meta)
                found[article.id] = article
        return found

    def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Any,
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        """Write chunks with their precomputed embeddings (idempotent by id)."""
        self._write(
            f"storing {len(ids)} chunks",
            lambda: self.collection.upsert(
                ids=list(ids),
                documents=list(texts),
                embeddings=embeddings,
                metadatas=list(metadatas),  # type: ignore[arg-type]
            ),
        )

    def remove(self, article_id: str) -> int:
        """Delete one article; the number of chunks removed."""
        with self.reach():
            found = self.collection.get(where={"article_id": article_id}, include=[])
        if found["ids"]:
            self._write("removing an article", lambda: self.collection.delete(ids=found["ids"]))
        return len(found["ids"])

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        """Remove every chunk of these articles, complete or not."""
        ids = list(article_ids)
        for i in range(0, len(ids), 500):
            where: Any = {"article_id": {"$in": ids[i : i + 500]}}
            self._write("deleting old chunks", lambda w=where: self.collection.delete(where=w))

    def drop(self) -> None:
        """Delete the whole collection (eval's own index, rebuilt for another corpus)."""
        from chromadb.errors import NotFoundError

        try:
            with self.reach():
                self.client.delete_collection(self.settings.collection)
        except NotFoundError:
            pass

    def vectorstore(self, embeddings: "Embeddings") -> "Chroma":
        """The LangChain view of the collection, for retrieval."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.client,
            collection_name=self.settings.collection,
            embedding_function=embeddings,
            collection_configuration=_CONFIGURATION,  # type: ignore[arg-type]
        )


def open_existing(data_dir: Path, backend: StoreSettings | None = None) -> ChunkStore:
    """Open the index for reading; a clear error if nothing was ever ingested there."""
    embedded = backend is None or backend.backend == "embedded"
    if embedded and not (data_dir / "chroma").is_dir():
        raise EmptyIndexError(
            f"no index in {data_dir}; add articles first with: newsbot ingest PATH"
        )
    return ChunkStore(data_dir, create=False, backend=backend)
