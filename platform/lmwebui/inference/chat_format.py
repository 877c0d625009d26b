"""Turn chat messages into a prompt: the GGUF's own template, else one chosen by architecture.

The bundled Gemma 3 270M GGUF has no ``tokenizer.chat_template``; llama.cpp's llama-2
fallback makes it emit nothing useful, so an architecture table picks the format instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from lmwebui.chat.protocol import ChatMessage


@dataclass(frozen=True)
class FormattedPrompt:
    text: str
    stop: tuple[str, ...]
    add_bos: bool


Formatter = Callable[[Sequence[ChatMessage]], FormattedPrompt]


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
    for m in _fold_system(messages):
        role = "model" if m.role == "assistant" else "user"
        parts.append(f"<start_of_turn>{role}\n{m.content.strip()}<end_of_turn>\n")
    parts.append("<start_of_turn>model\n")
    return FormattedPrompt("".join(parts), ("<end_of_turn>",), add_bos=True)


def chatml_format(messages: Sequence[ChatMessage]) -> FormattedPrompt:
    parts = [f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages]
    parts.append("<|im_start|>assistant\n")
    return FormattedPrompt("".join(parts), ("<|im_end|>",), add_bos=False)


def llama3_format(messages: Sequence[ChatMessage]) -> FormattedPrompt:
    parts = ["<|begin_of_text|>"]
    for m in messages:
        parts.append(f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>")
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
            rendered = jinja(messages=[m.model_dump() for m in messages])  # type: ignore[misc]
            text = rendered.prompt
            return FormattedPrompt(
                text, (eos_text,) if eos_text else (), add_bos=not text.startswith(bos_text)
            )

        return from_template
    arch = metadata.get("general.architecture", "")
    return ARCHITECTURE_FORMATS.get(arch, chatml_format)
