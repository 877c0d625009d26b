"""What an idle platform costs: CPU used by all its processes while nothing is asked of it.

    .venv/bin/python loadtests/bench_idle.py --runs 3 --seconds 30

On a small machine an idle platform's background work (Serve's controller, metrics export,
health checks, Ray's GCS, raylet and agents) is taken from the engines. For each variant
(the platform's defaults, then with one Serve setting changed), one `lmwebui serve` (GGUF
only, RAG on), left to settle, then the CPU time of its processes (it and its descendants:
Ray's GCS, raylet, workers, HAProxy) over --seconds; variants in turn, --runs times. Prints
the median total in % of one core, the time from start to /api/health ready, and the
largest process groups.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.cpu import cpu_snapshot, cpu_used, tree
from tests.support.live import start_server

VARIANTS = {
    "platform defaults": {},
    "metrics export every 1 s (Ray: 100 ms)": {"RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000"},
    "both, and control loop 0.5 s (Ray: 0.1 s)": {
        "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000",
        "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
    },
}


def idle_cpu(env: dict[str, str], seconds: float, settle: float) -> tuple[Counter[str], float]:
    """CPU by process group in % of one core; seconds from start to /api/health ready."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        server = start_server(Path(tmp) / "data", env=env)
        ready_s = time.perf_counter() - t0
        try:
            time.sleep(settle)
            group = tree(server.proc.pid)  # the platform's processes (Ray's are its children)
            before = cpu_snapshot(group)
            time.sleep(seconds)
            used = cpu_used(before, cpu_snapshot(group))
        finally:
            server.stop()
    return Counter({k: v / seconds * 100 for k, v in used.items()}), ready_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=20)
    args = parser.parse_args()
    results: dict[str, list[Counter[str]]] = {name: [] for name in VARIANTS}
    ready: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):  # variants in turn, so drift hits all alike
        for name, env in VARIANTS.items():
            used, ready_s = idle_cpu(env, args.seconds, args.settle)
            results[name].append(used)
            ready[name].append(ready_s)
            print(f"{name}: {sum(used.values()):.1f} % of a core, ready in {ready_s:.1f} s")
    print("| variant | idle CPU, % of one core | start to ready, s | runs | largest (last run) |")
    print("| --- | --- | --- | --- | --- |")
    for name, runs in results.items():
        total = statistics.median(sum(r.values()) for r in runs)
        top = ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].most_common(3))
        start = statistics.median(ready[name])
        print(f"| {name} | {total:.1f} | {start:.1f} | {len(runs)} | {top} |", flush=True)


if __name__ == "__main__":
    main()
