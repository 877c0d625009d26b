"""Metric sinks. Instruments are created lazily, on first use, inside the process that uses
them (a Ray actor or replica); nothing happens at import time."""

from __future__ import annotations

import logging
import threading
from typing import Any

from lmwebui.metrics.definitions import BY_NAME, MetricDef

Tags = dict[str, str]
logger = logging.getLogger("lmwebui.metrics")


class Metrics:
    """The interface: record by metric name (see definitions.py)."""

    def inc(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        raise NotImplementedError

    def observe(self, name: str, value: float, tags: Tags | None = None) -> None:
        raise NotImplementedError

    def set(self, name: str, value: float, tags: Tags | None = None) -> None:
        raise NotImplementedError


class NullMetrics(Metrics):
    def inc(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        _check(name, "counter")

    def observe(self, name: str, value: float, tags: Tags | None = None) -> None:
        _check(name, "histogram")

    def set(self, name: str, value: float, tags: Tags | None = None) -> None:
        _check(name, "gauge")


def _check(name: str, kind: str) -> MetricDef:
    definition = BY_NAME.get(name)
    if definition is None or definition.kind != kind:
        raise KeyError(f"{name} is not a defined {kind} (lmwebui/metrics/definitions.py)")
    return definition


class RayMetrics(Metrics):
    def __init__(self) -> None:
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._failed: set[str] = set()

    def _get(self, name: str, kind: str) -> Any:
        inst = self._instruments.get(name)
        if inst is not None:
            return inst
        definition = _check(name, kind)
        from ray.util import metrics as ray_metrics

        with self._lock:
            inst = self._instruments.get(name)
            if inst is None:
                if kind == "counter":
                    inst = ray_metrics.Counter(name, definition.description, definition.tags)
                elif kind == "gauge":
                    inst = ray_metrics.Gauge(name, definition.description, definition.tags)
                else:
                    inst = ray_metrics.Histogram(
                        name, definition.description, list(definition.buckets), definition.tags
                    )
                self._instruments[name] = inst
        return inst

    # Recording must never fail a request: errors are logged once per metric and dropped.
    def inc(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        if value <= 0:  # ray.util.metrics.Counter.inc raises on 0 (e.g. no cached tokens)
            _check(name, "counter")
            return
        self._record(name, "counter", "inc", value, tags)

    def observe(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._record(name, "histogram", "observe", value, tags)

    def set(self, name: str, value: float, tags: Tags | None = None) -> None:
        self._record(name, "gauge", "set", value, tags)

    def _record(self, name: str, kind: str, method: str, value: float, tags: Tags | None) -> None:
        instrument = self._get(name, kind)  # an undefined name is a bug: raise
        try:
            getattr(instrument, method)(value, tags=tags or {})
        except Exception:
            if name not in self._failed:
                self._failed.add(name)
                logger.exception("recording metric %s failed", name)


_current: Metrics = NullMetrics()


def set_metrics(metrics: Metrics) -> None:
    """Chosen by the hosting process (a Serve replica sets RayMetrics in its __init__)."""
    global _current
    _current = metrics


def get_metrics() -> Metrics:
    return _current
