"""What hardware this process (or the Ray cluster) has. Read lazily, cached."""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
from typing import Any

import psutil


def query_gpus() -> list[dict[str, Any]]:
    """This node's GPUs via nvidia-smi, read now (free memory changes): name, total_mb,
    free_mb. No torch import; [] without nvidia-smi or on any error."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv
            [smi, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            gpus.append({"name": parts[0], "total_mb": int(parts[1]), "free_mb": int(parts[2])})
    return gpus


@functools.lru_cache(maxsize=1)
def local_gpus() -> list[dict[str, Any]]:
    """The GPUs for system info (cached: the device list does not change)."""
    return query_gpus()


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_summary() -> dict[str, Any]:
    gpus = local_gpus()
    ram_mb = psutil.virtual_memory().total // (1024 * 1024)
    if gpus:
        best = max(gpus, key=lambda g: g["total_mb"])
        return {
            "backend": "cuda",
            "device": best["name"],
            "vram_mb": best["total_mb"],
            "system_ram_mb": ram_mb,
            "gpu_count": len(gpus),
        }
    return {
        "backend": "cpu",
        "device": cpu_model(),
        "vram_mb": 0,
        "system_ram_mb": ram_mb,
        "gpu_count": 0,
        "cpu_count": psutil.cpu_count() or 1,
    }
