"""GPU path: vLLM models through ray.serve.llm's OpenAI app (extra `gpu`).

Deploy as a second Serve application (see serve_config.yaml, commented out by default);
set `LMWEBUI_CHAT__VLLM_BASE_URL` to its `/v1` URL and the ingress serves it as provider
`vllm`.
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from lmwebui.chat.vllm_config import VLLMAppArgs


def build_vllm_app(args: dict[str, Any]) -> Application:
    parsed = VLLMAppArgs.model_validate(args)
    from ray.serve.llm import build_openai_app  # needs vLLM: GPU nodes only

    app: Application = build_openai_app(parsed.to_serving_args())
    return app
