"""Prompt assembly for use_rag: rank order, budget, citations."""

from __future__ import annotations

from lmwebui.rag.context import INSTRUCTIONS, SNIPPET_CHARS, build_context, estimate_tokens
from lmwebui.rag.types import StoreHit


def hit(i: int, text: str, page: int | None = 1) -> StoreHit:
    return StoreHit(f"d{i}_c0", f"d{i}", f"f{i}.pdf", page, 0, "", text, 1.0 / (i + 1), None, 0)


def test_excerpts_in_rank_order_with_labels() -> None:
    ctx = build_context("Q?", [hit(0, "alpha"), hit(1, "beta", page=None)], 1000)
    assert ctx.prompt.startswith(INSTRUCTIONS)
    assert "[1] f0.pdf, page 1:\nalpha" in ctx.prompt and "[2] f1.pdf:\nbeta" in ctx.prompt
    assert ctx.prompt.endswith("Question: Q?")
    assert [c.index for c in ctx.citations] == [1, 2]
    assert ctx.citations[1].model_dump() == {
        "index": 2,
        "document_id": "d1",
        "filename": "f1.pdf",
        "page": None,
        "score": 0.5,
        "chunk_id": "d1_c0",
        "snippet": "beta",
    }


def test_citation_snippet_is_the_excerpt_start_on_one_line() -> None:
    text = "First line\n\n  of the   excerpt. " + "word " * 200
    (cite,) = build_context("Q?", [hit(0, text)], 5000).citations
    assert cite.snippet.startswith("First line of the excerpt. word")
    assert cite.snippet.endswith("…") and len(cite.snippet) <= SNIPPET_CHARS + 1
    assert "\n" not in cite.snippet


def test_budget_skips_what_does_not_fit() -> None:
    long = "word " * 600  # ~1000 estimated tokens
    base = estimate_tokens(INSTRUCTIONS) + estimate_tokens("Q?") + 16
    ctx = build_context("Q?", [hit(0, long), hit(1, "short one")], base + 100)
    assert [c.document_id for c in ctx.citations] == ["d1"]
    empty = build_context("Q?", [hit(0, long)], base + 10)
    assert empty.citations == [] and empty.prompt == "Q?"
