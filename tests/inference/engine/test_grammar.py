"""Grammar-constrained sequences in the batched engine (real Gemma 3 270M model)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import jsonschema
import pytest

from lmwebui.inference.engine import BatchedEngine, SamplingParams
from lmwebui.inference.grammar import json_object_grammar, schema_grammar
from tests.inference.engine.test_batched_engine import collect

EngineFactory = Callable[..., BatchedEngine]
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer"},
        "color": {"enum": ["red", "green", "blue"]},
    },
    "required": ["name", "age", "color"],
    "additionalProperties": False,
}
PROMPT = "<start_of_turn>user\nDescribe a person as JSON.<end_of_turn>\n<start_of_turn>model\n"


@pytest.fixture(scope="module")
def det(engine_factory: EngineFactory) -> BatchedEngine:
    return engine_factory(n_slots=3, n_ctx_per_slot=512, deterministic=True, n_threads_single=1)


def params(grammar: str | None, max_tokens: int = 48) -> SamplingParams:
    return SamplingParams(temperature=0.0, max_tokens=max_tokens, grammar=grammar)


async def test_schema_output_validates_and_stops_at_grammar_end(det: BatchedEngine) -> None:
    run = await collect(det, det.tokenize(PROMPT), params(schema_grammar(SCHEMA, "t"), 64))
    assert run.result.finish_reason == "stop"
    jsonschema.validate(json.loads(run.text), SCHEMA)


async def test_constrained_and_free_sequences_in_one_batch_equal_their_solo_runs(
    det: BatchedEngine,
) -> None:
    prompt = det.tokenize(PROMPT)
    other = det.tokenize("Once upon a time, in a small village,")
    jobs = [
        (prompt, params(schema_grammar(SCHEMA, "t"))),
        (prompt, params(None)),
        (other, params(json_object_grammar())),
    ]
    solo = [await collect(det, p, sp) for p, sp in jobs]
    together = await asyncio.gather(*(collect(det, p, sp) for p, sp in jobs))
    assert [r.tokens for r in together] == [r.tokens for r in solo]
    assert solo[0].text != solo[1].text  # the grammar did change the first one
    jsonschema.validate(json.loads(solo[0].text), SCHEMA)


async def test_length_limit_reports_length(det: BatchedEngine) -> None:
    run = await collect(det, det.tokenize(PROMPT), params(schema_grammar(SCHEMA, "t"), 3))
    assert run.result.finish_reason == "length"


async def test_a_grammar_llama_cpp_cannot_parse_is_refused_before_queueing(
    det: BatchedEngine,
) -> None:
    with pytest.raises(ValueError, match="grammar"):
        await collect(det, det.tokenize(PROMPT), params('root ::= "a" undefined-rule'))
    assert det.stats()["queued_requests"] == 0
