"""The models and RAG dashboards: downloads, storage, ingest, search."""

from __future__ import annotations

from panels.common import APP, Panel

CONTENT: dict[str, tuple[str, list[Panel]]] = {
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
