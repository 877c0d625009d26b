"""Chat engines behind one interface (ChatEngine)."""

from lmwebui.chat.engines.base import ChatEngine

__all__ = ["ChatEngine"]
