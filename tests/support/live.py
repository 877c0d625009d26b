"""Run `lmwebui serve` as a subprocess, exactly as a user (or the black-box suite) does."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.api import bearer_login

REPO = Path(__file__).resolve().parents[2]
LMWEBUI = Path(sys.executable).parent / "lmwebui"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct ports free now (all held while choosing, so never the same one twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_ready(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 600, what: str = ""
) -> None:
    """Poll GET `url` until it answers 200; fail if `proc` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or url} exited {proc.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what or url} not ready in {timeout:.0f} s")
        time.sleep(0.2)


@dataclass
class LiveServer:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path

    def stop(self, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise
        return int(self.proc.returncode)

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def start_server(
    data_dir: Path,
    env: dict[str, str] | None = None,
    ready_timeout: float = 300,
    port: int | None = None,
) -> LiveServer:
    """Start `lmwebui serve` and wait until /api/health says ready. A port chosen here
    that another process took meanwhile (the platform exits at once with "cannot listen
    on ...") is chosen again, once; a port the caller named is not."""
    try:
        return _start_server(data_dir, env, ready_timeout, port)
    except PortTaken:
        if port is not None:
            raise
        return _start_server(data_dir, env, ready_timeout, None)


class PortTaken(RuntimeError):
    pass


def _start_server(
    data_dir: Path, env: dict[str, str] | None, ready_timeout: float, port: int | None
) -> LiveServer:
    chosen, metrics_port = free_ports(2)
    port = port or chosen
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"serve-{port}.log"
    full_env = {
        **os.environ,
        "LMWEBUI_HTTP_PORT": str(port),
        "LMWEBUI_DATA_DIR": str(data_dir),
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "LMWEBUI_METRICS_EXPORT_PORT": str(metrics_port),
        **(env or {}),
    }
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(LMWEBUI), "serve"],
            env=full_env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    server = LiveServer(proc, f"http://127.0.0.1:{port}", data_dir, log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = server.tail()
            kind = PortTaken if "cannot listen on" in tail else RuntimeError
            raise kind(f"lmwebui serve exited {proc.returncode}:\n{tail}")
        try:
            r = httpx.get(f"{server.url}/api/health", timeout=5)
            if r.status_code == 200 and r.json().get("ready"):
                return server
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"lmwebui serve not ready in {ready_timeout}s:\n{server.tail()}")


def source_address(base_url: str, name: str) -> str | None:
    """A loopback address of `name`'s own to connect from (the whole 127/8 is this host),
    or None when the server is not on loopback. The auth limit counts per client address:
    each test user gets its own budget instead of every test sharing 127.0.0.1's."""
    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost"):
        return None
    h = hashlib.sha256(name.encode()).digest()
    return f"127.{h[0] % 200 + 50}.{h[1]}.{h[2] % 250 + 2}"


def client_from(base_url: str, name: str, **kwargs: Any) -> httpx.Client:
    """An httpx client connecting from `name`'s own loopback address (source_address)."""
    address = source_address(base_url, name)
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(base_url=base_url, transport=transport, **kwargs)


def login(base_url: str, email: str = "bench@example.com") -> dict[str, str]:
    """Register (if needed) and log in over HTTP, from the user's own loopback address;
    a Bearer header for later requests."""
    with client_from(base_url, email, timeout=60) as http:
        return bearer_login(http.post, email)
