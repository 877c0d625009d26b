"""Validated arguments of build_app(); serve_config.yaml only supplies these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AutoscalingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_replicas: int = Field(1, ge=0, description="Fewest replicas kept.")
    max_replicas: int = Field(1, ge=1, description="Most replicas started under load.")
    target_ongoing_requests: float = Field(
        8, gt=0, description="Ongoing requests per replica the autoscaler aims for."
    )
    upscale_delay_s: float = Field(5, ge=0, description="Load must persist this long to scale up.")
    downscale_delay_s: float = Field(30, ge=0, description="Idle this long before scaling down.")


class DeploymentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    num_replicas: int | None = Field(
        None, ge=1, description="Fixed replica count; None uses `autoscaling`."
    )
    autoscaling: AutoscalingArgs | None = Field(None, description="Autoscaling bounds.")
    num_cpus: float = Field(0, ge=0, description="CPUs reserved per replica (logical).")
    num_gpus: float = Field(0, ge=0, description="GPUs per replica (GPU nodes only when > 0).")
    accelerator_type: str | None = Field(None, description="Ray accelerator type, e.g. H100.")
    max_ongoing_requests: int = Field(64, ge=1, description="Concurrent requests per replica.")
    max_queued_requests: int = Field(
        256, ge=-1, description="Queued requests per caller before 503 (-1 = unbounded)."
    )
    request_router: str | None = Field(
        None, description="Import path of a Serve RequestRouter class for this deployment."
    )
    request_router_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Arguments for the router's initialize_state."
    )
    graceful_shutdown_timeout_s: float = Field(
        5, ge=0, description="How long a stopping replica may finish in-flight requests."
    )

    def serve_options(self) -> dict[str, Any]:
        actor: dict[str, Any] = {"num_cpus": self.num_cpus}
        if self.num_gpus:
            actor["num_gpus"] = self.num_gpus
        if self.accelerator_type:
            actor["accelerator_type"] = self.accelerator_type
        opts: dict[str, Any] = {
            "ray_actor_options": actor,
            "max_ongoing_requests": self.max_ongoing_requests,
            "max_queued_requests": self.max_queued_requests,
            "graceful_shutdown_timeout_s": self.graceful_shutdown_timeout_s,
            "graceful_shutdown_wait_loop_s": min(2.0, self.graceful_shutdown_timeout_s),
        }
        if self.request_router:
            from ray.serve.config import RequestRouterConfig

            opts["request_router_config"] = RequestRouterConfig(
                request_router_class=self.request_router,  # type: ignore[arg-type]
                request_router_kwargs=self.request_router_kwargs,
            )
        if self.num_replicas is not None or self.autoscaling is None:
            opts["num_replicas"] = self.num_replicas or 1
        else:
            opts["autoscaling_config"] = self.autoscaling.model_dump()
        return opts


class AppArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app_name: str = Field("lmwebui", description="Serve application name.")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings overrides applied on top of configs/default.yaml and LMWEBUI_*.",
    )
    ingress: DeploymentArgs = Field(
        default_factory=lambda: DeploymentArgs(max_ongoing_requests=256),
        description="The FastAPI ingress deployment.",
    )
    chat_gguf: DeploymentArgs | None = Field(
        default_factory=lambda: DeploymentArgs(max_ongoing_requests=64, max_queued_requests=256),
        description="The llama.cpp chat deployment (None: not deployed).",
    )
    embedder: DeploymentArgs | None = Field(
        default_factory=lambda: DeploymentArgs(max_ongoing_requests=128, max_queued_requests=512),
        description="The embedding deployment (None, or rag.enabled false: RAG off).",
    )
    documents: DeploymentArgs | None = Field(
        default_factory=lambda: DeploymentArgs(max_ongoing_requests=2, max_queued_requests=32),
        description="Document conversion + OCR; CPU-heavy, so few requests per replica.",
    )
    retriever: DeploymentArgs | None = Field(
        default_factory=lambda: DeploymentArgs(max_ongoing_requests=64, max_queued_requests=512),
        description="The vector-store owner (exactly one replica with a Milvus Lite file).",
    )
