"""Grafana dashboards as code: `python configs/grafana/dashboards.py` writes the JSON files.

Every panel query is evaluated against a real Prometheus scrape by
tests/metrics/test_dashboards.py. Ray exports application metrics with a `ray_` prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "dashboards"
APP = 'application="lmwebui"'

# (title, unit, [(legend, expr)], tags)  tags: "gpu" = only has data on GPU nodes
Panel = tuple[str, str, list[tuple[str, str]], tuple[str, ...]]

DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {
    "overview": (
        "lmwebui / overview",
        [
            (
                "Requests per second by route",
                "reqps",
                [
                    (
                        "{{route}} {{status}}",
                        "sum by (route, status) (rate(ray_lmwebui_http_requests_total[1m]))",
                    )
                ],
                (),
            ),
            (
                "HTTP p50 / p99 latency",
                "s",
                [
                    (
                        "p50",
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_http_request_duration_seconds_bucket[5m])))",
                    ),
                    (
                        "p99",
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(ray_lmwebui_http_request_duration_seconds_bucket[5m])))",
                    ),
                ],
                (),
            ),
            (
                "5xx ratio",
                "percentunit",
                [
                    (
                        "errors",
                        '(sum(rate(ray_lmwebui_http_requests_total{status=~"5.."}[5m])) '
                        "or vector(0)) / "
                        "clamp_min(sum(rate(ray_lmwebui_http_requests_total[5m])), 1e-9)",
                    )
                ],
                (),
            ),
            (
                "Healthy replicas by deployment",
                "short",
                [
                    (
                        "{{deployment}}",
                        f"sum by (deployment) (ray_serve_deployment_replica_healthy{{{APP}}})",
                    )
                ],
                (),
            ),
            (
                "Ongoing requests at replicas",
                "short",
                [
                    (
                        "{{deployment}}",
                        f"sum by (deployment) "
                        f"(ray_serve_num_ongoing_requests_at_replicas{{{APP}}})",
                    )
                ],
                (),
            ),
            (
                "Serve HTTP requests (proxy view)",
                "reqps",
                [("{{route}}", "sum by (route) (rate(ray_serve_num_http_requests_total[1m]))")],
                (),
            ),
            (
                "Rate-limited and auth failures",
                "short",
                [
                    (
                        "limited {{scope}}",
                        "sum by (scope) (rate(ray_lmwebui_rate_limited_total[5m]))",
                    ),
                    (
                        "auth {{reason}}",
                        "sum by (reason) (rate(ray_lmwebui_auth_failures_total[5m]))",
                    ),
                ],
                (),
            ),
            (
                "Node CPU utilisation",
                "percent",
                [("{{NodeAddress}}", "avg by (NodeAddress) (ray_node_cpu_utilization)")],
                (),
            ),
            (
                "Node memory used",
                "bytes",
                [("{{NodeAddress}}", "sum by (NodeAddress) (ray_node_mem_used)")],
                (),
            ),
            (
                "GPU utilisation",
                "percent",
                [
                    (
                        "{{NodeAddress}} {{GpuIndex}}",
                        "avg by (NodeAddress, GpuIndex) (ray_node_gpus_utilization)",
                    )
                ],
                ("gpu",),
            ),
            (
                "GPU memory used",
                "decmbytes",
                [("{{NodeAddress}}", "sum by (NodeAddress) (ray_node_gram_used)")],
                ("gpu",),
            ),
        ],
    ),
    "chat": (
        "lmwebui / chat and LLM",
        [
            (
                "Output tokens per second",
                "short",
                [
                    (
                        "{{model}}",
                        'sum by (model) (rate(ray_lmwebui_chat_tokens_total{direction="out"}[1m]))',
                    )
                ],
                (),
            ),
            (
                "Time to first token p50 / p99",
                "s",
                [
                    (
                        "p50",
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_chat_ttft_seconds_bucket[5m])))",
                    ),
                    (
                        "p99",
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(ray_lmwebui_chat_ttft_seconds_bucket[5m])))",
                    ),
                ],
                (),
            ),
            (
                "Inter-token latency p50 / p99",
                "s",
                [
                    (
                        "p50",
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_chat_inter_token_seconds_bucket[5m])))",
                    ),
                    (
                        "p99",
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(ray_lmwebui_chat_inter_token_seconds_bucket[5m])))",
                    ),
                ],
                (),
            ),
            (
                "Queue wait vs prefill (engine)",
                "s",
                [
                    (
                        "queue p90",
                        "histogram_quantile(0.9, sum by (le) "
                        "(rate(ray_lmwebui_engine_queue_seconds_bucket[5m])))",
                    ),
                    (
                        "prefill p90",
                        "histogram_quantile(0.9, sum by (le) "
                        "(rate(ray_lmwebui_engine_prefill_seconds_bucket[5m])))",
                    ),
                ],
                (),
            ),
            (
                "Platform overhead (TTFT minus engine queue + prefill), p50",
                "s",
                [
                    (
                        "overhead",
                        "clamp_min(histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_chat_ttft_seconds_bucket[5m]))) - "
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_engine_prefill_seconds_bucket[5m]))) - "
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_engine_queue_seconds_bucket[5m]))), 0)",
                    )
                ],
                (),
            ),
            (
                "Active streams and engine slots",
                "short",
                [
                    ("streams", "sum(ray_lmwebui_chat_active_streams)"),
                    ("active slots", "sum(ray_lmwebui_engine_active_slots)"),
                    ("queued", "sum(ray_lmwebui_engine_queued_requests)"),
                ],
                (),
            ),
            (
                "Prompt tokens: cached vs evaluated",
                "short",
                [
                    ("cached", "sum(rate(ray_lmwebui_engine_cached_prompt_tokens_total[5m]))"),
                    (
                        "evaluated",
                        "sum(rate(ray_lmwebui_engine_evaluated_prompt_tokens_total[5m]))",
                    ),
                ],
                (),
            ),
            (
                "Chat turns by outcome",
                "short",
                [("{{outcome}}", "sum by (outcome) (rate(ray_lmwebui_chat_requests_total[5m]))")],
                (),
            ),
            (
                "Chat replicas (autoscaling target vs running)",
                "short",
                [
                    (
                        "target",
                        f"sum(ray_serve_autoscaling_target_replicas{{{APP}, "
                        f'deployment="ChatGGUF"}})',
                    ),
                    (
                        "healthy",
                        f"sum(ray_serve_deployment_replica_healthy{{{APP}, "
                        f'deployment="ChatGGUF"}})',
                    ),
                ],
                (),
            ),
            (
                "Serve queue length at the router",
                "short",
                [
                    (
                        "{{deployment}}",
                        f"sum by (deployment) (ray_serve_request_router_queue_len{{{APP}}})",
                    )
                ],
                (),
            ),
        ],
    ),
    "models": (
        "lmwebui / models and downloads",
        [
            (
                "Model loads and unloads",
                "short",
                [
                    (
                        "loads {{model}}",
                        "sum by (model) (increase(ray_lmwebui_model_loads_total[1h]))",
                    ),
                    (
                        "unloads {{model}}",
                        "sum by (model) (increase(ray_lmwebui_model_unloads_total[1h]))",
                    ),
                ],
                (),
            ),
            (
                "Multiplexed models per replica",
                "short",
                [
                    (
                        "{{deployment}}",
                        f"sum by (deployment) (ray_serve_num_multiplexed_models{{{APP}}})",
                    )
                ],
                (),
            ),
            (
                "Model load latency p90",
                "ms",
                [
                    (
                        "p90",
                        "histogram_quantile(0.9, sum by (le) "
                        "(rate(ray_serve_multiplexed_model_load_latency_ms_bucket[1h])))",
                    )
                ],
                (),
            ),
            ("Active downloads", "short", [("active", "sum(ray_lmwebui_downloads_active)")], ()),
            (
                "Download throughput",
                "Bps",
                [("bytes/s", "sum(rate(ray_lmwebui_downloads_bytes_total[1m]))")],
                (),
            ),
            (
                "Downloads completed / failed",
                "short",
                [
                    ("completed", "sum(increase(ray_lmwebui_downloads_completed_total[1h]))"),
                    (
                        "failed {{reason}}",
                        "sum by (reason) (increase(ray_lmwebui_downloads_failed_total[1h]))",
                    ),
                ],
                (),
            ),
        ],
    ),
    "rag": (
        "lmwebui / RAG",
        [
            (
                "Ingest time p50 / p90 by kind",
                "s",
                [
                    (
                        "p50 {{kind}}",
                        "histogram_quantile(0.5, sum by (le, kind) "
                        "(rate(ray_lmwebui_rag_ingest_seconds_bucket[15m])))",
                    ),
                    (
                        "p90 {{kind}}",
                        "histogram_quantile(0.9, sum by (le, kind) "
                        "(rate(ray_lmwebui_rag_ingest_seconds_bucket[15m])))",
                    ),
                ],
                (),
            ),
            (
                "Search latency p50 / p99",
                "s",
                [
                    (
                        "p50",
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(ray_lmwebui_rag_search_seconds_bucket[5m])))",
                    ),
                    (
                        "p99",
                        "histogram_quantile(0.99, sum by (le) "
                        "(rate(ray_lmwebui_rag_search_seconds_bucket[5m])))",
                    ),
                ],
                (),
            ),
            (
                "Chunks stored",
                "short",
                [("chunks/s", "sum(rate(ray_lmwebui_rag_chunks_stored_total[5m]))")],
                (),
            ),
            (
                "Embedder / Documents / Retriever load",
                "short",
                [
                    (
                        "{{deployment}}",
                        f"sum by (deployment) (ray_serve_num_ongoing_requests_at_replicas"
                        f'{{{APP}, deployment=~"Embedder|Documents|Retriever"}})',
                    )
                ],
                (),
            ),
            (
                "RAG deployment latency p90",
                "ms",
                [
                    (
                        "{{deployment}}",
                        f"histogram_quantile(0.9, sum by (le, deployment) "
                        f"(rate(ray_serve_deployment_processing_latency_ms_bucket"
                        f'{{{APP}, deployment=~"Embedder|Documents|Retriever"}}[5m])))',
                    )
                ],
                (),
            ),
        ],
    ),
}


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
