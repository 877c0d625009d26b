"""The one percentile every benchmark reports (nearest rank on the sorted values)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1, e.g. 0.99 for p99) by nearest rank; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]
