"""ScriptedEngine: a ChatEngine that answers from a script, for fast deterministic chat tests.

Inject it like any engine::

    engine = ScriptedEngine(["Hello there!"])
    app = create_app(settings, Runtime(chat_engines=lambda s: {"gguf": engine}))

It streams OpenAI-shaped chunks the way the GGUF engine does (a first chunk with the role,
one chunk per content piece, a last chunk with ``finish_reason`` and ``usage``), records
every request it receives (``engine.calls``), can fail mid-stream (``fail_next``) and can
hold a stream after N pieces until released (``block_next`` / ``release``) to test cancel.
The app runs in the TestClient's thread: everything a test waits on is a threading.Event.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from lmwebui.chat.chunks import StreamChunks
from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    ModelCard,
    Usage,
)
from lmwebui.chat.text_completion import TextCompletionRequest
from lmwebui.settings import ChatSettings

# What a request names when it names no model (the platform's default GGUF model).
DEFAULT_MODEL: str = ChatSettings.model_fields["default_model"].default

# A reply: a string (streamed word by word, whitespace kept) or the exact list of pieces.
Reply = str | Sequence[str]
Script = Sequence[Reply] | Callable[[ChatCompletionRequest], Reply]


def pieces(reply: Reply) -> list[str]:
    """The content chunks a reply is streamed as."""
    if isinstance(reply, str):
        return re.findall(r"\S+\s*|\s+", reply)
    return list(reply)


def count_tokens(text: str) -> int:
    """The engine's token count: whitespace-separated words (deterministic, cheap)."""
    return len(text.split())


@dataclass
class Call:
    """One stream the engine served."""

    request: ChatCompletionRequest
    reply: list[str]
    usage: Usage
    sent: list[str] = field(default_factory=list)  # content pieces yielded so far
    completed: bool = False  # the last chunk (finish_reason + usage) was yielded
    closed: threading.Event = field(default_factory=threading.Event)  # generator finished

    @property
    def stopped_early(self) -> bool:
        """Closed by the consumer (cancel, disconnect, error) before the end."""
        return self.closed.is_set() and not self.completed

    @property
    def last_user_message(self) -> str:
        return next(m.content for m in reversed(self.request.messages) if m.role == "user")


@dataclass
class _Fault:
    after: int
    error: BaseException | None = None  # raise this after `after` pieces
    block: bool = False  # or hold the stream there until release()


class ScriptedEngine(ChatEngine):
    def __init__(
        self,
        script: Script = ("Hello from the scripted engine.",),
        *,
        models: Sequence[str] = (DEFAULT_MODEL,),
        native_reasoning: bool = False,
        context_tokens: int = 4096,
        finish_reason: str = "stop",
    ) -> None:
        """``script``: the replies in order (the last one repeats) or a function of the
        request. ``native_reasoning`` and ``context_tokens`` (one sequence's window) are what
        the engine advertises (its capabilities)."""
        self.capabilities = EngineCapabilities(
            default_model=DEFAULT_MODEL,
            native_reasoning=native_reasoning,
            context_tokens=context_tokens,
            # its script has no log probabilities: it refuses them, as an engine must
            refused_params=frozenset({"logprobs", "top_logprobs"}),
        )
        self.script = script
        self.model_ids = list(models)
        self.native_reasoning = native_reasoning
        self.finish_reason = finish_reason
        self.calls: list[Call] = []
        self.completions: list[TextCompletionRequest] = []  # /v1/completions requests
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.blocked = threading.Event()  # a stream reached its block point
        self._release = threading.Event()

    # ------------------------------------------------------------------ test controls
    def fail_next(self, error: BaseException, after: int = 0) -> None:
        """The next stream raises ``error`` after yielding ``after`` content pieces."""
        with self._lock:
            self._faults.append(_Fault(after, error=error))

    def block_next(self, after: int = 1) -> None:
        """The next stream stops after ``after`` content pieces until ``release()``."""
        self.blocked.clear()
        self._release.clear()
        with self._lock:
            self._faults.append(_Fault(after, block=True))

    def release(self) -> None:
        self._release.set()

    def wait_blocked(self, timeout: float = 10) -> None:
        assert self.blocked.wait(timeout), "the engine's stream never reached its block point"

    @property
    def requests(self) -> list[ChatCompletionRequest]:
        return [c.request for c in self.calls]

    def wait_closed(self, call: Call, timeout: float = 10) -> None:
        assert call.closed.wait(timeout), "the engine's stream was never closed"

    # ------------------------------------------------------------------ ChatEngine
    def _reply_for(self, request: ChatCompletionRequest) -> list[str]:
        if callable(self.script):
            return pieces(self.script(request))
        replies = list(self.script)
        return pieces(replies[min(len(self.calls), len(replies) - 1)])

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        reply = self._reply_for(request)
        prompt_tokens = sum(count_tokens(m.content) for m in request.messages)
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=len(reply),
            total_tokens=prompt_tokens + len(reply),
        )
        with self._lock:
            call = Call(request, reply, usage)
            self.calls.append(call)
            fault = self._faults.pop(0) if self._faults else None
        chunk = StreamChunks(request.model)

        try:
            yield chunk("", role="assistant")
            for i, text in enumerate(reply):
                if fault is not None and i == fault.after:
                    await self._trip(fault)
                call.sent.append(text)
                yield chunk(text)
            if fault is not None and fault.after >= len(reply):
                await self._trip(fault)
            call.completed = True
            yield chunk(None, finish=self.finish_reason, usage=usage)
        finally:
            call.closed.set()

    async def complete(self, request: TextCompletionRequest) -> AsyncIterator[ChatCompletionChunk]:
        """/v1/completions: each prompt x n answered with the script's reply (echo first),
        the usage on the last finish chunk, as the GGUF engine does."""
        self.completions.append(request)
        chunk = StreamChunks(request.model)
        usage = Usage()
        for p, prompt in enumerate(request.prompts()):
            reply = self._reply_for(
                ChatCompletionRequest(
                    model=request.model, messages=[ChatMessage(role="user", content=prompt)]
                )
            )[: request.max_tokens]
            usage.prompt_tokens += count_tokens(prompt)
            for i in range(p * request.n, (p + 1) * request.n):
                yield chunk("", role="assistant", index=i)
                for text in ([prompt] if request.echo else []) + reply:
                    yield chunk(text, index=i)
                usage.completion_tokens += len(reply)
                usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
                last = p == len(request.prompts()) - 1 and i == (p + 1) * request.n - 1
                finish = "length" if len(reply) == request.max_tokens else self.finish_reason
                yield chunk(None, finish=finish, usage=usage if last else None, index=i)

    async def _trip(self, fault: _Fault) -> None:
        if fault.error is not None:
            raise fault.error
        self.blocked.set()
        while not self._release.is_set():
            await asyncio.sleep(0.005)

    async def models(self) -> list[ModelCard]:
        return [
            ModelCard(
                id=name,
                provider="gguf",
                created=int(time.time()),
                metadata={"native_reasoning": self.native_reasoning},
            )
            for name in self.model_ids
        ]
