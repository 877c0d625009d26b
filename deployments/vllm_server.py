"""The LLMServer of the vLLM app: ray.serve.llm's, behind the platform's key.

Imported only where vLLM is installed (the replicas load it by name: ``LLMConfig.server_cls``,
chat/vllm_config.py). With direct streaming the LLMServer replica is the app's HTTP ingress
and serves vLLM's own routes; :class:`lmwebui.chat.vllm_guard.KeyGuard` goes around all of
them. A replica without the key refuses to start rather than serve unauthenticated.
"""

from __future__ import annotations

import os
from typing import Any

from ray.llm._internal.serve.core.server.llm_server import LLMServer as RayLLMServer
from ray.llm._internal.serve.core.server.llm_server import _add_middleware_to_built_app

from lmwebui.chat.vllm_guard import KEY_ENV, KeyGuard


class LLMServer(RayLLMServer):  # type: ignore[misc]
    """Named as ray.serve.llm's, so the deployment keeps its name (``LLMServer:<model>``)
    in Serve's status, metrics and dashboards."""

    async def __serve_build_asgi_app__(self) -> Any:
        key = os.environ.get(KEY_ENV)
        if not key:
            raise RuntimeError(f"{KEY_ENV} is not set: the vLLM app will not serve without it")
        app = await super().__serve_build_asgi_app__()  # type: ignore[no-untyped-call]
        _add_middleware_to_built_app(app, KeyGuard, key=key)
        return app
