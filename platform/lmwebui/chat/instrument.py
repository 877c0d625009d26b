"""Chat metrics, recorded the same way for every entry point (REST, WebSocket, /v1)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from types import TracebackType

from lmwebui.metrics import get_metrics


class StreamMetrics:
    """One stream: active-stream gauge while it runs, TTFT and inter-token gaps of its
    visible output, tokens in/out, and one request count with its outcome at the end."""

    def __init__(self, active: Counter[str], provider: str) -> None:
        self.active = active
        self.provider = provider
        self.model = "unknown"
        self.outcome = "error"
        self.started = time.perf_counter()
        self.first = self.last = 0.0
        self.gaps: list[float] = []

    def __enter__(self) -> StreamMetrics:
        self.active[self.provider] += 1
        self._gauge()
        return self

    def token(self) -> None:
        now = time.perf_counter()
        if self.first:
            self.gaps.append(now - self.last)
        else:
            self.first = now
        self.last = now

    def completed(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.outcome, self.model = "completed", model
        metrics = get_metrics()
        tags = {"provider": self.provider, "model": model}
        metrics.inc("lmwebui_chat_tokens_total", prompt_tokens, {**tags, "direction": "in"})
        metrics.inc("lmwebui_chat_tokens_total", completion_tokens, {**tags, "direction": "out"})
        if self.first:
            metrics.observe("lmwebui_chat_ttft_seconds", self.first - self.started, tags)
        for gap in self.gaps:
            metrics.observe("lmwebui_chat_inter_token_seconds", gap, tags)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and issubclass(exc_type, GeneratorExit | asyncio.CancelledError):
            self.outcome = "cancelled"
        self.active[self.provider] -= 1
        self._gauge()
        get_metrics().inc(
            "lmwebui_chat_requests_total",
            tags={"provider": self.provider, "model": self.model, "outcome": self.outcome},
        )

    def _gauge(self) -> None:
        get_metrics().set(
            "lmwebui_chat_active_streams", self.active[self.provider], {"provider": self.provider}
        )
