"""What every panel module shares."""

from __future__ import annotations

APP = 'application="lmwebui"'

# (title, unit, [(legend, expr)], tags)  tags: "gpu" = only has data on GPU nodes
Panel = tuple[str, str, list[tuple[str, str]], tuple[str, ...]]
