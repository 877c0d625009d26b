"""Unloading one GGUF model from every ChatGGUF replica (before its file is deleted).

Serve's ``@serve.multiplexed`` only evicts by LRU; to drop a specific model we reach its
per-replica cache (``_ModelMultiplexWrapper``, pinned Ray version) under the same lock its
loads take, close the model and flag the replica's model list for re-publication so the
router stops sending that model id there. ``handle.broadcast`` reaches every replica.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lmwebui.errors import ServiceUnavailable
from lmwebui.models.runtime import Unloader

logger = logging.getLogger("lmwebui.deployments.model_unload")
_WRAPPER_ATTR = "__serve_multiplex_wrapper"


async def unload_multiplexed(get_model: Any, model_id: str) -> bool:
    """Remove ``model_id`` from this replica's multiplexed models; True if it was loaded."""
    target = getattr(get_model, "__wrapped__", get_model)
    wrapper = getattr(target, _WRAPPER_ATTR, None)
    if wrapper is None:  # nothing was ever loaded through it
        return False
    async with wrapper._model_cache_lock:  # waits for a load in progress
        model = wrapper.models.pop(model_id, None)
        if model is None:
            return False
        wrapper._push_multiplexed_replica_info = True
    close = getattr(model, "close", None)
    if close is not None:
        await asyncio.to_thread(close)
    logger.info("unloaded model %s on request", model_id)
    return True


def broadcast_unloader(handle: Any, timeout_s: float = 60.0) -> Unloader:
    """An Unloader calling ``unload(name)`` on every live replica of ``handle``."""

    async def unload(name: str) -> int:
        try:
            results = await handle.broadcast("unload", name).results_async(timeout_s=timeout_s)
        except Exception as exc:
            logger.warning("broadcast unload of %s failed: %s", name, exc)
            raise ServiceUnavailable(
                f"Could not unload '{name}' from every chat replica; nothing was deleted"
            ) from None
        return sum(1 for r in results if r)

    return unload
