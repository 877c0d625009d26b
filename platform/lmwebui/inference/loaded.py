"""A loaded GGUF model (engine + chat format) and an LRU pool of them."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from lmwebui.errors import AppError
from lmwebui.inference.chat_format import Formatter, build_formatter
from lmwebui.inference.engine import BatchedEngine, EngineConfig
from lmwebui.metrics import get_metrics
from lmwebui.models.files import is_gguf

logger = logging.getLogger("lmwebui.inference")


class ModelLoadFailed(AppError):
    status_code = 400
    error_code = "MODEL_INVALID"


@dataclass
class LoadedModel:
    name: str
    path: Path
    engine: BatchedEngine
    formatter: Formatter
    metadata: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.engine.close()
            get_metrics().inc("lmwebui_model_unloads_total", tags={"model": self.name})
            logger.info("unloaded model %s", self.name)

    # Ray Serve's multiplexing calls __del__ when it evicts a model.
    def __del__(self) -> None:
        self.close()


def load_model(name: str, config: EngineConfig) -> LoadedModel:
    """Blocking: load the GGUF at ``config.model_path`` (``EngineConfig.from_settings``) and
    build its chat formatter."""
    path = Path(config.model_path)
    if not is_gguf(path):
        raise ModelLoadFailed(f"Model file '{name}' is not a valid GGUF file")
    try:
        engine = BatchedEngine(config)
    except Exception as exc:
        raise ModelLoadFailed(f"Model file '{name}' could not be loaded: {exc}") from exc
    metadata = engine.metadata
    bos = _special_text(engine, metadata.get("tokenizer.ggml.bos_token_id"))
    eos = _special_text(engine, metadata.get("tokenizer.ggml.eos_token_id"))
    formatter = build_formatter(metadata, bos, eos)
    logger.info("loaded model %s (%s)", name, metadata.get("general.architecture", "?"))
    get_metrics().inc("lmwebui_model_loads_total", tags={"model": name})
    return LoadedModel(name, path, engine, formatter, metadata)


def _special_text(engine: BatchedEngine, token_id: str | None) -> str:
    if token_id is None or not token_id.lstrip("-").isdigit() or int(token_id) < 0:
        return ""
    return engine.detokenize([int(token_id)], special=True)


class ModelPool:
    """Keeps up to ``max_models`` loaded; evicts the least recently used."""

    def __init__(self, loader: Callable[[str], Awaitable[LoadedModel]], max_models: int) -> None:
        self._loader = loader
        self._max = max_models
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, name: str) -> LoadedModel:
        if name in self._models:
            self._models.move_to_end(name)
            return self._models[name]
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self._models:
                return self._models[name]
            while len(self._models) >= self._max:
                _, evicted = self._models.popitem(last=False)
                evicted.close()
            model = await self._loader(name)
            self._models[name] = model
            return model

    def loaded(self) -> list[str]:
        return list(self._models)

    def unload(self, name: str) -> bool:
        model = self._models.pop(name, None)
        if model is None:
            return False
        model.close()
        return True

    def close(self) -> None:
        for name in list(self._models):
            self.unload(name)
