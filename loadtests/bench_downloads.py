"""GGUF management benchmarks against the local hub (tests/support/hub_server.py, own process).

    .venv/bin/python loadtests/bench_downloads.py --size-mb 1024 --runs 3

1. download throughput: the platform (POST /api/gguf/download on the app under uvicorn,
   and the DownloadManager Ray actor directly) vs ``hf_hub_download`` on the same file;
2. bytes re-transferred after the hub drops the connection mid-file;
3. upload throughput and the server's peak RSS for one ``--size-mb`` upload (streamed);
4. ``GET /api/gguf/local`` latency with ``--models`` models (header cache warm).

Prints markdown tables (medians over ``--runs``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.stats import percentile
from tests.support.gguf_files import write_gguf
from tests.support.live import free_port, login

REPO = "bench/big-GGUF"
FILE = "big.Q8_0.gguf"
APP = """
import uvicorn
from lmwebui.api import create_app
from lmwebui.settings import load_settings
uvicorn.run(create_app(load_settings()), host="127.0.0.1", port={port}, log_level="warning")
"""


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Env:
    def __init__(self, work: Path, size_mb: int, fsync: bool, rate_mb: float | None) -> None:
        self.work = work
        self.fsync = fsync
        hub_root = work / "hub"
        src = write_gguf(hub_root / REPO / FILE, data_bytes=size_mb * 1024 * 1024)
        self.size = src.stat().st_size
        self.src = src
        rate = ["--rate", str(rate_mb * 1e6)] if rate_mb else []
        self.hub = subprocess.Popen(
            [sys.executable, "-m", "tests.support.hub_server", "--root", str(hub_root), *rate],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert self.hub.stdout is not None
        self.hub_url = self.hub.stdout.readline().decode().strip()
        self.models = work / "models"
        self.port = free_port()
        env = {
            **os.environ,
            "LMWEBUI_DATA_DIR": str(work / "data"),
            "LMWEBUI_MODELS_DIR": str(self.models),
            "LMWEBUI_GGUF__HUB_ENDPOINT": self.hub_url,
            "LMWEBUI_GGUF__RESERVE_FREE_BYTES": "0",
            "LMWEBUI_GGUF__MAX_UPLOAD_BYTES": str(4 * self.size),
            "LMWEBUI_RATE_LIMITS__ENABLED": "false",
            "LMWEBUI_GGUF__FSYNC": "true" if fsync else "false",
        }
        self.app = subprocess.Popen([sys.executable, "-c", APP.format(port=self.port)], env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_http(f"{self.base}/health", self.app)
        self.h = login(self.base)
        self.http = httpx.Client(base_url=self.base, headers=self.h, timeout=600)

    def url(self) -> str:
        return f"{self.hub_url}/{REPO}/resolve/main/{FILE}"

    def hub_control(self, what: str, body: dict[str, Any] | None = None) -> Any:
        return httpx.post(f"{self.hub_url}/_control/{what}", json=body or {}, timeout=30).json()

    def close(self) -> None:
        self.http.close()
        for p in (self.app, self.hub):
            p.terminate()
            p.wait(30)


def platform_download(env: Env) -> float:
    env.http.delete(f"/api/gguf/{FILE}")
    t0 = time.perf_counter()
    r = env.http.post("/api/gguf/download", json={"file_url": env.url()})
    r.raise_for_status()
    tid = r.json()["task_id"]
    ws_url = env.base.replace("http://", "ws://") + f"/ws/gguf/download/{tid}"
    with connect(ws_url, additional_headers=env.h) as ws:  # pushed events, no polling
        while (event := json.loads(ws.recv(timeout=600)))["type"] == "progress":
            pass
    elapsed = time.perf_counter() - t0
    assert event["type"] == "completed", event
    return elapsed


def hf_download(env: Env) -> float:
    from huggingface_hub import hf_hub_download

    cache = env.work / "hf-cache"
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    hf_hub_download(REPO, FILE, endpoint=env.hub_url, cache_dir=cache, token=False)
    return time.perf_counter() - t0


def spec_of(env: Env, clients: dict[str, Any]) -> Any:
    import hashlib

    from lmwebui.models.download_task import DownloadSpec

    if "sha" not in clients:
        h = hashlib.sha256()
        with env.src.open("rb") as fh:
            while chunk := fh.read(1 << 24):
                h.update(chunk)
        clients["sha"] = h.hexdigest()
    return DownloadSpec(
        repo_id=REPO,
        revision="main",
        commit=None,
        path=FILE,
        filename=FILE,
        url=env.url(),
        size=env.size,
        sha256=clients["sha"],
    )


def manager_download(env: Env, clients: dict[str, Any]) -> float:
    """The DownloadManager class alone, in this process (no app server, no Ray)."""
    import asyncio

    from lmwebui.models.download_task import DownloadConfig
    from lmwebui.models.downloads import DownloadManager

    models = env.work / "manager-models"
    shutil.rmtree(models, ignore_errors=True)
    spec = spec_of(env, clients)

    async def run() -> float:
        cfg = DownloadConfig(
            models_dir=str(models), hub_endpoint=env.hub_url, reserve_free_bytes=0, fsync=env.fsync
        )
        manager = DownloadManager(cfg)
        t0 = time.perf_counter()
        snap = await manager.start(vars(spec), 1)
        while snap["status"] not in ("completed", "error"):
            snap = await manager.watch(snap["task_id"], snap["version"], 5.0) or snap
        elapsed = time.perf_counter() - t0
        await manager.shutdown()
        assert snap["status"] == "completed", snap
        return elapsed

    return asyncio.run(run())


def actor_download(env: Env, clients: dict[str, Any]) -> float:
    """The DownloadManager Ray actor on a local Ray (the transfer path of `lmwebui serve`)."""
    import asyncio

    import ray

    from deployments.download_manager import RayDownloads
    from lmwebui.models.download_task import DownloadConfig

    models = env.work / "actor-models"
    if "ray" not in clients:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        cfg = DownloadConfig(
            models_dir=str(models), hub_endpoint=env.hub_url, reserve_free_bytes=0, fsync=env.fsync
        )
        clients["ray"] = RayDownloads(cfg)
    client = clients["ray"]
    (models / FILE).unlink(missing_ok=True)
    spec = spec_of(env, clients)

    async def run() -> float:
        t0 = time.perf_counter()
        snap = await client.start(vars(spec), 1)
        while snap["status"] not in ("completed", "error"):
            snap = await client.watch(snap["task_id"], snap["version"], 5.0)
        assert snap["status"] == "completed", snap
        return time.perf_counter() - t0

    return asyncio.run(run())


def resume_after_drop(env: Env) -> dict[str, int]:
    env.http.delete(f"/api/gguf/{FILE}")
    env.hub_control("clear")
    env.hub_control(
        "fault", {"repo_id": REPO, "path": FILE, "drop_after": env.size // 2, "times": 1}
    )
    r = env.http.post("/api/gguf/download", json={"file_url": env.url()})
    tid = r.json()["task_id"]
    while (snap := env.http.get(f"/api/gguf/download/{tid}").json())["status"] not in (
        "completed",
        "error",
    ):
        time.sleep(0.05)
    assert snap["status"] == "completed", snap
    log = httpx.get(f"{env.hub_url}/_control/log", timeout=30).json()
    sent = sum(e["sent"] for e in log if e["method"] == "GET" and e["path"].endswith(FILE))
    return {"size": env.size, "sent": sent, "requests": snap["attempts"]}


def multipart_body(path: Path, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="up-{time.time_ns()}.gguf"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(env: Env) -> tuple[float, int, int]:
    proc = psutil.Process(env.app.pid)
    base_rss = proc.memory_info().rss
    peak = base_rss
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    boundary = "benchboundary1234"
    t0 = time.perf_counter()
    r = env.http.post(
        "/api/gguf/upload",
        content=multipart_body(env.src, boundary),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    elapsed = time.perf_counter() - t0
    stop.set()
    sampler.join()
    r.raise_for_status()
    env.http.delete(f"/api/gguf/{r.json()['filename']}")
    return elapsed, base_rss, peak


def list_latency(env: Env, n_models: int, requests: int) -> tuple[float, float, float]:
    for i in range(n_models):
        write_gguf(env.models / f"m{i:03d}.gguf", data_bytes=64 * 1024, seed=i)
    t0 = time.perf_counter()
    first = env.http.get("/api/gguf/local").json()["models"]
    cold = time.perf_counter() - t0
    assert len(first) >= n_models
    lat = []
    for _ in range(requests):
        t0 = time.perf_counter()
        env.http.get("/api/gguf/local").raise_for_status()
        lat.append((time.perf_counter() - t0) * 1000)
    return cold * 1000, statistics.median(lat), percentile(lat, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--list-requests", type=int, default=200)
    parser.add_argument("--no-actor", action="store_true", help="skip the Ray actor run")
    parser.add_argument(
        "--no-fsync", action="store_true", help="LMWEBUI_GGUF__FSYNC=false (as hf_hub_download)"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--rate-mb", type=float, default=None, help="throttle the hub (MB/s)")
    parser.add_argument("--downloads-only", action="store_true", help="skip upload/list")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-gguf-", dir=args.workdir))
    env = Env(work, args.size_mb, fsync=not args.no_fsync, rate_mb=args.rate_mb)
    clients: dict[str, Any] = {}
    try:
        mb = env.size / 1e6
        hf_download(env)  # warm the hub's page cache
        # warm the app (imports, hub sha256 cache) with one untimed platform download
        env.http.post("/api/gguf/resolve", json={"input": f"{REPO}:{FILE}"}).raise_for_status()
        platform_download(env)
        times: dict[str, list[float]] = {"hf": [], "manager": [], "api": [], "actor": []}
        for _ in range(args.runs):
            # each timed run starts with no writeback pending from the previous one
            os.sync()
            times["hf"].append(hf_download(env))
            os.sync()
            times["manager"].append(manager_download(env, clients))
            os.sync()
            times["api"].append(platform_download(env))
            if not args.no_actor:
                os.sync()
                times["actor"].append(actor_download(env, clients))
        print(
            f"\nfile {env.size} bytes; runs {args.runs}; fsync {env.fsync}; "
            f"hub throttle {args.rate_mb or 'none'} MB/s\n"
        )
        print("| path | median s | MB/s | ratio vs hf_hub_download | runs (s) |")
        print("| --- | --- | --- | --- | --- |")
        hf = statistics.median(times["hf"])
        for key, label in (
            ("hf", "`hf_hub_download` (direct)"),
            ("manager", "DownloadManager class in the benchmark process"),
            ("api", "platform: POST /api/gguf/download (in-process manager)"),
            ("actor", "platform: DownloadManager Ray actor"),
        ):
            if times[key]:
                med = statistics.median(times[key])
                runs = ", ".join(f"{t:.2f}" for t in times[key])
                print(f"| {label} | {med:.2f} | {mb / med:.0f} | {hf / med:.2f} | {runs} |")
        if args.downloads_only:
            return
        res = resume_after_drop(env)
        print(
            f"\nresume after a drop at 50%: file {res['size']} B, hub sent {res['sent']} B "
            f"({res['sent'] - res['size']} B re-transferred), {res['requests']} GETs"
        )
        ups = [upload(env) for _ in range(args.runs)]
        med = statistics.median(u[0] for u in ups)
        print(
            f"\nupload {env.size} B: median {med:.2f} s ({mb / med:.0f} MB/s); server RSS "
            + ", ".join(f"{b / 1e6:.0f} -> {p / 1e6:.0f} MB" for _, b, p in ups)
        )
        cold, p50, p99 = list_latency(env, args.models, args.list_requests)
        print(
            f"\nGET /api/gguf/local with {args.models} models: first (cold) {cold:.0f} ms; "
            f"then p50 {p50:.2f} ms, p99 {p99:.2f} ms over {args.list_requests} requests"
        )
    finally:
        env.close()
        if "ray" in clients:
            import ray

            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
