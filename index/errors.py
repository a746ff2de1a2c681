"""Errors meant for a person, raised by the index and shown by the front ends.

NewsbotError          anything the user can fix; the message says what and how
├── DataDirError      the data directory can't be created or written
├── StoreLockedError  another process is writing the same index
├── EmptyIndexError   nothing has been ingested yet
├── ModelError        the embedding model can't be loaded
├── ModelMismatchError  the index was built with another embedding model
├── ChunkingMismatchError  the index was cut into chunks differently than the config says
├── StoreUnavailableError  the Chroma server can't be reached (names host:port)
└── FetchError        a web page or feed can't be fetched or used (one line per URL)
    └── UnsafeURLError  the URL points at a private or local address, or isn't http(s)
"""


class NewsbotError(Exception):
    """A problem the user can fix; str() is a one-line message for a person."""


class DataDirError(NewsbotError):
    """The data directory can't be created or written."""


class StoreLockedError(NewsbotError):
    """Another process holds the write lock on the index."""


class EmptyIndexError(NewsbotError):
    """The index holds no articles yet."""


class ModelError(NewsbotError):
    """The embedding model can't be loaded."""


class ModelMismatchError(NewsbotError):
    """The index was built with another embedding model than the config names."""


class ChunkingMismatchError(NewsbotError):
    """The index was cut into chunks of another size or overlap than the config says."""


class FetchError(NewsbotError):
    """A web page or feed can't be fetched, or holds no usable article or entries."""


class UnsafeURLError(FetchError):
    """The URL is not http(s), or resolves to a private, loopback or link-local address."""


class StoreUnavailableError(NewsbotError):
    """The Chroma server can't be reached; the message names host and port."""
