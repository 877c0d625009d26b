"""The configured bounds, published in the OpenAPI schema.

The pydantic models carry the fixed constraints; the ones that come from settings (message
length, max_tokens, search and embedding bounds) are written into the generated schema
here, so a request that is valid by the published schema is one the server accepts.
"""

from __future__ import annotations

from typing import Any

from lmwebui.settings import Settings

Schema = dict[str, Any]


def _branches(prop: Schema) -> list[Schema]:
    """The non-null alternatives of a property (``anyOf: [T, null]`` or T itself)."""
    options = prop.get("anyOf", [prop])
    return [o for o in options if o.get("type") != "null"]


def _bound(components: Schema, model: str, field: str, **bounds: Any) -> None:
    prop = components.get(model, {}).get("properties", {}).get(field)
    if prop is None:
        return
    for branch in _branches(prop):
        if branch.get("type") != "array":
            branch.update(bounds)


def _bound_query(schema: Schema, path: str, name: str, **bounds: Any) -> None:
    operation = schema.get("paths", {}).get(path, {}).get("get", {})
    for param in operation.get("parameters", []):
        if param.get("name") == name and param.get("in") == "query":
            for branch in _branches(param["schema"]):
                branch.update(bounds)


def _bound_texts(components: Schema, model: str, field: str, max_chars: int) -> None:
    """A text or a list of texts: each at most ``max_chars``."""
    prop = components.get(model, {}).get("properties", {}).get(field)
    for branch in _branches(prop or {}):
        target = branch.get("items", {}) if branch.get("type") == "array" else branch
        target["maxLength"] = max_chars


def _bound_embedding_input(components: Schema, max_items: int, max_chars: int) -> None:
    prop = components.get("EmbeddingsRequest", {}).get("properties", {}).get("input")
    if prop is None:
        return
    for branch in _branches(prop):
        if branch.get("type") == "array":
            branch["maxItems"] = max_items
            branch.get("items", {})["maxLength"] = max_chars
        else:
            branch["maxLength"] = max_chars


def publish_limits(schema: Schema, settings: Settings) -> None:
    """Write the settings' bounds into ``schema`` (the app's generated OpenAPI)."""
    components = schema.get("components", {}).get("schemas", {})
    chat, rag = settings.chat, settings.rag
    _bound(components, "ChatRequest", "message", maxLength=chat.max_message_chars)
    _bound(components, "ChatRequest", "max_tokens", maximum=chat.max_tokens_limit)
    for field in ("max_tokens", "max_completion_tokens"):
        _bound(components, "ChatCompletionRequest", field, maximum=chat.max_tokens_limit)
    _bound(components, "ChatMessage", "content", maxLength=chat.max_message_chars)
    _bound(components, "TextCompletionRequest", "max_tokens", maximum=chat.max_tokens_limit)
    _bound_texts(components, "TextCompletionRequest", "prompt", chat.max_message_chars)
    _bound_embedding_input(components, rag.max_embedding_inputs, rag.max_embedding_input_chars)
    _bound_query(schema, "/api/rag/search", "limit", maximum=rag.max_search_limit)
    _bound_query(schema, "/api/rag/search", "query", maxLength=rag.max_query_chars, pattern=r"\S")
