"""The DownloadManager Ray actor (named, detached, namespace "lmwebui") and its client.

Every ingress replica gets the same actor (``get_if_exists``), so all replicas see the same
tasks and a download outlives the replica that started it. ``max_restarts=-1``: a killed
actor is restarted by Ray, reloads the persisted tasks and resumes their partial files
with HTTP Range. Logic lives in ``lmwebui.models.downloads``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lmwebui.errors import AppError, ServiceUnavailable
from lmwebui.logging_setup import configure_logging
from lmwebui.metrics import RayMetrics, set_metrics
from lmwebui.models.download_task import DownloadConfig
from lmwebui.models.downloads import DownloadManager
from lmwebui.remote_errors import ray_errors

ACTOR_NAME = "DownloadManager"
ACTOR_NAMESPACE = "lmwebui"
CALL_TIMEOUT_S = 60.0

logger = logging.getLogger("lmwebui.deployments.download_manager")


class DownloadManagerActor:
    """The actor body: a DownloadManager on the actor's event loop."""

    def __init__(self, config: dict[str, Any]) -> None:
        import ray

        configure_logging("INFO")
        set_metrics(RayMetrics())
        self.manager = DownloadManager(DownloadConfig(**config))
        # After a (re)start, resume persisted downloads without waiting for a caller.
        ray.get_runtime_context().current_actor.resume.remote()

    async def resume(self) -> int:
        return await self.manager.resume()

    async def start(self, spec: dict[str, Any], user_id: int) -> dict[str, Any]:
        return await self.manager.start(spec, user_id)

    async def get(self, task_id: str) -> dict[str, Any] | None:
        return await self.manager.get(task_id)

    async def list_tasks(self) -> list[dict[str, Any]]:
        return await self.manager.list_tasks()

    async def watch(
        self, task_id: str, version: int | None, timeout_s: float
    ) -> dict[str, Any] | None:
        return await self.manager.watch(task_id, version, timeout_s)

    async def cancel(self, task_id: str) -> dict[str, Any]:
        return await self.manager.cancel(task_id)

    async def ready(self) -> bool:
        return await self.manager.ready()

    async def config(self) -> dict[str, Any]:
        return self.manager.config.to_dict()


def get_or_create_actor(config: DownloadConfig) -> Any:
    import ray

    actor_cls: Any = ray.remote(DownloadManagerActor)
    return actor_cls.options(
        num_cpus=0,
        max_restarts=-1,
        max_task_retries=3,
        max_concurrency=1000,
        name=ACTOR_NAME,
        namespace=ACTOR_NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
    ).remote(config.to_dict())


class RayDownloads:
    """DownloadBackend over the shared actor; Ray errors become API errors."""

    def __init__(self, config: DownloadConfig) -> None:
        self.actor = get_or_create_actor(config)

    async def _call(self, method: str, *args: Any, timeout_s: float = CALL_TIMEOUT_S) -> Any:
        try:
            with ray_errors("download manager"):
                return await asyncio.wait_for(getattr(self.actor, method).remote(*args), timeout_s)
        except TimeoutError:
            raise ServiceUnavailable("The download manager did not answer in time") from None
        except AppError:
            raise
        except Exception as exc:  # not a Ray failure ray_errors knows: still the manager's
            logger.warning("DownloadManager.%s failed: %s", method, exc)
            raise ServiceUnavailable("The download manager is unavailable; retry") from None

    async def start(self, spec: dict[str, Any], user_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("start", spec, user_id)
        return result

    async def get(self, task_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call("get", task_id)
        return result

    async def list_tasks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("list_tasks")
        return result

    async def watch(
        self, task_id: str, version: int | None, timeout_s: float = 10.0
    ) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call(
            "watch", task_id, version, timeout_s, timeout_s=timeout_s + CALL_TIMEOUT_S
        )
        return result

    async def cancel(self, task_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("cancel", task_id)
        return result

    async def ready(self) -> bool:
        return bool(await self._call("ready"))

    async def close(self) -> None:
        """The actor is shared and detached: it outlives this replica."""
