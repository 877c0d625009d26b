"""build_app(args): the application graph `serve run`/`serve deploy` and the CLI use."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from deployments.chat_gguf import ChatGGUF
from deployments.config import AppArgs
from deployments.ingress import Ingress
from deployments.rag import rag_handles


def build_app(args: dict[str, Any] | AppArgs) -> Application:
    parsed = args if isinstance(args, AppArgs) else AppArgs.model_validate(args)
    handles: dict[str, Any] = {}
    if parsed.chat_gguf is not None:
        handles["ChatGGUF"] = ChatGGUF.options(  # type: ignore[attr-defined]
            **parsed.chat_gguf.serve_options()
        ).bind(parsed.settings)
    handles.update(rag_handles(parsed))
    ingress = Ingress.options(**parsed.ingress.serve_options())  # type: ignore[attr-defined]
    app: Application = ingress.bind(parsed.app_name, parsed.settings, handles)
    return app
