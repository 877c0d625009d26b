"""ChatService: one chat turn as a stream of events (REST, WebSocket and /v1 share it)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
from lmwebui.errors import ServiceUnavailable, ValidationFailed
from lmwebui.metrics import get_metrics
from lmwebui.settings import ChatSettings

if TYPE_CHECKING:
    from lmwebui.rag.context import ChatRetrieval

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
        self,
        providers: ProviderRegistry,
        store: ConversationStore,
        settings: ChatSettings,
        rag: ChatRetrieval | None = None,
    ) -> None:
        self.providers = providers
        self.store = store
        self.settings = settings
        self._active_streams: Counter[str] = Counter()
        self.rag = rag

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
        completes; closing the iterator early cancels generation. Instrumented here."""
        metrics = get_metrics()
        started = time.perf_counter()
        first = last = 0.0
        gaps: list[float] = []
        outcome, model = "error", "unknown"
        streams = self._active_streams
        streams[req.provider] += 1
        metrics.set(
            "lmwebui_chat_active_streams", streams[req.provider], {"provider": req.provider}
        )
        try:
            async for event in self._events(user, req):
                if event["type"] == "token_update":
                    now = time.perf_counter()
                    if first:
                        gaps.append(now - last)
                    first = first or now
                    last = now
                elif event["type"] == "final_answer":
                    outcome, model = "completed", str(event["model"])
                    tags = {"provider": req.provider, "model": model}
                    metrics.inc(
                        "lmwebui_chat_tokens_total",
                        event["prompt_tokens"],
                        {**tags, "direction": "in"},
                    )
                    metrics.inc(
                        "lmwebui_chat_tokens_total",
                        event["completion_tokens"],
                        {**tags, "direction": "out"},
                    )
                    if first:
                        metrics.observe("lmwebui_chat_ttft_seconds", first - started, tags)
                    for gap in gaps:
                        metrics.observe("lmwebui_chat_inter_token_seconds", gap, tags)
                yield event
        except (GeneratorExit, asyncio.CancelledError):
            outcome = "cancelled"
            raise
        finally:
            streams[req.provider] -= 1
            metrics.set(
                "lmwebui_chat_active_streams", streams[req.provider], {"provider": req.provider}
            )
            metrics.inc(
                "lmwebui_chat_requests_total",
                tags={"provider": req.provider, "model": model, "outcome": outcome},
            )

    async def _events(self, user: CurrentUser, req: ChatRequest) -> AsyncIterator[Event]:
        started = time.perf_counter()
        self.validate(req)
        engine = await self.providers.engine_for(req.provider, user.id)
        model = self.providers.model_for(req.provider, req.model)
        history: list[ChatMessage] = []
        # Known before generation: the affinity key that keeps a conversation on the replica
        # holding its KV cache.
        new_id = new_conversation_id()
        affinity = req.conversation_id or new_id
        if req.conversation_id:
            history = await self.store.history(user.id, req.conversation_id)
        prefix = (
            [ChatMessage(role="system", content=req.system_prompt)] if req.system_prompt else []
        )
        prompt, citations = await self._rag_prompt(user, req, [*prefix, *history])
        messages = [*prefix, *history, ChatMessage(role="user", content=prompt)]
        total = Usage()
        reasoning_steps: list[Event] = []
        raw_parts: list[str] = []

        if req.deep_thinking_mode and not await self._reasons_natively(engine, model):
            steps = _Steps(native=False)
            think_msgs = [
                *prefix,
                *history,
                ChatMessage(role="user", content=f"{prompt}\n\n{REASONING_PASS_PROMPT}"),
            ]
            reasoning = _Pass()
            async for text, usage in self._generate(engine, model, think_msgs, req, affinity):
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
                ChatMessage(role="user", content=f"{prompt}\n\n{answer_prompt(notes)}"),
            ]

        answer = _Pass()
        splitter = ThinkSplitter()
        native_steps = _Steps(native=True)
        async for text, usage in self._generate(engine, model, messages, req, affinity):
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
            new_id,  # the id turn 1 was routed by: turn 2 finds the same replica's KV
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
        if citations is not None:
            final["citations"] = citations
        yield final

    async def _generate(
        self,
        engine: ChatEngine,
        model: str,
        messages: list[ChatMessage],
        req: ChatRequest,
        affinity: str,
    ) -> AsyncIterator[tuple[str, Usage | None]]:
        creq = ChatCompletionRequest(
            model=model,
            messages=messages,
            temperature=req.temperature,
            max_tokens=req.max_tokens,
            stream=True,
            user=affinity,
        )
        async for chunk in engine.stream(creq):
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content, None
            if chunk.usage is not None:
                yield "", chunk.usage

    async def _rag_prompt(
        self, user: CurrentUser, req: ChatRequest, context: list[ChatMessage]
    ) -> tuple[str, list[dict[str, Any]] | None]:
        """use_rag: the user's top chunks (the conversation's, when it has documents) go into
        the prompt within the context left after history and the answer."""
        if not req.use_rag:
            return req.message, None
        if self.rag is None:
            raise ServiceUnavailable("Document retrieval (RAG) is not enabled on this server")
        used = sum(len(m.content) // 3 + 4 for m in context)
        reserve = req.max_tokens or self.rag.answer_reserve_tokens
        available = self.settings.n_ctx_per_slot - used - reserve
        ctx = await self.rag.context(user.id, req.message, req.conversation_id, available)
        return ctx.prompt, ctx.citations

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
