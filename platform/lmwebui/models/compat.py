"""Hardware compatibility: memory estimate from the GGUF header vs what the cluster has.

Estimate (bytes), for the engine as configured (``chat.n_slots`` sequences of
``chat.n_ctx_per_slot`` tokens, batch ``N_BATCH``):

    weights  = sum of tensor sizes in the header (≈ file size)
    kv_cache = n_layers * n_slots * n_ctx_per_slot * n_head_kv * (key_len + value_len) * 2
               (f16 K and V; every slot has its own KV stream)
    output   = n_slots * n_vocab * 4                       (float logits per sequence)
    compute  = N_BATCH * 4 * (n_vocab + 6 * n_embd)        (batch logits + activations)
    runtime  = 256 MiB                                     (CUDA context / allocator slack)
    total    = weights + kv_cache + output + compute + runtime

(Calibrated against llama.cpp's own buffer report for Gemma 3 270M Q4_K_M, 4 slots x 1024:
weights 235 MiB, KV 72 MiB, output 4 MiB, compute 519.5 MiB — the formula gives 72 / 4 /
519.5.) A model fits a GPU replica when total ≤ the free VRAM of the best single GPU of one
node (a replica runs on one GPU of one node: free memory is never summed across GPUs or
nodes), and a CPU replica when total ≤ the available RAM of the best single node.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lmwebui.models.metadata import GGUFInfo
from lmwebui.system.hardware import query_gpus

logger = logging.getLogger("lmwebui.models.compat")
MIB = 1024 * 1024
N_BATCH = 512
RUNTIME_BYTES = 256 * MIB
FIT_HEADROOM = 0.9  # recommend a quantization whose estimate uses at most 90% of memory

# Bits per weight of llama.cpp quantizations (llama.cpp's quantize table), best first.
BPW_LADDER: tuple[tuple[str, float], ...] = (
    ("Q8_0", 8.5),
    ("Q6_K", 6.56),
    ("Q5_K_M", 5.69),
    ("Q5_K_S", 5.54),
    ("Q4_K_M", 4.85),
    ("Q4_K_S", 4.58),
    ("IQ4_XS", 4.25),
    ("Q3_K_M", 3.91),
    ("Q3_K_S", 3.5),
    ("IQ3_XXS", 3.06),
    ("Q2_K", 2.96),
    ("IQ2_XS", 2.31),
)
QUALITY_ORDER = ("F32", "BF16", "F16", *(q for q, _ in BPW_LADDER))

NodeProbe = Callable[[], Awaitable[list[dict[str, Any]]]]


def estimate_memory(info: GGUFInfo, n_slots: int, n_ctx_per_slot: int) -> dict[str, int]:
    weights = info.tensor_bytes
    layers = info.block_count or 0
    kv_heads = info.head_count_kv or 0
    per_token = kv_heads * ((info.key_length or 0) + (info.value_length or 0)) * 2
    kv = layers * n_slots * n_ctx_per_slot * per_token
    vocab = info.vocab_size or 0
    output = n_slots * vocab * 4
    compute = N_BATCH * 4 * (vocab + 6 * (info.embedding_length or 0))
    total = weights + kv + output + compute + RUNTIME_BYTES
    return {
        "weights": weights,
        "kv_cache": kv,
        "output": output,
        "compute": compute,
        "runtime": RUNTIME_BYTES,
        "total": total,
    }


def probe_node() -> dict[str, Any]:
    """This node's memory right now (runs in a Ray task on each node, or in-process)."""
    import socket

    import psutil

    vm = psutil.virtual_memory()
    return {
        "hostname": socket.gethostname(),
        "ram_total_mb": vm.total // MIB,
        "ram_available_mb": vm.available // MIB,
        "gpus": query_gpus(),
    }


async def local_nodes() -> list[dict[str, Any]]:
    return [await asyncio.to_thread(probe_node)]


class RayNodes:
    """Runs ``probe_node`` on every alive Ray node (pinned, 0 CPUs); cached briefly."""

    def __init__(self, ttl_s: float = 15.0, timeout_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._cached: tuple[float, list[dict[str, Any]]] | None = None
        self._remote: Any = None

    async def __call__(self) -> list[dict[str, Any]]:
        if self._cached and time.monotonic() - self._cached[0] < self.ttl_s:
            return self._cached[1]
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if self._remote is None:
            self._remote = ray.remote(num_cpus=0, max_retries=0)(probe_node)
        nodes = [n for n in await asyncio.to_thread(ray.nodes) if n.get("Alive")]
        refs = [
            self._remote.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            ).remote()
            for n in nodes
        ]
        done = await asyncio.wait_for(asyncio.gather(*refs, return_exceptions=True), self.timeout_s)
        out = []
        for node, result in zip(nodes, done, strict=True):
            if isinstance(result, BaseException):
                logger.warning("node probe failed on %s: %s", node.get("NodeID"), result)
                continue
            out.append(
                {**result, "node_id": node["NodeID"], "address": node.get("NodeManagerAddress")}
            )
        self._cached = (time.monotonic(), out)
        return out


def best_targets(
    nodes: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(best single GPU with its node, best node by available RAM)."""
    best_gpu: dict[str, Any] | None = None
    for node in nodes:
        for gpu in node.get("gpus", []):
            if best_gpu is None or gpu["free_mb"] > best_gpu["free_mb"]:
                best_gpu = {**gpu, "node": node.get("hostname"), "node_id": node.get("node_id")}
    best_ram = max(nodes, key=lambda n: n.get("ram_available_mb", 0), default=None)
    return best_gpu, best_ram


def recommend(
    info: GGUFInfo,
    fixed_bytes: int,
    available_mb: int,
    repo_quants: dict[str, int] | None,
) -> tuple[str | None, str]:
    """Best-quality quantization whose estimate fits in FIT_HEADROOM of ``available_mb``.

    With the repo's quantizations known (downloaded models), candidates are the files it
    offers with their real sizes; otherwise the llama.cpp ladder, sized from the parameter
    count. ``fixed_bytes`` is everything but the weights (KV, buffers, runtime)."""
    budget = available_mb * MIB * FIT_HEADROOM - fixed_bytes
    if repo_quants:
        candidates = sorted(
            repo_quants.items(),
            key=lambda kv: QUALITY_ORDER.index(kv[0]) if kv[0] in QUALITY_ORDER else 99,
        )
        source = "repository"
        quantized = [c for c in candidates if c[0] not in ("F32", "BF16", "F16")]
        candidates = quantized or candidates
    else:
        params = info.parameter_count
        candidates = [(q, int(params * bpw / 8)) for q, bpw in BPW_LADDER]
        source = "estimate"
    if not candidates:
        return None, source
    for quant, size in candidates:
        if size <= budget:
            return quant, source
    return min(candidates, key=lambda kv: kv[1])[0], source
