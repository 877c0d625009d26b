"""One chat turn in steps: plan (resolved by ChatService), reason, answer, record.

``ChatTurn.events()`` yields ReasoningStep* TokenUpdate* FinalAnswer. Nothing is stored
unless the turn completes; closing the iterator early cancels generation on the engine.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from lmwebui.chat.conversations import ConversationStore, Turn
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.events import Citation, FinalAnswer, ReasoningStep, TokenUpdate
from lmwebui.chat.protocol import ChatCompletionRequest, ChatMessage, Usage
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.thinking import REASONING_PASS_PROMPT, StepSplitter, ThinkSplitter, answer_prompt

TurnEvent = ReasoningStep | TokenUpdate | FinalAnswer


@dataclass(frozen=True)
class TurnPlan:
    """Everything a turn needs, resolved and validated once before generation starts."""

    user_id: int
    request: ChatRequest
    engine: ChatEngine
    model: str  # canonical id (engine.resolve_model)
    new_id: str  # the id a new conversation gets; turn 1 is routed by it
    context: list[ChatMessage]  # system prompt + stored history
    prompt: str  # the user's message, with retrieved excerpts when use_rag
    citations: list[Citation] | None
    started: float = field(default_factory=time.perf_counter)

    @property
    def affinity(self) -> str:
        """The routing key that keeps a conversation on the replica holding its KV."""
        return self.request.conversation_id or self.new_id

    @property
    def native_reasoning(self) -> bool:
        return self.engine.capabilities.native_reasoning


@dataclass
class _Output:
    usage: Usage = field(default_factory=Usage)
    raw: list[str] = field(default_factory=list)  # every pass, untouched
    answer: list[str] = field(default_factory=list)  # visible text
    steps: list[ReasoningStep] = field(default_factory=list)

    def add_usage(self, usage: Usage) -> None:
        self.usage.prompt_tokens += usage.prompt_tokens
        self.usage.completion_tokens += usage.completion_tokens
        self.usage.total_tokens += usage.total_tokens


class ChatTurn:
    def __init__(self, plan: TurnPlan, store: ConversationStore) -> None:
        self.plan = plan
        self.store = store
        self.out = _Output()

    async def events(self) -> AsyncIterator[TurnEvent]:
        plan, deep = self.plan, self.plan.request.deep_thinking_mode
        question = plan.prompt
        if deep and not plan.native_reasoning:
            notes: list[str] = []
            async for step in self.reason(notes):
                yield step
            question = f"{plan.prompt}\n\n{answer_prompt(''.join(notes))}"
        async for event in self.answer(question):
            yield event
        yield await self.record()

    async def reason(self, notes: list[str]) -> AsyncIterator[ReasoningStep]:
        """The reasoning pass of a model that does not think natively: numbered steps."""
        steps = StepSplitter(native=False)
        async for text in self._generate(f"{self.plan.prompt}\n\n{REASONING_PASS_PROMPT}"):
            notes.append(text)
            for step in steps.feed(text):
                yield self._step(step)
        for step in steps.feed("", final=True):
            yield self._step(step)
        self.out.raw.append(f"<think>{''.join(notes)}</think>")

    async def answer(self, question: str) -> AsyncIterator[ReasoningStep | TokenUpdate]:
        """The answer pass: visible tokens; native <think> text becomes reasoning steps."""
        deep = self.plan.request.deep_thinking_mode
        splitter, steps, raw = ThinkSplitter(), StepSplitter(native=True), []
        async for text in self._generate(question):
            raw.append(text)
            visible, thought = splitter.feed(text)
            if deep and thought:
                for step in steps.feed(thought):
                    yield self._step(step)
            if visible:
                if deep and steps.buffer:  # the thinking ended: its last step is complete
                    for step in steps.feed("", final=True):
                        yield self._step(step)
                yield self._token(visible)
        tail, thought = splitter.flush()
        if tail:
            yield self._token(tail)
        if deep:
            for step in steps.feed(thought, final=True):
                yield self._step(step)
        self.out.raw.append("".join(raw))

    async def record(self) -> FinalAnswer:
        """Store the exchange (one transaction) and build the final answer."""
        plan, req, out = self.plan, self.plan.request, self.out
        content = "".join(out.answer)
        conversation_id, message_id = await self.store.record_turn(
            plan.user_id,
            req.conversation_id,
            Turn(
                req.message,
                content,
                plan.model,
                req.provider,
                out.usage.prompt_tokens,
                out.usage.completion_tokens,
            ),
            plan.new_id,  # the id turn 1 was routed by: turn 2 finds the same replica's KV
        )
        return FinalAnswer(
            content=content,
            tokens_used=out.usage.total_tokens,
            prompt_tokens=out.usage.prompt_tokens,
            completion_tokens=out.usage.completion_tokens,
            processing_time=round(time.perf_counter() - plan.started, 3),
            conversation_id=conversation_id,
            message_id=message_id,
            model=plan.model,
            provider=req.provider,
            reasoning_steps=out.steps if req.deep_thinking_mode else None,
            raw_response="".join(out.raw) if req.show_raw_response else None,
            citations=plan.citations,
        )

    def _step(self, step: ReasoningStep) -> ReasoningStep:
        self.out.steps.append(step)
        return step

    def _token(self, text: str) -> TokenUpdate:
        self.out.answer.append(text)
        return TokenUpdate(token=text)

    async def _generate(self, user_text: str) -> AsyncIterator[str]:
        """One generation over the plan's context + ``user_text``; usage is summed."""
        plan = self.plan
        request = ChatCompletionRequest(
            model=plan.model,
            messages=[*plan.context, ChatMessage(role="user", content=user_text)],
            temperature=plan.request.temperature,
            max_tokens=plan.request.max_tokens,
            stream=True,
            user=plan.affinity,
        )
        async for chunk in plan.engine.stream(request):
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content
            if chunk.usage is not None:
                self.out.add_usage(chunk.usage)
