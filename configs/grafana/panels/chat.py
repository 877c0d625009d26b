"""The chat dashboard: streams, tokens, latency, engines."""

from __future__ import annotations

from panels.common import APP, Panel

CHAT: dict[str, tuple[str, list[Panel]]] = {
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
}
