"""What crosses Ray: plain data only (dicts, lists, str, numbers, bytes, numpy arrays).

Every call between the ingress and a deployment or actor sends plain data and each side
turns it back into its typed objects at the boundary (the handle client on the ingress,
the deployment method on the replica). Plain data pickles faster than pydantic objects
(loadtests/bench_ray_payload.py: 7 vs 20 µs per chat chunk, 232 vs 284 µs per streamed
Ray item) and needs no class of ours on the other side, so a replica may run in another
Python environment (vLLM's). docs/architecture.md, "What crosses Ray".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable
from typing import Any, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

T = TypeVar("T")


def to_wire(value: Any) -> Any:
    """A dataclass or pydantic object (or a list of them) as plain data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def from_wire(tp: type[T] | Any, data: Any) -> T:
    """Plain data back into ``tp`` (a dataclass, a pydantic model, ``list[...]``),
    validated; numpy arrays in ``Any`` fields pass through untouched."""
    result: T = _adapter(cast(Hashable, tp)).validate_python(data)
    return result
