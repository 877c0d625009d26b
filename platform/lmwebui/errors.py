"""One error contract: every 4xx/5xx body is ``{detail, error_code, timestamp}``.

The error types and the body live here, free of any web framework, so engine replicas and
actors raise them without importing FastAPI; the HTTP handlers are in ``lmwebui.api.errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status_code = 500
    error_code = "INTERNAL_ERROR"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra or {}


class ValidationFailed(AppError):
    status_code = 400
    error_code = "VALIDATION_ERROR"


class AuthRequired(AppError):
    status_code = 401
    error_code = "AUTH_REQUIRED"


class InvalidToken(AppError):
    status_code = 401
    error_code = "INVALID_TOKEN"


class InvalidCredentials(AppError):
    status_code = 401
    error_code = "INVALID_CREDENTIALS"


class PermissionDenied(AppError):
    status_code = 403
    error_code = "PERMISSION_DENIED"


class MethodNotAllowed(AppError):
    status_code = 405
    error_code = "METHOD_NOT_ALLOWED"


class NotFound(AppError):
    status_code = 404
    error_code = "NOT_FOUND"


class ModelNotFound(AppError):
    status_code = 404
    error_code = "MODEL_NOT_FOUND"


class RequestTimeout(AppError):
    status_code = 408
    error_code = "REQUEST_TIMEOUT"


class Conflict(AppError):
    status_code = 409
    error_code = "CONFLICT"


class LastAdmin(Conflict):
    """The only admin may not remove themselves: the server would have no admin left."""

    error_code = "LAST_ADMIN"


class PayloadTooLarge(AppError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"


class InsufficientStorage(AppError):
    status_code = 507
    error_code = "INSUFFICIENT_STORAGE"


class UnsupportedMediaType(AppError):
    status_code = 415
    error_code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(AppError):
    status_code = 429
    error_code = "RATE_LIMITED"


class ServiceUnavailable(AppError):
    status_code = 503
    error_code = "SERVICE_UNAVAILABLE"


class UpstreamError(AppError):
    status_code = 502
    error_code = "UPSTREAM_ERROR"


class UpstreamTimeout(AppError):
    status_code = 504
    error_code = "UPSTREAM_TIMEOUT"


class UpstreamAuthFailed(UpstreamError):
    """The upstream provider rejected the API key (never the platform's own 401)."""

    error_code = "UPSTREAM_AUTH_FAILED"


class UpstreamRateLimited(AppError):
    """The upstream provider throttles the key (not the platform's own per-user limit)."""

    status_code = 429
    error_code = "UPSTREAM_RATE_LIMITED"


# The error code of a bare HTTP status (Starlette's 404/405, a proxy's 413...): the one
# declared on the AppError subclass for that status.
STATUS_CODES: dict[int, str] = {
    cls.status_code: cls.error_code
    for cls in (
        ValidationFailed,
        AuthRequired,
        PermissionDenied,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
        InsufficientStorage,
        ServiceUnavailable,
        UpstreamError,
        UpstreamTimeout,
    )
}


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "HTTP_ERROR")


def iso_utc(when: datetime | float | None = None, *, timespec: str = "auto") -> str:
    """The one timestamp format of the API: ISO 8601 in UTC with a ``Z`` (naive datetimes
    from the database are UTC; a float is a POSIX time; None is now). ``timespec`` as in
    ``datetime.isoformat`` (file times are given in seconds)."""
    if when is None:
        dt = datetime.now(UTC)
    elif isinstance(when, datetime):
        dt = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    else:
        dt = datetime.fromtimestamp(when, UTC)
    return dt.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def error_body(detail: str, error_code: str, **extra: Any) -> dict[str, Any]:
    """The one mapping from an error to the reference's body."""
    return {"detail": detail, "error_code": error_code, "timestamp": iso_utc(), **extra}


def field_name(loc: Sequence[Any]) -> str:
    """A pydantic error location as a field path (``messages.0.content``)."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def describe_validation(
    errors: Iterable[Mapping[str, Any]],
) -> tuple[str, list[dict[str, str]]]:
    """The one description of a pydantic ValidationError (HTTP bodies and WS events alike):
    ``("Request validation failed: field: message; ...", [{field, message}, ...])``."""
    fields = []
    for err in errors:
        if err.get("type") == "json_invalid":
            fields.append({"field": "body", "message": "malformed JSON"})
        else:
            fields.append({"field": field_name(err.get("loc", ())), "message": str(err["msg"])})
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return f"Request validation failed: {summary}", fields


def validation_failed(errors: Iterable[Mapping[str, Any]]) -> ValidationFailed:
    detail, fields = describe_validation(errors)
    return ValidationFailed(detail, extra={"fields": fields})
