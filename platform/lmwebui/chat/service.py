"""ChatService: the one path of every chat request (REST, WebSocket, /v1).

It validates and resolves a request once (provider, engine, canonical model, history,
retrieved context) before anything is routed, runs the turn (chat/turn.py) and records
the same metrics whichever entry point the request came through.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from lmwebui.auth.service import CurrentUser
from lmwebui.chat.chunks import aggregate
from lmwebui.chat.conversations import ConversationStore, new_conversation_id
from lmwebui.chat.engines.base import ChatEngine
from lmwebui.chat.events import Citation, FinalAnswer
from lmwebui.chat.instrument import StreamMetrics
from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    ModelCard,
)
from lmwebui.chat.providers import ProviderRegistry, split_model
from lmwebui.chat.schemas import ChatRequest
from lmwebui.chat.sessions import StreamSessions
from lmwebui.chat.text_completion import (
    TextCompletion,
    TextCompletionRequest,
    as_text_chunk,
    fold_text,
    text_completion_id,
)
from lmwebui.chat.turn import ChatTurn, TurnEvent, TurnPlan
from lmwebui.errors import ServiceUnavailable, ValidationFailed
from lmwebui.settings import ChatSettings

if TYPE_CHECKING:
    from lmwebui.rag.context import ChatRetrieval


class ChatService:
    def __init__(
        self,
        providers: ProviderRegistry,
        store: ConversationStore,
        sessions: StreamSessions,
        settings: ChatSettings,
        rag: ChatRetrieval | None = None,
    ) -> None:
        self.providers = providers
        self.store = store
        self.sessions = sessions
        self.settings = settings
        self.rag = rag
        self._active: Counter[str] = Counter()

    # --- validation -------------------------------------------------------------------

    def _check_text(self, text: str) -> None:
        if len(text) > self.settings.max_message_chars:
            raise ValidationFailed(
                f"message is too long: {len(text)} characters "
                f"(limit {self.settings.max_message_chars})"
            )

    def _check_max_tokens(self, max_tokens: int | None) -> None:
        if max_tokens is not None and max_tokens > self.settings.max_tokens_limit:
            raise ValidationFailed(f"max_tokens must be at most {self.settings.max_tokens_limit}")

    def validate(self, req: ChatRequest) -> None:
        self._check_text(req.message)
        self._check_max_tokens(req.max_tokens)

    # --- LM WebUI chat turns (REST, WebSocket) -----------------------------------------

    async def plan(self, user: CurrentUser, req: ChatRequest) -> TurnPlan:
        """Validate and resolve once: engine, model, history, retrieved context."""
        self.validate(req)
        engine = await self.providers.engine_for(req.provider, user.id)
        model = engine.resolve_model(req.model)
        context = (
            [ChatMessage(role="system", content=req.system_prompt)] if req.system_prompt else []
        )
        if req.conversation_id:
            context += await self.store.history(user.id, req.conversation_id)
        prompt, citations = await self._retrieve(user, req, engine, context)
        return TurnPlan(
            user_id=user.id,
            request=req,
            engine=engine,
            model=model,
            new_id=new_conversation_id(),
            context=context,
            prompt=prompt,
            citations=citations,
        )

    async def turn(self, user: CurrentUser, req: ChatRequest) -> AsyncIterator[TurnEvent]:
        """ReasoningStep* TokenUpdate* FinalAnswer; closing it early cancels generation."""
        with StreamMetrics(self._active, req.provider) as metrics:
            plan = await self.plan(user, req)
            async for event in ChatTurn(plan, self.store).events():
                if event.type == "token_update":
                    metrics.token()
                elif event.type == "final_answer":
                    metrics.completed(event.model, event.prompt_tokens, event.completion_tokens)
                yield event

    async def complete(self, user: CurrentUser, req: ChatRequest) -> FinalAnswer:
        async for event in self.turn(user, req):
            if isinstance(event, FinalAnswer):
                return event
        raise RuntimeError("chat turn ended without a final answer")

    async def start_session(self, user: CurrentUser, req: ChatRequest) -> str:
        """Register a turn for a WebSocket on /ws/chat/{session_id} (any replica) to run."""
        self.validate(req)
        if req.conversation_id:
            await self.store.ensure_access(user.id, req.conversation_id)
        return await self.sessions.create(user.id, req.model_dump_json())

    async def claim_session(self, user: CurrentUser, session_id: str) -> ChatRequest:
        return ChatRequest.model_validate_json(await self.sessions.claim(user.id, session_id))

    async def _retrieve(
        self, user: CurrentUser, req: ChatRequest, engine: ChatEngine, context: list[ChatMessage]
    ) -> tuple[str, list[Citation] | None]:
        """use_rag: the user's top chunks (the conversation's, when it has documents) go into
        the prompt, within the context left after the history and the answer."""
        if not req.use_rag:
            return req.message, None
        if self.rag is None:
            raise ServiceUnavailable("Document retrieval (RAG) is not enabled on this server")
        window = engine.capabilities.context_tokens or self.settings.n_ctx_per_slot
        used = sum(len(m.content) // 3 + 4 for m in context)
        reserve = req.max_tokens or self.rag.answer_reserve_tokens
        ctx = await self.rag.context(
            user.id, req.message, req.conversation_id, window - used - reserve
        )
        return ctx.prompt, ctx.citations

    # --- OpenAI chat completions (/v1) -------------------------------------------------

    async def models(self) -> list[ModelCard]:
        return await self.providers.all_models()

    async def completion_stream(
        self, user: CurrentUser, body: ChatCompletionRequest
    ) -> AsyncIterator[ChatCompletionChunk]:
        """The chunks of a /v1 completion. The first one is awaited before this returns,
        so a bad model or request is an HTTP error rather than a broken stream."""
        stream = _usage_as_openai(self._chunks(user, body), body.stream_options)
        first = await anext(stream)
        return _prepend(first, stream)

    async def completion(
        self, user: CurrentUser, body: ChatCompletionRequest
    ) -> ChatCompletionResponse:
        chunks = [chunk async for chunk in self._chunks(user, body)]
        return aggregate(chunks, chunks[0].model if chunks else body.model)

    async def text_completion_stream(
        self, user: CurrentUser, body: TextCompletionRequest
    ) -> AsyncIterator[TextCompletion]:
        """/v1/completions streamed: ``text_completion`` chunks (first awaited here)."""
        cid = text_completion_id()
        stream = _usage_as_openai(self._text_chunks(user, body), body.stream_options)
        first = await anext(stream)
        return _prepend_text(first, stream, cid)

    async def text_completion(
        self, user: CurrentUser, body: TextCompletionRequest
    ) -> TextCompletion:
        chunks = [chunk async for chunk in self._text_chunks(user, body)]
        return fold_text(chunks, chunks[0].model if chunks else body.model)

    def _chunks(
        self, user: CurrentUser, body: ChatCompletionRequest
    ) -> AsyncIterator[ChatCompletionChunk]:
        texts = [m.content for m in body.messages]
        return self._run(user, body, texts, lambda engine, request: engine.stream(request))

    def _text_chunks(
        self, user: CurrentUser, body: TextCompletionRequest
    ) -> AsyncIterator[ChatCompletionChunk]:
        texts = body.prompts()
        return self._run(user, body, texts, lambda engine, request: engine.complete(request))

    async def _run(
        self,
        user: CurrentUser,
        body: ChatCompletionRequest | TextCompletionRequest,
        texts: list[str],
        start: Callable[[ChatEngine, Any], AsyncIterator[ChatCompletionChunk]],
    ) -> AsyncIterator[ChatCompletionChunk]:
        """One /v1 request on its engine: limits and refused parameters checked, the model
        resolved, the same metrics as every chat turn."""
        provider, name = split_model(body.model)
        with StreamMetrics(self._active, provider) as metrics:
            for text in texts:
                self._check_text(text)
            self._check_max_tokens(body.max_tokens)
            engine = await self.providers.engine_for(provider, user.id)
            _check_refused(engine, provider, body)
            request = body.model_copy(
                update={"model": engine.resolve_model(name), "user": body.user or f"u{user.id}"}
            )
            async for chunk in start(engine, request):
                if any(c.delta.content or c.delta.tool_calls for c in chunk.choices):
                    metrics.token()  # output a client sees: text or tool-call arguments
                if chunk.usage is not None:
                    u = chunk.usage
                    metrics.completed(request.model, u.prompt_tokens, u.completion_tokens)
                yield chunk


def _check_refused(
    engine: ChatEngine, provider: str, body: ChatCompletionRequest | TextCompletionRequest
) -> None:
    """A parameter the engine cannot honour is a 400 naming it, never a silent drop."""
    for name in sorted(engine.capabilities.refused_params):
        if getattr(body, name, None) not in (None, False):
            raise ValidationFailed(
                f"{name} is not supported by provider '{provider}'",
                extra={"fields": [{"field": name, "message": "not supported by this provider"}]},
            )


async def _usage_as_openai(
    chunks: AsyncIterator[ChatCompletionChunk], options: Any
) -> AsyncIterator[ChatCompletionChunk]:
    """OpenAI's streamed usage: none unless ``stream_options.include_usage``, and then in a
    final chunk of its own with ``choices: []`` (engines put it on their last chunk, which
    LM WebUI's own turns read)."""
    usage, last = None, None
    try:
        async for chunk in chunks:
            last = chunk
            if chunk.usage is not None:
                usage, chunk = chunk.usage, chunk.model_copy(update={"usage": None})
            if chunk.choices:
                yield chunk
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    if last is not None and usage is not None and options is not None and options.include_usage:
        yield last.model_copy(update={"choices": [], "usage": usage})


async def _prepend_text(
    first: ChatCompletionChunk, rest: AsyncIterator[ChatCompletionChunk], cid: str
) -> AsyncIterator[TextCompletion]:
    offsets: dict[int, int] = {}
    async for chunk in _prepend(first, rest):
        if chunk.usage is not None or any(
            c.delta.content or c.logprobs or c.finish_reason for c in chunk.choices
        ):
            yield as_text_chunk(chunk, cid, offsets)


async def _prepend(
    first: ChatCompletionChunk, rest: AsyncIterator[ChatCompletionChunk]
) -> AsyncIterator[ChatCompletionChunk]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()  # type: ignore[attr-defined]
