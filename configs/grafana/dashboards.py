"""Grafana dashboards as code: `python configs/grafana/dashboards.py` writes the JSON files.

The panels are data in configs/grafana/panels/, by feature. Every panel query is evaluated
against a real Prometheus scrape by tests/deployments/test_observability.py. Ray exports
application metrics with a `ray_` prefix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # panels/, beside this script

from panels import DASHBOARDS
from panels.common import Panel

HERE = Path(__file__).resolve().parent / "dashboards"


def panel_json(index: int, panel: Panel) -> dict[str, Any]:
    title, unit, targets, tags = panel
    return {
        "id": index + 1,
        "title": title,
        "type": "timeseries",
        "datasource": {"type": "prometheus", "uid": "lmwebui-prom"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (legend, expr) in enumerate(targets)
        ],
        "description": "Has data only where GPU nodes exist." if "gpu" in tags else "",
        "tags": list(tags),
    }


def dashboard_json(uid: str, title: str, panels: list[Panel]) -> dict[str, Any]:
    return {
        "uid": f"lmwebui-{uid}",
        "title": title,
        "tags": ["lmwebui"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "panels": [panel_json(i, p) for i, p in enumerate(panels)],
    }


def render() -> dict[str, str]:
    return {
        f"{uid}.json": json.dumps(dashboard_json(uid, title, panels), indent=2) + "\n"
        for uid, (title, panels) in DASHBOARDS.items()
    }


if __name__ == "__main__":
    HERE.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}")
