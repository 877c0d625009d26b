"""vLLM deployment config: plain data here, checked by the real LLMConfig in the vLLM env."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydantic import ValidationError

from lmwebui.chat.vllm_config import VLLMAppArgs
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
    # one model: its LLMServer is the app's ingress (no router deployment)
    assert "ingress_deployment_config" not in cfg
    assert VLLMAppArgs.model_validate({"models": [CPU_MODEL]}).env_vars() == {
        "RAY_SERVE_LLM_ENABLE_DIRECT_STREAMING": "1"
    }
    # each token goes on as it comes (Ray's default held them up to 50 ms)
    assert llm["experimental_configs"] == {"stream_batching_interval_ms": 0}


@pytest.mark.slow
def test_real_llm_config_accepts_it() -> None:
    """ray.serve.llm's own LLMConfig (in the vLLM environment: `make vllm-env`) accepts the
    GPU and the CPU shapes; no GPU is needed to validate them."""
    setup = ensure_vllm()
    both = VLLMAppArgs.model_validate({"models": [*ARGS["models"], CPU_MODEL]})
    script = (
        "import json, sys\n"
        "from ray.serve.llm import LLMConfig\n"
        "for cfg in json.load(sys.stdin)['llm_configs']:\n"
        "    c = LLMConfig(**cfg)\n"
        "    kind = c.accelerator_config.kind if c.accelerator_config else None\n"
        "    print(c.model_id, kind, c.experimental_configs['stream_batching_interval_ms'])\n"
    )
    done = subprocess.run(
        [str(setup.python), "-c", script],
        input=json.dumps(both.to_serving_args()),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-3:-1] == ["qwen-0.5b gpu 0", "g cpu 0"]


def test_several_models_or_no_direct_streaming_use_the_router() -> None:
    """The router holds no model, so it gets no CPU; ray.serve.llm's direct streaming takes
    one model only."""
    two = VLLMAppArgs.model_validate({"models": [CPU_MODEL, {**CPU_MODEL, "model_id": "h"}]})
    off = VLLMAppArgs.model_validate({"models": [CPU_MODEL], "direct_streaming": False})
    for args in (two, off):
        assert not args.env_vars()
        cfg = args.to_serving_args()
        assert cfg["ingress_deployment_config"] == {"ray_actor_options": {"num_cpus": 0}}
