"""Rate limits on the `limits` library, in-process or shared through a Ray actor."""

from lmwebui.ratelimit.limiter import (
    LocalLimiterBackend,
    RateLimiter,
    RateLimitResult,
    RayLimiterBackend,
)

__all__ = ["LocalLimiterBackend", "RateLimitResult", "RateLimiter", "RayLimiterBackend"]
