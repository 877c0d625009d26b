"""Guards before parsing: zip bombs, encrypted/corrupt PDFs, page counts, giant images."""

from __future__ import annotations

import pytest

from lmwebui.documents.images import load_rgb, open_image
from lmwebui.documents.limits import check_zip, inspect_pdf
from lmwebui.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from tests.documents import samples as S


def test_docx_bomb_is_refused_while_inflating() -> None:
    bomb = S.docx_bomb(300)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire...
    with pytest.raises(PayloadTooLarge, match="decompression bomb"):
        check_zip(bomb, 200 * 1024 * 1024)  # ...hundreds of MiB inside


def test_zip_that_lies_about_sizes_is_still_bounded() -> None:
    import io
    import struct
    import zipfile

    bomb = S.docx_bomb(5)
    # rewrite every declared uncompressed size in the central directory to 1 byte
    data = bytearray(bomb)
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        data[pos + 24 : pos + 28] = struct.pack("<I", 1)
        pos += 4
    with pytest.raises((PayloadTooLarge, ValidationFailed)):
        check_zip(bytes(data), 1024 * 1024)
    assert zipfile.is_zipfile(io.BytesIO(bytes(data)))


def test_normal_docx_passes() -> None:
    assert check_zip(S.docx([("H", ["text"])]), 10 * 1024 * 1024) > 0


def test_encrypted_pdf() -> None:
    with pytest.raises(ValidationFailed, match="encrypted"):
        inspect_pdf(S.text_pdf([["secret"]], encrypt=True), 100)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\nthis is not really a pdf", S.text_pdf([["x"]])[:200]],
)
def test_corrupt_pdf(data: bytes) -> None:
    with pytest.raises(ValidationFailed, match="corrupt"):
        inspect_pdf(data, 100)


def test_pdf_page_limit_and_text_layer() -> None:
    pdf = S.text_pdf([["one"], ["two two"], []])
    info = inspect_pdf(pdf, 10)
    assert info.pages == 3
    assert info.text_chars[0] == 3 and info.text_chars[2] == 0
    with pytest.raises(PayloadTooLarge, match="3 pages"):
        inspect_pdf(pdf, 2)


def test_giant_image_is_refused_from_its_header() -> None:
    bomb = S.png_bomb(20000)
    assert len(bomb) < 200_000
    with pytest.raises(PayloadTooLarge, match=r"pixels|MP"):
        open_image(bomb, 40_000_000)


def test_image_over_our_limit_but_under_pillows() -> None:
    data = S.png_bomb(7000)  # 49 MP
    with pytest.raises(PayloadTooLarge, match="7000x7000"):
        open_image(data, 40_000_000)


def test_truncated_and_fake_images() -> None:
    png = S.image_bytes(S.text_image(["hello"]))
    with pytest.raises(ValidationFailed, match="corrupt"):
        load_rgb(open_image(png[: len(png) // 2], 10**8), 2000)
    with pytest.raises((UnsupportedMediaType, ValidationFailed)):
        load_rgb(open_image(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, 10**8), 2000)


def test_images_are_scaled_down_for_ocr() -> None:
    img = S.text_image(["wide"], width=5000)
    rgb = load_rgb(open_image(S.image_bytes(img), 10**8), 2000)
    assert max(rgb.size) == 2000 and rgb.mode == "RGB"
