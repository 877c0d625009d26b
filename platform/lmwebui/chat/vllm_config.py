"""vLLM models as plain data: the ``vllm`` settings and the arguments of the vLLM app.

``ray.serve.llm`` cannot even be imported without vLLM, and the platform's default
environment has none, so the platform describes vLLM deployments with these models and
turns them into the dicts ``ray.serve.llm.LLMConfig(**...)`` / ``build_openai_app`` take
only where vLLM is installed (deployments/chat_vllm.py, run in the vLLM environment). This
module imports nothing but pydantic, so it loads in both environments. The ingress reaches
the resulting OpenAI-compatible app as provider ``vllm`` (chat/engines/vllm_engine.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings

# vLLM on CPUs: no CUDA graphs to capture (torch.compile loads 2-3x slower and is not faster
# on small models here; FIELD-NOTES), a bounded batch.
CPU_ENGINE_DEFAULTS: dict[str, Any] = {"enforce_eager": True, "max_num_seqs": 16}
# The LLMServer the replicas run: ray.serve.llm's behind the platform's key (vllm_guard.py)
SERVER_CLS = "deployments.vllm_server:LLMServer"
ONE_MODEL = (
    "one vLLM model per application: several in one need ray.serve.llm's OpenAI router, "
    "whose HTTP routes on the platform's port the platform cannot put behind its key "
    "(each model in `vllm.models` gets an application of its own)"
)


class VLLMModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: str = Field(description="Name clients use (`model` in requests).")
    model_source: str = Field(description="Hugging Face repo or local path of the weights.")
    device: Literal["gpu", "cpu"] = Field(
        "gpu",
        description="gpu: one GPU per tensor-parallel rank (the CUDA wheel, extra `gpu`); "
        "cpu: vLLM's CPU build on CPU nodes (accelerator kind cpu).",
    )
    cpu_kvcache_gb: int = Field(
        2, ge=1, description="KV-cache memory of a CPU replica (VLLM_CPU_KVCACHE_SPACE, GiB)."
    )
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
        cpu = self.device == "cpu"
        engine_kwargs: dict[str, Any] = {
            "tensor_parallel_size": self.tensor_parallel_size,
            **(
                CPU_ENGINE_DEFAULTS
                if cpu
                else {"gpu_memory_utilization": self.gpu_memory_utilization}
            ),
            **self.engine_kwargs,
        }
        if self.max_model_len:
            engine_kwargs["max_model_len"] = self.max_model_len
        cfg: dict[str, Any] = {
            "server_cls": SERVER_CLS,
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
        if cpu:
            # without it ray.serve.llm places the engine on {'GPU': 1} and waits forever
            cfg["accelerator_config"] = {"kind": "cpu"}
            # The engine's bundle reserves one Ray CPU; the replica actor beside it (its HTTP
            # front) would add one more to the same bundle, so two CPU models did not fit a
            # 2-CPU node (the second waited for a placement group forever). ChatGGUF's
            # replicas reserve none either (deployments/config.py).
            cfg["deployment_config"]["ray_actor_options"] = {"num_cpus": 0}
            cfg["runtime_env"] = {"env_vars": {"VLLM_CPU_KVCACHE_SPACE": str(self.cpu_kvcache_gb)}}
        elif self.accelerator_type:
            cfg["accelerator_type"] = self.accelerator_type
        return cfg


def _at_most_one(models: list[VLLMModelArgs]) -> list[VLLMModelArgs]:
    if len(models) > 1:
        raise ValueError(ONE_MODEL)
    return models


AtMostOneModel = Annotated[list[VLLMModelArgs], AfterValidator(_at_most_one)]


def _distinct(models: list[VLLMModelArgs]) -> list[VLLMModelArgs]:
    ids = [m.model_id for m in models]
    if len(set(ids)) != len(ids):
        raise ValueError(f"model_id must be distinct: {', '.join(ids)}")
    return models


DistinctModels = Annotated[list[VLLMModelArgs], AfterValidator(_distinct)]

# ray.serve.llm reads it when the app is built and in each replica (deployments/chat_vllm.py)
DIRECT_STREAMING_ENV = "RAY_SERVE_LLM_ENABLE_DIRECT_STREAMING"


class VLLMAppArgs(BaseModel):
    """One model, served with ray.serve.llm's direct streaming: the LLMServer replica is the
    app's ingress and serves vLLM's own OpenAI routes (no OpenAI router deployment, no Ray
    stream hop), behind the platform's key (deployments/vllm_server.py)."""

    model_config = ConfigDict(extra="forbid")

    models: AtMostOneModel = Field(min_length=1, description="The model to serve (a list of one).")

    def env_vars(self) -> dict[str, str]:
        """What the process that builds the app, and the replicas, must see."""
        return {DIRECT_STREAMING_ENV: "1"}

    def to_serving_args(self) -> dict[str, Any]:
        return {"llm_configs": [m.to_llm_config() for m in self.models]}


class VLLMSettings(BaseSettings):
    """vLLM replicas beside ChatGGUF (none by default). ``LMWEBUI_VLLM__MODELS`` is a JSON
    list of :class:`VLLMModelArgs`."""

    models: DistinctModels = Field(
        default_factory=list,
        description="The vLLM models to serve (model_id, model_source: a Hugging Face id or "
        "folder, device gpu|cpu, replicas, accelerator_type, engine_kwargs), each its own "
        "Serve application (`apps`); empty: no vLLM.",
    )
    python: str | None = Field(
        None,
        description="Python of the environment the vLLM replicas run in (Ray runtime_env "
        "py_executable; `make vllm-env` builds .venv-vllm/bin/python). None: the platform's "
        "own environment (the `gpu` extra) or the image's on KubeRay.",
    )
    app_name: str = Field(
        "lmwebui-vllm",
        description="Serve application of the first vLLM model; the n-th after it (n = 1, "
        "2, ...) is `<app_name>-<n>`.",
    )
    route_prefix: str = Field(
        "/vllm",
        pattern=r"^/[A-Za-z0-9_-]+$",
        description="HTTP route of the first vLLM model's application; the n-th after it "
        "is at `<route_prefix>-<n>`.",
    )

    def apps(self) -> list[VLLMApp]:
        """One Serve application per model, in the order of ``models``."""
        return [
            VLLMApp(
                name=self.app_name + (f"-{i}" if i else ""),
                route_prefix=self.route_prefix + (f"-{i}" if i else ""),
                args=VLLMAppArgs(models=[model]),
            )
            for i, model in enumerate(self.models)
        ]


class VLLMApp(BaseModel):
    """One vLLM model's Serve application: its name, HTTP route and arguments."""

    name: str = Field(description="Serve application name.")
    route_prefix: str = Field(description="HTTP route on the platform's port.")
    args: VLLMAppArgs = Field(description="What `build_vllm_app` builds (one model).")

    @property
    def model_id(self) -> str:
        return self.args.models[0].model_id

    def base_url(self, http_port: int) -> str:
        """The app's OpenAI URL through the Serve proxy on the ingress's own node."""
        return f"http://127.0.0.1:{http_port}{self.route_prefix}/v1"
