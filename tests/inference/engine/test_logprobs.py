"""Log probabilities from the batched engine (real Gemma 3 270M model): computed only for
the sequences that ask, from the raw logits of the step, without changing what is
sampled, beside sequences that do not ask and grammar-constrained ones."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from lmwebui.inference.engine import (
    BatchedEngine,
    GenerationChunk,
    SamplingParams,
    TokenLogprob,
)
from lmwebui.inference.engine.logprobs import token_logprob
from lmwebui.inference.grammar import json_object_grammar

EngineFactory = Callable[..., BatchedEngine]
PROMPT = "<start_of_turn>user\nName three colors.<end_of_turn>\n<start_of_turn>model\n"


def test_token_logprob_is_the_log_softmax() -> None:
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal(5000) * 4).astype(np.float32)
    reference = logits.astype(np.float64) - np.logaddexp.reduce(logits.astype(np.float64))
    lp = token_logprob(logits, 17, 5, lambda t: str(t).encode())
    assert lp.chosen.token == 17 and lp.chosen.piece == b"17"
    assert math.isclose(lp.chosen.logprob, reference[17], abs_tol=1e-5)
    best = np.argsort(-reference, kind="stable")[:5]
    assert [t.token for t in lp.top] == [int(t) for t in best]
    assert all(math.isclose(t.logprob, reference[t.token], abs_tol=1e-5) for t in lp.top)
    assert token_logprob(logits, 17, 0, lambda t: b"").top == ()
    greedy = token_logprob(logits, int(best[0]), 3, lambda t: b"")
    assert greedy.chosen.logprob == greedy.top[0].logprob


@dataclass
class Run:
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    logprobs: list[TokenLogprob | None] = field(default_factory=list)


async def run(engine: BatchedEngine, params: SamplingParams) -> Run:
    out = Run()
    async for item in engine.generate(engine.tokenize(PROMPT), params):
        if isinstance(item, GenerationChunk):
            out.tokens += item.token_ids
            out.text += item.text
            if item.token_ids:
                out.logprobs.append(item.logprob)
    return out


@pytest.fixture(scope="module")
def det(engine_factory: EngineFactory) -> BatchedEngine:
    return engine_factory(n_slots=3, n_ctx_per_slot=512, deterministic=True, n_threads_single=1)


async def test_logprobs_only_where_asked_and_sampling_unchanged(det: BatchedEngine) -> None:
    plain = SamplingParams(temperature=0.0, max_tokens=12)
    asked = SamplingParams(temperature=0.0, max_tokens=12, logprobs=4)
    json_asked = SamplingParams(
        temperature=0.0, max_tokens=12, logprobs=2, grammar=json_object_grammar()
    )
    solo = await run(det, plain)
    free, with_lp, constrained = await asyncio.gather(
        run(det, plain), run(det, asked), run(det, json_asked)
    )
    assert free.tokens == with_lp.tokens == solo.tokens  # asking changes nothing sampled
    assert free.logprobs and all(lp is None for lp in free.logprobs)
    assert b"".join(lp.chosen.piece for lp in with_lp.logprobs if lp) == with_lp.text.encode()
    for tok, lp in zip(with_lp.tokens, with_lp.logprobs, strict=True):
        assert lp is not None and lp.chosen.token == tok and len(lp.top) == 4
        assert lp.chosen == lp.top[0]  # greedy: the chosen token is the likeliest
        assert all(a.logprob >= b.logprob for a, b in zip(lp.top, lp.top[1:], strict=False))
    # the grammar picks among what it allows: the raw distribution may prefer another
    for tok, lp in zip(constrained.tokens, constrained.logprobs, strict=True):
        assert lp is not None and lp.chosen.token == tok
        assert lp.chosen.logprob <= lp.top[0].logprob <= 0


async def test_logprobs_bounds(det: BatchedEngine) -> None:
    with pytest.raises(ValueError, match="logprobs"):
        await anext(det.generate(det.tokenize(PROMPT), SamplingParams(logprobs=21)))
