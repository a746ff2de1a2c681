"""Sentence-aware chunking that never exceeds the embedder's window.

Sizes are measured in the embedding model's own word pieces. A chunk is a run of
whole sentences; a sentence longer than a chunk is cut at word boundaries. Consecutive
chunks share whole sentences: up to `overlap_tokens` of them, and at least the last
sentence when it is shorter than half a chunk. Each
chunk keeps its character offsets into the article, so `article.text[start:end]`
is exactly the chunk's text, and each chunk is embedded with the article's title in
front of it for context. The date is not embedded: as text it made retrieval no
better (measured on RealTime QA and on full articles), and the retriever uses it
as metadata instead (date preference and filters).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.articles import Article
from index.sentences import Span, sentence_spans

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from index.settings import ChunkingSettings

EMBED_FORMAT = 2  # the version of the embedded text (context_prefix); eval rebuilds on change
_SPECIAL_TOKENS = 2  # [CLS] and [SEP], added by the model around every text
_JOIN_SLACK = 4  # word pieces can merge differently across sentence joins


@dataclass(frozen=True)
class Cut:
    """How articles are cut: at most `max_tokens` word pieces a chunk, `overlap_tokens`
    of them repeated from the chunk before."""

    max_tokens: int
    overlap_tokens: int

    def __str__(self) -> str:
        return f"{self.max_tokens}/{self.overlap_tokens}"

    def describe(self) -> str:
        """The cut in words, for messages."""
        return f"{self.max_tokens} word pieces overlapping {self.overlap_tokens}"

    @classmethod
    def parse(cls, text: str) -> "Cut":
        """The cut `str()` wrote."""
        size, overlap = text.split("/")
        return cls(int(size), int(overlap))


# how every index was cut before newsbot recorded its cut (the defaults of then)
UNRECORDED_CUT = Cut(256, 48)


# how a new index cuts articles, unless the config says otherwise (overlap 24 finds
# answers as often as 48 did, in 4% fewer chunks: benchmarks/README.md)
DEFAULT_CUT = Cut(256, 24)


def cut_to_use(given: "ChunkingSettings", own: Cut | None, window: int) -> Cut:
    """The cut an ingest uses: each value the config gives, else the index's own (`own`),
    else the default. No chunk exceeds the model's `window`, and an overlap not given
    stays under half a chunk."""
    base = own or DEFAULT_CUT
    size = min(base.max_tokens if given.max_tokens is None else given.max_tokens, window)
    overlap = given.overlap_tokens
    if overlap is None:
        overlap = min(base.overlap_tokens, size // 2 - 1)
    return Cut(size, overlap)


@dataclass(frozen=True)
class Chunk:
    """A run of sentences from one article, with its exact offsets."""

    article_id: str
    index: int
    start: int
    end: int
    text: str
    embed_text: str


def context_prefix(article: Article, chunk_text: str = "") -> str:
    """The title line embedded in front of a chunk of an article.

    A chunk that already opens with the title (the first chunk, when the title was
    taken from the text's first line, or repeats it) gets none.
    """
    if not article.title or chunk_text.startswith(article.title):
        return ""
    return f"{article.title}\n"


class Chunker:
    """Cuts articles into chunks of at most `window` word pieces, with overlap."""

    def __init__(self, tokenizer: "Tokenizer", max_tokens: int, overlap_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, article: Article) -> list[Chunk]:
        """All chunks of one article, in order."""
        prefix = context_prefix(article)
        budget = self.max_tokens - _SPECIAL_TOKENS - _JOIN_SLACK - self._count([prefix])[0]
        budget = max(budget, 16)
        pieces = self._pieces(article.text, sentence_spans(article.text), budget)
        spans = self._group(pieces, budget)
        return [
            Chunk(
                article_id=article.id,
                index=i,
                start=start,
                end=end,
                text=article.text[start:end],
                embed_text=context_prefix(article, article.text[start:end])
                + article.text[start:end],
            )
            for i, (start, end) in enumerate(s for s in spans if _has_words(article.text, s))
        ]

    def _count(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def _pieces(self, text: str, spans: list[Span], budget: int) -> list[tuple[Span, int]]:
        """Sentences with their token counts; over-long sentences cut to fit the budget."""
        if not spans:
            return []
        encodings = self.tokenizer.encode_batch(
            [text[a:b] for a, b in spans], add_special_tokens=False
        )
        pieces: list[tuple[Span, int]] = []
        for (start, end), enc in zip(spans, encodings, strict=True):
            if len(enc.ids) <= budget:
                pieces.append(((start, end), len(enc.ids)))
            else:
                pieces.extend(_cut_long(text, start, enc.offsets, budget))
        return pieces

    def _group(self, pieces: Sequence[tuple[Span, int]], budget: int) -> list[Span]:
        """Greedily pack pieces into chunks, starting each new chunk with some overlap."""
        chunks: list[Span] = []
        i = 0
        while i < len(pieces):
            used, j = 0, i
            while j < len(pieces) and used + pieces[j][1] <= budget:
                used += pieces[j][1]
                j += 1
            chunks.append((pieces[i][0][0], pieces[j - 1][0][1]))
            if j >= len(pieces):
                break
            back, overlap = j, 0
            while back - 1 > i and overlap + pieces[back - 1][1] <= self.overlap_tokens:
                back -= 1
                overlap += pieces[back][1]
            if back == j and self.overlap_tokens and j - 1 > i and pieces[j - 1][1] <= budget // 2:
                back = j - 1  # carry at least the last sentence, unless it is huge
            i = back
        return chunks


def _has_words(text: str, span: Span) -> bool:
    """Whether a span holds anything worth embedding (not just dashes or bullets)."""
    return any(ch.isalnum() for ch in text[span[0] : span[1]])


def _cut_long(
    text: str, start: int, offsets: list[tuple[int, int]], budget: int
) -> list[tuple[Span, int]]:
    """Cut one over-long sentence into word-aligned pieces of at most `budget` tokens."""
    pieces: list[tuple[Span, int]] = []
    first = 0
    while first < len(offsets):
        last = min(first + budget, len(offsets))
        if last < len(offsets):
            # back off to a token that starts a new word, so no word is split
            cut = last
            while cut > first + 1 and offsets[cut][0] == offsets[cut - 1][1]:
                cut -= 1
            last = cut if cut > first + 1 else last
        piece_start = start + offsets[first][0]
        piece_end = start + offsets[last - 1][1]
        pieces.append(((piece_start, piece_end), last - first))
        first = last
    return pieces
