"""Build real test files in memory: text PDFs (hand-written PDF syntax), scanned PDFs
(Pillow), DOCX/PPTX (python-docx/python-pptx), rendered text images, bombs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: Sequence[Sequence[str]], *, encrypt: bool = False) -> bytes:
    """A PDF with a real text layer: one line of Helvetica per string, one list per page."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # placeholders, filled below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1", "replace")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, font, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    encrypt_ref = None
    if encrypt:
        # Standard security handler, RC4-40; O/U do not match the empty password, so a
        # reader must ask for one.
        encrypt_ref = add(
            b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 "
            b"/O <" + b"AB" * 32 + b"> /U <" + b"CD" * 32 + b"> >>"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if encrypt_ref:
        trailer += b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (encrypt_ref, b"01" * 16, b"01" * 16)
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def font(size: int = 36) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def text_image(lines: Sequence[str], *, size: int = 36, width: int = 1100) -> Image.Image:
    """Black text on white, one line per string (what a photographed page looks like)."""
    f = font(size)
    line_h = int(size * 1.6)
    img = Image.new("RGB", (width, 40 + line_h * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((30, 20 + i * line_h), line, fill="black", font=f)
    return img


def image_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def scanned_pdf(images: Sequence[Image.Image]) -> bytes:
    """Image-only PDF pages (no text layer), as a scanner makes them."""
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB") for im in images]
    first.save(buf, "PDF", resolution=150.0, save_all=True, append_images=rest)
    return buf.getvalue()


def docx(sections: Sequence[tuple[str, Sequence[str]]]) -> bytes:
    """A Word file: (heading, paragraphs) per section."""
    import docx as python_docx

    doc = python_docx.Document()
    for heading, paragraphs in sections:
        doc.add_heading(heading, level=1)
        for p in paragraphs:
            doc.add_paragraph(p)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def pptx(slides: Sequence[tuple[str, str]]) -> bytes:
    """A PowerPoint file: (title, body) per slide."""
    from pptx import Presentation

    prs = Presentation()
    for title, body in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def docx_bomb(uncompressed_mb: int = 300) -> bytes:
    """A DOCX whose document.xml inflates to hundreds of MB (zeros compress ~1000:1)."""
    base = docx([("Bomb", ["x"])])
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                chunk = b" " * (1024 * 1024)
                with z.open(item.filename, "w", force_zip64=True) as fh:
                    fh.write(data)
                    for _ in range(uncompressed_mb):
                        fh.write(chunk)
            else:
                z.writestr(item, data)
    return out.getvalue()


def png_bomb(side: int = 20000) -> bytes:
    """A tiny PNG that claims side x side pixels (one-bit, all white)."""
    img = Image.new("1", (side, side), 1)
    return image_bytes(img, "PNG")
