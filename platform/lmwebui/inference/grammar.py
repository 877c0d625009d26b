"""JSON Schema → GBNF for grammar-constrained sampling (structured output, tool calls).

A schema comes from the user, so it is checked before it is compiled: only the keywords
the compiler (llama-cpp-python's ``SchemaConverter``) enforces are accepted, and anything
else is a 400 naming it - a keyword the grammar would silently ignore (``minimum``,
``uniqueItems``, ``format: email`` ...) would let an answer through that does not
validate. Sizes are bounded (schema, nesting, repetition counts, the grammar itself) so a
schema cannot make the compile or the sampler expensive. Grammars are cached per schema.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from lmwebui.errors import ValidationFailed

MAX_SCHEMA_CHARS = 32_768
MAX_DEPTH = 16
MAX_REPEAT = 256  # minItems/maxItems/minLength/maxLength and {n,m} in patterns
MAX_PATTERN_CHARS = 256
MAX_GRAMMAR_CHARS = 262_144

# Keywords with no effect on what is valid.
_ANNOTATIONS = {
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
}
_ENFORCED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "definitions",
    "minLength",
    "maxLength",
    "pattern",
    "format",
}
_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
_FORMATS = {"date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5"}
_REF = re.compile(r"^#/(\$defs|definitions)/[A-Za-z0-9_.-]+$")
_QUANTIFIER = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")
# llama-cpp-python's string character rule lets raw control characters into a string, which
# is not JSON; llama.cpp's own converter excludes them (and DEL) - so do we.
_LOOSE_CHAR = r'char ::= [^"\\] |'
_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] |'


class SchemaNotSupported(ValidationFailed):
    """A JSON schema uses a feature grammar-constrained sampling cannot enforce."""


def _problems(node: Any, path: str, depth: int) -> list[str]:
    if not isinstance(node, dict):
        return [f"{path}: a schema must be an object"]
    if depth > MAX_DEPTH:
        return [f"{path}: nested deeper than {MAX_DEPTH} levels"]
    out = [f"{path}: '{k}'" for k in node if k not in _ENFORCED and k not in _ANNOTATIONS]
    types = node.get("type")
    for t in types if isinstance(types, list) else [] if types is None else [types]:
        if not (isinstance(t, str) and t in _TYPES):
            out.append(f"{path}: type {t!r}")
    fmt = node.get("format")
    if "format" in node and not (isinstance(fmt, str) and fmt in _FORMATS):
        out.append(f"{path}: format {node['format']!r}")
    for key in ("minItems", "maxItems", "minLength", "maxLength"):
        value = node.get(key)
        if key in node and not (type(value) is int and 0 <= value <= MAX_REPEAT):
            out.append(f"{path}: '{key}' must be an integer in [0, {MAX_REPEAT}]")
    out += _pattern_problems(node, path)
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and _REF.match(ref)):
        out.append(f"{path}: '$ref' {ref!r} (only '#/$defs/...' or '#/definitions/...')")
    props = node.get("properties", {})
    if not isinstance(props, dict):
        return [*out, f"{path}: 'properties' must be an object"]
    required = node.get("required", [])
    if not isinstance(required, list) or any(
        not isinstance(r, str) or r not in props for r in required
    ):
        out.append(f"{path}: 'required' must list names from 'properties'")
    if "enum" in node and not (isinstance(node["enum"], list) and node["enum"]):
        out.append(f"{path}: 'enum' must be a non-empty list")
    for name, sub in _children(node, props):
        out += _problems(sub, f"{path}/{name}", depth + 1)
    return out


def _pattern_problems(node: dict[str, Any], path: str) -> list[str]:
    pattern = node.get("pattern")
    if pattern is None:
        return []
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        return [f"{path}: 'pattern' must be a string of at most {MAX_PATTERN_CHARS} characters"]
    if not (pattern.startswith("^") and pattern.endswith("$")) or "(?" in pattern:
        return [f"{path}: 'pattern' must be anchored (^...$) and have no (?...) groups"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"{path}: 'pattern' is not a regular expression ({exc})"]
    for low, high in _QUANTIFIER.findall(pattern):
        if any(n and int(n) > MAX_REPEAT for n in (low, high)):
            return [f"{path}: 'pattern' repeats more than {MAX_REPEAT} times"]
    return []


def _children(node: dict[str, Any], props: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [(f"properties/{k}", v) for k, v in props.items()]
    for key in ("$defs", "definitions"):
        defs = node.get(key, {})
        out += [(f"{key}/{k}", v) for k, v in defs.items()] if isinstance(defs, dict) else []
    for key in ("anyOf", "prefixItems"):
        subs = node.get(key, [])
        out += [(f"{key}/{i}", v) for i, v in enumerate(subs)] if isinstance(subs, list) else []
    items = node.get("items")
    if isinstance(items, list):
        out += [(f"items/{i}", v) for i, v in enumerate(items)]
    elif items is not None:
        out.append(("items", items))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out.append(("additionalProperties", extra))
    return out


def check_schema(schema: Any, where: str) -> None:
    """Raise SchemaNotSupported naming every feature of ``schema`` that is not enforced."""
    if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        raise SchemaNotSupported(f"{where}: schema is larger than {MAX_SCHEMA_CHARS} characters")
    problems = _problems(schema, "#", 0)
    if problems:
        shown = "; ".join(problems[:10])
        raise SchemaNotSupported(f"{where}: unsupported JSON schema features: {shown}")


@functools.lru_cache(maxsize=256)
def _compile(canonical: str) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    grammar: str = json_schema_to_gbnf(canonical)
    if _LOOSE_CHAR in grammar:
        grammar = grammar.replace(_LOOSE_CHAR, _JSON_CHAR)
    return grammar


def schema_grammar(schema: dict[str, Any], where: str) -> str:
    """The GBNF grammar (root rule ``root``) whose sentences are the JSON texts valid
    under ``schema``. Cached on the schema's JSON text (key order kept: it is the order
    the properties are generated in)."""
    check_schema(schema, where)
    try:
        grammar = _compile(json.dumps(schema, separators=(",", ":"), ensure_ascii=False))
    except (AssertionError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SchemaNotSupported(f"{where}: the schema cannot be compiled ({exc})") from None
    if len(grammar) > MAX_GRAMMAR_CHARS:
        raise SchemaNotSupported(f"{where}: the schema compiles to a grammar that is too large")
    return grammar


# Any JSON object, of bounded size: at most 16 members at the top, 8 per nested object or
# array, 3 levels deep, strings of at most 256 characters. A small model repeating itself
# ("color": ..., "color": ...) would otherwise never close the object; with the bounds it
# must, well within the default max_tokens. json_schema has no such bounds.
JSON_OBJECT_GRAMMAR = r"""
root ::= "{" space ( member ( "," space member ){0,15} )? "}" space
member ::= string ":" space value
value ::= object1 | array1 | scalar
object1 ::= "{" space ( member1 ( "," space member1 ){0,7} )? "}" space
member1 ::= string ":" space value1
array1 ::= "[" space ( value1 ( "," space value1 ){0,7} )? "]" space
value1 ::= object2 | array2 | scalar
object2 ::= "{" space ( member2 ( "," space member2 ){0,7} )? "}" space
member2 ::= string ":" space scalar
array2 ::= "[" space ( scalar ( "," space scalar ){0,7} )? "]" space
scalar ::= string | number | ("true" | "false" | "null") space
string ::= "\"" char{0,256} "\"" space
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
number ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? space
space ::= " "?
"""


def json_object_grammar() -> str:
    """A JSON object (``response_format: {"type": "json_object"}``), bounded as above."""
    return JSON_OBJECT_GRAMMAR
