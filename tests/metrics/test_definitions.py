"""Dashboards and alert rules only reference metrics that something exports."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lmwebui.metrics import NullMetrics
from lmwebui.metrics.definitions import METRICS

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "configs" / "grafana"
PROMETHEUS = REPO / "configs" / "prometheus"

# Ray / Ray Serve metrics the panels use (seen in a scrape of `lmwebui serve`, Ray 2.60;
# ray_node_gpus_utilization and ray_node_gram_used exist on GPU nodes only).
RAY_METRICS = {
    "ray_serve_deployment_replica_healthy",
    "ray_serve_num_ongoing_requests_at_replicas",
    "ray_serve_num_http_requests_total",
    "ray_serve_autoscaling_target_replicas",
    "ray_serve_request_router_queue_len",
    "ray_serve_num_multiplexed_models",
    "ray_serve_multiplexed_model_load_latency_ms_bucket",
    "ray_serve_deployment_processing_latency_ms_bucket",
    "ray_node_cpu_utilization",
    "ray_node_mem_used",
    "ray_node_gpus_utilization",
    "ray_node_gram_used",
}
SUFFIXES = ("", "_bucket", "_count", "_sum")


def exported_names() -> set[str]:
    names = set(RAY_METRICS)
    for m in METRICS:
        names.update(f"ray_{m.name}{suffix}" for suffix in SUFFIXES)
    return names


def load_dashboards() -> dict[str, dict]:  # type: ignore[type-arg]
    spec = importlib.util.spec_from_file_location("dashboards", GRAFANA / "dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: json.loads(text) for name, text in module.render().items()}


def panel_exprs() -> list[tuple[str, str, list[str]]]:
    out = []
    for dashboard in load_dashboards().values():
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                out.append((panel["title"], target["expr"], panel["tags"]))
    return out


METRIC_RE = re.compile(r"\b(ray_[a-z0-9_]+)\b")


def test_committed_dashboards_match_the_code() -> None:
    for name, dashboard in load_dashboards().items():
        committed = json.loads((GRAFANA / "dashboards" / name).read_text())
        assert committed == dashboard, f"run python configs/grafana/dashboards.py ({name})"


def test_every_referenced_metric_is_exported() -> None:
    known = exported_names()
    for title, expr, _tags in panel_exprs():
        for metric in METRIC_RE.findall(expr):
            assert metric in known, f"panel {title!r} uses {metric}, which nothing exports"
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            for metric in METRIC_RE.findall(rule["expr"]):
                assert metric in known, f"rule uses {metric}, which nothing exports"


def test_every_defined_metric_is_documented() -> None:
    doc = (REPO / "docs" / "metrics.md").read_text()
    for m in METRICS:
        assert f"ray_{m.name}" in doc, m.name


def test_unknown_metric_names_fail_loudly() -> None:
    with pytest.raises(KeyError):
        NullMetrics().inc("lmwebui_not_defined_total")
    with pytest.raises(KeyError):
        NullMetrics().observe("lmwebui_http_requests_total", 1.0)  # a counter, not histogram


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_rules_pass_promtool() -> None:
    out = subprocess.run(
        ["promtool", "check", "rules", str(PROMETHEUS / "rules.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
