"""build_app(args): the application graph `serve run`/`serve deploy` and the CLI use.

Fields the args leave unset come from the settings (deployments/config.py:
resolve_app_args), so serve_config.yaml only holds what settings do not describe."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from deployments.chat_gguf import ChatGGUF
from deployments.config import AppArgs, resolve_app_args
from deployments.ingress import Ingress
from deployments.rag import rag_handles


def build_app(args: dict[str, Any] | AppArgs) -> Application:
    parsed = resolve_app_args(args)
    handles: dict[str, Any] = {}
    if parsed.chat_gguf is not None:
        handles["ChatGGUF"] = ChatGGUF.options(  # type: ignore[attr-defined]
            **parsed.chat_gguf.serve_options()
        ).bind(parsed.settings)
    handles.update(rag_handles(parsed))
    ingress = Ingress.options(**parsed.ingress.serve_options())  # type: ignore[attr-defined]
    app: Application = ingress.bind(parsed.app_name, parsed.settings, handles)
    return app
