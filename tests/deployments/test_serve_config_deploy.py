"""serve_config.yaml deployed for real follows LMWEBUI_* settings (local Ray, no proxy).

`serve deploy serve_config.yaml` hands the YAML's args to build_app on the cluster; the
replica count, queue bounds and engine options must come from the settings there, as with
`lmwebui serve` (they used to be hard-coded in the YAML).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.deployments.test_config import serve_config_args

pytestmark = pytest.mark.slow

APP = "lmwebui"


def _wait_running(serve: Any, deployment: str, timeout_s: float = 240) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        app = serve.status().applications.get(APP)
        states = dict(app.deployments[deployment].replica_states) if app else {}
        if app is not None and app.status == "RUNNING":
            return {str(k): v for k, v in states.items()}
        if time.monotonic() > deadline:
            raise AssertionError(f"{APP} not RUNNING: {app}")
        time.sleep(1)


def test_serve_config_deploys_the_settings_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray
    from ray import serve
    from ray.serve.context import _get_global_client
    from ray.serve.schema import ServeInstanceDetails

    from deployments.app import build_app

    for name, value in {
        "LMWEBUI_DATA_DIR": str(tmp_path / "data"),
        "LMWEBUI_CHAT__REPLICAS": "2",
        "LMWEBUI_CHAT__N_SLOTS": "4",
        "LMWEBUI_CHAT__N_CTX_PER_SLOT": "512",  # small KV: two replicas on a small machine
        "LMWEBUI_CHAT__N_THREADS": "2",
        "LMWEBUI_CHAT__NUM_GPUS": "1",  # Ray's GPU accounting only: the node fakes two
        "LMWEBUI_RAG__ENABLED": "false",
        "LMWEBUI_RATE_LIMITS__SHARED": "false",
    }.items():
        monkeypatch.setenv(name, value)
    ray.init(
        address="local",  # its own Ray, even beside a test cluster (make test's second half)
        include_dashboard=False,
        num_cpus=2,
        num_gpus=2,
        _node_ip_address="127.0.0.1",
        namespace="cfg-test",
    )
    try:
        serve.start(proxy_location="Disabled")
        # what `serve deploy serve_config.yaml` runs on the cluster
        serve.run(build_app(serve_config_args()), name=APP, route_prefix=None, blocking=False)
        chat_states = _wait_running(serve, "ChatGGUF")
        assert chat_states == {"RUNNING": 2}
        chat = serve.get_deployment_handle("ChatGGUF", app_name=APP)
        replicas = set()
        for _ in range(20):
            info = chat.engine_config.remote().result(timeout_s=60)
            replicas.add(info["replica"])
            config = info["config"]
            assert (config["n_slots"], config["n_ctx_per_slot"]) == (4, 512)
            assert config["n_threads"] == 2 and config["n_threads_single"] == 1
            assert config["flash_attn"] is True
            # a replica given a GPU offloads every layer (chat.n_gpu_layers left at 0);
            # llama.cpp without a GPU backend keeps them on the CPU
            assert info["gpu_ids"] and config["n_gpu_layers"] == -1
            if len(replicas) == 2:
                break
        assert len(replicas) == 2
        status = serve.status().applications[APP].deployments
        assert set(status) == {"Ingress", "ChatGGUF"}  # RAG off: no RAG workers
        details = ServeInstanceDetails(**_get_global_client().get_serve_details())
        deployed = details.applications[APP].deployments["ChatGGUF"].deployment_config
        assert (deployed.max_ongoing_requests, deployed.max_queued_requests) == (8, 32)
        assert deployed.ray_actor_options.num_gpus == 1
    finally:
        serve.shutdown()
        ray.shutdown()
