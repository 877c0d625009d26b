# ruff: noqa: RUF001 - non-Latin scripts are the point of some tests here
"""Real conversion: docling (native PDF pipeline), RapidOCR, and the chunker on top."""

from __future__ import annotations

import pytest

from lmwebui.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from lmwebui.rag.backends import DocumentsWorker
from lmwebui.rag_settings import RagSettings
from tests.documents import samples as S


@pytest.fixture(scope="module")
def worker() -> DocumentsWorker:
    return DocumentsWorker(RagSettings(ocr_max_pages=2))


def test_text_pdf_keeps_pages_and_paragraphs(worker: DocumentsWorker) -> None:
    pdf = S.text_pdf(
        [
            ["Quarterly report", "Revenue grew by 12 percent in the third quarter."],
            ["The warehouse in Lyon closed in March.", "Staff moved to Grenoble."],
        ]
    )
    out = worker.process(pdf, "report.pdf", True)
    doc = out.document
    assert doc.kind == "pdf" and doc.pages == 2 and doc.ocr_pages == []
    by_page = {b.page: b.text for b in doc.blocks}
    assert "Revenue grew by 12 percent" in by_page[1]
    assert "warehouse in Lyon" in by_page[2]
    assert out.chunks and all(c.page in (1, 2) for c in out.chunks)


def test_scanned_pdf_pages_are_ocrd(worker: DocumentsWorker) -> None:
    scan = S.text_image(["Scanned contract number 88-ALPHA", "Signed in Oslo on 4 May"])
    pdf = S.scanned_pdf([scan])
    doc = worker.process(pdf, "scan.pdf", False).document
    assert doc.ocr_pages == [1]
    text = doc.text()
    assert "88-ALPHA" in text and "Oslo" in text


def test_mixed_pdf_ocr_budget(worker: DocumentsWorker) -> None:
    blank = S.text_image(["page"])
    pdf = S.scanned_pdf([blank, blank, blank])
    doc = worker.process(pdf, "three.pdf", False).document
    assert doc.ocr_pages == [1, 2] and doc.ocr_skipped_pages == [3]


def test_docx_headings_become_heading_paths(worker: DocumentsWorker) -> None:
    data = S.docx(
        [
            ("Installation", ["Run the installer as administrator."]),
            ("Troubleshooting", ["Error E-1042 means the licence file is missing."]),
        ]
    )
    out = worker.process(data, "manual.docx", True)
    assert out.document.kind == "docx"
    chunk = next(c for c in out.chunks if "E-1042" in c.text)
    assert chunk.heading == "Troubleshooting"
    assert chunk.text.startswith("Troubleshooting\n\n")
    assert all("E-1042" not in c.text for c in out.chunks if c.heading == "Installation")


def test_pptx_slides_are_pages(worker: DocumentsWorker) -> None:
    data = S.pptx([("Roadmap", "Launch in April"), ("Budget", "Cost 40k")])
    doc = worker.process(data, "deck.pptx", False).document
    assert doc.kind == "pptx" and doc.pages == 2
    assert {b.page for b in doc.blocks if "40k" in b.text} == {2}


def test_html_markdown_and_text(worker: DocumentsWorker) -> None:
    html = b"<html><body><h1>Guide</h1><p>Use port 8443.</p><script>x=1</script></body></html>"
    doc = worker.process(html, "g.html", False).document
    assert doc.kind == "html" and "port 8443" in doc.text() and "x=1" not in doc.text()
    md = b"# Notes\n\n## Setup\n\nInstall with pip.\n"
    chunks = worker.process(md, "n.md", True).chunks
    assert chunks[0].heading == "Notes > Setup"
    doc = worker.process("Первая строка.\n\nВторая строка.".encode(), "ru.txt", False).document
    assert doc.kind == "text" and len(doc.blocks) == 2


def test_photo_of_a_page(worker: DocumentsWorker) -> None:
    img = S.text_image(["Meeting room B12 at 10:30", "Bring the XK-4471 samples"])
    result = worker.image(S.image_bytes(img, "JPEG"), "photo.jpg")
    assert result.format == "JPEG" and result.width == img.width
    assert "B12" in result.ocr_text and "XK-4471" in result.ocr_text
    doc = worker.process(S.image_bytes(img), "photo.png", True)
    assert doc.document.kind == "image" and "XK-4471" in doc.chunks[0].text


def test_bad_inputs(worker: DocumentsWorker) -> None:
    with pytest.raises(ValidationFailed, match="encrypted"):
        worker.process(S.text_pdf([["x"]], encrypt=True), "e.pdf", True)
    with pytest.raises(ValidationFailed):
        worker.process(b"%PDF-1.7\n1 0 obj garbage", "c.pdf", True)
    with pytest.raises(PayloadTooLarge):
        worker.process(S.docx_bomb(300), "bomb.docx", True)
    with pytest.raises(PayloadTooLarge):
        worker.image(S.png_bomb(20000), "huge.png")
    with pytest.raises(UnsupportedMediaType):
        worker.image(S.text_pdf([["x"]]), "not-an-image.png")
    with pytest.raises(ValidationFailed, match="empty"):
        worker.process(b"", "empty.txt", True)
