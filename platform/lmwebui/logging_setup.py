"""Process logging: one format, level from settings."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    root = logging.getLogger("lmwebui")
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.propagate = False
