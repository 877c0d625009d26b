"""JSON schema → grammar: what is refused (a 400 naming it), never a crash or a grammar that
ignores a keyword; pydantic's schemas compile. No model needed."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel

from lmwebui.inference.grammar import SchemaNotSupported, schema_grammar

REFUSED: list[tuple[Any, str]] = [
    ({"type": "integer", "minimum": 1}, "minimum"),
    ({"type": "array", "items": {}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "string", "format": "email"}, "email"),
    ({"not": {"type": "string"}}, "not"),
    ({"oneOf": [{"type": "string"}]}, "oneOf"),
    ({"$ref": "https://example.com/s.json"}, "$ref"),
    ({"type": {"a": 1}}, "type"),
    ({"type": "string", "format": {}}, "format"),
    ({"type": "object", "properties": {"a": {}}, "required": [{"a": 1}]}, "required"),
    ({"type": "object", "properties": {"a": {}}, "required": ["b"]}, "required"),
    ({"type": "array", "items": 5}, "items"),
    ({"type": "array", "items": {}, "minItems": True}, "minItems"),
    ({"type": "array", "items": {}, "maxItems": 100_000}, "maxItems"),
    ({"type": "string", "pattern": "^a{1000}$"}, "pattern"),
    ({"type": "string", "pattern": "^(a$"}, "pattern"),
    ({"type": "string", "pattern": "a+"}, "pattern"),
    ({"enum": []}, "enum"),
    (
        {"properties": {"x": {"properties": {"x": {"properties": {}}}}}, "minProperties": 1},
        "minProperties",
    ),
]


@pytest.mark.parametrize(("schema", "named"), REFUSED)
def test_unsupported_features_are_refused_by_name(schema: Any, named: str) -> None:
    with pytest.raises(SchemaNotSupported, match="response_format") as info:
        schema_grammar(schema, "response_format.json_schema.schema")
    assert named in str(info.value)


def test_deep_or_huge_schemas_are_refused() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"a": deep}}
    with pytest.raises(SchemaNotSupported, match="deeper"):
        schema_grammar(deep, "x")
    huge = {"enum": ["x" * 100] * 1000}
    with pytest.raises(SchemaNotSupported, match="larger"):
        schema_grammar(huge, "x")


def test_pydantic_schemas_compile_and_strings_exclude_control_characters() -> None:
    class Item(BaseModel):
        label: str
        kind: Literal["a", "b"]

    class Order(BaseModel):
        items: list[Item]
        note: str | None = None

    grammar = schema_grammar(Order.model_json_schema(), "x")
    assert "root ::=" in grammar
    assert r'char ::= [^"\\\x7F\x00-\x1F]' in grammar
