"""DocumentProcessor: bytes → ExtractedDocument (any supported kind) or ImageResult.

Order of work for every upload: sniff the content, run the cheap guards (size, pixels,
zip inflation, PDF encryption/page count), then parse; PDF pages without a text layer are
rendered and OCR'd.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lmwebui.documents.convert import DoclingConverter
from lmwebui.documents.images import load_rgb, open_image
from lmwebui.documents.limits import check_zip, inspect_pdf, render_pdf_page
from lmwebui.documents.ocr import OcrEngine
from lmwebui.documents.sniff import Sniffed, decode_text, sniff
from lmwebui.documents.types import Block, ExtractedDocument, ImageResult
from lmwebui.rag_settings import RagSettings

logger = logging.getLogger("lmwebui.documents")
_PARAGRAPH = re.compile(r"\n\s*\n")


class DocumentProcessor:
    def __init__(self, settings: RagSettings, *, warm_up: bool = True) -> None:
        self.settings = settings
        self.converter = DoclingConverter(settings.pdf_pipeline)
        self.ocr: OcrEngine | None = OcrEngine() if settings.ocr_enabled else None
        if warm_up and self.ocr is not None:
            self.ocr.warm_up()

    # -- public -------------------------------------------------------------------------
    def extract(self, data: bytes, filename: str) -> ExtractedDocument:
        kind = sniff(data, filename)
        if kind.kind == "image":
            return self._image_document(data, kind)
        if kind.kind == "pdf":
            return self._pdf(data, kind)
        if kind.kind in ("docx", "pptx"):
            check_zip(data, self.settings.max_uncompressed_bytes)
        if kind.kind == "text":
            return self._plain_text(data, kind)
        blocks, pages = self.converter.convert(data, kind.kind)
        return ExtractedDocument(kind.kind, kind.mime, blocks, pages)

    def image(self, data: bytes, filename: str) -> ImageResult:
        kind = sniff(data, filename)
        if kind.kind != "image":
            raise_unsupported_image(kind)
        img = open_image(data, self.settings.max_image_pixels)
        width, height, fmt = img.width, img.height, str(img.format)
        rgb = load_rgb(img, self.settings.ocr_max_side)
        text = "\n".join(self.ocr.read(rgb)) if self.ocr is not None else ""
        return ImageResult(width, height, fmt, kind.mime, text)

    # -- kinds --------------------------------------------------------------------------
    def _image_document(self, data: bytes, kind: Sniffed) -> ExtractedDocument:
        result = self.image(data, "")
        blocks = [Block(p, 1) for p in _paragraphs_of_lines(result.ocr_text.splitlines())]
        return ExtractedDocument("image", kind.mime, blocks, 1, ocr_pages=[1] if blocks else [])

    def _plain_text(self, data: bytes, kind: Sniffed) -> ExtractedDocument:
        text = decode_text(data) or ""
        pages = text.split("\f")  # form feeds are page breaks in plain text
        blocks = []
        for number, page in enumerate(pages, start=1):
            for para in _PARAGRAPH.split(page):
                para = " ".join(para.split())
                if para:
                    blocks.append(Block(para, number if len(pages) > 1 else None))
        return ExtractedDocument("text", kind.mime, blocks, len(pages))

    def _pdf(self, data: bytes, kind: Sniffed) -> ExtractedDocument:
        info = inspect_pdf(data, self.settings.max_pages)
        blocks, _pages = self.converter.convert(data, "pdf")
        chars: dict[int, int] = {}
        for b in blocks:
            if b.page is not None:
                chars[b.page] = chars.get(b.page, 0) + len(b.text)
        scanned = [
            p
            for p in range(1, info.pages + 1)
            if max(chars.get(p, 0), info.text_chars[p - 1]) < self.settings.ocr_min_chars
        ]
        doc = ExtractedDocument("pdf", kind.mime, blocks, info.pages)
        if not scanned or self.ocr is None:
            return doc
        budget = self.settings.ocr_max_pages
        ocr_blocks: dict[int, list[Block]] = {}
        for attempt, page in enumerate(scanned):
            if attempt >= budget:
                doc.ocr_skipped_pages.append(page)
                continue
            image = render_pdf_page(data, page - 1, self.settings.max_image_pixels)
            lines = self.ocr.read(load_rgb(image, self.settings.ocr_max_side))
            if sum(len(ln) for ln in lines) <= chars.get(page, 0):
                continue  # OCR found no more than the text layer has: keep the latter
            ocr_blocks[page] = [Block(p, page) for p in _paragraphs_of_lines(lines)]
            doc.ocr_pages.append(page)
        if doc.ocr_skipped_pages:
            logger.info("PDF: OCR budget reached, %d pages skipped", len(doc.ocr_skipped_pages))
        merged: list[Block] = []
        for page in range(1, info.pages + 1):
            if page in ocr_blocks:
                merged.extend(ocr_blocks[page])
            else:
                merged.extend(b for b in blocks if b.page == page)
        merged.extend(b for b in blocks if b.page is None)
        doc.blocks = merged
        return doc


def raise_unsupported_image(kind: Sniffed) -> Any:
    from lmwebui.errors import UnsupportedMediaType

    raise UnsupportedMediaType(
        f"Expected an image (PNG, JPEG, GIF, WEBP, BMP, TIFF), got {kind.kind.upper()} content"
    )


def _paragraphs_of_lines(lines: list[str]) -> list[str]:
    """OCR has no paragraph structure: a page's lines form one block (the chunker splits
    it at line and sentence ends)."""
    lines = [ln for ln in (" ".join(x.split()) for x in lines) if ln]
    return ["\n".join(lines)] if lines else []
