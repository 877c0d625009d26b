"""The web page: static files from the package (lmwebui/web), served at ``/`` after every
API route, same origin as the API so the HttpOnly cookies carry the session.

No build step: plain ES modules and vendored npm files (web/vendor/README.md). Every
response carries a strict Content-Security-Policy (no inline script or style, no other
origin), ``nosniff`` and no framing. Caching: files under ``vendor/<name>-<version>/`` never
change, so browsers keep them a year; the page's own files are revalidated on every load
(ETag / Last-Modified answer 304 when nothing changed). Compressed with gzip when the
browser accepts it. A path that is not a file, or another method, answers the API's 404
error body.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def web_root() -> Path:
    """The page's files inside the installed package."""
    return Path(str(files("lmwebui") / "web"))


class PageFiles(StaticFiles):
    """StaticFiles with the page's security and cache headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        versioned = path.startswith("vendor/") and path.count("/") >= 2
        response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        return response


def page_app(root: Path | None = None) -> ASGIApp:
    """The page's files as an ASGI app (gzip, headers)."""
    return GZipMiddleware(PageFiles(directory=root or web_root(), html=True), minimum_size=512)


def install_page(app: FastAPI, root: Path | None = None) -> None:
    """Serve the page for a GET or HEAD no route matches (the router's default, so a route
    added at any time wins); anything else keeps the API's 404."""
    page = page_app(root)
    not_found = app.router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            await page(scope, receive, send)
        else:
            await not_found(scope, receive, send)

    app.router.default = default
