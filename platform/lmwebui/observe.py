"""Prometheus for a running platform: scrape targets in Ray's service-discovery format and a
local Prometheus (Debian's `prometheus` package) started against them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from lmwebui.settings import PROJECT_ROOT, Settings

CONFIG_DIR = PROJECT_ROOT / "configs" / "prometheus"
# The targets file the shipped prometheus.yml names (the Ray dashboard's); render_config
# puts this platform's own file in its place.
RAY_DASHBOARD_TARGETS = "/tmp/ray/prom_metrics_service_discovery.json"  # noqa: S108 (Ray's)


def targets_file(settings: Settings) -> Path:
    return settings.data_dir / "prometheus" / "ray_targets.json"


def ray_targets() -> list[dict[str, Any]]:
    """Every alive node's metrics export address, as Ray's own SD file lists them."""
    import ray

    addresses = sorted(
        f"{node['NodeManagerAddress']}:{node['MetricsExportPort']}"
        for node in ray.nodes()
        if node.get("Alive") and node.get("MetricsExportPort")
    )
    return [{"labels": {"job": "ray"}, "targets": addresses}]


def write_targets(settings: Settings) -> Path:
    path = targets_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ray_targets()))
    os.replace(tmp, path)  # Prometheus never reads a half-written file
    return path


def render_config(settings: Settings) -> Path:
    out = settings.data_dir / "prometheus"
    out.mkdir(parents=True, exist_ok=True)
    text = (CONFIG_DIR / "prometheus.yml").read_text()
    entry = f"- {RAY_DASHBOARD_TARGETS}\n"  # the file_sd entry, not the comment naming it
    if entry not in text:
        raise ValueError(f"prometheus.yml no longer lists {RAY_DASHBOARD_TARGETS}")
    (out / "prometheus.yml").write_text(text.replace(entry, f"- {targets_file(settings)}\n"))
    shutil.copy(CONFIG_DIR / "rules.yml", out / "rules.yml")
    return out / "prometheus.yml"


def prometheus_command(settings: Settings, port: int) -> list[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise FileNotFoundError("prometheus not found: apt-get install prometheus")
    config = render_config(settings)
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={settings.data_dir / 'prometheus' / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]


def run_prometheus(settings: Settings, port: int) -> int:
    if not targets_file(settings).exists():
        print("lmwebui: no scrape targets yet; start `lmwebui serve` first")
        return 2
    cmd = prometheus_command(settings, port)
    print(f"lmwebui: Prometheus on http://127.0.0.1:{port} (targets {targets_file(settings)})")
    return subprocess.call(cmd)  # noqa: S603 - fixed binary, our arguments
