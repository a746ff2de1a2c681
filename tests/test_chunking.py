"""Chunks fit the model's window, overlap, and quote the article exactly."""

import itertools

from harness.newsbot import SAMPLE

from index.articles import Article
from index.embedding.models import DocumentEncoder
from index.ingest.chunking import DEFAULT_CUT, Chunker, Cut, cut_to_use
from index.ingest.loaders import load_file
from index.settings import ChunkingSettings


def sample_article() -> Article:
    (article,) = load_file(SAMPLE, 1_000_000)
    assert isinstance(article, Article)
    return article


def token_count(encoder: DocumentEncoder, text: str) -> int:
    return len(encoder.tokenizer.encode(text, add_special_tokens=True).ids)


def test_chunks_quote_the_article_exactly_and_fit_the_window(encoder: DocumentEncoder) -> None:
    article = sample_article()
    chunks = Chunker(encoder.tokenizer, encoder.window, 48).chunk(article)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert chunk.embed_text.startswith("Russian FM welcomes Israeli cooperation on terror\n")
        assert token_count(encoder, chunk.embed_text) <= encoder.window
    assert chunks[0].start == 0
    assert chunks[-1].end == len(article.text.rstrip())


def test_consecutive_chunks_overlap_by_whole_sentences(encoder: DocumentEncoder) -> None:
    article = sample_article()
    chunks = Chunker(encoder.tokenizer, encoder.window, 48).chunk(article)
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end, "no overlap between consecutive chunks"
        assert after.start > before.start


def test_over_long_sentence_is_cut_at_word_boundaries(encoder: DocumentEncoder) -> None:
    words = [f"word{i}" for i in range(600)]
    text = "Intro sentence here. " + " ".join(words) + ". Closing sentence."
    article = Article(id="long", text=text, title="A long one", origin="test")
    chunks = Chunker(encoder.tokenizer, 64, 8).chunk(article)
    assert len(chunks) > 5
    covered = " ".join(c.text for c in chunks)
    for word in words:
        assert word in covered
    for chunk in chunks:
        assert token_count(encoder, chunk.embed_text) <= 64
        assert chunk.text == text[chunk.start : chunk.end]
        assert not text[chunk.end : chunk.end + 1].isalnum(), "a word was split"


def test_short_article_is_one_chunk(encoder: DocumentEncoder) -> None:
    article = Article(id="s", text="Just one sentence.", title="T", origin="test")
    (chunk,) = Chunker(encoder.tokenizer, 256, 48).chunk(article)
    assert (chunk.start, chunk.end, chunk.embed_text) == (0, 18, "T\nJust one sentence.")


def test_title_taken_from_the_text_is_not_embedded_twice(encoder: DocumentEncoder) -> None:
    opening = "Storm closes the port of Haifa for a second day."
    text = " ".join([opening, *[f"Ship {n} waited outside the harbour." for n in range(60)]])
    article = Article(id="p", text=text, title=opening, date="2023-01-05", origin="test")
    first, *rest = Chunker(encoder.tokenizer, 64, 8).chunk(article)
    assert first.embed_text == first.text
    assert rest and all(c.embed_text == f"{opening}\n{c.text}" for c in rest)


def test_counts_stay_right_after_the_model_has_encoded(encoder: DocumentEncoder) -> None:
    """Encoding turns on truncation and padding in the model's tokenizer; ours must not care."""
    article = sample_article()
    before = Chunker(encoder.tokenizer, encoder.window, 48).chunk(article)
    encoder.embeddings.embed_documents(["a short text", "a somewhat longer text to pad against"])
    after = Chunker(encoder.tokenizer, encoder.window, 48).chunk(article)
    assert [(c.start, c.end) for c in after] == [(c.start, c.end) for c in before]
    assert len(after) <= 6


def test_chunks_without_words_are_dropped(encoder: DocumentEncoder) -> None:
    text = "First real sentence here.\n\n—\n\n•\n\nSecond real sentence here."
    article = Article(id="d", text=text, title="T", origin="test")
    chunks = Chunker(encoder.tokenizer, 32, 0).chunk(article)
    kept = " ".join(c.text for c in chunks)
    assert "First real sentence here." in kept and "Second real sentence here." in kept
    assert chunks and all(any(ch.isalnum() for ch in c.text) for c in chunks)


def test_the_cut_is_the_configs_then_the_indexs_own_then_the_default() -> None:
    unset, own = ChunkingSettings(), Cut(200, 20)
    assert cut_to_use(unset, own, window=256) == own
    overlap_30 = ChunkingSettings(overlap_tokens=30)
    assert cut_to_use(overlap_30, own, window=256) == Cut(200, 30)  # then refused as a mix
    assert cut_to_use(unset, None, window=256) == DEFAULT_CUT
    # a model with a smaller window caps the chunk; an overlap not given stays under half
    assert cut_to_use(unset, None, window=64) == Cut(64, min(DEFAULT_CUT.overlap_tokens, 31))
    given = ChunkingSettings(max_tokens=512, overlap_tokens=10)
    assert cut_to_use(given, None, window=256) == Cut(256, 10)
