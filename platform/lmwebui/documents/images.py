"""Images: probe the header (format, size) before decoding anything; giant images and
pixel bombs are refused before a single pixel is allocated."""

from __future__ import annotations

import io
import warnings
from typing import Any

from lmwebui.documents.sniff import IMAGE_MIME
from lmwebui.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed


def _too_large(width: int, height: int, max_pixels: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} MP); "
        f"the limit is {max_pixels / 1e6:.0f} MP"
    )


def open_image(data: bytes, max_pixels: int) -> Any:
    """A lazily-loaded PIL image whose header passed the checks."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # PIL refuses past its own bound; read the declared size for a clear message
            raise PayloadTooLarge(
                f"The image has more pixels than allowed ({max_pixels / 1e6:.0f} MP)"
            ) from None
        except UnidentifiedImageError:
            raise UnsupportedMediaType("Unsupported or corrupt image") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValidationFailed(f"The image is corrupt: {exc}") from None
    if img.format not in IMAGE_MIME:
        raise UnsupportedMediaType(f"Unsupported image format {img.format}")
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ValidationFailed("The image has no pixels")
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    return img


def load_rgb(img: Any, max_side: int) -> Any:
    """Decode (first frame), apply EXIF rotation, scale down to ``max_side``; RGB."""
    from PIL import Image, ImageOps

    try:
        if img.format == "JPEG":
            img.draft("RGB", (max_side, max_side))  # decode at reduced size: cheap
        img.load()
        img = ImageOps.exif_transpose(img) or img
        if img.mode not in ("RGB", "L"):
            background = Image.new("RGB", img.size, "white")
            rgba = img.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            img = background
        img = img.convert("RGB")
        if max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return img
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"The image is corrupt or truncated: {exc}") from None
