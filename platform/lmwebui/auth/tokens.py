"""JWT issuing and checking. HS256 only: ``alg=none`` and algorithm confusion are rejected."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from lmwebui.errors import InvalidToken

ALGORITHM = "HS256"
ISSUER = "lmwebui"
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    session_id: str
    jti: str
    token_type: TokenType
    role: str
    expires_at: int


class TokenCodec:
    def __init__(self, secret: str, *, access_ttl_s: int, refresh_ttl_s: int) -> None:
        self._secret = secret
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s

    def issue(
        self, token_type: TokenType, *, user_id: int, session_id: str, role: str
    ) -> tuple[str, TokenClaims]:
        now = int(time.time())
        ttl = self.access_ttl_s if token_type == "access" else self.refresh_ttl_s
        claims = TokenClaims(
            user_id=user_id,
            session_id=session_id,
            jti=str(uuid.uuid4()),
            token_type=token_type,
            role=role,
            expires_at=now + ttl,
        )
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "sub": str(user_id),
            "sid": session_id,
            "jti": claims.jti,
            "typ": token_type,
            "role": role,
            "iat": now,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("Token has expired") from None
        except jwt.PyJWTError:
            raise InvalidToken("Invalid token") from None
        if payload.get("typ") != expected:
            raise InvalidToken(f"Expected a {expected} token")
        try:
            return TokenClaims(
                user_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                jti=str(payload["jti"]),
                token_type=expected,
                role=str(payload.get("role", "user")),
                expires_at=int(payload["exp"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("Invalid token") from None
