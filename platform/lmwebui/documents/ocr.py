"""RapidOCR with the PP-OCR ONNX models shipped in its wheel (no downloads)."""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger("lmwebui.documents.ocr")


class OcrEngine:
    """Thread-safe wrapper; one ONNX session set per process."""

    def __init__(self, threads: int | None = None) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {"Global.log_level": "error"}
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self._ocr = RapidOCR(params=params)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Run once on a small rendered word so the first request does not pay for it."""
        from PIL import Image, ImageDraw

        img = Image.new("RGB", (160, 48), "white")
        ImageDraw.Draw(img).text((10, 15), "warm up", fill="black")
        self.read(img)

    def read(self, image: Any) -> list[str]:
        """Text lines of a PIL image, top to bottom."""
        import numpy as np

        with self._lock:
            result = self._ocr(np.asarray(image.convert("RGB")))
        txts = getattr(result, "txts", None) or ()
        boxes = getattr(result, "boxes", None)
        lines = [str(t).strip() for t in txts]
        if boxes is not None and len(boxes) == len(lines):
            return _merge_rows(
                [(float(b[0][1]), float(b[0][0]), t) for b, t in zip(boxes, lines, strict=True)]
            )
        return [t for t in lines if t]


def _merge_rows(items: list[tuple[float, float, str]], tolerance: float = 12.0) -> list[str]:
    """Boxes on the same row (top within ``tolerance`` px) joined left to right."""
    rows: list[list[tuple[float, float, str]]] = []
    for item in sorted(items):
        if rows and abs(rows[-1][0][0] - item[0]) <= tolerance:
            rows[-1].append(item)
        else:
            rows.append([item])
    out = []
    for row in rows:
        text = " ".join(t for _, _, t in sorted(row, key=lambda r: r[1]) if t)
        if text:
            out.append(text)
    return out
