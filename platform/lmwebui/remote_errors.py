"""Errors from Ray Serve handles and Ray actors, mapped onto the platform's error contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lmwebui.errors import AppError, ServiceUnavailable


def unwrap_ray_error(exc: BaseException, what: str, *, retry_after: str = "1") -> BaseException:
    """A remote AppError arrives wrapped in RayTaskError: the original is returned. A dead
    replica or actor, a full queue or a deployment without replicas becomes a 503 naming
    ``what``; anything else is returned unchanged (the caller re-raises it)."""
    from ray.exceptions import RayActorError, RayTaskError

    if isinstance(exc, RayTaskError):
        cause = getattr(exc, "cause", None)
        if isinstance(cause, AppError):
            return cause
        if isinstance(cause, RayActorError):
            exc = cause
    if isinstance(exc, RayActorError):
        return ServiceUnavailable(f"The {what} failed; retry the request")
    if type(exc).__name__ in {"BackPressureError", "DeploymentUnavailableError"}:
        return ServiceUnavailable(
            f"The {what} is overloaded; retry shortly", headers={"Retry-After": retry_after}
        )
    return exc


@contextmanager
def ray_errors(what: str, *, retry_after: str = "1") -> Iterator[None]:
    """Around a handle or actor call: a remote AppError is re-raised as itself, a dead or
    overloaded remote as a 503 naming ``what``; anything else propagates unchanged."""
    try:
        yield
    except AppError:
        raise
    except Exception as exc:
        mapped = unwrap_ray_error(exc, what, retry_after=retry_after)
        if mapped is exc:
            raise
        raise mapped from None
