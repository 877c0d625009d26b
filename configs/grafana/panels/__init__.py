"""The dashboards' panels as data, by feature (rendered by configs/grafana/dashboards.py)."""

from __future__ import annotations

from panels.chat import CHAT
from panels.common import Panel
from panels.content import CONTENT
from panels.overview import OVERVIEW

DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {**OVERVIEW, **CHAT, **CONTENT}
