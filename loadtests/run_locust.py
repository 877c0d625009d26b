"""`make loadtest`: start the platform, run locust headless, write CSV + HTML reports.

    .venv/bin/python loadtests/run_locust.py --users 20 --spawn-rate 5 --time 60s \
        --ingress-replicas 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live import start_server

REPORTS = Path(__file__).resolve().parent / "reports"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--time", default="60s")
    parser.add_argument("--ingress-replicas", type=int, default=1)
    parser.add_argument("--name", default="run")
    args = parser.parse_args()
    REPORTS.mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="loadtest-")) / "data"
    server = start_server(
        data,
        env={
            "LMWEBUI_INGRESS_REPLICAS": str(args.ingress_replicas),
            # every locust user logs in from 127.0.0.1: lift the per-address auth limit
            "LMWEBUI_RATE_LIMITS__AUTH": "100000/minute",
            "LMWEBUI_RATE_LIMITS__CHAT": "100000/minute",
        },
    )
    prefix = REPORTS / f"{args.name}-{args.ingress_replicas}ingress"
    try:
        return subprocess.call(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(Path(__file__).parent / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                args.time,
                "--host",
                server.url,
                "--csv",
                str(prefix),
                "--html",
                f"{prefix}.html",
                "--only-summary",
            ]
        )
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
