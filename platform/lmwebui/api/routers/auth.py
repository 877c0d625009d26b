"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response

from lmwebui.api.deps import AuthDep, AuthRateLimit, CurrentUserDep, SettingsDep, bearer_or_cookie
from lmwebui.api.responses import errors
from lmwebui.api.schemas import StatusMessage
from lmwebui.auth.schemas import (
    Credentials,
    RefreshRequest,
    RegisterResponse,
    TokenResponse,
    UserOut,
)
from lmwebui.auth.service import CurrentUser, IssuedTokens
from lmwebui.errors import AuthRequired
from lmwebui.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])
LIMITED = errors(400, 429)
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


@router.post(
    "/register",
    status_code=201,
    dependencies=[AuthRateLimit],
    response_model=RegisterResponse,
    responses=errors(400, 403, 409, 429),
)
async def register(body: Credentials, auth: AuthDep) -> RegisterResponse:
    user_id = await auth.register(body.email, body.password)
    return RegisterResponse(message="User created successfully", user_id=user_id)


@router.post(
    "/login",
    dependencies=[AuthRateLimit],
    response_model=TokenResponse,
    responses={**LIMITED, **errors(401)},
)
async def login(
    body: Credentials, response: Response, auth: AuthDep, settings: SettingsDep
) -> TokenResponse:
    """Sets the HttpOnly cookies access_token and refresh_token; the tokens are also in the
    body for clients without cookies."""
    user, tokens = await auth.login(body.email, body.password)
    _set_cookies(response, tokens, settings)
    return _token_body("Login successful", user, tokens)


@router.post(
    "/refresh",
    dependencies=[AuthRateLimit],
    response_model=TokenResponse,
    responses={**LIMITED, **errors(401)},
)
async def refresh(
    request: Request,
    response: Response,
    auth: AuthDep,
    settings: SettingsDep,
    body: RefreshRequest | None = Body(None),
) -> TokenResponse:
    token = (body.refresh_token if body else None) or request.cookies.get("refresh_token")
    if not token:
        raise AuthRequired("Refresh token required")
    user, tokens = await auth.refresh(token)
    _set_cookies(response, tokens, settings)
    return _token_body("Token refreshed", user, tokens)


@router.post(
    "/logout", dependencies=[AuthRateLimit], response_model=StatusMessage, responses=LIMITED
)
async def logout(
    request: Request, response: Response, auth: AuthDep, settings: SettingsDep
) -> StatusMessage:
    """Revoke the session behind the access or refresh token; clear the cookies."""
    await auth.logout_tokens(bearer_or_cookie(request), request.cookies.get("refresh_token"))
    _clear_cookies(response, settings)
    return StatusMessage(message="Logged out successfully")


@router.get("/me", response_model=UserOut, responses=errors(401))
async def me(user: CurrentUserDep) -> UserOut:
    return UserOut(id=user.id, email=user.email, role=user.role)


@router.delete("/me", response_model=StatusMessage, responses=errors(401, 409))
async def delete_me(
    user: CurrentUserDep, response: Response, auth: AuthDep, settings: SettingsDep
) -> StatusMessage:
    """Delete the caller's account; its sessions and data go with it. The server's only
    admin cannot (409 LAST_ADMIN)."""
    await auth.delete_user(user.id)
    _clear_cookies(response, settings)
    return StatusMessage(message="Account deleted")
