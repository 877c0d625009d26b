"""Ray cluster view and deployment readiness, behind a small interface.

``LocalCluster`` serves the in-process app (tests, plain uvicorn); ``RayCluster`` reads the
real cluster and probes the Serve deployments the ingress was given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Probe = Callable[[], Awaitable[bool]]
logger = logging.getLogger("lmwebui.system")


# A component's readiness: None when ready, else why not ("not ready" while it starts).
NOT_READY = "not ready"


class ClusterView(Protocol):
    async def describe(self) -> dict[str, Any]: ...

    async def readiness(self) -> dict[str, str | None]: ...


class LocalCluster:
    """No Ray: components report readiness through probes given by the app."""

    def __init__(self, probes: dict[str, Probe] | None = None) -> None:
        self.probes = dict(probes or {})

    async def describe(self) -> dict[str, Any]:
        return {"connected": False, "nodes": [], "deployments": {}}

    async def readiness(self) -> dict[str, str | None]:
        return await run_probes(self.probes)


async def run_probes(probes: dict[str, Probe], timeout: float = 2.0) -> dict[str, str | None]:
    """Each component: None when its probe says ready; otherwise why not. A probe that
    raises or hangs is named by the exception's type only (the answer is public), the
    whole exception is logged."""

    async def one(name: str, probe: Probe) -> str | None:
        try:
            ok = await asyncio.wait_for(probe(), timeout)
        except TimeoutError:
            return f"no answer to the readiness probe within {timeout:g} s"
        except Exception as exc:
            logger.warning("readiness probe of %s failed", name, exc_info=True)
            return f"readiness probe failed ({type(exc).__name__})"
        return None if ok else NOT_READY

    results = await asyncio.gather(*(one(n, p) for n, p in probes.items()))
    return dict(zip(probes.keys(), results, strict=True))


class RayCluster:
    """Reads the Ray cluster state; readiness = each deployment handle answers a ping."""

    def __init__(self, app_name: str, probes: dict[str, Probe]) -> None:
        self.app_name = app_name
        self.probes = probes

    async def readiness(self) -> dict[str, str | None]:
        return await run_probes(self.probes)

    async def describe(self) -> dict[str, Any]:
        return await asyncio.to_thread(self._describe_sync)

    def _describe_sync(self) -> dict[str, Any]:
        import ray
        from ray import serve

        nodes = []
        for node in ray.nodes():
            res = node.get("Resources", {})
            accel = [
                k.removeprefix("accelerator_type:")
                for k in res
                if k.startswith("accelerator_type:")
            ]
            nodes.append(
                {
                    "node_id": node.get("NodeID"),
                    "address": node.get("NodeManagerAddress"),
                    "alive": bool(node.get("Alive")),
                    "cpus": res.get("CPU", 0),
                    "gpus": res.get("GPU", 0),
                    "accelerator_type": accel[0] if accel else None,
                    "memory_mb": int(res.get("memory", 0) // (1024 * 1024)),
                }
            )
        deployments: dict[str, Any] = {}
        try:
            status = serve.status()
            app = status.applications.get(self.app_name)
            if app is not None:
                for name, dep in app.deployments.items():
                    deployments[name] = {
                        "status": str(
                            dep.status.value if hasattr(dep.status, "value") else dep.status
                        ),
                        "replicas": sum(dep.replica_states.values()),
                        "replica_states": {str(k): v for k, v in dep.replica_states.items()},
                    }
        except Exception as exc:  # the controller may be restarting
            deployments = {"error": str(exc)}
        totals = ray.cluster_resources()
        return {
            "connected": True,
            "nodes": nodes,
            "cpus": totals.get("CPU", 0),
            "gpus": totals.get("GPU", 0),
            "deployments": deployments,
        }
