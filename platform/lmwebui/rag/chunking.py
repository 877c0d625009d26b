"""Token-budgeted chunks that respect headings and paragraphs.

Rules: a chunk never crosses a heading change; paragraphs and sentences are packed whole
up to ``chunk_tokens`` (heading line included); a sentence longer than the budget is cut
at token boundaries; each chunk after the first of a section starts with the previous
chunk's last whole sentences, up to ``overlap_tokens``. A chunk never crosses a page
break either (no overlap across it), so every chunk cites exactly one page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lmwebui.documents.types import Block
from lmwebui.rag.types import Chunk

_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|(?<=[\u3002\uff01\uff1f\uff1b])|\n+")
HEADING_SEP = " > "


class Tokenizer(Protocol):
    def count(self, texts: list[str]) -> list[int]: ...

    def windows(self, text: str, max_tokens: int) -> list[str]: ...


@dataclass
class _Unit:
    text: str
    tokens: int
    page: int | None
    new_paragraph: bool


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class Chunker:
    def __init__(self, tokenizer: Tokenizer, chunk_tokens: int, overlap_tokens: int) -> None:
        if overlap_tokens * 2 > chunk_tokens:
            raise ValueError("overlap_tokens must be at most half of chunk_tokens")
        self.tok = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, blocks: Sequence[Block], max_chunks: int | None = None) -> list[Chunk]:
        sections = self._sections(blocks)
        sentences = [s for _, paras in sections for _, para in paras for s in para]
        counts = iter(self.tok.count(sentences))
        headings = [h for h, _ in sections]
        heading_tokens = iter(self.tok.count([h for h in headings if h]))
        out: list[Chunk] = []
        for heading, paras in sections:
            h_tokens = next(heading_tokens) if heading else 0
            if h_tokens > self.chunk_tokens // 3:  # absurd heading: keep its start only
                heading = self.tok.windows(heading, self.chunk_tokens // 3)[0]
                h_tokens = self.chunk_tokens // 3
            budget = self.chunk_tokens - h_tokens
            units: list[_Unit] = []
            for page, para in paras:
                first = True
                for sentence in para:
                    n = next(counts)
                    for piece, pn in self._fit(sentence, n, budget):
                        units.append(_Unit(piece, pn, page, first))
                        first = False
            self._pack(units, heading, h_tokens, budget, out)
            if max_chunks is not None and len(out) > max_chunks:
                break
        return out

    # -- internals ----------------------------------------------------------------------
    @staticmethod
    def _sections(
        blocks: Sequence[Block],
    ) -> list[tuple[str, list[tuple[int | None, list[str]]]]]:
        """(heading path, [(page, sentences)]) in document order."""
        sections: list[tuple[str, list[tuple[int | None, list[str]]]]] = []
        current: str | None = None
        for block in blocks:
            heading = HEADING_SEP.join(block.headings)
            if block.is_heading or heading != current:
                current = heading
                sections.append((heading, []))
                if block.is_heading:
                    continue
            sentences = split_sentences(block.text)
            if sentences:
                sections[-1][1].append((block.page, sentences))
        return [s for s in sections if s[1]]

    def _fit(self, sentence: str, tokens: int, budget: int) -> list[tuple[str, int]]:
        if tokens <= budget:
            return [(sentence, tokens)]
        pieces = self.tok.windows(sentence, budget)
        return list(zip(pieces, self.tok.count(pieces), strict=True))

    def _pack(
        self, units: list[_Unit], heading: str, h_tokens: int, budget: int, out: list[Chunk]
    ) -> None:
        current: list[_Unit] = []
        used = 0
        fresh = 0  # units in `current` that are not overlap from the previous chunk

        def emit() -> None:
            body = ""
            for i, u in enumerate(current):
                body += ("\n\n" if u.new_paragraph else " ") if i else ""
                body += u.text
            text = f"{heading}\n\n{body}" if heading else body
            page = current[len(current) - fresh].page  # where the new text starts
            out.append(Chunk(len(out), text, page, heading, used + h_tokens))

        for unit in units:
            page_break = bool(current) and unit.page != current[-1].page
            if current and fresh and (used + unit.tokens > budget or page_break):
                emit()
                current, used = self._overlap(current), 0
                used = sum(u.tokens for u in current)
                fresh = 0
                if used + unit.tokens > budget or page_break:
                    current, used = [], 0
            current.append(unit)
            used += unit.tokens
            fresh += 1
        if current and fresh:
            emit()

    def _overlap(self, previous: list[_Unit]) -> list[_Unit]:
        kept: list[_Unit] = []
        total = 0
        for unit in reversed(previous):
            if total + unit.tokens > self.overlap_tokens:
                break
            kept.insert(0, unit)
            total += unit.tokens
        if kept:
            kept[0] = _Unit(kept[0].text, kept[0].tokens, kept[0].page, True)
        return kept
