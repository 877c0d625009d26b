"""The Ingress deployment: hosts the FastAPI app built by lmwebui.api.create_app."""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from ray import serve

from deployments.download_manager import RayDownloads
from deployments.model_unload import broadcast_unloader
from lmwebui.api import create_app
from lmwebui.api.services import Runtime
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.engines.remote import HandleChatEngine
from lmwebui.inference.capabilities import gguf_capabilities
from lmwebui.logging_setup import configure_logging
from lmwebui.metrics import RayMetrics, set_metrics
from lmwebui.models.compat import RayNodes
from lmwebui.models.files import gguf_model_id
from lmwebui.models.runtime import GGUFRuntime
from lmwebui.rag.remote import rag_runtime
from lmwebui.ratelimit import LocalLimiterBackend, RayLimiterBackend
from lmwebui.settings import load_settings
from lmwebui.system.cluster import Probe, RayCluster

logger = logging.getLogger("lmwebui.ingress")


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    """Stateless; any number of replicas. Handles to model deployments are injected."""

    def __init__(
        self,
        app_name: str,
        settings_overrides: dict[str, Any],
        handles: dict[str, Any] | None = None,
    ) -> None:
        # Whom to believe about the client is the platform's decision (security.
        # trusted_proxies, lmwebui.api.peer): the replica's HTTP server, started after this
        # constructor, must not rewrite the peer from X-Forwarded-For on its own.
        os.environ["FORWARDED_ALLOW_IPS"] = ""
        self.settings = load_settings(**settings_overrides)
        configure_logging(self.settings.log_level)
        set_metrics(RayMetrics())
        self.handles = handles or {}
        probes: dict[str, Probe] = {
            name: self._probe(handle) for name, handle in self.handles.items()
        }
        backend = RayLimiterBackend if self.settings.rate_limits.shared else LocalLimiterBackend
        engines: dict[str, ChatEngine] = {}
        if "ChatGGUF" in self.handles:
            chat = self.settings.chat
            engines["gguf"] = HandleChatEngine(
                self.handles["ChatGGUF"],
                multiplexed=True,
                capabilities=gguf_capabilities(chat.default_model, chat.n_ctx_per_slot),
                resolve=functools.partial(gguf_model_id, default=chat.default_model),
            )
        runtime = Runtime(
            cluster=RayCluster(app_name, probes),
            limiter_backend=backend,
            chat_engines=lambda _settings: engines,
            replica_id=serve.get_replica_context().replica_id.unique_id,
            gguf=GGUFRuntime(
                downloads=RayDownloads,
                unloader=broadcast_unloader(
                    self.handles["ChatGGUF"], self.settings.gguf.unload_timeout_s
                )
                if "ChatGGUF" in self.handles
                else None,
                nodes=RayNodes(),
            ),
            rag=rag_runtime(self.handles),
        )
        self._app = create_app(self.settings, runtime)

    @staticmethod
    def _probe(handle: Any) -> Probe:
        async def probe() -> bool:
            return bool(await handle.ready.remote())

        return probe

    def __serve_build_asgi_app__(self) -> Any:
        return self._app
