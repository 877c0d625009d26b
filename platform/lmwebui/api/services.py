"""The services one app instance runs on, built in the lifespan and held on app.state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lmwebui.auth.api_keys import ApiKeyService
from lmwebui.auth.service import AuthService
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.provider_keys import ProviderKeyService
from lmwebui.chat.service import ChatService
from lmwebui.db import Database
from lmwebui.models.management import GGUFService
from lmwebui.models.runtime import GGUFRuntime
from lmwebui.rag.backends import RagBackends
from lmwebui.rag.service import RagService
from lmwebui.ratelimit import RateLimiter
from lmwebui.ratelimit.limiter import LimiterBackend, LocalLimiterBackend
from lmwebui.secrets_store import Secrets
from lmwebui.settings import Settings
from lmwebui.system.cluster import ClusterView, LocalCluster


@dataclass
class Runtime:
    """What the hosting process injects: local (tests, uvicorn) or Ray Serve handles."""

    cluster: ClusterView = field(default_factory=LocalCluster)
    limiter_backend: Callable[[], LimiterBackend] = LocalLimiterBackend
    # provider name -> engine (e.g. {"gguf": HandleChatEngine(...)}); built at start-up
    chat_engines: Callable[[Settings], dict[str, ChatEngine]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    replica_id: str | None = None
    # GGUF management: download manager, chat-replica unloader, node probe (None = local)
    gguf: GGUFRuntime = field(default_factory=GGUFRuntime)
    # RAG workers (embedder, documents, retriever): handles or in-process; None = RAG off
    rag: Callable[[Settings], RagBackends] | None = None


@dataclass
class Services:
    settings: Settings
    secrets: Secrets
    db: Database
    auth: AuthService
    limiter: RateLimiter
    chat: ChatService
    api_keys: ApiKeyService
    provider_keys: ProviderKeyService
    runtime: Runtime
    gguf: GGUFService
    started_at: float = field(default_factory=time.time)
    extras: dict[str, Any] = field(default_factory=dict)
    rag: RagService | None = None
