"""vLLM deployment config: plain data here, checked by the real LLMConfig in the vLLM env."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from lmwebui.chat.vllm_config import VLLMAppArgs, VLLMSettings
from tests.support.vllm import ensure_vllm

ARGS = {
    "models": [
        {
            "model_id": "qwen-0.5b",
            "model_source": "Qwen/Qwen2.5-0.5B-Instruct",
            "accelerator_type": "H100",
            "max_model_len": 4096,
            "min_replicas": 1,
            "max_replicas": 4,
            "target_ongoing_requests": 8,
        }
    ]
}


def test_serving_args_shape() -> None:
    cfg = VLLMAppArgs.model_validate(ARGS).to_serving_args()["llm_configs"][0]
    assert cfg["model_loading_config"] == {
        "model_id": "qwen-0.5b",
        "model_source": "Qwen/Qwen2.5-0.5B-Instruct",
    }
    assert cfg["accelerator_type"] == "H100"
    assert cfg["engine_kwargs"]["max_model_len"] == 4096
    assert cfg["engine_kwargs"]["tensor_parallel_size"] == 1
    auto = cfg["deployment_config"]["autoscaling_config"]
    assert auto == {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 8}
    assert cfg["deployment_config"]["max_queued_requests"] == 256


def test_invalid_args_rejected() -> None:
    with pytest.raises(ValidationError):
        VLLMAppArgs.model_validate({"models": []})
    with pytest.raises(ValidationError):
        VLLMAppArgs.model_validate({"models": [{"model_id": "x"}]})
    with pytest.raises(ValidationError):
        VLLMAppArgs.model_validate({"models": [{**ARGS["models"][0], "gpu_memory_utilization": 2}]})


CPU_MODEL = {"model_id": "g", "model_source": "/models/g", "device": "cpu", "max_model_len": 2048}


def test_cpu_model_places_on_cpus() -> None:
    cfg = VLLMAppArgs.model_validate({"models": [CPU_MODEL]}).to_serving_args()
    llm = cfg["llm_configs"][0]
    assert llm["accelerator_config"] == {"kind": "cpu"} and "accelerator_type" not in llm
    assert llm["engine_kwargs"]["enforce_eager"] is True
    assert "gpu_memory_utilization" not in llm["engine_kwargs"]
    assert llm["runtime_env"]["env_vars"]["VLLM_CPU_KVCACHE_SPACE"] == "2"
    # one Ray CPU per CPU model (the engine's bundle), so two fit a 2-CPU node
    assert llm["deployment_config"]["ray_actor_options"] == {"num_cpus": 0}
    # one model: its LLMServer is the app's ingress (no router deployment)
    assert "ingress_deployment_config" not in cfg
    assert VLLMAppArgs.model_validate({"models": [CPU_MODEL]}).env_vars() == {
        "RAY_SERVE_LLM_ENABLE_DIRECT_STREAMING": "1"
    }
    # ray.serve.llm's stream batching only applies behind its router, never deployed here:
    # no setting for it, and one given is refused
    assert "experimental_configs" not in llm
    with pytest.raises(ValidationError, match="stream_batching_ms"):
        VLLMAppArgs.model_validate({"models": [{**CPU_MODEL, "stream_batching_ms": 0}]})


@pytest.mark.slow
def test_real_llm_config_accepts_it() -> None:
    """ray.serve.llm's own LLMConfig (in the vLLM environment: `make vllm-env`) accepts the
    GPU and the CPU shapes; no GPU is needed to validate them."""
    setup = ensure_vllm()
    gpu = VLLMAppArgs.model_validate(ARGS).to_serving_args()["llm_configs"]
    cpu = VLLMAppArgs.model_validate({"models": [CPU_MODEL]}).to_serving_args()["llm_configs"]
    script = (
        "import json, sys\n"
        "from ray.serve.llm import LLMConfig\n"
        "for cfg in json.load(sys.stdin):\n"
        "    c = LLMConfig(**cfg)\n"
        "    kind = c.accelerator_config.kind if c.accelerator_config else None\n"
        "    print(c.model_id, kind, c.experimental_configs.get('stream_batching_interval_ms'))\n"
        "    print(c.server_cls.__module__, c.server_cls.__mro__[1].__module__)\n"
    )
    done = subprocess.run(
        [str(setup.python), "-c", script],
        input=json.dumps(gpu + cpu),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the server class loads by name in the vLLM environment: ray.serve.llm's, keyed
    keyed = "deployments.vllm_server ray.llm._internal.serve.core.server.llm_server"
    assert done.stdout.split("\n")[-5:-1] == ["qwen-0.5b gpu None", keyed, "g cpu None", keyed]


def test_one_app_per_model_and_never_the_open_router() -> None:
    """Several models in one app would need ray.serve.llm's OpenAI router as its HTTP
    ingress, which the platform's key does not cover: the settings' models each get an app
    of their own (own name and route), and an app's args hold exactly one model."""
    two = [CPU_MODEL, {**CPU_MODEL, "model_id": "h", "max_model_len": 1024}]
    with pytest.raises(ValidationError, match="one vLLM model per application"):
        VLLMAppArgs.model_validate({"models": two})
    apps = VLLMSettings.model_validate({"models": two}).apps()
    assert [(a.name, a.route_prefix, a.model_id) for a in apps] == [
        ("lmwebui-vllm", "/vllm", "g"),
        ("lmwebui-vllm-1", "/vllm-1", "h"),
    ]
    assert apps[1].args.models[0].max_model_len == 1024
    assert apps[1].base_url(8000) == "http://127.0.0.1:8000/vllm-1/v1"
    custom = VLLMSettings.model_validate({"models": two, "app_name": "v", "route_prefix": "/x"})
    assert [(a.name, a.route_prefix) for a in custom.apps()] == [("v", "/x"), ("v-1", "/x-1")]
    with pytest.raises(ValidationError, match="distinct"):
        VLLMSettings.model_validate({"models": [CPU_MODEL, CPU_MODEL]})
    assert VLLMSettings().apps() == []
    with pytest.raises(ValidationError):  # the router switch is gone
        VLLMAppArgs.model_validate({"models": [CPU_MODEL], "direct_streaming": False})
    cfg = VLLMAppArgs.model_validate({"models": [CPU_MODEL]}).to_serving_args()
    assert set(cfg) == {"llm_configs"}
    assert cfg["llm_configs"][0]["server_cls"] == "deployments.vllm_server:LLMServer"


