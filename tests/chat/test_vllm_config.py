"""vLLM deployment config: plain data on CPU machines, the real LLMConfig where vLLM exists."""

from __future__ import annotations

import importlib.util

import pytest
from pydantic import ValidationError

from lmwebui.chat.vllm_config import VLLMAppArgs

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


@pytest.mark.gpu
@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="vLLM not installed (gpu extra)"
)
def test_real_llm_config_accepts_it() -> None:
    from ray.serve.llm import LLMConfig

    for cfg in VLLMAppArgs.model_validate(ARGS).to_serving_args()["llm_configs"]:
        LLMConfig(**cfg)
