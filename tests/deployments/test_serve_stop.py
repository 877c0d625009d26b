"""Stopping `lmwebui serve`: SIGTERM or SIGINT to the process or its group ends every process
the run started (HAProxy included) within 10 s and frees its ports; the same port serves
again; two instances on one machine run side by side (HAProxy's stats and metrics
listeners are per run and bound to the proxy's host, not every interface)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.live import LMWEBUI, LiveServer, start_server

pytestmark = pytest.mark.slow

STOP_WITHIN_S = 10.0
ENV = {"LMWEBUI_INGRESS_REPLICAS": "1"}


def _tree(server: LiveServer) -> list[psutil.Process]:
    root = psutil.Process(server.proc.pid)
    return [root, *root.children(recursive=True)]


def _listeners(procs: list[psutil.Process]) -> dict[str, set[tuple[str, int]]]:
    found: dict[str, set[tuple[str, int]]] = {}
    for proc in procs:
        try:
            conns = proc.net_connections(kind="tcp")
            name = proc.name()
        except psutil.Error:
            continue
        for c in conns:
            if c.status == psutil.CONN_LISTEN:
                found.setdefault(name, set()).add((c.laddr.ip, c.laddr.port))
    return found


def _haproxy_listeners(server: LiveServer) -> set[tuple[str, int]]:
    found = _listeners(_tree(server))
    return set().union(*(addrs for name, addrs in found.items() if "haproxy" in name))


def _ports(server: LiveServer) -> set[int]:
    return {port for addrs in _listeners(_tree(server)).values() for _, port in addrs}


def _alive(procs: list[psutil.Process]) -> list[str]:
    left = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return left


def _listening(ports: set[int]) -> list[str]:
    """Who on this machine still listens on one of `ports` (TIME_WAIT aside)."""
    holders = []
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr.port in ports:
            try:
                cmd = " ".join(psutil.Process(c.pid).cmdline())[:120] if c.pid else "?"
            except psutil.Error:
                cmd = "gone"
            holders.append(f"{c.laddr.ip}:{c.laddr.port} pid {c.pid} {cmd}")
    return holders


def _stop(server: LiveServer, sig: signal.Signals, group: bool) -> None:
    """Send `sig`; the process must exit 0 within 10 s leaving no process and no port."""
    procs = _tree(server)
    ports = {port for addrs in _listeners(procs).values() for _, port in addrs}
    assert ports, "the run listens somewhere"
    began = time.monotonic()
    if group:
        os.killpg(server.proc.pid, sig)
    else:
        server.proc.send_signal(sig)
    try:
        code = server.proc.wait(3 * STOP_WITHIN_S)
    finally:
        took = time.monotonic() - began
        for proc in procs:  # never leave a stray behind for the next test
            with contextlib.suppress(psutil.Error):
                proc.kill()
    assert code == 0, server.tail()
    assert took < STOP_WITHIN_S, f"exit took {took:.1f} s:\n{server.tail()}"
    assert _alive(procs) == [], server.tail()
    assert _listening(ports) == []


def _healthy(server: LiveServer) -> bool:
    r = httpx.get(f"{server.url}/api/health", timeout=10)
    return r.status_code == 200 and r.json()["ready"] is True


@pytest.fixture
def servers() -> Iterator[list[LiveServer]]:
    started: list[LiveServer] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            procs = _tree(server)
            os.killpg(server.proc.pid, signal.SIGKILL)
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    proc.kill()


def test_two_instances_then_clean_stops_and_restart_on_the_same_port(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    servers.append(start_server(tmp_path / "a" / "data", env=ENV))
    servers.append(start_server(tmp_path / "b" / "data", env=ENV))
    first, second = servers
    assert _healthy(first) and _healthy(second)
    for server in servers:
        haproxy = _haproxy_listeners(server)
        # stats, metrics and HTTP on the proxy's host (127.0.0.1 by default) only
        assert len(haproxy) >= 3 and {ip for ip, _ in haproxy} == {"127.0.0.1"}, haproxy
    first_ports, second_ports = _ports(first), _ports(second)
    # never Ray's fixed side ports (HAProxy stats, metrics; fallback proxy HTTP, gRPC)
    assert not (first_ports | second_ports) & {8404, 9101, 8500, 9500}
    assert not first_ports & second_ports

    # Ctrl-C in a terminal (SIGINT to the group), then SIGTERM to the group
    _stop(second, signal.SIGINT, group=True)
    port = int(first.url.rsplit(":", 1)[1])
    _stop(first, signal.SIGTERM, group=True)

    again = start_server(tmp_path / "c" / "data", env=ENV, port=port)
    servers.append(again)
    assert _healthy(again)
    _stop(again, signal.SIGTERM, group=False)  # an orchestrator signalling the process


def test_a_port_in_use_is_refused_before_ray_starts(tmp_path: Path) -> None:
    """Something already listens on LMWEBUI_HTTP_PORT: `lmwebui serve` says so and exits 2
    within seconds, instead of starting Ray and failing a minute later inside HAProxy."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        done = subprocess.run(
            [str(LMWEBUI), "serve"],
            env={
                **os.environ,
                "LMWEBUI_HTTP_PORT": str(port),
                "LMWEBUI_DATA_DIR": str(tmp_path / "data"),
            },
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Address already in use" in done.stderr
    assert time.monotonic() - began < 30
    assert "Started a local Ray instance" not in done.stdout + done.stderr
