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
