"""Documents deployment: docling conversion, OCR (RapidOCR) and chunking."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray import serve

from lmwebui.logging_setup import configure_logging
from lmwebui.rag.backends import DocumentsWorker
from lmwebui.settings import load_settings
from lmwebui.wire import to_wire

logger = logging.getLogger("lmwebui.deployments.documents")


@serve.deployment(name="Documents")
class Documents:
    """CPU-bound work runs in threads; ``max_ongoing_requests`` bounds it per replica and
    ``max_queued_requests`` turns overload into 503."""

    def __init__(self, settings_overrides: dict[str, Any]) -> None:
        settings = load_settings(**settings_overrides)
        configure_logging(settings.log_level)
        self.worker = DocumentsWorker(settings.rag)
        logger.info(
            "Documents ready (pdf pipeline %s, ocr %s)",
            self.worker.processor.converter.pdf_pipeline,
            "on" if self.worker.processor.ocr else "off",
        )

    async def process(self, data: bytes, filename: str, chunk: bool) -> dict[str, Any]:
        """A ProcessedDocument as plain data (lmwebui/wire.py)."""
        wire: dict[str, Any] = to_wire(
            await asyncio.to_thread(self.worker.process, data, filename, chunk)
        )
        return wire

    async def image(self, data: bytes, filename: str) -> dict[str, Any]:
        """An ImageResult as plain data."""
        wire: dict[str, Any] = to_wire(await asyncio.to_thread(self.worker.image, data, filename))
        return wire

    async def ready(self) -> bool:
        return True
