"""LangChain's ``ChatOpenAI`` against the platform over real HTTP (uvicorn in a thread, the
real GGUF engine in deterministic mode, a platform API key), as a LangChain user points it
at /v1: the token limit it sends (``max_completion_tokens``) holds, streaming, structured
output in json_schema mode and a tool call forced by ``tool_choice``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import jsonschema
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from tests.support.chat_app import gguf_http_server

MODEL = "gemma3-270m-q4_k_m.gguf"


class Person(BaseModel):
    name: str = Field(max_length=24)
    age: int
    color: Literal["red", "green", "blue"]


class GetWeather(BaseModel):
    """Current weather of a city."""

    city: str = Field(max_length=30)
    unit: Literal["celsius", "fahrenheit"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with gguf_http_server(tmp_path_factory.mktemp("langchain")) as served:
        yield served


def chat_model(platform: tuple[str, str], **kwargs: Any) -> ChatOpenAI:
    url, key = platform
    kwargs.setdefault("max_tokens", 96)
    return ChatOpenAI(
        model=MODEL, base_url=f"{url}/v1", api_key=key, temperature=0, timeout=300, **kwargs
    )


def test_invoke_respects_max_tokens(platform: tuple[str, str]) -> None:
    answer = chat_model(platform, max_tokens=12).invoke("Tell me a long story about a dragon.")
    assert isinstance(answer.content, str) and answer.content
    usage = answer.usage_metadata
    assert usage is not None and 1 <= usage["output_tokens"] <= 12
    assert answer.response_metadata["finish_reason"] == "length"


def test_stream_pieces_make_the_answer(platform: tuple[str, str]) -> None:
    model = chat_model(platform, max_tokens=16, stream_usage=True)
    pieces = list(model.stream("Name three colors."))
    assert all(isinstance(p, AIMessageChunk) for p in pieces)
    text = "".join(str(p.content) for p in pieces)
    assert text
    total = pieces[0]
    for piece in pieces[1:]:
        total = total + piece
    assert total.content == text
    assert total.usage_metadata is not None and 1 <= total.usage_metadata["output_tokens"] <= 16
    assert model.invoke("Name three colors.").content == text  # greedy: the same answer


def test_with_structured_output_json_schema(platform: tuple[str, str]) -> None:
    structured = chat_model(platform).with_structured_output(Person, method="json_schema")
    person = structured.invoke("Describe a person.")
    assert isinstance(person, Person)


def test_bind_tools_with_a_forced_tool_choice(platform: tuple[str, str]) -> None:
    model = chat_model(platform).bind_tools([GetWeather], tool_choice="GetWeather")
    answer = model.invoke("Weather in Paris?")
    assert isinstance(answer, AIMessage)
    assert answer.invalid_tool_calls == []  # LangChain parsed the arguments as JSON
    [call] = answer.tool_calls
    assert call["name"] == "GetWeather"
    assert answer.response_metadata["finish_reason"] == "tool_calls"
    jsonschema.validate(call["args"], GetWeather.model_json_schema())
    GetWeather.model_validate(call["args"])
