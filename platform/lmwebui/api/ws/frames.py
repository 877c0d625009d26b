"""Client frames shared by every WebSocket kind: JSON `{action, data}`, bounded in size."""

from __future__ import annotations

import json
from typing import Any

MAX_FRAME_CHARS = 1_000_000


class FrameError(ValueError):
    """A malformed frame; the message is sent back as a VALIDATION_ERROR event."""


def parse_frame(text: str) -> tuple[str, dict[str, Any]]:
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError("Frame too large")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameError("Malformed frame: not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("action"), str):
        raise FrameError("Malformed frame: expected {action, data}")
    data = frame.get("data") or {}
    if not isinstance(data, dict):
        raise FrameError("Malformed frame: data must be an object")
    return frame["action"], data
