"""create_app(): the FastAPI app. Everything stateful is built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lmwebui import __version__
from lmwebui.api.middleware import RequestIdMiddleware
from lmwebui.api.routers import (
    auth,
    chat,
    conversations,
    embeddings,
    gguf,
    keys,
    openai_compat,
    system,
    uploads,
)
from lmwebui.api.routers import rag as rag_router
from lmwebui.api.services import Runtime, Services
from lmwebui.api.ws import chat as ws_chat
from lmwebui.api.ws import downloads as ws_downloads
from lmwebui.auth.api_keys import ApiKeyService
from lmwebui.auth.service import AuthService
from lmwebui.auth.tokens import TokenCodec
from lmwebui.chat.conversations import ConversationStore
from lmwebui.chat.engines.openai_engine import OpenAIChatEngine
from lmwebui.chat.provider_keys import ProviderKeyService
from lmwebui.chat.providers import OpenAIEngines, ProviderRegistry
from lmwebui.chat.service import ChatService
from lmwebui.db import Database
from lmwebui.errors import register_error_handlers
from lmwebui.models.management import GGUFService
from lmwebui.rag.context import ChatRetrieval
from lmwebui.rag.registry import DocumentRegistry
from lmwebui.rag.service import RagService
from lmwebui.ratelimit import RateLimiter
from lmwebui.secrets_store import load_secrets
from lmwebui.settings import Settings

logger = logging.getLogger("lmwebui.api")


async def build_services(settings: Settings, runtime: Runtime) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secrets = load_secrets(settings)
    db = Database(settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    await db.migrate()
    codec = TokenCodec(
        secrets.jwt_secret,
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
    )
    auth_service = AuthService(
        db,
        codec,
        admin_emails=settings.admin_emails,
        allow_registration=settings.allow_registration,
    )
    rl = settings.rate_limits
    limiter = RateLimiter(
        runtime.limiter_backend(),
        {"auth": rl.auth, "chat": rl.chat, "upload": rl.upload},
        enabled=rl.enabled,
    )
    provider_keys = ProviderKeyService(db, secrets.fernet_key)
    chat_cfg = settings.chat
    engines = runtime.chat_engines(settings) if runtime.chat_engines else {}
    if chat_cfg.vllm_base_url:
        engines["vllm"] = OpenAIChatEngine(
            chat_cfg.vllm_base_url, "none", chat_cfg.openai_timeout_s
        )
    openai_key = chat_cfg.openai_api_key.get_secret_value() if chat_cfg.openai_api_key else None
    providers = ProviderRegistry(
        engines,
        OpenAIEngines(
            chat_cfg.openai_base_url, openai_key, chat_cfg.openai_timeout_s, provider_keys.lookup
        ),
        {
            "gguf": chat_cfg.default_model,
            "openai": "gpt-4o-mini",
            "vllm": chat_cfg.vllm_default_model or "",
        },
    )
    conversations = ConversationStore(db)
    rag = (
        RagService(runtime.rag(settings), DocumentRegistry(db), conversations, settings.rag)
        if runtime.rag is not None and settings.rag.enabled
        else None
    )
    return Services(
        settings=settings,
        secrets=secrets,
        db=db,
        auth=auth_service,
        limiter=limiter,
        chat=ChatService(
            providers, conversations, chat_cfg, rag=ChatRetrieval(rag) if rag else None
        ),
        api_keys=ApiKeyService(db),
        provider_keys=provider_keys,
        runtime=runtime,
        gguf=GGUFService(settings, runtime.gguf),
        extras=dict(runtime.extras),
        rag=rag,
    )


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings, runtime)
        app.state.services = services
        if services.rag is not None:
            services.rag.start()
        logger.info("lmwebui API ready (db=%s)", services.db.kind)
        try:
            yield
        finally:
            if services.rag is not None:
                await services.rag.stop()
            await services.gguf.close()
            await services.chat.providers.close()
            await services.db.dispose()

    app = FastAPI(
        title="LM WebUI API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.add_middleware(RequestIdMiddleware, served_by=runtime.replica_id)
    register_error_handlers(app)
    app.include_router(system.router)
    for router in (
        auth.router,
        chat.router,
        conversations.router,
        keys.router,
        openai_compat.router,
        ws_chat.router,
        rag_router.router,
        uploads.router,
        embeddings.router,
        gguf.router,
        ws_downloads.router,
    ):
        app.include_router(router)
    return app
