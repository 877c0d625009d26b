"""Documents deployment: docling conversion, OCR (RapidOCR) and chunking."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray import serve

from lmwebui.documents.types import ImageResult
from lmwebui.logging_setup import configure_logging
from lmwebui.rag.backends import DocumentsWorker
from lmwebui.rag.types import ProcessedDocument
from lmwebui.settings import load_settings

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

    async def process(self, data: bytes, filename: str, chunk: bool) -> ProcessedDocument:
        return await asyncio.to_thread(self.worker.process, data, filename, chunk)

    async def image(self, data: bytes, filename: str) -> ImageResult:
        return await asyncio.to_thread(self.worker.image, data, filename)

    async def ready(self) -> bool:
        return True
