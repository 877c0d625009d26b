"""Every Annotated[..., Depends(...)] shortcut of the API lives here: one per service, the
caller, rate limits and pagination. Routers take the service they call, nothing wider."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from starlette.requests import HTTPConnection

from lmwebui.api.peer import UNSAFE_METHODS, origin_allowed, proxied_peer
from lmwebui.api.peer import client_address as peer_address
from lmwebui.api.services import Services
from lmwebui.auth.api_keys import ApiKeyService, looks_like_api_key
from lmwebui.auth.service import AuthService, CurrentUser
from lmwebui.chat.conversations import ConversationStore
from lmwebui.chat.provider_keys import ProviderKeyService
from lmwebui.chat.service import ChatService
from lmwebui.errors import AuthRequired, PermissionDenied, ServiceUnavailable
from lmwebui.models.management import GGUFService
from lmwebui.rag.service import RagService
from lmwebui.ratelimit import RateLimiter, RateLimitResult
from lmwebui.settings import Settings
from lmwebui.system.service import SystemService


def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _auth(services: ServicesDep) -> AuthService:
    return services.auth


def _chat(services: ServicesDep) -> ChatService:
    return services.chat


def _conversations(services: ServicesDep) -> ConversationStore:
    return services.chat.store


def _api_keys(services: ServicesDep) -> ApiKeyService:
    return services.api_keys


def _provider_keys(services: ServicesDep) -> ProviderKeyService:
    return services.provider_keys


def _gguf(services: ServicesDep) -> GGUFService:
    return services.gguf


def _rag(services: ServicesDep) -> RagService:
    if services.rag is None:
        raise ServiceUnavailable("Document retrieval (RAG) is not enabled on this server")
    return services.rag


def _system(services: ServicesDep) -> SystemService:
    return services.system


def _limiter(services: ServicesDep) -> RateLimiter:
    return services.limiter


SettingsDep = Annotated[Settings, Depends(_settings)]
AuthDep = Annotated[AuthService, Depends(_auth)]
ChatDep = Annotated[ChatService, Depends(_chat)]
ConversationsDep = Annotated[ConversationStore, Depends(_conversations)]
ApiKeysDep = Annotated[ApiKeyService, Depends(_api_keys)]
ProviderKeysDep = Annotated[ProviderKeyService, Depends(_provider_keys)]
GGUFDep = Annotated[GGUFService, Depends(_gguf)]
RagDep = Annotated[RagService, Depends(_rag)]
SystemDep = Annotated[SystemService, Depends(_system)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


# --- the caller ---------------------------------------------------------------------------


AUTH_COOKIES = frozenset({"access_token", "refresh_token"})


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def bearer_or_cookie(conn: HTTPConnection) -> str | None:
    return bearer_token(conn) or conn.cookies.get("access_token")


def cookie_origin_refused(conn: HTTPConnection, allowed_origins: list[str]) -> bool:
    """True when the request would act with the cookies a browser attached by itself (no
    Bearer header) and comes from a foreign origin: another site's page must not use them."""
    if bearer_token(conn) is not None or not AUTH_COOKIES & conn.cookies.keys():
        return False
    return not origin_allowed(conn.headers, allowed_origins)


async def cookie_origin_check(conn: HTTPConnection, settings: SettingsDep) -> None:
    """App-wide: a state-changing request carrying the auth cookies comes from the server's
    own origin or an allowed one (sockets check at accept: api/ws/connection.py)."""
    if conn.scope["type"] != "http" or conn.scope["method"] not in UNSAFE_METHODS:
        return
    if cookie_origin_refused(conn, settings.security.allowed_origins):
        raise PermissionDenied("This origin may not use the session cookie (Origin check)")


async def current_user(conn: HTTPConnection, auth: AuthDep) -> CurrentUser:
    token = bearer_or_cookie(conn)
    if not token:
        raise AuthRequired("Authentication required")
    user = await auth.authenticate(token)
    conn.scope.setdefault("state", {})["user_id"] = user.id
    return user


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]


async def api_user(conn: HTTPConnection, auth: AuthDep, api_keys: ApiKeysDep) -> CurrentUser:
    """JWT (header or cookie) or a platform API key (``Authorization: Bearer lmw-…``)."""
    token = bearer_or_cookie(conn)
    if not token:
        raise AuthRequired("Authentication required")
    if looks_like_api_key(token):
        return await api_keys.authenticate(token)
    return await auth.authenticate(token)


ApiUserDep = Annotated[CurrentUser, Depends(api_user)]


# --- rate limits --------------------------------------------------------------------------


def client_address(conn: HTTPConnection) -> str:
    """The client's address for rate limits and logs: the peer, or what a trusted proxy
    says the client is (settings.security; api/peer.py)."""
    services = get_services(conn)
    security = services.settings.security
    peer = proxied_peer(conn.client.host if conn.client else None, conn.headers, services.proxy_key)
    return peer_address(peer, conn.headers, security.trusted_proxies, security.forwarded_header)


def _attach(request: Request, response: Response, result: RateLimitResult | None) -> None:
    """Headers go on the success response and, via request.state, on error responses."""
    if result is not None:
        headers = result.headers()
        response.headers.update(headers)
        request.state.rate_limit_headers = headers


def _by_address(scope: str) -> Callable[..., Awaitable[None]]:
    async def limit(request: Request, response: Response, limiter: LimiterDep) -> None:
        _attach(request, response, await limiter.check(scope, f"ip:{client_address(request)}"))

    return limit


def _by_user(scope: str, user_dep: Any) -> Callable[..., Awaitable[None]]:
    async def limit(
        request: Request, response: Response, limiter: LimiterDep, user: CurrentUser = user_dep
    ) -> None:
        _attach(request, response, await limiter.check(scope, f"user:{user.id}"))

    return limit


AuthRateLimit = Depends(_by_address("auth"))
ChatRateLimit = Depends(_by_user("chat", Depends(current_user)))
V1ChatRateLimit = Depends(_by_user("chat", Depends(api_user)))
UploadRateLimit = Depends(_by_user("upload", Depends(current_user)))


# --- pagination ---------------------------------------------------------------------------

MAX_PAGE = 1_000_000  # far beyond any real list; keeps the offset inside a database integer


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def headers(self, response: Response, total: int) -> None:
        """The reference's pagination headers on ``response``."""
        response.headers.update(
            {
                "X-Total-Count": str(total),
                "X-Total-Pages": str(max(1, math.ceil(total / self.limit))),
                "X-Current-Page": str(self.page),
                "X-Per-Page": str(self.limit),
            }
        )


def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number.")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
) -> Page:
    return Page(page, limit)


PageDep = Annotated[Page, Depends(page_params)]
