"""HTTP/WebSocket API: create_app(), thin routers, dependency shortcuts."""

from lmwebui.api.app import create_app

__all__ = ["create_app"]
