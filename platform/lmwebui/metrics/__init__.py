"""Platform metrics through ray.util.metrics (aggregated across replicas and nodes by Ray's
metrics export), or a no-op sink where no Ray runs (in-process tests, plain uvicorn)."""

from lmwebui.metrics.sink import Metrics, NullMetrics, RayMetrics, get_metrics, set_metrics

__all__ = ["Metrics", "NullMetrics", "RayMetrics", "get_metrics", "set_metrics"]
