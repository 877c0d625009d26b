"""Validated arguments of build_app(), and how they are derived from settings.

``AppArgs.from_settings(settings)`` is the application shape the settings describe (replica
counts, placement, queue bounds, the non-secret settings every replica gets). ``build_app``
runs :func:`resolve_app_args`: every field the given arguments (serve_config.yaml, or the
CLI) leave unset is filled from the settings, loaded from ``args.settings`` on top of
``LMWEBUI_*`` and configs/default.yaml; a field given explicitly wins. So ``lmwebui serve``,
``serve run serve_config.yaml`` and ``serve deploy serve_config.yaml`` build the same graph
for the same settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lmwebui.settings import Settings, describe_validation_error, load_settings

APP_NAME = "lmwebui"
AFFINITY_ROUTER = "deployments.routing:ConversationAffinityRouter"
DEPLOYMENTS = ("ingress", "chat_gguf", "embedder", "documents", "retriever")


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

    app_name: str = Field(APP_NAME, description="Serve application name.")
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

    @classmethod
    def from_settings(cls, settings: Settings, app_name: str = APP_NAME) -> AppArgs:
        """The application the settings describe; every field this sets counts as given."""
        chat = settings.chat
        autoscaled = bool(chat.max_replicas and chat.max_replicas > chat.replicas)
        chat_gguf = {
            # fixed at chat.replicas, or autoscaled from there up to chat.max_replicas
            "num_replicas": None if autoscaled else chat.replicas,
            "autoscaling": {
                "min_replicas": chat.replicas,
                "max_replicas": max(chat.max_replicas or chat.replicas, chat.replicas),
                "target_ongoing_requests": chat.target_ongoing_requests or chat.n_slots,
                "upscale_delay_s": chat.upscale_delay_s,
                "downscale_delay_s": chat.downscale_delay_s,
            },
            "num_gpus": chat.num_gpus,
            "accelerator_type": chat.accelerator_type,
            # every slot busy plus as many waiting on the replica, then a bounded queue per
            # caller, then 503 (never an unbounded queue)
            "max_ongoing_requests": chat.n_slots * 2,
            "max_queued_requests": chat.n_slots * 8,
            "request_router": AFFINITY_ROUTER if chat.affinity_routing else None,
            "request_router_kwargs": {"saturated_at": chat.n_slots}
            if chat.affinity_routing
            else {},
        }
        rag_off = {name: None for name in ("embedder", "documents", "retriever")}
        return cls.model_validate(
            {
                "app_name": app_name,
                "settings": replica_settings(settings),
                "ingress": {
                    "num_replicas": settings.ingress_replicas,
                    "max_ongoing_requests": 256,
                },
                "chat_gguf": chat_gguf,
                **({} if settings.rag.enabled else rag_off),
            }
        )


def replica_settings(settings: Settings) -> dict[str, Any]:
    """Non-secret settings the replicas must agree on (replicas on other nodes do not
    inherit the environment this runs in); secrets stay in each node's env or data dir."""
    from sqlalchemy.engine import make_url

    overrides = settings.model_dump(
        mode="json", exclude={"jwt_secret", "fernet_key", "ray_address"}
    )
    overrides["chat"].pop("openai_api_key", None)
    overrides["rag"].pop("milvus_token", None)
    if settings.database_url and make_url(settings.database_url).password:
        # a password is a secret: not in Serve's (visible) app config; every node has
        # LMWEBUI_DATABASE_URL in its environment (docs/deploy.md, the KubeRay secret)
        overrides.pop("database_url", None)
    # the hub origin (not a secret) is resolved here; HF_TOKEN stays in each node's env
    overrides["gguf"]["hub_endpoint"] = (
        settings.gguf.hub_endpoint or os.environ.get("HF_ENDPOINT") or None
    )
    return overrides


def resolve_app_args(args: Mapping[str, Any] | AppArgs) -> AppArgs:
    """``args`` with every field it leaves unset taken from :meth:`AppArgs.from_settings`.

    The settings are loaded from ``args.settings`` over ``LMWEBUI_*`` and the config file,
    in the process that builds the app (``lmwebui serve``; for ``serve run``/``serve
    deploy`` Serve's build task). Given fields win, field by field inside a deployment,
    with two groups taken together: ``autoscaling`` given without ``num_replicas`` turns a
    fixed count into autoscaling (its unset bounds from the settings), and a
    ``request_router`` other than the derived one drops the derived router kwargs.
    ``settings`` given are merged key by key over the derived ones.
    """
    given = AppArgs.model_validate(args).model_dump(exclude_unset=True)
    try:
        settings = load_settings(**given.get("settings", {}))
    except Exception as exc:
        raise ValueError(describe_validation_error(exc)) from exc
    merged = AppArgs.from_settings(settings, given.get("app_name", APP_NAME)).model_dump()
    for key, value in given.items():
        if key == "settings":
            merged[key] = _deep_merge(merged[key], value)
        elif key in DEPLOYMENTS and value is not None and merged.get(key) is not None:
            merged[key] = _overlay_deployment(merged[key], value)
        else:
            merged[key] = value
    return AppArgs.model_validate(merged)


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _overlay_deployment(derived: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    out = {**derived, **given}
    if "autoscaling" in given and "num_replicas" not in given:
        if given["autoscaling"] is None:  # fixed after all: the derived (minimum) count
            scaling = derived.get("autoscaling") or {}
            out["num_replicas"] = derived.get("num_replicas") or scaling.get("min_replicas", 1)
        else:
            out["num_replicas"] = None
            out["autoscaling"] = {**(derived.get("autoscaling") or {}), **given["autoscaling"]}
    if (
        "request_router" in given
        and "request_router_kwargs" not in given
        and given["request_router"] != derived.get("request_router")
    ):
        out["request_router_kwargs"] = {}
    return out
