"""Docling conversion to blocks (text, page, heading path).

PDFs use docling's model-free native pipeline by default: its layout models come from the
Hugging Face Hub, which a replica may not reach. ``pdf_pipeline="layout"`` uses the standard
pipeline when its models load, and falls back to native (logged) when they do not.
"""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

from lmwebui.documents.types import Block
from lmwebui.errors import ValidationFailed

logger = logging.getLogger("lmwebui.documents.convert")

# docling picks the backend from the name: the sniffed kind decides it, not the upload's name
_STREAM_NAMES = {
    "pdf": "document.pdf",
    "docx": "document.docx",
    "pptx": "document.pptx",
    "html": "document.html",
    "markdown": "document.md",
}


class DoclingConverter:
    def __init__(self, pdf_pipeline: str = "native", parser_threads: int = 1) -> None:
        from docling.datamodel.base_models import InputFormat
        from docling.datamodel.pipeline_options import NativePdfPipelineOptions
        from docling.document_converter import DocumentConverter, NativePdfFormatOption

        self._lock = threading.Lock()
        native = NativePdfFormatOption(
            pipeline_options=NativePdfPipelineOptions(
                generate_page_images=False,
                generate_picture_images=False,
                parser_threads=parser_threads,
            )
        )
        formats = [
            InputFormat.PDF,
            InputFormat.DOCX,
            InputFormat.PPTX,
            InputFormat.HTML,
            InputFormat.MD,
        ]
        self._native = DocumentConverter(
            allowed_formats=formats, format_options={InputFormat.PDF: native}
        )
        self._layout: Any = None
        self.pdf_pipeline = "native"
        if pdf_pipeline == "layout":
            self._layout = self._try_layout(formats)
            if self._layout is not None:
                self.pdf_pipeline = "layout"

    @staticmethod
    def _try_layout(formats: list[Any]) -> Any:
        from docling.datamodel.base_models import DocumentStream
        from docling.document_converter import DocumentConverter

        from lmwebui.documents.pdfmini import one_line_pdf

        try:
            conv = DocumentConverter(allowed_formats=formats)
            conv.convert(DocumentStream(name="probe.pdf", stream=io.BytesIO(one_line_pdf())))
            return conv
        except Exception as exc:  # models missing (no hub): keep the native pipeline
            logger.warning("docling layout pipeline unavailable (%s); using native", exc)
            return None

    def convert(self, data: bytes, kind: str) -> tuple[list[Block], int]:
        """Blocks and the page count (1 for formats without pages)."""
        from docling.datamodel.base_models import ConversionStatus, DocumentStream

        converter = self._layout if (kind == "pdf" and self._layout is not None) else self._native
        stream = DocumentStream(name=_STREAM_NAMES[kind], stream=io.BytesIO(data))
        try:
            with self._lock:  # docling converters are not documented as thread-safe
                result = converter.convert(stream, raises_on_error=False)
        except Exception as exc:
            raise ValidationFailed(f"The {kind.upper()} file could not be read: {exc}") from None
        if result.status not in (ConversionStatus.SUCCESS, ConversionStatus.PARTIAL_SUCCESS):
            errors = "; ".join(e.error_message for e in result.errors) or str(result.status)
            raise ValidationFailed(f"The {kind.upper()} file could not be read: {errors}")
        doc = result.document
        blocks = doc_blocks(doc, paginated=kind in ("pdf", "pptx"))
        pages = len(doc.pages) if kind in ("pdf", "pptx") and doc.pages else 1
        return blocks, pages


def doc_blocks(doc: Any, *, paginated: bool) -> list[Block]:
    """Walk a DoclingDocument in reading order, tracking the heading path."""
    from docling_core.types.doc import (  # type: ignore[attr-defined]
        CodeItem,
        DocItem,
        ListItem,
        PictureItem,
        SectionHeaderItem,
        TableItem,
        TextItem,
        TitleItem,
    )

    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    pdf_lines: list[tuple[int | None, Any, str]] = []

    def flush_lines() -> None:
        blocks.extend(_paragraphs(pdf_lines, tuple(t for _, t in stack)))
        pdf_lines.clear()

    for item, _level in doc.iterate_items():
        if not isinstance(item, DocItem) or isinstance(item, PictureItem):
            continue
        page = item.prov[0].page_no if (paginated and item.prov) else None
        if isinstance(item, TitleItem | SectionHeaderItem):
            flush_lines()
            text = " ".join(item.text.split())
            if not text:
                continue
            level = 0 if isinstance(item, TitleItem) else int(getattr(item, "level", 1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            blocks.append(Block(text, page, tuple(t for _, t in stack), is_heading=True))
            continue
        if isinstance(item, TableItem):
            flush_lines()
            text = item.export_to_markdown(doc=doc).strip()
        elif isinstance(item, CodeItem):
            flush_lines()
            text = item.text.strip()
        elif isinstance(item, ListItem):
            flush_lines()
            text = f"- {' '.join(item.text.split())}"
        elif isinstance(item, TextItem):
            text = " ".join(item.text.split())
            if paginated and item.prov and item.prov[0].bbox is not None:
                # native PDF text comes line by line: regroup lines into paragraphs
                pdf_lines.append((page, item.prov[0].bbox, text))
                continue
        else:
            continue
        if text:
            blocks.append(Block(text, page, tuple(t for _, t in stack)))
    flush_lines()
    return blocks


def _paragraphs(lines: list[tuple[int | None, Any, str]], headings: tuple[str, ...]) -> list[Block]:
    """Consecutive lines of a page form one paragraph until a vertical gap larger than
    ~0.7 line heights (or a page change)."""
    out: list[Block] = []
    current: list[str] = []
    prev: tuple[int | None, float, float] | None = None  # page, bottom, height
    cur_page: int | None = None

    def close() -> None:
        text = " ".join(current).strip()
        if text:
            out.append(Block(text, cur_page, headings))
        current.clear()

    for page, bbox, text in lines:
        if not text:
            continue
        top, bottom = _vertical(bbox)
        height = max(1.0, bottom - top)
        if prev is not None:
            same_page = prev[0] == page
            gap = top - prev[1]
            if not same_page or gap > 0.7 * max(height, prev[2]) or gap < -3 * height:
                close()
        if not current:
            cur_page = page
        current.append(text)
        prev = (page, bottom, height)
    close()
    return out


def _vertical(bbox: Any) -> tuple[float, float]:
    """(top, bottom) growing downwards, whatever the box's origin."""
    t, b = float(bbox.t), float(bbox.b)
    if str(getattr(bbox, "coord_origin", "")).upper().endswith("BOTTOMLEFT"):
        return -t, -b
    return t, b
