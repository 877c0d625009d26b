"""Secrets: from the environment, else generated once into the data dir (mode 0600)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from lmwebui.settings import Settings


@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    fernet_key: bytes

    def __repr__(self) -> str:  # never print key material
        return "Secrets(<redacted>)"


def _read_or_create(path: Path, make: bytes) -> bytes:
    """Create ``path`` exclusively with 0600 or read what another process wrote."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes().strip()
        if data:
            return data
        raise RuntimeError(f"secret file {path} is empty; delete it to regenerate") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(make)
    return make


def load_secrets(settings: Settings) -> Secrets:
    secret_dir = settings.data_dir / "secrets"
    if settings.jwt_secret is not None:
        jwt_secret = settings.jwt_secret.get_secret_value()
    else:
        jwt_secret = _read_or_create(
            secret_dir / "jwt_secret", secrets.token_urlsafe(48).encode()
        ).decode()
    if len(jwt_secret) < 32:
        raise ValueError("LMWEBUI_JWT_SECRET must be at least 32 characters")
    if settings.fernet_key is not None:
        fernet_key = settings.fernet_key.get_secret_value().encode()
    else:
        fernet_key = _read_or_create(secret_dir / "fernet_key", Fernet.generate_key())
    try:
        Fernet(fernet_key)
    except (ValueError, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
        raise ValueError("LMWEBUI_FERNET_KEY is not a valid Fernet key") from exc
    return Secrets(jwt_secret=jwt_secret, fernet_key=fernet_key)


def _derived(secrets_: Secrets, purpose: bytes) -> str:
    """A key for one purpose, derived from the JWT secret so every process that has the
    secrets agrees on it without storing more."""
    return hmac.new(secrets_.jwt_secret.encode(), purpose, hashlib.sha256).hexdigest()


def vllm_key(secrets_: Secrets) -> str:
    """The key the vLLM apps require of every request (chat/vllm_guard.py)."""
    return _derived(secrets_, b"lmwebui vllm app")


def proxy_key(secrets_: Secrets) -> str:
    """The value the platform's HAProxy puts beside the client address it saw
    (serve_runtime.bind_haproxy_side_listeners, api/peer.py): the replicas believe that
    address only from a request that carries it."""
    return _derived(secrets_, b"lmwebui proxy peer")
