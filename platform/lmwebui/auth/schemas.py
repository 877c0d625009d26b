"""Request/response models of the auth endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(description="Account e-mail address.", max_length=320)
    password: str = Field(
        min_length=8, max_length=1024, description="At least 8 characters, at most 1024."
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        None, max_length=4096, description="For clients without cookies; else the cookie."
    )


class RegisterResponse(BaseModel):
    message: str
    user_id: int


class UserOut(BaseModel):
    id: int
    email: str
    role: str


class TokenResponse(BaseModel):
    message: str
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("default", min_length=1, max_length=100, description="Label.")


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    key: str = Field(description="The key itself: shown this once, only its hash is stored.")
    prefix: str
    message: str = "Store this key now: it is not shown again"


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


class ApiKeyList(BaseModel):
    keys: list[ApiKeyOut]