def test_serve_config_args_pick_a_model_of_the_settings(tmp_path: Path) -> None:
    """serve_config.yaml's vLLM apps: `args: {}` is the settings' first model, `{app: n}` the
    n-th; one that the settings do not have is refused rather than built empty."""
    from deployments.chat_vllm import _resolve

    two = [CPU_MODEL, {**CPU_MODEL, "model_id": "h"}]
    settings = {"data_dir": str(tmp_path), "vllm": {"models": two}}
    assert _resolve({"settings": settings}).models[0].model_id == "g"
    assert _resolve({"settings": settings, "app": 1}).models[0].model_id == "h"
    for bad in (2, -1, "1", True):
        with pytest.raises(ValueError, match="2 vLLM model"):
            _resolve({"settings": settings, "app": bad})
    with pytest.raises(ValueError, match="unknown vLLM app args: model"):
        _resolve({"settings": settings, "model": "h"})  # a typo is refused, not ignored
    assert _resolve({"models": [CPU_MODEL]}).models[0].model_id == "g"


def test_one_vllm_server_url_takes_one_model(tmp_path: Path) -> None:
    """chat.vllm_base_url is one server: beside several models it would leave all but the
    first deployed and unreachable, so that combination is refused."""
    from lmwebui.settings import Settings

    two = [CPU_MODEL, {**CPU_MODEL, "model_id": "h"}]
    url = {"vllm_base_url": "http://head:8000/vllm/v1"}
    with pytest.raises(ValidationError, match="one vLLM server"):
        Settings(data_dir=tmp_path, chat=url, vllm={"models": two})
    assert Settings(data_dir=tmp_path, chat=url, vllm={"models": two[:1]}).chat.vllm_base_url
