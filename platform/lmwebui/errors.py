"""One error contract: every 4xx/5xx body is ``{detail, error_code, timestamp}``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lmwebui.metrics import get_metrics

logger = logging.getLogger("lmwebui.errors")


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


_STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTH_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    507: "INSUFFICIENT_STORAGE",
    503: "SERVICE_UNAVAILABLE",
}


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error_body(detail: str, error_code: str, **extra: Any) -> dict[str, Any]:
    """The one mapping from an error to the reference's body."""
    return {"detail": detail, "error_code": error_code, "timestamp": utc_timestamp(), **extra}


def error_response(exc: AppError, request: Request | None = None) -> JSONResponse:
    headers = dict(getattr(request.state, "rate_limit_headers", None) or {}) if request else {}
    headers.update(exc.headers or {})
    return JSONResponse(
        error_body(exc.detail, exc.error_code, **exc.extra),
        status_code=exc.status_code,
        headers=headers or None,
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def register_error_handlers(app: FastAPI) -> None:
    """Every handler of the app's error contract, registered in one place."""

    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        if exc.status_code == 401:
            get_metrics().inc("lmwebui_auth_failures_total", tags={"reason": exc.error_code})
        return error_response(exc, request)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                fields.append({"field": "body", "message": "malformed JSON"})
            else:
                fields.append({"field": _field_name(err.get("loc", ())), "message": err["msg"]})
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(
            error_body(f"Request validation failed: {summary}", "VALIDATION_ERROR", fields=fields),
            status_code=400,
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(
            exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "HTTP_ERROR"
        )
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return JSONResponse(
            error_body(detail, code), status_code=exc.status_code, headers=exc.headers
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        logger.exception("unhandled error request_id=%s path=%s", request_id, request.url.path)
        return JSONResponse(
            error_body("Internal server error", "INTERNAL_ERROR", request_id=request_id),
            status_code=500,
            headers={"X-Request-ID": request_id},
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
