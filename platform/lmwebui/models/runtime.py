"""What the host injects for GGUF management (in-process defaults vs Ray Serve)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lmwebui.models.compat import NodeProbe, local_nodes
from lmwebui.models.download_task import DownloadConfig
from lmwebui.models.downloads import DownloadManager


class DownloadBackend(Protocol):
    """The DownloadManager's interface, local or behind a Ray actor handle."""

    async def start(self, spec: dict[str, Any], user_id: int) -> dict[str, Any]: ...

    async def get(self, task_id: str) -> dict[str, Any] | None: ...

    async def list_tasks(self) -> list[dict[str, Any]]: ...

    async def watch(
        self, task_id: str, version: int | None, timeout_s: float = 10.0
    ) -> dict[str, Any] | None: ...

    async def cancel(self, task_id: str) -> dict[str, Any]: ...

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...


class LocalDownloads(DownloadManager):
    """The manager in this process's event loop (tests, plain uvicorn)."""

    async def close(self) -> None:
        await self.shutdown()


# Unloads a model from every chat replica; returns how many replicas had it loaded.
Unloader = Callable[[str], Awaitable[int]]


async def no_replicas(_name: str) -> int:
    return 0


@dataclass
class GGUFRuntime:
    downloads: Callable[[DownloadConfig], DownloadBackend] | None = None
    unloader: Unloader | None = None
    nodes: NodeProbe | None = None

    def make_downloads(self, config: DownloadConfig) -> DownloadBackend:
        return self.downloads(config) if self.downloads else LocalDownloads(config)

    @property
    def node_probe(self) -> NodeProbe:
        return self.nodes or local_nodes

    @property
    def model_unloader(self) -> Unloader:
        return self.unloader or no_replicas
