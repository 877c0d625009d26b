"""Structured output and tool calls on the GGUF engine: what a /v1 request's
``response_format``, ``tools`` and ``tool_choice`` turn into.

* ``response_format`` json_object / json_schema: a grammar (inference/grammar.py) the
  answer must follow, plus a system line asking for JSON (the grammar enforces it; the line
  makes a small model's content better).
* ``tools``: listed in a system message (through the model's chat format) unless
  ``tool_choice`` is ``none``. A *forced* call (``required``, or a named function) is
  grammar-constrained: the answer is the arguments object of the named function (or, with
  ``required`` and several tools, ``{"name": ..., "arguments": {...}}`` over all of them)
  and comes back as one ``tool_calls`` entry, ``finish_reason: "tool_calls"``.
  ``auto`` (the default with tools) is a plain, unconstrained text answer: the bundled
  model's chat format has no tool-call syntax to recognise, so the model is shown the tools
  and answers in text. One call at most per answer, whatever ``parallel_tool_calls`` says.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmwebui.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    ChunkChoice,
    ChunkDelta,
    FunctionDelta,
    FunctionSpec,
    NamedToolChoice,
    ToolCallDelta,
)
from lmwebui.inference.grammar import SchemaNotSupported, json_object_grammar, schema_grammar

NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
_REF = re.compile(r"^#/(?:\$defs|definitions)/")


@dataclass(frozen=True)
class Structured:
    grammar: str | None = None
    instruction: str | None = None  # a system message put in front of the conversation
    tool: str | None = None  # a forced call of this function: the answer is its arguments
    wrapped: bool = False  # a forced call of one of several: {"name":..., "arguments":...}
    names: tuple[str, ...] = field(default=())

    def messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        if self.instruction is None:
            return list(messages)
        return [ChatMessage(role="system", content=self.instruction), *messages]

    @property
    def calls_tool(self) -> bool:
        return self.tool is not None or self.wrapped

    def chunks(
        self, stream: AsyncIterator[ChatCompletionChunk]
    ) -> AsyncIterator[ChatCompletionChunk]:
        return _tool_chunks(stream, self) if self.calls_tool else stream


def plan(request: ChatCompletionRequest) -> Structured:
    """What the request asks for; unsupported schemas are a 400 (SchemaNotSupported)."""
    tools = request.tools or []
    choice = request.tool_choice or ("auto" if tools else "none")
    if not tools or choice == "none":
        return _format_only(request, None)
    listing = _tools_text([t.function for t in tools])
    if choice == "auto":
        return _format_only(request, listing)
    named = choice.function.name if isinstance(choice, NamedToolChoice) else None
    fns = [t.function for t in tools if named in (None, t.function.name)]
    if len(fns) == 1:
        fn = fns[0]
        where = f"tools[{[t.function.name for t in tools].index(fn.name)}].function.parameters"
        return Structured(
            grammar=schema_grammar(_parameters(fn, where), where),
            instruction=f"{listing}\nCall the function {fn.name}: answer with its arguments "
            "as one JSON object and nothing else.",
            tool=fn.name,
        )
    return Structured(
        grammar=schema_grammar(_one_of_calls(fns), "tools"),
        instruction=f'{listing}\nCall one of these functions: answer with {{"name": <function '
        'name>, "arguments": <its arguments as a JSON object>}} and nothing else.',
        wrapped=True,
        names=tuple(f.name for f in fns),
    )


def _format_only(request: ChatCompletionRequest, listing: str | None) -> Structured:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return Structured(instruction=listing)
    lines = [listing] if listing else []
    if fmt.json_schema is not None:
        schema = fmt.json_schema.schema_
        grammar = schema_grammar(schema, "response_format.json_schema.schema")
        lines.append(
            "Answer with one JSON object that follows this JSON schema:\n"
            + json.dumps(schema, ensure_ascii=False)
        )
    else:
        grammar = json_object_grammar()
        lines.append("Answer with one JSON object and nothing else.")
    return Structured(grammar=grammar, instruction="\n".join(lines))


def _tools_text(fns: list[FunctionSpec]) -> str:
    described = [
        {"name": f.name, "description": f.description or "", "parameters": f.parameters or {}}
        for f in fns
    ]
    return "You can call these functions (JSON):\n" + json.dumps(described, ensure_ascii=False)


def _parameters(fn: FunctionSpec, where: str) -> dict[str, Any]:
    params = fn.parameters or NO_ARGUMENTS
    if params.get("type", "object") != "object":
        raise SchemaNotSupported(f"{where}: the parameters of a function must be an object")
    return {**params, "type": "object"}


def _one_of_calls(fns: list[FunctionSpec]) -> dict[str, Any]:
    """{"name": f, "arguments": <f's parameters>} for any f; each function's $defs are
    hoisted to the root under a prefix (a $ref is resolved from the root)."""
    defs: dict[str, Any] = {}
    branches = []
    for i, fn in enumerate(fns):
        params = _parameters(fn, f"tools[{i}].function.parameters")
        local = {**params.get("$defs", {}), **params.get("definitions", {})}
        rename = {name: f"f{i}-{name}" for name in local}
        defs.update({rename[k]: _renamed(v, rename) for k, v in local.items()})
        args = {k: v for k, v in params.items() if k not in ("$defs", "definitions")}
        branches.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn.name}, "arguments": _renamed(args, rename)},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = {"anyOf": branches}
    return {**schema, "$defs": defs} if defs else schema


def _renamed(node: Any, rename: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_renamed(v, rename) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _renamed(v, rename) for k, v in node.items()}
    ref = node.get("$ref")
    if isinstance(ref, str) and _REF.match(ref):
        name = ref.rsplit("/", 1)[-1]
        out["$ref"] = f"#/$defs/{rename.get(name, name)}"
    return out


def call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


async def _tool_chunks(
    stream: AsyncIterator[ChatCompletionChunk], plan: Structured
) -> AsyncIterator[ChatCompletionChunk]:
    """Content deltas of a forced call as OpenAI's tool-call deltas: per choice, the first
    delta carries id, type and name, then argument fragments as they are generated. With
    several tools the name is inside the answer, so that call is sent whole at its end."""
    held: dict[int, list[str]] = {}
    async for chunk in stream:
        choices = [_tool_choice(c, plan, held) for c in chunk.choices]
        yield chunk.model_copy(update={"choices": choices})


def _tool_choice(c: ChunkChoice, plan: Structured, held: dict[int, list[str]]) -> ChunkChoice:
    text, finish = c.delta.content, c.finish_reason
    delta = ChunkDelta(role=c.delta.role)
    if plan.tool is not None:  # the name is known: stream the arguments as they come
        if c.delta.role is not None:
            delta.tool_calls = [_delta(id=call_id(), type="function", name=plan.tool, arguments="")]
        elif text:
            delta.tool_calls = [_delta(arguments=text)]
        if finish == "stop":
            finish = "tool_calls"
        return ChunkChoice(index=c.index, delta=delta, finish_reason=finish)
    if text:
        held.setdefault(c.index, []).append(text)
    if finish is not None:
        answer = "".join(held.pop(c.index, []))
        delta.tool_calls = _whole_call(answer)
        if delta.tool_calls is None:  # cut short (length): what there is, as text
            delta.content = answer or None
        elif finish == "stop":
            finish = "tool_calls"
    return ChunkChoice(index=c.index, delta=delta, finish_reason=finish)


def _delta(**kw: Any) -> ToolCallDelta:
    ident, kind = kw.pop("id", None), kw.pop("type", None)
    return ToolCallDelta(index=0, id=ident, type=kind, function=FunctionDelta(**kw))


def _whole_call(text: str) -> list[ToolCallDelta] | None:
    """The answer of a forced call among several tools, or None when it is not complete."""
    try:
        answer = json.loads(text)
        name, arguments = answer["name"], answer["arguments"]
    except (ValueError, KeyError, TypeError):
        return None
    return [
        _delta(id=call_id(), type="function", name=name, arguments=json.dumps(arguments)),
    ]
