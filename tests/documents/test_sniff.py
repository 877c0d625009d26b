"""Content sniffing: the bytes decide the kind, the name only separates text flavours."""

from __future__ import annotations

import pytest

from lmwebui.documents.sniff import sniff
from lmwebui.errors import UnsupportedMediaType, ValidationFailed
from tests.documents import samples as S


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (S.text_pdf([["hello"]]), "x.bin", "pdf"),
        (S.docx([("H", ["p"])]), "x.zip", "docx"),
        (S.pptx([("T", "b")]), "slides.dat", "pptx"),
        (S.image_bytes(S.text_image(["hi"])), "photo.pdf", "image"),
        (S.image_bytes(S.text_image(["hi"]), "JPEG"), "x", "image"),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.txt", "html"),
        (b"<p>para</p><div>more</div>", "page.html", "html"),
        (b"# Title\n\nSome text\n\n- item\n", "notes.md", "markdown"),
        (b"# Title\n\n- one\n- two\n", "notes", "markdown"),
        ("Просто текст на русском.".encode(), "ru.txt", "text"),
        ("\ufeffBOM text".encode(), "bom.txt", "text"),
        ("Windows text caf\xe9".encode("cp1252"), "w.txt", "text"),
    ],
)
def test_kinds_come_from_content(data: bytes, name: str, kind: str) -> None:
    assert sniff(data, name).kind == kind


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4,  # an executable named .pdf
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,  # legacy .doc
        bytes(range(256)) * 16,
    ],
)
def test_binary_and_legacy_files_are_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType):
        sniff(data, "report.pdf")


def test_plain_zip_and_spreadsheets_are_unsupported() -> None:
    import io
    import zipfile

    for name in ("readme.txt", "xl/workbook.xml"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, "x")
        with pytest.raises(UnsupportedMediaType):
            sniff(buf.getvalue(), "a.docx")


@pytest.mark.parametrize("data", [b"", b"   \n\t  ", "\ufeff".encode()])
def test_empty_files(data: bytes) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        sniff(data, "empty.txt")


def test_corrupt_zip_container() -> None:
    with pytest.raises(ValidationFailed, match="corrupt"):
        sniff(b"PK\x03\x04" + b"\x00" * 100, "x.docx")
