"""vLLM models through ray.serve.llm's OpenAI app, a Serve application per model.

vLLM is not in the platform's default environment. Its replicas run where it is installed:
the platform's own environment with the `gpu` extra (CUDA nodes), a second environment
named by ``vllm.python`` (Ray ``runtime_env`` ``py_executable``: ``make vllm-env``, the CPU
build), or a container image on KubeRay. ``build_vllm_app`` runs there (it imports
``ray.serve.llm``); the platform's side only hands it plain data (``VLLMAppArgs``) and
reaches the app over HTTP as provider ``vllm`` (chat/engines/vllm_engine.py).

Each model is an application of its own (``VLLMSettings.apps``: ``lmwebui-vllm`` at
``/vllm``, then ``lmwebui-vllm-1`` at ``/vllm-1``, ...): the replica of a one-model app is
its HTTP ingress (direct streaming), which the platform's key can guard.

- ``lmwebui serve`` calls :func:`deploy_vllm_apps` after the platform app: a Ray task in
  the vLLM environment builds every model's app and ``serve.run_many``s them, and the
  replicas inherit the task's runtime environment.
- ``serve_config.yaml``: an application per model with ``import_path:
  deployments.chat_vllm:build_vllm_app`` and, for a second environment, ``runtime_env:
  {py_executable: ...}`` and ``env_vars: {RAY_SERVE_LLM_ENABLE_DIRECT_STREAMING: "1"}``;
  ``args: {app: n}`` takes the n-th model of the settings (``vllm.models``; empty
  ``args``: the first), ``args: {models: [...]}`` names one.

The app is on the platform's HTTP port, so its replicas serve only requests that carry the
platform's key (deployments/vllm_server.py): ``lmwebui serve`` hands it to the building
task's environment; elsewhere it is derived here from the platform's secrets.
"""

from __future__ import annotations

import os
from typing import Any

from ray.serve import Application

from lmwebui.chat.vllm_config import DIRECT_STREAMING_ENV, VLLMApp, VLLMAppArgs
from lmwebui.chat.vllm_guard import KEY_ENV

DEPLOY_TIMEOUT_S = 900.0


def build_vllm_app(args: dict[str, Any] | None = None) -> Application:
    """The OpenAI app of ``args`` (``VLLMAppArgs``; without ``models``, the settings')."""
    import ray

    build_openai_app = _import_build_openai_app()
    if os.environ.get(DIRECT_STREAMING_ENV) != "1":
        # ray.serve.llm decides from its environment when first imported; without it, its
        # OpenAI router would be the app's HTTP ingress, outside the platform's key
        raise RuntimeError(
            f"{DIRECT_STREAMING_ENV}=1 must be in the vLLM app's environment "
            "(serve_config.yaml: the application's runtime_env.env_vars)"
        )
    parsed = _resolve(args or {})
    serving = parsed.to_serving_args()
    # A model's own runtime_env (CPU: VLLM_CPU_KVCACHE_SPACE) would replace the one this
    # runs in, py_executable included: the engine would start in an environment without vLLM.
    current = dict(ray.get_runtime_context().runtime_env or {})
    key = {KEY_ENV: os.environ.get(KEY_ENV) or _key_from_settings(args or {})}
    for cfg in serving["llm_configs"]:
        cfg["runtime_env"] = _merge_env(
            _merge_env(current, cfg.get("runtime_env") or {}), {"env_vars": key}
        )
    app: Application = build_openai_app(serving)
    return app


def _import_build_openai_app() -> Any:
    """ray.serve.llm's builder (needs vLLM). Its import registers backends in Ray's
    internal KV, check-then-put: a process importing it at the same moment as another
    (serve_config.yaml's vLLM apps are built side by side) can fail with "... is already
    registered". Python drops the half-imported modules, and the next import finds them
    registered."""
    for attempt in range(3):
        try:
            from ray.serve.llm import build_openai_app

            return build_openai_app
        except ValueError as exc:
            if "already registered" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _resolve(args: dict[str, Any]) -> VLLMAppArgs:
    if args.get("models"):
        return VLLMAppArgs.model_validate(args)
    unknown = set(args) - {"settings", "app"}
    if unknown:
        raise ValueError(f"unknown vLLM app args: {', '.join(sorted(unknown))}")
    from lmwebui.settings import load_settings

    apps = load_settings(**args.get("settings", {})).vllm.apps()
    index = args.get("app", 0)
    if type(index) is not int or not 0 <= index < len(apps):
        raise ValueError(f"app {index}: the settings name {len(apps)} vLLM model(s)")
    return apps[index].args


def _key_from_settings(args: dict[str, Any]) -> str:
    """The key the platform's ingress sends (the same secrets: LMWEBUI_JWT_SECRET or the
    data dir's)."""
    from lmwebui.secrets_store import load_secrets, vllm_key
    from lmwebui.settings import load_settings

    return vllm_key(load_secrets(load_settings(**args.get("settings", {}))))


def _merge_env(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **top}
    env_vars = {**(base.get("env_vars") or {}), **(top.get("env_vars") or {})}
    if env_vars:
        merged["env_vars"] = env_vars
    return merged


def _deploy(apps: list[tuple[dict[str, Any], str, str]]) -> None:
    """(args, name, route prefix) of each app, run together. One process builds them all:
    ray.serve.llm registers its backends in Ray's internal KV on import, check-then-put,
    and two processes importing it at once fail (measured: "kv_connector_backend
    'MultiConnector' is already registered"); once the first import has registered them,
    the replicas only read."""
    from ray import serve

    targets = [
        serve.RunTarget(build_vllm_app(args), name=name, route_prefix=prefix)
        for args, name, prefix in apps
    ]
    serve.run_many(targets)


def deploy_vllm_apps(apps: list[VLLMApp], *, python: str | None, key: str) -> None:
    """Build and run each model's app from one Ray task in the vLLM environment
    (``python``, or this one); returns once every app's replicas are ready, raises if one
    fails to start. ``key``: what the replicas require of every request
    (secrets_store.vllm_key)."""
    import ray

    if not apps:
        return
    runtime_env: dict[str, Any] = {"py_executable": python} if python else {}
    # the replicas inherit them (build_vllm_app merges the task's environment); every
    # app's are the same (VLLMAppArgs.env_vars)
    runtime_env["env_vars"] = {**apps[0].args.env_vars(), KEY_ENV: key}
    task = ray.remote(num_cpus=0, max_retries=0)(_deploy).options(runtime_env=runtime_env)
    described = [(app.args.model_dump(mode="json"), app.name, app.route_prefix) for app in apps]
    ray.get(task.remote(described), timeout=DEPLOY_TIMEOUT_S)
