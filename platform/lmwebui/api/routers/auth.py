"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Body, Request, Response

from lmwebui.api.deps import AuthRateLimit, CurrentUserDep, ServicesDep, bearer_or_cookie
from lmwebui.auth.schemas import (
    Credentials,
    RefreshRequest,
    RegisterResponse,
    TokenResponse,
    UserOut,
)
from lmwebui.auth.service import CurrentUser, IssuedTokens
from lmwebui.errors import AuthRequired, InvalidToken
from lmwebui.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])
REFRESH_COOKIE_PATH = "/api/auth"


def _set_cookies(response: Response, tokens: IssuedTokens, settings: Settings) -> None:
    common: dict[str, Any] = {
        "httponly": True,
        "samesite": "lax",
        "secure": settings.cookie_secure,
    }
    response.set_cookie(
        "access_token", tokens.access_token, max_age=tokens.access_expires_in, path="/", **common
    )
    response.set_cookie(
        "refresh_token",
        tokens.refresh_token,
        max_age=tokens.refresh_expires_in,
        path=REFRESH_COOKIE_PATH,
        **common,
    )


def _clear_cookies(response: Response, settings: Settings) -> None:
    for name, path in (("access_token", "/"), ("refresh_token", REFRESH_COOKIE_PATH)):
        response.delete_cookie(
            name, path=path, httponly=True, samesite="lax", secure=settings.cookie_secure
        )


def _token_body(message: str, user: CurrentUser, tokens: IssuedTokens) -> TokenResponse:
    return TokenResponse(
        message=message,
        user=UserOut(id=user.id, email=user.email, role=user.role),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.access_expires_in,
    )


@router.post("/register", status_code=201, dependencies=[AuthRateLimit])
async def register(body: Credentials, services: ServicesDep) -> RegisterResponse:
    user_id = await services.auth.register(body.email, body.password)
    return RegisterResponse(message="User created successfully", user_id=user_id)


@router.post("/login", dependencies=[AuthRateLimit])
async def login(body: Credentials, response: Response, services: ServicesDep) -> TokenResponse:
    user, tokens = await services.auth.login(body.email, body.password)
    _set_cookies(response, tokens, services.settings)
    return _token_body("Login successful", user, tokens)


@router.post("/refresh", dependencies=[AuthRateLimit])
async def refresh(
    request: Request,
    response: Response,
    services: ServicesDep,
    body: RefreshRequest | None = Body(None),
) -> TokenResponse:
    token = (body.refresh_token if body else None) or request.cookies.get("refresh_token")
    if not token:
        raise AuthRequired("Refresh token required")
    user, tokens = await services.auth.refresh(token)
    _set_cookies(response, tokens, services.settings)
    return _token_body("Token refreshed", user, tokens)


@router.post("/logout", dependencies=[AuthRateLimit])
async def logout(request: Request, response: Response, services: ServicesDep) -> dict[str, str]:
    """Revoke the session behind the access or refresh token; clear the cookies."""
    session_id: str | None = None
    access = bearer_or_cookie(request)
    if access:
        with contextlib.suppress(InvalidToken):
            session_id = (await services.auth.authenticate(access)).session_id
    if session_id is None and (refresh_cookie := request.cookies.get("refresh_token")):
        session_id = await services.auth.session_id_of_refresh(refresh_cookie)
    if session_id is not None:
        await services.auth.logout(session_id)
    _clear_cookies(response, services.settings)
    return {"status": "success", "message": "Logged out successfully"}


@router.get("/me")
async def me(user: CurrentUserDep) -> UserOut:
    return UserOut(id=user.id, email=user.email, role=user.role)


@router.delete("/me")
async def delete_me(
    user: CurrentUserDep, response: Response, services: ServicesDep
) -> dict[str, str]:
    """Delete the caller's account; its sessions (and later its data) go with it."""
    if services.rag is not None:  # chunks first: a later account may get the same id
        await services.rag.purge_user(user.id)
    await services.auth.delete_user(user.id)
    _clear_cookies(response, services.settings)
    return {"status": "success", "message": "Account deleted"}
