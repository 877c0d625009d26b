"""ChatService: one chat turn as a stream of events (REST, WebSocket and /v1 share it)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from lmwebui.auth.service import CurrentUser
from lmwebui.chat.conversations import ConversationStore, Turn, new_conversation_id
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.protocol import ChatCompletionRequest, ChatMessage, Usage
from lmwebui.chat.providers import ProviderRegistry
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.thinking import (
    REASONING_PASS_PROMPT,
    ThinkSplitter,
    answer_prompt,
    split_steps,
    step_event_fields,
)
from lmwebui.errors import ValidationFailed
from lmwebui.settings import ChatSettings

Event = dict[str, Any]


@dataclass
class _Pass:
    """Accumulates one generation pass."""

    raw: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


@dataclass
class _Steps:
    native: bool
    count: int = 0
    buffer: str = ""

    def feed(self, text: str, final: bool = False) -> list[Event]:
        self.buffer += text
        steps = split_steps(self.buffer)
        if not final:
            # the last piece may still grow; keep it unless the buffer ends on a boundary
            if not self.buffer.endswith("\n\n"):
                steps = steps[:-1]
            if steps:
                consumed = self.buffer.rfind(steps[-1]) + len(steps[-1])
                self.buffer = self.buffer[consumed:]
        else:
            self.buffer = ""
        events = []
        for step in steps:
            self.count += 1
            events.append(
                {
                    "type": "reasoning_step",
                    **step_event_fields(self.count, step, native=self.native),
                }
            )
        return events


class ChatService:
    def __init__(
        self, providers: ProviderRegistry, store: ConversationStore, settings: ChatSettings
    ) -> None:
        self.providers = providers
        self.store = store
        self.settings = settings

    def validate(self, req: ChatRequest) -> None:
        if len(req.message) > self.settings.max_message_chars:
            raise ValidationFailed(
                f"message is too long: {len(req.message)} characters "
                f"(limit {self.settings.max_message_chars})"
            )
        if req.max_tokens is not None and req.max_tokens > self.settings.max_tokens_limit:
            raise ValidationFailed(f"max_tokens must be at most {self.settings.max_tokens_limit}")

    async def events(self, user: CurrentUser, req: ChatRequest) -> AsyncIterator[Event]:
        """reasoning_step* token_update* final_answer. Nothing is persisted unless the turn
        completes; closing the iterator early cancels generation."""
        started = time.perf_counter()
        self.validate(req)
        engine = await self.providers.engine_for(req.provider, user.id)
        model = self.providers.model_for(req.provider, req.model)
        history: list[ChatMessage] = []
        if req.conversation_id:
            history = await self.store.history(user.id, req.conversation_id)
        prefix = (
            [ChatMessage(role="system", content=req.system_prompt)] if req.system_prompt else []
        )
        messages = [*prefix, *history, ChatMessage(role="user", content=req.message)]
        total = Usage()
        reasoning_steps: list[Event] = []
        raw_parts: list[str] = []

        if req.deep_thinking_mode and not await self._reasons_natively(engine, model):
            steps = _Steps(native=False)
            think_msgs = [
                *prefix,
                *history,
                ChatMessage(role="user", content=f"{req.message}\n\n{REASONING_PASS_PROMPT}"),
            ]
            reasoning = _Pass()
            async for text, usage in self._generate(engine, model, think_msgs, req):
                if usage is not None:
                    reasoning.usage = usage
                    continue
                reasoning.raw.append(text)
                for ev in steps.feed(text):
                    reasoning_steps.append(ev)
                    yield ev
            for ev in steps.feed("", final=True):
                reasoning_steps.append(ev)
                yield ev
            notes = "".join(reasoning.raw)
            raw_parts.append(f"<think>{notes}</think>")
            _add(total, reasoning.usage)
            messages = [
                *prefix,
                *history,
                ChatMessage(role="user", content=f"{req.message}\n\n{answer_prompt(notes)}"),
            ]

        answer = _Pass()
        splitter = ThinkSplitter()
        native_steps = _Steps(native=True)
        async for text, usage in self._generate(engine, model, messages, req):
            if usage is not None:
                answer.usage = usage
                continue
            answer.raw.append(text)
            visible, thought = splitter.feed(text)
            if thought and req.deep_thinking_mode:
                for ev in native_steps.feed(thought):
                    reasoning_steps.append(ev)
                    yield ev
            if visible:
                if req.deep_thinking_mode and native_steps.buffer:
                    for ev in native_steps.feed("", final=True):
                        reasoning_steps.append(ev)
                        yield ev
                answer.answer.append(visible)
                yield {"type": "token_update", "token": visible, "is_complete": False}
        tail, thought = splitter.flush()
        if tail:
            answer.answer.append(tail)
            yield {"type": "token_update", "token": tail, "is_complete": False}
        if req.deep_thinking_mode:
            for ev in native_steps.feed(thought, final=True):
                reasoning_steps.append(ev)
                yield ev
        _add(total, answer.usage)
        raw_parts.append("".join(answer.raw))
        content = "".join(answer.answer)

        conversation_id, message_id = await self.store.record_turn(
            user.id,
            req.conversation_id,
            Turn(
                req.message,
                content,
                model,
                req.provider,
                total.prompt_tokens,
                total.completion_tokens,
            ),
            new_conversation_id(),
        )
        final: Event = {
            "type": "final_answer",
            "content": content,
            "tokens_used": total.total_tokens,
            "prompt_tokens": total.prompt_tokens,
            "completion_tokens": total.completion_tokens,
            "processing_time": round(time.perf_counter() - started, 3),
            "conversation_id": conversation_id,
            "message_id": message_id,
            "model": model,
            "provider": req.provider,
        }
        if req.deep_thinking_mode:
            final["reasoning_steps"] = reasoning_steps
        if req.show_raw_response:
            final["raw_response"] = "".join(raw_parts)
        yield final

    async def _generate(
        self, engine: ChatEngine, model: str, messages: list[ChatMessage], req: ChatRequest
    ) -> AsyncIterator[tuple[str, Usage | None]]:
        creq = ChatCompletionRequest(
            model=model,
            messages=messages,
            temperature=req.temperature,
            max_tokens=req.max_tokens,
            stream=True,
        )
        async for chunk in engine.stream(creq):
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content, None
            if chunk.usage is not None:
                yield "", chunk.usage

    async def _reasons_natively(self, engine: ChatEngine, model: str) -> bool:
        try:
            cards = await engine.models()
        except Exception:
            return False
        for card in cards:
            if card.id in (model, f"{model}.gguf"):
                return bool(card.metadata.get("native_reasoning"))
        return False

    async def complete(self, user: CurrentUser, req: ChatRequest) -> Event:
        final: Event = {}
        async for event in self.events(user, req):
            if event["type"] == "final_answer":
                final = event
        return final


def _add(total: Usage, usage: Usage) -> None:
    total.prompt_tokens += usage.prompt_tokens
    total.completion_tokens += usage.completion_tokens
    total.total_tokens += usage.total_tokens
