"""Provider name → ChatEngine. Built once at start-up from what is configured and deployed."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from lmwebui.chat.engines.base import ChatEngine, EngineCapabilities
from lmwebui.chat.engines.openai_engine import OpenAIChatEngine
from lmwebui.chat.protocol import ModelCard
from lmwebui.chat.schemas import PROVIDER_ALIASES
from lmwebui.errors import UpstreamError, UpstreamTimeout, ValidationFailed
from lmwebui.netpolicy import OutboundPolicy, OutboundRefused

log = logging.getLogger(__name__)

# (user id) -> (api key, base url) of the user's own upstream key, or None
KeyLookup = Callable[[int, str], Awaitable[tuple[str, str | None] | None]]


class OpenAIEngines:
    """Upstream engines keyed by (base URL, key); the user's own key wins over the server's."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float,
        lookup: KeyLookup | None,
        capabilities: EngineCapabilities,
        policy: OutboundPolicy,
        max_clients: int = 64,
    ) -> None:
        self.capabilities = capabilities
        self.base_url = base_url
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.lookup = lookup
        self.policy = policy
        self._clients: OrderedDict[str, OpenAIChatEngine] = OrderedDict()
        self._max = max_clients

    async def for_user(self, user_id: int) -> ChatEngine:
        own = await self.lookup(user_id, "openai") if self.lookup else None
        key, base = own if own else (self.api_key, self.base_url)
        # the server-wide URL is the admin's (trusted); a user's own goes through the policy
        user_url = base is not None and own is not None
        if own and own[1] is None:
            base = self.base_url
        if not key:
            raise ValidationFailed(
                "Provider 'openai' has no API key: set one with PUT /api/providers/openai/key "
                "or configure LMWEBUI_CHAT__OPENAI_API_KEY"
            )
        if user_url and base is not None:
            try:
                self.policy.check_syntax(base)
            except OutboundRefused as exc:
                raise UpstreamError(
                    f"The provider base URL is refused by the outbound policy: {exc}"
                ) from None
        cache_key = hashlib.sha256(f"{user_url}\0{base}\0{key}".encode()).hexdigest()
        engine = self._clients.get(cache_key)
        if engine is None:
            engine = OpenAIChatEngine(
                base,
                key,
                self.timeout_s,
                self.capabilities,
                http_client=self.policy.http_client(self.timeout_s) if user_url else None,
            )
            self._clients[cache_key] = engine
            while len(self._clients) > self._max:
                _, old = self._clients.popitem(last=False)
                await old.close()
        self._clients.move_to_end(cache_key)
        return engine

    async def close(self) -> None:
        for engine in self._clients.values():
            await engine.close()
        self._clients.clear()


class ProviderRegistry:
    """Provider name → engine. Names are canonical (ChatRequest and split_model validate
    aliases); upstream OpenAI engines are per user key."""

    def __init__(self, engines: dict[str, ChatEngine], openai: OpenAIEngines | None) -> None:
        self.engines = engines
        self.openai = openai

    def available(self) -> list[str]:
        names = list(self.engines)
        if self.openai is not None:
            names.append("openai")
        return names

    async def engine_for(self, provider: str, user_id: int) -> ChatEngine:
        if provider == "openai" and self.openai is not None:
            return await self.openai.for_user(user_id)
        engine = self.engines.get(provider)
        if engine is None:
            raise ValidationFailed(
                f"Provider '{provider}' is not enabled on this server "
                f"(enabled: {', '.join(self.available())})"
            )
        return engine

    async def all_models(self) -> list[ModelCard]:
        """Every engine's models; an engine over HTTP that cannot answer now (a vLLM app
        still loading) is left out and logged rather than hiding the others."""
        cards: list[ModelCard] = []
        for name, engine in self.engines.items():
            try:
                cards.extend(await engine.models())
            except (UpstreamError, UpstreamTimeout) as exc:
                log.warning("provider %s lists no models: %s", name, exc)
        return cards

    async def close(self) -> None:
        for engine in self.engines.values():
            await engine.close()
        if self.openai is not None:
            await self.openai.close()


def split_model(model: str) -> tuple[str, str]:
    """An OpenAI-style model name → (provider, model): ``openai/gpt-4o-mini`` →
    ("openai", "gpt-4o-mini"); a name without a known provider prefix is a GGUF model."""
    head, sep, rest = model.partition("/")
    if sep and head.lower() in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[head.lower()], rest
    return "gguf", model
