"""Guards run before a parser sees the bytes: zip bombs, encrypted/corrupt PDFs, page counts."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lmwebui.errors import PayloadTooLarge, ValidationFailed

MAX_ZIP_ENTRIES = 10_000
_READ = 1024 * 1024


def check_zip(data: bytes, max_uncompressed: int) -> int:
    """Inflate every member (without keeping it) and stop at ``max_uncompressed`` bytes:
    the sizes a zip declares can lie, the inflated stream cannot. Returns the total."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise PayloadTooLarge(f"The file has {len(infos)} parts (limit {MAX_ZIP_ENTRIES})")
        declared = sum(i.file_size for i in infos)
        if declared > max_uncompressed:
            raise PayloadTooLarge(_bomb(declared, max_uncompressed))
        total = 0
        for info in infos:
            with archive.open(info) as member:
                while chunk := member.read(_READ):
                    total += len(chunk)
                    if total > max_uncompressed:
                        raise PayloadTooLarge(_bomb(total, max_uncompressed))
        return total
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ValidationFailed(f"The file is corrupt: {exc}") from None
    except NotImplementedError as exc:  # unsupported compression method
        raise ValidationFailed(f"The file cannot be read: {exc}") from None


def _bomb(size: int, limit: int) -> str:
    return (
        f"The file expands to more than {limit // (1024 * 1024)} MiB when unpacked "
        f"(at least {size // (1024 * 1024)} MiB): refused as a decompression bomb"
    )


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    text_chars: list[int]  # characters in each page's text layer


def inspect_pdf(data: bytes, max_pages: int) -> PdfInfo:
    """Open with pdfium: encrypted or corrupt PDFs and too many pages fail here, clearly."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise ValidationFailed(
                "The PDF is encrypted (password-protected); upload an unencrypted copy"
            ) from None
        raise ValidationFailed(f"The PDF is corrupt or not a PDF: {message}") from None
    try:
        pages = len(pdf)
        if pages == 0:
            raise ValidationFailed("The PDF has no pages")
        if pages > max_pages:
            raise PayloadTooLarge(f"The PDF has {pages} pages (limit {max_pages})")
        chars = []
        for i in range(pages):
            page = pdf[i]
            textpage = page.get_textpage()
            try:
                chars.append(len(textpage.get_text_range().strip()))
            finally:
                textpage.close()
                page.close()
        return PdfInfo(pages, chars)
    finally:
        pdf.close()


def render_pdf_page(data: bytes, index: int, max_pixels: int, scale: float = 2.0) -> object:
    """A PIL image of one page, at ``scale`` (≈ 144 dpi) but never above ``max_pixels``."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[index]
        try:
            width, height = page.get_size()
            area = max(1.0, width * height)
            scale = min(scale, (max_pixels / area) ** 0.5)
            return page.render(scale=scale).to_pil()
        finally:
            page.close()
    finally:
        pdf.close()
