"""What `lmwebui serve` owns besides the app: HAProxy's side listeners and a clean stop.

Ray Serve 2.60's HAProxy always opens two more listeners next to the HTTP port: its stats
page (`RAY_SERVE_HAPROXY_STATS_PORT`, default 8404) and a Prometheus exporter
(`RAY_SERVE_HAPROXY_METRICS_PORT`, default 9101), both on every interface, and Serve's own
proxy behind it listens on fixed fallback ports (8500, 9500). Fixed ports make
a second instance on the machine fail to start, and an orphaned HAProxy from a killed run
blocks every later one. Here each run gets its own ports (the operator's values win) and a
worker setup hook rewrites Ray's config template so both bind to the proxy's own host,
and so HAProxy tells the replicas the client's address (their own peer is HAProxy).

The stop is bounded: Serve gets a few seconds, Ray a few more, and then every process this
run started (its process tree, remembered while it ran, since a signal to the process
group can kill a parent and orphan its children, HAProxy included) is terminated.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

import psutil

SETUP_HOOK = "lmwebui.serve_runtime.bind_haproxy_side_listeners"
_ANY_HOST = ("", "0.0.0.0", "::", "*")
# Ray 2.60's template lines (ray/serve/_private/haproxy_templates.py) and what replaces them.
_BIND_REWRITES = {
    "bind :{{ config.metrics_port }}": "bind {{ config.frontend_host }}:{{ config.metrics_port }}",
    "bind *:{{ config.stats_port }}": "bind {{ config.frontend_host }}:{{ config.stats_port }}",
}
_FRONTEND = "frontend http_frontend\n    bind {{ config.frontend_host }}:{{ config.frontend_port }}"
PROXY_KEY_ENV = "LMWEBUI_PROXY_KEY"  # secrets_store.proxy_key, for the setup hook
# Set (never appended) by the platform's HAProxy on every request it forwards: the address
# it accepted the connection from, and the proxy key that says the request came through it
# (api/peer.py: proxied_peer). Here, not in lmwebui.api: the hook runs in every Ray worker,
# the vLLM environment's too, which has none of the API's dependencies.
PEER_HEADER = "x-lmwebui-peer"
PROXY_KEY_HEADER = "x-lmwebui-proxy-key"


class PortHold:
    """Ports this run will listen on, held from before Ray starts until Serve binds them.

    Ray's own processes take kernel-chosen ports while they start (agents, the metrics
    exporter, runtime-env agent); a port chosen for HAProxy and released again (or a free
    HTTP port named by the operator) could be handed to one of them, and HAProxy then dies
    with "Address already in use" after a minute of start-up. A socket bound (not
    listening) with SO_REUSEADDR keeps the kernel from choosing the port for anyone else,
    refuses connections rather than accepting them, and tolerates a TIME_WAIT left by the
    previous run. `hold` raises OSError when something already listens there.
    """

    def __init__(self) -> None:
        self._held: list[socket.socket] = []

    def hold(self, host: str, port: int = 0) -> int:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("" if host in _ANY_HOST else host, port))
        except OSError:
            sock.close()
            raise
        self._held.append(sock)
        return int(sock.getsockname()[1])

    def release(self) -> None:
        while self._held:
            self._held.pop().close()


# Ray's fixed defaults: HAProxy stats 8404, HAProxy metrics 9101, and the Python proxy that
# HAProxy falls back to, 8500 (HTTP) and 9500 (gRPC).
SIDE_PORTS = (
    "RAY_SERVE_HAPROXY_STATS_PORT",
    "RAY_SERVE_HAPROXY_METRICS_PORT",
    "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT",
    "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT",
)


def haproxy_env(http_host: str, ports: PortHold) -> None:
    """Per-run ports for the proxy's side listeners unless the operator set them; held in
    `ports` (so distinct from each other and from whatever Ray takes) until Serve starts."""
    for name in SIDE_PORTS:
        if not os.environ.get(name):
            os.environ[name] = str(ports.hold(http_host))


def peer_rules(key: str) -> str:
    """HAProxy lines for the HTTP frontend: the client's address and the proxy key, set
    (replacing whatever a client sent) on every request forwarded to a replica, whose own
    peer is HAProxy (api/peer.py: proxied_peer)."""
    if not re.fullmatch(r"[0-9a-f]{64}", key):  # goes into a config file verbatim
        raise ValueError(f"{PROXY_KEY_ENV} is not a proxy key")
    return (
        f"\n    http-request set-header {PEER_HEADER} %[src]"
        f"\n    http-request set-header {PROXY_KEY_HEADER} {key}"
    )


def bind_haproxy_side_listeners() -> None:
    """Ray worker setup hook: HAProxy's stats and metrics listeners bind the proxy's host
    (`http_options.host`), not every interface; with the proxy key in the environment
    (`lmwebui serve` passes it) the HTTP frontend tells the replicas who the client is."""
    from ray.serve._private import haproxy, haproxy_templates

    template = haproxy_templates.HAPROXY_CONFIG_TEMPLATE
    for old, new in _BIND_REWRITES.items():
        template = template.replace(old, new)
    key = os.environ.get(PROXY_KEY_ENV)
    if key:
        template = template.replace(_FRONTEND, _FRONTEND + peer_rules(key))
    haproxy_templates.HAPROXY_CONFIG_TEMPLATE = template
    haproxy.HAPROXY_CONFIG_TEMPLATE = template  # type: ignore[attr-defined]


class ProcessTree:
    """Every process started under this one, remembered while it runs: a process orphaned
    by a signal to the group is reparented to init and no longer found as a child."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._seen: dict[int, float] = {}  # pid -> create_time (guards against pid reuse)
        self._lock = threading.Lock()
        self._marker: str | None = None

    def own_node(self, node_id: str) -> None:
        """This run started Ray node `node_id`: an HAProxy whose config lives under the
        node's own directory (Ray scopes it by node id) is this run's even when it was
        orphaned before `remember` saw it."""
        self._marker = f"/{node_id}/"

    def _haproxies(self) -> list[psutil.Process]:
        if self._marker is None:
            return []
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if "haproxy" in (proc.info["name"] or "") and any(self._marker in a for a in cmdline):
                found.append(proc)
        return found

    def remember(self) -> None:
        try:
            children = self._me.children(recursive=True) + self._haproxies()
        except psutil.Error:
            return
        with self._lock:
            for child in children:
                try:
                    self._seen[child.pid] = child.create_time()
                except psutil.Error:
                    continue

    def alive(self) -> list[psutil.Process]:
        self.remember()
        procs: list[psutil.Process] = []
        with self._lock:
            seen = dict(self._seen)
        for pid, created in seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    procs.append(proc)
            except psutil.Error:
                continue
        return procs

    def terminate(self, grace_s: float = 1.0) -> int:
        """SIGTERM, then SIGKILL after `grace_s`, to every remembered process still alive."""
        procs = self.alive()
        for proc in procs:
            _quietly(proc.terminate)
        _, still = psutil.wait_procs(procs, timeout=grace_s)
        for proc in still:
            _quietly(proc.kill)
        psutil.wait_procs(still, timeout=grace_s)
        return len(procs)


