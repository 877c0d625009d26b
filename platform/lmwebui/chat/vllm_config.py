"""vLLM models on GPU nodes, as plain data.

``ray.serve.llm`` cannot even be imported without vLLM installed (CPU machines), so the
platform describes vLLM deployments with these models and turns them into the dicts that
``ray.serve.llm.LLMConfig(**...)`` / ``build_openai_app`` take only on the GPU path
(deployments/chat_vllm.py). The ingress reaches the resulting OpenAI-compatible app through
the ``vllm`` provider (an OpenAI engine pointed at ``chat.vllm_base_url``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VLLMModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: str = Field(description="Name clients use (`model` in requests).")
    model_source: str = Field(description="Hugging Face repo or local path of the weights.")
    accelerator_type: str | None = Field(None, description="Ray accelerator type, e.g. H100.")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per replica.")
    max_model_len: int | None = Field(None, ge=256, description="Context length.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="vLLM memory share.")
    min_replicas: int = Field(1, ge=0, description="Fewest replicas.")
    max_replicas: int = Field(1, ge=1, description="Most replicas under load.")
    target_ongoing_requests: float = Field(16, gt=0, description="Autoscaling target.")
    max_ongoing_requests: int = Field(64, ge=1, description="Concurrent requests per replica.")
    max_queued_requests: int = Field(256, ge=-1, description="Queue bound before 503.")
    engine_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra vLLM args.")

    def to_llm_config(self) -> dict[str, Any]:
        engine_kwargs: dict[str, Any] = {
            "tensor_parallel_size": self.tensor_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            **self.engine_kwargs,
        }
        if self.max_model_len:
            engine_kwargs["max_model_len"] = self.max_model_len
        cfg: dict[str, Any] = {
            "model_loading_config": {"model_id": self.model_id, "model_source": self.model_source},
            "engine_kwargs": engine_kwargs,
            "deployment_config": {
                "autoscaling_config": {
                    "min_replicas": self.min_replicas,
                    "max_replicas": self.max_replicas,
                    "target_ongoing_requests": self.target_ongoing_requests,
                },
                "max_ongoing_requests": self.max_ongoing_requests,
                "max_queued_requests": self.max_queued_requests,
            },
        }
        if self.accelerator_type:
            cfg["accelerator_type"] = self.accelerator_type
        return cfg


class VLLMAppArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[VLLMModelArgs] = Field(min_length=1, description="Models to serve.")

    def to_serving_args(self) -> dict[str, Any]:
        return {"llm_configs": [m.to_llm_config() for m in self.models]}
