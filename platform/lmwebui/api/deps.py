"""Every Annotated[..., Depends(...)] shortcut of the API lives here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.requests import HTTPConnection

from lmwebui.api.services import Services
from lmwebui.auth.api_keys import looks_like_api_key
from lmwebui.auth.service import CurrentUser
from lmwebui.errors import AuthRequired, PermissionDenied, ServiceUnavailable
from lmwebui.models.management import GGUFService
from lmwebui.rag.service import RagService
from lmwebui.ratelimit import RateLimitResult


def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_or_cookie(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return conn.cookies.get("access_token")


async def current_user(conn: HTTPConnection, services: ServicesDep) -> CurrentUser:
    token = bearer_or_cookie(conn)
    if not token:
        raise AuthRequired("Authentication required")
    user = await services.auth.authenticate(token)
    conn.scope.setdefault("state", {})["user_id"] = user.id
    return user


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]


async def admin_user(user: CurrentUserDep) -> CurrentUser:
    if not user.is_admin:
        raise PermissionDenied("Administrator role required")
    return user


AdminUserDep = Annotated[CurrentUser, Depends(admin_user)]


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def _attach(request: Request, response: Response, result: RateLimitResult | None) -> None:
    """Headers go on the success response and, via request.state, on error responses."""
    if result is not None:
        headers = result.headers()
        response.headers.update(headers)
        request.state.rate_limit_headers = headers


def rate_limited(scope: str, *, per_user: bool) -> Callable[..., Awaitable[None]]:
    """A dependency counting one hit against ``scope``, keyed by user or client address."""

    if per_user:

        async def by_user(response: Response, services: ServicesDep, user: CurrentUserDep) -> None:
            result = await services.limiter.check(scope, f"user:{user.id}")
            if result is not None:
                response.headers.update(result.headers())

        return by_user

    async def by_address(request: Request, response: Response, services: ServicesDep) -> None:
        result = await services.limiter.check(scope, f"ip:{client_address(request)}")
        _attach(request, response, result)

    return by_address


async def api_user(conn: HTTPConnection, services: ServicesDep) -> CurrentUser:
    """JWT (header or cookie) or a platform API key (``Authorization: Bearer lmw-…``)."""
    token = bearer_or_cookie(conn)
    if not token:
        raise AuthRequired("Authentication required")
    if looks_like_api_key(token):
        return await services.api_keys.authenticate(token)
    return await services.auth.authenticate(token)


ApiUserDep = Annotated[CurrentUser, Depends(api_user)]


async def v1_chat_limit(
    request: Request, response: Response, services: ServicesDep, user: ApiUserDep
) -> None:
    _attach(request, response, await services.limiter.check("chat", f"user:{user.id}"))


AuthRateLimit = Depends(rate_limited("auth", per_user=False))
V1ChatRateLimit = Depends(v1_chat_limit)
ChatRateLimit = Depends(rate_limited("chat", per_user=True))
UploadRateLimit = Depends(rate_limited("upload", per_user=True))


def get_gguf(services: ServicesDep) -> GGUFService:
    return services.gguf


GGUFDep = Annotated[GGUFService, Depends(get_gguf)]


def get_rag(services: ServicesDep) -> RagService:
    if services.rag is None:
        raise ServiceUnavailable("Document retrieval (RAG) is not enabled on this server")
    return services.rag


RagDep = Annotated[RagService, Depends(get_rag)]
