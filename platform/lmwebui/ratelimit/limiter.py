"""Moving-window limits. Several ingress replicas share one counter store (a Ray actor)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from lmwebui.errors import RateLimited
from lmwebui.metrics import get_metrics

ACTOR_NAME = "lmwebui_rate_limiter"
ACTOR_NAMESPACE = "lmwebui"


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window frees a slot

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class LimiterCore:
    """The counting itself; lives in-process or inside the shared actor."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, spec: str, scope: str, key: str) -> tuple[bool, int, int, int]:
        item = parse(spec)
        allowed = self._limiter.hit(item, scope, key)
        stats = self._limiter.get_window_stats(item, scope, key)
        reset = max(math.ceil(stats.reset_time), int(time.time()))
        return allowed, item.amount, max(stats.remaining, 0), reset

    def reset(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())


class LimiterBackend(Protocol):
    async def hit(self, spec: str, scope: str, key: str) -> tuple[bool, int, int, int]: ...

    async def reset(self) -> None: ...


class LocalLimiterBackend:
    def __init__(self) -> None:
        self._core = LimiterCore()

    async def hit(self, spec: str, scope: str, key: str) -> tuple[bool, int, int, int]:
        return self._core.hit(spec, scope, key)

    async def reset(self) -> None:
        self._core.reset()


class RayLimiterBackend:
    """Counters in one named, detached Ray actor shared by every ingress replica."""

    def __init__(self) -> None:
        import ray

        actor_cls: Any = ray.remote(num_cpus=0, max_restarts=-1)(LimiterCore)
        self._actor = actor_cls.options(
            name=ACTOR_NAME,
            namespace=ACTOR_NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
        ).remote()

    async def hit(self, spec: str, scope: str, key: str) -> tuple[bool, int, int, int]:
        result: tuple[bool, int, int, int] = await self._actor.hit.remote(spec, scope, key)
        return result

    async def reset(self) -> None:
        await self._actor.reset.remote()


class RateLimiter:
    def __init__(self, backend: LimiterBackend, limits: dict[str, str], *, enabled: bool) -> None:
        for spec in limits.values():
            parse(spec)  # fail at start on a bad limit string
        self.backend = backend
        self.limits = limits
        self.enabled = enabled

    async def check(self, scope: str, key: str) -> RateLimitResult | None:
        """Count one hit; raise 429 when over the limit. None when unlimited."""
        if not self.enabled or scope not in self.limits:
            return None
        allowed, limit, remaining, reset = await self.backend.hit(self.limits[scope], scope, key)
        result = RateLimitResult(allowed, limit, remaining, reset)
        if not allowed:
            get_metrics().inc("lmwebui_rate_limited_total", tags={"scope": scope})
            headers = result.headers()
            headers["Retry-After"] = str(max(reset - int(time.time()), 1))
            raise RateLimited(
                f"Rate limit exceeded: {self.limits[scope]} for {scope} endpoints",
                headers=headers,
            )
        return result
