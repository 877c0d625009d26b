"""`make loadtest`: start the platform, run locust headless, write CSV + HTML reports.

    .venv/bin/python loadtests/run_locust.py --users 20 --time 60s --ingress-replicas 1
    .venv/bin/python loadtests/run_locust.py --users 10 20 40 80 --time 60s   # find the knee
    .venv/bin/python loadtests/run_locust.py --users 20 --time 120s --ingress-replicas 2 \
        --kill ChatGGUF@40 --kill Ingress@80                                  # faults under load

One platform serves every level. Each level prints a summary row (RPS, p50/p95/p99,
failures) and leaves `reports/<name>-<N>ingress-<users>u_*.csv` and `.html`. With
``--kill DEPLOYMENT@SECONDS`` a replica process of that deployment is SIGKILLed at that
point of the run, while a probe opens one WebSocket chat stream after another: its
outcomes give the error burst and the time until streams succeed again.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.wsclient import chat_turn_sync, ws_chat_url
from tests.support.live import LiveServer, login, start_server

REPORTS = Path(__file__).resolve().parent / "reports"


@dataclass
class ProbeResult:
    start: float
    end: float
    outcome: str  # ok | error event code | exception name


def replica_pids(deployment: str) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    tag = f"ServeReplica:lmwebui:{deployment}"
    return [
        int(line.split()[0]) for line in out.splitlines() if tag in line and "ps -eo" not in line
    ]


def probe(server: LiveServer, headers: dict[str, str], stop: threading.Event) -> list[ProbeResult]:
    """One short chat stream after another until stopped; every outcome recorded."""
    url = ws_chat_url(server.url)
    data = {"message": "Count to ten.", "max_tokens": 32, "temperature": 0}
    results: list[ProbeResult] = []
    while not stop.is_set():
        t0 = time.monotonic()
        outcome = "ok"
        try:
            turn = chat_turn_sync(url, headers, data, recv_timeout=120)
            if not turn.ok:
                outcome = f"error event {turn.error_code or turn.outcome}"
        except Exception as exc:
            outcome = type(exc).__name__
        results.append(ProbeResult(t0, time.monotonic(), outcome))
        if outcome != "ok":
            time.sleep(0.2)
    return results


def summarize(prefix: Path, users: int, replicas: int) -> None:
    with open(f"{prefix}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["Name"] in ("Aggregated", "chat stream (TTFT)", "chat stream (total)", "/api/chat"):
            print(
                f"| {replicas} | {users} | {row['Name']} | {float(row['Requests/s']):.1f} | "
                f"{row['50%']} | {row['95%']} | {row['99%']} | {row['Failure Count']} / "
                f"{row['Request Count']} |",
                flush=True,
            )


def report_faults(results: list[ProbeResult], kills: list[tuple[str, float]], t0: float) -> None:
    print(
        "\n| fault | at s | probe streams failed | first failure → first success s | "
        "failed stream durations s |"
    )
    print("| --- | --- | --- | --- | --- |")
    ordered = sorted(kills, key=lambda k: k[1])
    for i, (deployment, at) in enumerate(ordered):
        kill_t = t0 + at
        # a fault's window ends at the next fault (or 60 s later)
        until = t0 + ordered[i + 1][1] if i + 1 < len(ordered) else kill_t + 60
        window = [r for r in results if r.end >= kill_t and r.start < min(until, kill_t + 60)]
        failed = [r for r in window if r.outcome != "ok"]
        recovered = next((r for r in window if r.outcome == "ok" and r.start >= kill_t), None)
        if failed and recovered:
            burst = f"{recovered.end - failed[0].end:.1f}"
        else:
            burst = "0 (no failure)" if recovered else "not recovered in 60 s"
        durations = ", ".join(f"{r.end - r.start:.1f}" for r in failed[:6])
        kinds = sorted({r.outcome for r in failed})
        print(
            f"| kill {deployment} replica | {at:.0f} | {len(failed)} of {len(window)} "
            f"({', '.join(kinds) or '-'}) | {burst} | {durations or '-'} |"
        )


def run_level(args: argparse.Namespace, server: LiveServer, users: int) -> None:
    prefix = REPORTS / f"{args.name}-{args.ingress_replicas}ingress-{users}u"
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(Path(__file__).parent / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        args.time,
        "--host",
        server.url,
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--html",
        f"{prefix}.html",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    kills = [(k.split("@")[0], float(k.split("@")[1])) for k in args.kill]
    stop = threading.Event()
    results: list[ProbeResult] = []
    prober = None
    if kills:
        headers = login(server.url, "probe@example.com")
        prober = threading.Thread(
            target=lambda: results.extend(probe(server, headers, stop)), daemon=True
        )
        prober.start()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    for deployment, at in sorted(kills, key=lambda k: k[1]):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        pids = replica_pids(deployment)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            print(f"t={time.monotonic() - t0:.1f}s: killed {deployment} replica pid {pids[0]}")
        else:
            print(f"t={at}s: no {deployment} replica process found")
    proc.wait()
    stop.set()
    if prober:
        prober.join(130)
    summarize(prefix, users, args.ingress_replicas)
    if kills:
        with open(f"{prefix}_probe.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["start_s", "end_s", "outcome"])
            for r in results:
                writer.writerow([f"{r.start - t0:.2f}", f"{r.end - t0:.2f}", r.outcome])
        report_faults(results, kills, t0)
        bad = [r for r in results if r.end - r.start > 60]
        print(f"probe streams: {len(results)}; longer than 60 s (hangs): {len(bad)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[20])
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--time", default="60s")
    parser.add_argument("--ingress-replicas", type=int, default=1)
    parser.add_argument("--name", default="run")
    parser.add_argument("--kill", action="append", default=[], metavar="DEPLOYMENT@SECONDS")
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL instead of SQLite"
    )
    args = parser.parse_args()
    REPORTS.mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="loadtest-")) / "data"
    env = {
        "LMWEBUI_INGRESS_REPLICAS": str(args.ingress_replicas),
        # every locust user logs in from 127.0.0.1: lift the per-address auth limit
        "LMWEBUI_RATE_LIMITS__AUTH": "100000/minute",
        "LMWEBUI_RATE_LIMITS__CHAT": "100000/minute",
        "LMWEBUI_RATE_LIMITS__UPLOAD": "100000/minute",
    }
    pg = None
    if args.postgres:
        from tests.support.pg import start_postgres

        pg = start_postgres()
        pg.psql("CREATE DATABASE loadtest")
        env["LMWEBUI_DATABASE_URL"] = pg.url("loadtest")
        args.name = f"{args.name}-pg"
    server = start_server(data, env=env)
    print("| ingress replicas | users | request | req/s | p50 ms | p95 ms | p99 ms | failures |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    try:
        for users in args.users:
            run_level(args, server, users)
    finally:
        server.stop()
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