def _quietly(action: Callable[[], None]) -> None:
    with contextlib.suppress(psutil.Error):
        action()


def _bounded(name: str, action: Callable[[], None], timeout_s: float) -> bool:
    """Run `action` in a daemon thread for at most `timeout_s`; report, never raise. True
    when it finished in time."""

    def _run() -> None:
        try:
            action()
        except Exception as exc:  # Ray may already be half gone
            print(f"lmwebui: {name}: {exc}", file=sys.stderr)

    worker = threading.Thread(target=_run, daemon=True, name=f"lmwebui-{name}")
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        print(f"lmwebui: {name} did not finish in {timeout_s:.0f} s", file=sys.stderr)
        return False
    return True


def shutdown(app_names: list[str], started_ray: bool, tree: ProcessTree) -> None:
    """Stop Serve (4 s), then Ray (3 s), then whatever this run started that is still alive.
    Joined to someone else's cluster, only this run's apps are deleted; its processes are
    theirs."""
    import ray
    from ray import serve

    began = time.monotonic()
    tree.remember()

    def delete_apps() -> None:
        for name in app_names:
            serve.delete(name)

    stop_serve: Callable[[], None] = serve.shutdown if started_ray else delete_apps
    if _bounded("serve shutdown", stop_serve, 4.0):
        _bounded("ray shutdown", ray.shutdown, 3.0)
    # else: the serve shutdown thread still uses this process's Ray worker; shutting that
    # worker down under it makes Ray's core worker end the process with status 1 ("The
    # core worker has already been shutdown"). The processes are ended below instead.
    left = tree.terminate()
    took = time.monotonic() - began
    print(f"lmwebui: stopped in {took:.1f} s ({left} leftover processes ended)", flush=True)


def exit_now(code: int) -> NoReturn:
    """Leave without interpreter teardown: after `shutdown`, Ray's atexit hook would wait
    (tens of seconds) on a shutdown that already timed out or on processes already ended;
    `logging.shutdown()` is skipped too, since a handler lock may be held by such a thread."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
