"""create_app(): the FastAPI app. Everything stateful is built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from lmwebui import __version__
from lmwebui.api.deps import cookie_origin_check
from lmwebui.api.errors import register_error_handlers
from lmwebui.api.middleware import RequestIdMiddleware
from lmwebui.api.responses import install_openapi
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
from lmwebui.api.services import Runtime, build_services
from lmwebui.api.web import install_page
from lmwebui.api.ws import chat as ws_chat
from lmwebui.api.ws import downloads as ws_downloads
from lmwebui.settings import Settings

logger = logging.getLogger("lmwebui.api")


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
            await services.close()

    app = FastAPI(
        title="LM WebUI API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(cookie_origin_check)],
    )
    # Under Serve (a replica id) Serve's proxy sets X-Request-ID and returns it: adopt it.
    app.add_middleware(
        RequestIdMiddleware,
        served_by=runtime.replica_id,
        proxy_request_id=runtime.replica_id is not None,
    )
    register_error_handlers(app)
    for router in (
        system.router,
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
    install_openapi(app, settings)
    # The page answers what no route does (GET/HEAD); anything else is the API's 404.
    install_page(app)
    return app
