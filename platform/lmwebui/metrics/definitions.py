"""Every metric the platform exports: one table, the source of docs/metrics.md and of the
dashboard check (no panel may reference a metric that is not defined here or by Ray).

Label sets are bounded: route templates (not raw paths), model names from the models
directory, provider names, scopes — never user ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "histogram", "gauge"]

LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
TOKEN_GAP_BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]


@dataclass(frozen=True)
class MetricDef:
    name: str
    kind: Kind
    description: str
    tags: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


def _h(
    name: str, description: str, tags: tuple[str, ...], buckets: list[float] = LATENCY_BUCKETS
) -> MetricDef:
    return MetricDef(name, "histogram", description, tags, tuple(buckets))


METRICS: tuple[MetricDef, ...] = (
    # HTTP (ingress)
    MetricDef(
        "lmwebui_http_requests_total",
        "counter",
        "HTTP requests by route template, method and status.",
        ("route", "method", "status"),
    ),
    _h(
        "lmwebui_http_request_duration_seconds",
        "HTTP request latency (until the response starts for streams).",
        ("route", "method"),
    ),
    MetricDef("lmwebui_ws_connections", "gauge", "Open WebSocket connections.", ("kind",)),
    # chat (ingress view: what the user sees)
    _h(
        "lmwebui_chat_ttft_seconds",
        "Time to first token as seen by the ingress.",
        ("provider", "model"),
    ),
    _h(
        "lmwebui_chat_inter_token_seconds",
        "Gap between consecutive streamed tokens.",
        ("provider", "model"),
        TOKEN_GAP_BUCKETS,
    ),
    MetricDef(
        "lmwebui_chat_tokens_total",
        "counter",
        "Tokens in (prompt) and out (completion).",
        ("provider", "model", "direction"),
    ),
    MetricDef(
        "lmwebui_chat_requests_total",
        "counter",
        "Chat turns by outcome.",
        ("provider", "model", "outcome"),
    ),
    MetricDef(
        "lmwebui_chat_active_streams", "gauge", "Chat turns being generated now.", ("provider",)
    ),
    # engine (replica view)
    _h("lmwebui_engine_queue_seconds", "Time a request waited for an engine slot.", ("model",)),
    _h(
        "lmwebui_engine_prefill_seconds",
        "Slot admission to first token (prompt evaluation).",
        ("model",),
    ),
    MetricDef("lmwebui_engine_active_slots", "gauge", "Engine slots generating now.", ("model",)),
    MetricDef(
        "lmwebui_engine_queued_requests", "gauge", "Requests waiting for a slot.", ("model",)
    ),
    MetricDef(
        "lmwebui_engine_cached_prompt_tokens_total",
        "counter",
        "Prompt tokens served from a slot's KV cache instead of evaluated.",
        ("model",),
    ),
    MetricDef(
        "lmwebui_engine_evaluated_prompt_tokens_total",
        "counter",
        "Prompt tokens evaluated (prefill).",
        ("model",),
    ),
    MetricDef(
        "lmwebui_model_loads_total", "counter", "GGUF models loaded on a replica.", ("model",)
    ),
    MetricDef(
        "lmwebui_model_unloads_total", "counter", "GGUF models evicted or unloaded.", ("model",)
    ),
    # GGUF downloads (DownloadManager actor)
    MetricDef("lmwebui_downloads_active", "gauge", "Downloads in progress."),
    MetricDef("lmwebui_downloads_bytes_total", "counter", "Bytes received from the hub."),
    MetricDef("lmwebui_downloads_completed_total", "counter", "Downloads that completed."),
    MetricDef(
        "lmwebui_downloads_failed_total",
        "counter",
        "Downloads that failed, by reason.",
        ("reason",),
    ),
    # RAG
    _h(
        "lmwebui_rag_ingest_seconds",
        "Document ingest time (convert, chunk, embed, store).",
        ("kind",),
    ),
    _h("lmwebui_rag_search_seconds", "Retrieval latency (embed query + hybrid search).", ()),
    MetricDef("lmwebui_rag_chunks_stored_total", "counter", "Chunks written to the vector store."),
    # protection
    MetricDef(
        "lmwebui_rate_limited_total", "counter", "Requests refused by a rate limit.", ("scope",)
    ),
    MetricDef(
        "lmwebui_auth_failures_total", "counter", "Failed authentications by reason.", ("reason",)
    ),
)

BY_NAME = {m.name: m for m in METRICS}
