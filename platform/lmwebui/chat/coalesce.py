"""Coalesce a fast async stream into batches, so a slow consumer gets fewer, larger items.

Crossing a process boundary (a Ray Serve streaming response) costs about the same per item
whatever its size. When the engine produces tokens faster than they can be forwarded one
by one, the backlog is sent as one item; when the consumer keeps up, every item goes out
alone, so latency is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


async def coalesce(source: AsyncIterator[T], max_batch: int = 64) -> AsyncIterator[list[T]]:
    queue: asyncio.Queue[object] = asyncio.Queue()
    error: list[BaseException] = []

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(item)
        except BaseException as exc:  # re-raised in the consumer
            error.append(exc)
        finally:
            await queue.put(_END)

    task = asyncio.create_task(pump())
    try:
        done = False
        while not done:
            batch: list[T] = []
            item = await queue.get()
            while True:
                if item is _END:
                    done = True
                    break
                batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= max_batch or queue.empty():
                    break
                item = queue.get_nowait()
            if error and not isinstance(error[0], asyncio.CancelledError):
                raise error[0]
            if batch:
                yield batch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
