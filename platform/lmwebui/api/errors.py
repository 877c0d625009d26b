"""The HTTP side of the error contract: every handler, registered in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from lmwebui.api.deps import client_address
from lmwebui.errors import AppError, code_for_status, error_body, validation_failed
from lmwebui.metrics import get_metrics

logger = logging.getLogger("lmwebui.errors")


def error_response(exc: AppError, request: Request | None = None) -> JSONResponse:
    headers = dict(getattr(request.state, "rate_limit_headers", None) or {}) if request else {}
    headers.update(exc.headers or {})
    return JSONResponse(
        error_body(exc.detail, exc.error_code, **exc.extra),
        status_code=exc.status_code,
        headers=headers or None,
    )


def allowed_methods(request: Request) -> str:
    """The ``Allow`` of a 405: every method some route serves at this path (the router
    names at most the first route's, or none, when several routes share a path)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(r.matches(scope)[0] == Match.FULL for r in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def register_error_handlers(app: FastAPI) -> None:
    """Every handler of the app's error contract, registered in one place."""

    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        if exc.status_code == 401:
            get_metrics().inc("lmwebui_auth_failures_total", tags={"reason": exc.error_code})
        return error_response(exc, request)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(validation_failed(exc.errors()), request)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(
            error_body(detail, code_for_status(exc.status_code)),
            status_code=exc.status_code,
            headers=headers or None,
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        logger.exception(
            "unhandled error request_id=%s path=%s client=%s",
            request_id,
            request.url.path,
            client_address(request),
        )
        # Under Serve its proxy returns the header itself (api/middleware.py)
        write_id = getattr(request.state, "request_id_header", True)
        return JSONResponse(
            error_body("Internal server error", "INTERNAL_ERROR", request_id=request_id),
            status_code=500,
            headers={"X-Request-ID": request_id} if write_id else None,
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
