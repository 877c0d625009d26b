"""The overview dashboard: requests, errors, replicas, the cluster."""

from __future__ import annotations

from panels.common import APP, Panel

OVERVIEW: dict[str, tuple[str, list[Panel]]] = {
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
}
