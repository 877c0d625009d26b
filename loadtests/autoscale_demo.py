"""Autoscaling demo: ChatGGUF replicas go 1 → N on the GPU nodes of a local multi-node Ray
cluster under load, and back to the minimum after it.

    .venv/bin/python loadtests/autoscale_demo.py --gpu-nodes 2 --gpus-per-node 2 --users 24

The cluster is ``ray.cluster_utils.Cluster`` on this machine: a head node without GPUs and
``--gpu-nodes`` worker nodes declaring logical GPUs and the accelerator type ``L4`` (Ray
schedules on them exactly as on real GPU nodes; llama.cpp itself runs on the CPU here).
``lmwebui serve`` joins it with ChatGGUF configured as a GPU deployment
(``chat.num_gpus=1``, ``chat.accelerator_type=L4``, autoscaling 1..max). Closed-loop users
chat over WebSocket; every second the script samples the ChatGGUF replicas (and on which
node kind they run), Serve's queued-request gauge, streams waiting for their first token and
the p99 TTFT of the last 10 s. The timeline is printed as a markdown table and written as CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.stats import percentile
from loadtests.wsclient import chat_turn, ws_chat_url
from tests.support.live import login, start_server

TOPICS = ["volcanoes", "honey bees", "the Sahara", "chess", "bread", "coral reefs", "Rome"]
REPLICA_CLASS = "ServeReplica:lmwebui:ChatGGUF"


@dataclass
class LoadState:
    started: int = 0
    waiting: int = 0  # sent, no first token yet
    streaming: int = 0
    errors: int = 0
    done: int = 0
    ttfts: list[tuple[float, float]] = field(default_factory=list)  # (time, ttft ms)


async def user(
    url: str, headers: dict[str, str], i: int, until: float, state: LoadState, max_tokens: int
) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        state.started += 1
        state.waiting += 1
        waiting = True

        def first_token(ttft_s: float) -> None:
            nonlocal waiting
            state.ttfts.append((time.monotonic(), ttft_s * 1000))
            state.waiting -= 1
            state.streaming += 1
            waiting = False

        data = {
            "message": f"Tell me about {TOPICS[(i + n) % len(TOPICS)]} (user {i}).",
            "max_tokens": max_tokens,
            "temperature": 0.7,
        }
        try:
            turn = await chat_turn(url, headers, data, recv_timeout=300, on_first_token=first_token)
            if turn.ok:
                state.done += 1
            else:
                state.errors += 1
        except Exception:
            state.errors += 1
        finally:
            if waiting:
                state.waiting -= 1
            else:
                state.streaming -= 1


def serve_queued(node_metric_urls: list[str]) -> float | None:
    """Sum of Serve's own queued-requests gauge for ChatGGUF over every node's exporter."""
    total, seen = 0.0, False
    for url in node_metric_urls:
        try:
            text = httpx.get(url, timeout=2).text
        except httpx.HTTPError:
            continue
        for line in text.splitlines():
            if line.startswith("ray_serve_deployment_queued_queries") and "ChatGGUF" in line:
                total += float(line.rsplit(" ", 1)[1])
                seen = True
    return total if seen else None


def replica_placement(gpu_node_ids: set[str]) -> tuple[int, int]:
    """(ChatGGUF replicas alive, how many of them on GPU nodes)."""
    from ray.util.state import list_actors

    actors = list_actors(
        filters=[("class_name", "=", REPLICA_CLASS), ("state", "=", "ALIVE")], timeout=5
    )
    return len(actors), sum(1 for a in actors if a.node_id in gpu_node_ids)


def running_replicas() -> int:
    from ray import serve

    try:
        app = serve.status().applications["lmwebui"]
        return int(app.deployments["ChatGGUF"].replica_states.get("RUNNING", 0))
    except Exception:
        return -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpu-nodes", type=int, default=2)
    parser.add_argument("--gpus-per-node", type=int, default=2)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--n-slots", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--warmup-s", type=float, default=15)
    parser.add_argument("--load-s", type=float, default=120)
    parser.add_argument("--cooldown-s", type=float, default=150)
    parser.add_argument("--downscale-delay-s", type=float, default=20)
    parser.add_argument("--csv", default="loadtests/results/autoscale_timeline.csv")
    args = parser.parse_args()

    os.environ.setdefault("RAY_metrics_report_interval_ms", "2000")
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        # the dashboard serves the state API that tells on which node each replica runs
        head_node_args={"num_cpus": 4, "num_gpus": 0, "include_dashboard": True},
    )
    gpu_nodes = [
        cluster.add_node(
            num_cpus=2,
            num_gpus=args.gpus_per_node,
            resources={"accelerator_type:L4": args.gpus_per_node},
        )
        for _ in range(args.gpu_nodes)
    ]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace="autoscale-demo")
    gpu_node_ids = {n.node_id for n in gpu_nodes}
    metric_urls = [
        f"http://127.0.0.1:{n['MetricsExportPort']}/metrics" for n in ray.nodes() if n["Alive"]
    ]
    max_replicas = args.gpu_nodes * args.gpus_per_node
    base = Path(tempfile.mkdtemp(prefix="autoscale-"))
    server = start_server(
        base / "data",
        env={
            "RAY_ADDRESS": cluster.address,
            "LMWEBUI_PROXY_LOCATION": "HeadOnly",
            "LMWEBUI_SERVE_FAST_PATH": "false",
            "LMWEBUI_RATE_LIMITS__ENABLED": "false",
            "LMWEBUI_RAG__ENABLED": "false",
            "LMWEBUI_CHAT__NUM_GPUS": "1",
            "LMWEBUI_CHAT__ACCELERATOR_TYPE": "L4",
            "LMWEBUI_CHAT__MAX_REPLICAS": str(max_replicas),
            "LMWEBUI_CHAT__N_SLOTS": str(args.n_slots),
            "LMWEBUI_CHAT__N_CTX_PER_SLOT": "1024",
            "LMWEBUI_CHAT__N_THREADS": "1",
            "LMWEBUI_CHAT__UPSCALE_DELAY_S": "3",
            "LMWEBUI_CHAT__DOWNSCALE_DELAY_S": str(args.downscale_delay_s),
        },
    )
    state = LoadState()
    rows: list[dict[str, Any]] = []
    stop = threading.Event()
    t_start = time.monotonic()

    def sampler() -> None:
        while not stop.is_set():
            now = time.monotonic()
            alive, on_gpu = replica_placement(gpu_node_ids)
            recent = [t for (at, t) in list(state.ttfts) if at > now - 10]
            queued = serve_queued(metric_urls)
            rows.append(
                {
                    "t_s": round(now - t_start),
                    "phase": phase[0],
                    "replicas_running": running_replicas(),
                    "replica_actors": alive,
                    "on_gpu_nodes": on_gpu,
                    "serve_queued": "" if queued is None else int(queued),
                    "waiting_first_token": state.waiting,
                    "streaming": state.streaming,
                    "ttft_p99_10s_ms": round(percentile(recent, 0.99)) if recent else "",
                    "errors": state.errors,
                }
            )
            stop.wait(1.0)

    phase = ["warmup"]
    thread = threading.Thread(target=sampler, daemon=True)
    try:
        headers = login(server.url, "autoscale@example.com")
        url = ws_chat_url(server.url)
        thread.start()

        async def run_phase(users: int, seconds: float) -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(
                *(user(url, headers, i, until, state, args.max_tokens) for i in range(users))
            )

        asyncio.run(run_phase(1, args.warmup_s))
        phase[0] = "load"
        asyncio.run(run_phase(args.users, args.load_s))
        phase[0] = "cooldown"
        deadline = time.monotonic() + args.cooldown_s
        while time.monotonic() < deadline:
            time.sleep(2)
            if rows and rows[-1]["replicas_running"] == 1 and rows[-1]["replica_actors"] == 1:
                time.sleep(3)
                break
    finally:
        stop.set()
        thread.join(5)
        server.stop()
        ray.shutdown()
        cluster.shutdown()

    out = Path(args.csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"| {' | '.join(rows[0])} |")
    print(f"|{' --- |' * len(rows[0])}")
    last_printed: tuple[Any, ...] | None = None
    for row in rows:
        key = (row["phase"], row["replicas_running"], row["replica_actors"])
        if key != last_printed or row["t_s"] % 10 == 0:
            print(f"| {' | '.join(str(v) for v in row.values())} |")
            last_printed = key
    ttfts = [t for _, t in state.ttfts]
    print(
        f"\nstreams: {state.done} completed, {state.errors} errors; "
        f"TTFT p50 {statistics.median(ttfts):.0f} ms, p99 {percentile(ttfts, 0.99):.0f} ms; "
        f"max replicas {max(r['replicas_running'] for r in rows)} "
        f"(GPU capacity {max_replicas}); CSV: {out}"
    )


if __name__ == "__main__":
    main()
