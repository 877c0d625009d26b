"""Plain data passed between the Documents worker, the chunker and the API."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """One paragraph-like unit of text, with its page (None: format has no pages) and the
    path of headings it sits under. Headings themselves are blocks with ``is_heading``."""

    text: str
    page: int | None = None
    headings: tuple[str, ...] = ()
    is_heading: bool = False


@dataclass
class ExtractedDocument:
    kind: str  # pdf, docx, pptx, html, markdown, text, image
    mime: str
    blocks: list[Block]
    pages: int
    ocr_pages: list[int] = field(default_factory=list)
    ocr_skipped_pages: list[int] = field(default_factory=list)

    def text(self) -> str:
        """The document as text: headings as Markdown headings, blocks separated by blank
        lines."""
        parts = []
        for block in self.blocks:
            if block.is_heading:
                parts.append("#" * max(1, min(6, len(block.headings))) + " " + block.text)
            else:
                parts.append(block.text)
        return "\n\n".join(parts)


@dataclass(frozen=True)
class ImageResult:
    width: int
    height: int
    format: str  # PNG, JPEG, ...
    mime: str
    ocr_text: str
