"""The services one app instance runs on: built once in the lifespan from the settings and
what the hosting process injects (Runtime), held on app.state, reached through api/deps.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lmwebui.auth.api_keys import ApiKeyService
from lmwebui.auth.service import AuthService
from lmwebui.auth.tokens import TokenCodec
from lmwebui.chat.conversations import ConversationStore
from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.engines.vllm_engine import VLLMChatEngine
from lmwebui.chat.engines.vllm_router import VLLMRouter
from lmwebui.chat.provider_keys import ProviderKeyService
from lmwebui.chat.providers import OpenAIEngines, ProviderRegistry
from lmwebui.chat.service import ChatService
from lmwebui.chat.sessions import StreamSessions
from lmwebui.db import Database
from lmwebui.models.management import GGUFService
from lmwebui.models.runtime import GGUFRuntime
from lmwebui.netpolicy import OutboundPolicy
from lmwebui.rag.backends import RagBackends
from lmwebui.rag.context import ChatRetrieval
from lmwebui.rag.registry import DocumentRegistry
from lmwebui.rag.service import RagService
from lmwebui.ratelimit import RateLimiter
from lmwebui.ratelimit.limiter import LimiterBackend, LocalLimiterBackend
from lmwebui.secrets_store import Secrets, load_secrets, proxy_key, vllm_key
from lmwebui.settings import Settings
from lmwebui.system.cluster import ClusterView, LocalCluster, Probe
from lmwebui.system.service import SystemService

UPSTREAM_DEFAULT_MODEL = "gpt-4o-mini"


@dataclass
class Runtime:
    """What the hosting process injects: local (tests, uvicorn) or Ray Serve handles."""

    cluster: ClusterView = field(default_factory=LocalCluster)
    limiter_backend: Callable[[], LimiterBackend] = LocalLimiterBackend
    # provider name -> engine (e.g. {"gguf": HandleChatEngine(...)}); built at start-up
    chat_engines: Callable[[Settings], dict[str, ChatEngine]] | None = None
    replica_id: str | None = None
    # GGUF management: download manager, chat-replica unloader, node probe (None = local)
    gguf: GGUFRuntime = field(default_factory=GGUFRuntime)
    # RAG workers (embedder, documents, retriever): handles or in-process; None = RAG off
    rag: Callable[[Settings], RagBackends] | None = None


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: AuthService
    limiter: RateLimiter
    chat: ChatService
    api_keys: ApiKeyService
    provider_keys: ProviderKeyService
    gguf: GGUFService
    system: SystemService
    rag: RagService | None = None
    # what the platform's HAProxy sends beside the client's address (api/peer.py)
    proxy_key: str | None = None

    async def close(self) -> None:
        if self.rag is not None:
            await self.rag.stop()
        await self.gguf.close()
        await self.chat.providers.close()
        await self.db.dispose()


def build_providers(
    settings: Settings, runtime: Runtime, provider_keys: ProviderKeyService, secrets: Secrets
) -> ProviderRegistry:
    chat = settings.chat
    engines = runtime.chat_engines(settings) if runtime.chat_engines else {}
    apps = settings.vllm.apps()
    if chat.vllm_base_url:  # a vLLM server elsewhere, or the first app at another address
        first = apps[0].args.models[0] if apps else None
        engines["vllm"] = VLLMChatEngine(
            chat.vllm_base_url,
            chat.openai_timeout_s,
            EngineCapabilities(
                default_model=chat.vllm_default_model or (first.model_id if first else None),
                context_tokens=first.max_model_len if first else None,
            ),
            key=vllm_key(secrets) if apps else None,  # the platform's own app
        )
    elif apps:  # the platform's own vLLM apps, one per model
        engines["vllm"] = VLLMRouter(
            {
                app.model_id: VLLMChatEngine(
                    app.base_url(settings.http_port),
                    chat.openai_timeout_s,
                    EngineCapabilities(
                        default_model=app.model_id,
                        context_tokens=app.args.models[0].max_model_len,
                    ),
                    key=vllm_key(secrets),
                )
                for app in apps
            },
            chat.vllm_default_model,
        )
    key = chat.openai_api_key.get_secret_value() if chat.openai_api_key else None
    upstream = OpenAIEngines(
        chat.openai_base_url,
        key,
        chat.openai_timeout_s,
        provider_keys.lookup,
        EngineCapabilities(default_model=UPSTREAM_DEFAULT_MODEL),
        provider_keys.policy,
    )
    return ProviderRegistry(engines, upstream)


def engine_probes(providers: ProviderRegistry) -> dict[str, Probe]:
    """Engines the platform serves through over HTTP are components of /api/health (the
    vLLM app: its own Serve app, or a vLLM server at chat.vllm_base_url)."""
    vllm = providers.engines.get("vllm")
    return {"vllm": vllm.ready} if isinstance(vllm, VLLMChatEngine | VLLMRouter) else {}


async def build_services(settings: Settings, runtime: Runtime) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secrets = load_secrets(settings)
    db = Database(settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    await db.migrate()
    rl = settings.rate_limits
    limiter = RateLimiter(
        runtime.limiter_backend(),
        {"auth": rl.auth, "chat": rl.chat, "upload": rl.upload},
        enabled=rl.enabled,
    )
    provider_keys = ProviderKeyService(
        db,
        secrets.fernet_key,
        OutboundPolicy(
            settings.chat.allowed_provider_hosts, settings.chat.allowed_provider_networks
        ),
    )
    conversations = ConversationStore(db)
    rag = (
        RagService(runtime.rag(settings), DocumentRegistry(db), conversations, settings.rag)
        if runtime.rag is not None and settings.rag.enabled
        else None
    )
    auth = AuthService(
        db,
        TokenCodec(
            secrets.jwt_secret,
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
        ),
        admin_emails=settings.admin_emails,
        allow_registration=settings.allow_registration,
        purge_hooks=[rag.purge_user] if rag is not None else [],
    )
    providers = build_providers(settings, runtime, provider_keys, secrets)
    chat = ChatService(
        providers,
        conversations,
        StreamSessions(db),
        settings.chat,
        rag=ChatRetrieval(rag) if rag is not None else None,
    )
    return Services(
        settings=settings,
        db=db,
        auth=auth,
        limiter=limiter,
        chat=chat,
        api_keys=ApiKeyService(db),
        provider_keys=provider_keys,
        gguf=GGUFService(settings, runtime.gguf),
        system=SystemService(db, runtime.cluster, engine_probes(providers)),
        rag=rag,
        proxy_key=proxy_key(secrets),
    )
