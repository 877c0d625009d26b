"""The error responses routes declare, so /docs shows the real error shape and statuses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from lmwebui.api.openapi_limits import publish_limits
from lmwebui.settings import Settings


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer (the API reference's error format)."""

    detail: str = Field(description="What went wrong, for a person.")
    error_code: str = Field(description="AUTH_REQUIRED, VALIDATION_ERROR, NOT_FOUND, ...")
    timestamp: str = Field(description="ISO 8601, UTC.")
    fields: list[dict[str, str]] | None = Field(
        None, description="VALIDATION_ERROR: each offending field and why."
    )
    request_id: str | None = Field(None, description="INTERNAL_ERROR: the X-Request-ID.")


Responses = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> Responses:
    descriptions = {
        400: "Invalid request (VALIDATION_ERROR)",
        401: "Not authenticated (AUTH_REQUIRED, INVALID_TOKEN)",
        403: "Not allowed (PERMISSION_DENIED)",
        404: "Not found (NOT_FOUND, MODEL_NOT_FOUND)",
        409: "Conflict (CONFLICT, LAST_ADMIN)",
        413: "Too large (PAYLOAD_TOO_LARGE)",
        415: "Not multipart/form-data (UNSUPPORTED_MEDIA_TYPE)",
        429: "Rate limited (RATE_LIMITED; the upstream provider's: UPSTREAM_RATE_LIMITED)",
        502: "Upstream provider failed (UPSTREAM_ERROR, UPSTREAM_AUTH_FAILED)",
        503: "Busy or not enabled (SERVICE_UNAVAILABLE)",
        504: "Upstream provider timed out (UPSTREAM_TIMEOUT)",
        507: "Not enough disk space (INSUFFICIENT_STORAGE)",
    }
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}


AUTH_ERRORS = errors(401)
CHAT_ERRORS = errors(400, 401, 404, 429, 502, 503, 504)
UPLOAD_ERRORS = errors(400, 401, 403, 409, 413, 415, 429, 503, 507)


def install_openapi(app: FastAPI, settings: Settings | None = None) -> None:
    """Request validation answers 400 with ErrorBody here, not FastAPI's 422 shape; the
    configured bounds of ``settings`` are published (api/openapi_limits.py)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        error_ref = {"$ref": "#/components/schemas/ErrorBody"}
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None:
                    responses.setdefault(
                        "400",
                        {
                            "description": "Invalid request (VALIDATION_ERROR)",
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        if settings is not None:
            publish_limits(schema, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
