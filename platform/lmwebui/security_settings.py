"""Who the platform believes: the browser origins allowed to use a user's cookies, and the
proxies whose forwarded-for headers name the client (``Settings.security``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode


def _split(value: Any) -> Any:
    """An environment value: a JSON list or comma-separated items."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        return json.loads(value)
    return [item.strip() for item in value.split(",") if item.strip()]


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, the form a browser's Origin header has."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an origin (http[s]://host[:port])")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{value!r} is not an origin: no path, query or user part")
    return f"{parts.scheme}://{parts.netloc}".lower()


class SecuritySettings(BaseSettings):
    """Browser origins and forwarded headers (see docs/deploy.md, Security)."""

    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (https://app.example.com) besides the request's own host whose "
        "pages may send cookie-authenticated state-changing requests and open WebSockets "
        "(comma-separated in the environment). Bearer-token clients are never checked.",
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (10.0.0.5, 10.0.0.0/8) of proxies whose "
        "X-Forwarded-For / Forwarded header is believed: the client is the right-most hop "
        "not in this list. Empty: the header is ignored and the client is the peer.",
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        "x-forwarded-for",
        description="The header the trusted proxies append the client to (any other "
        "forwarded header is ignored, whoever sent it).",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        value = _split(value)
        if isinstance(value, list):
            return [normalize_origin(str(item)) for item in value]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        return _split(value)
