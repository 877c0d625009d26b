"""Turn chat messages into a prompt: the GGUF's own template, else one chosen by architecture.

The bundled Gemma 3 270M GGUF has no ``tokenizer.chat_template``; llama.cpp's llama-2
fallback makes it emit nothing useful, so an architecture table picks the format instead.

Tool calls in the history (an assistant's ``tool_calls``, ``tool`` messages answering them)
are rendered as text every format can carry (``with_tool_text``): the call as a
``<tool_call>`` JSON line in the assistant turn, the result as a ``<tool_response>`` in a
turn of its own (a user turn for formats without a tool role).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from lmwebui.chat.protocol import ChatMessage, Role


@dataclass(frozen=True)
class FormattedPrompt:
    text: str
    stop: tuple[str, ...]
    add_bos: bool


Formatter = Callable[[Sequence[ChatMessage]], FormattedPrompt]


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tool_call_text(message: ChatMessage) -> str:
    calls = [
        "<tool_call>"
        + json.dumps(
            {"id": c.id, "name": c.function.name, "arguments": _arguments(c.function.arguments)}
        )
        + "</tool_call>"
        for c in message.tool_calls or []
    ]
    return "\n".join([message.content, *calls]).strip()


def with_tool_text(
    messages: Sequence[ChatMessage], *, tool_role: Role = "tool"
) -> list[ChatMessage]:
    """Plain role/content messages: tool calls and tool results written into the text."""
    out = []
    for m in messages:
        if m.role == "assistant" and m.tool_calls:
            out.append(ChatMessage(role="assistant", content=_tool_call_text(m)))
        elif m.role == "tool":
            about = json.dumps({"tool_call_id": m.tool_call_id, "name": m.name})
            text = f"<tool_response>{about}\n{m.content}</tool_response>"
            out.append(ChatMessage(role=tool_role, content=text))
        else:
            out.append(ChatMessage(role=m.role, content=m.content))
    return out


def _fold_system(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Models without a system role get the system text at the top of the first user turn."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    if system and rest and rest[0].role == "user":
        rest[0] = ChatMessage(role="user", content=f"{system}\n\n{rest[0].content}")
    elif system:
        rest.insert(0, ChatMessage(role="user", content=system))
    return rest


def gemma_format(messages: Sequence[ChatMessage]) -> FormattedPrompt:
    parts = []
    for m in _fold_system(with_tool_text(messages, tool_role="user")):
        role = "model" if m.role == "assistant" else "user"
        parts.append(f"<start_of_turn>{role}\n{m.content.strip()}<end_of_turn>\n")
    parts.append("<start_of_turn>model\n")
    return FormattedPrompt("".join(parts), ("<end_of_turn>",), add_bos=True)


def chatml_format(messages: Sequence[ChatMessage]) -> FormattedPrompt:
    parts = [f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in with_tool_text(messages)]
    parts.append("<|im_start|>assistant\n")
    return FormattedPrompt("".join(parts), ("<|im_end|>",), add_bos=False)


def llama3_format(messages: Sequence[ChatMessage]) -> FormattedPrompt:
    parts = ["<|begin_of_text|>"]
    for m in with_tool_text(messages):
        role = "ipython" if m.role == "tool" else m.role  # llama 3's tool-output role
        parts.append(f"<|start_header_id|>{role}<|end_header_id|>\n\n{m.content}<|eot_id|>")
    parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return FormattedPrompt("".join(parts), ("<|eot_id|>",), add_bos=False)


ARCHITECTURE_FORMATS: dict[str, Formatter] = {
    "gemma": gemma_format,
    "gemma2": gemma_format,
    "gemma3": gemma_format,
    "gemma3n": gemma_format,
    "llama": llama3_format,
    "qwen2": chatml_format,
    "qwen3": chatml_format,
}


def build_formatter(metadata: dict[str, str], bos_text: str, eos_text: str) -> Formatter:
    template = metadata.get("tokenizer.chat_template")
    if template:
        jinja = Jinja2ChatFormatter(template=template, eos_token=eos_text, bos_token=bos_text)

        def from_template(messages: Sequence[ChatMessage]) -> FormattedPrompt:
            try:
                plain = with_tool_text(messages)
                rendered = jinja(messages=[m.model_dump() for m in plain])  # type: ignore[misc]
            except Exception:  # a template without a tool role (e.g. strict alternation)
                plain = with_tool_text(messages, tool_role="user")
                rendered = jinja(messages=[m.model_dump() for m in plain])  # type: ignore[misc]
            text = rendered.prompt
            return FormattedPrompt(
                text, (eos_text,) if eos_text else (), add_bos=not text.startswith(bos_text)
            )

        return from_template
    arch = metadata.get("general.architecture", "")
    return ARCHITECTURE_FORMATS.get(arch, chatml_format)
