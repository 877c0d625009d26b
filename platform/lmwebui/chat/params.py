"""OpenAI request parameters: which ones /v1 honours, refuses by name, or ignores.

The rule (docs/architecture.md, "/v1"): a documented parameter the platform cannot honour is
a 400 VALIDATION_ERROR naming it, never a silent drop; parameters with no effect on the
answer (``metadata``, ``store``, ``service_tier``, ...) and names OpenAI does not document
are ignored, as OpenAI's own clients send some of them by default.
"""

from __future__ import annotations

from typing import Any

# Documented chat-completions parameters no engine behind /v1 honours (pydantic fields that
# must stay unset); ``modalities`` may only ask for text.
REFUSED_CHAT_PARAMS: dict[str, str] = {
    "audio": "audio output is not supported",
    "modalities": "only the text modality is supported",
    "prediction": "predicted outputs are not supported",
    "web_search_options": "web search is not supported",
    "functions": "the legacy functions API is not supported (use tools)",
    "function_call": "the legacy functions API is not supported (use tool_choice)",
}
# Documented /v1/completions parameters that are refused.
REFUSED_COMPLETION_PARAMS: dict[str, str] = {
    "suffix": "suffix (fill-in-the-middle) is not supported",
    "best_of": "best_of is not supported (use n)",
}
MAX_CHOICES = 8  # n: sequences decoded in parallel for one request
MAX_STOP = 4  # stop strings per request (OpenAI's limit)


def refuse_if_set(name: str, value: Any, reasons: dict[str, str]) -> Any:
    """Raise (a 400 naming ``name``) when a refused parameter carries a value."""
    if value is None:
        return None
    if name == "modalities" and value == ["text"]:
        return None
    raise ValueError(f"{name} is not supported: {reasons[name]}")


def content_text(value: Any) -> Any:
    """OpenAI message content as text: a string stays, a list of parts is joined (text parts
    only; an image, audio or file part is refused: no model here takes one), None (an
    assistant message that only calls tools) is ''."""
    if value is None:
        return ""
    if not isinstance(value, list):
        return value
    texts = []
    for part in value:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind in ("image_url", "input_audio", "file"):
            raise ValueError(
                f"{kind} content parts are not supported: the models served here read text only"
            )
        else:
            raise ValueError("a content part must be {'type': 'text', 'text': <string>}")
    return "\n".join(texts)


def stop_list(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)
