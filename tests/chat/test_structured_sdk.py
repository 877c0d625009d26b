"""The openai SDK's structured-output helpers against the platform over real HTTP (uvicorn in
a thread, the real GGUF engine): ``chat.completions.parse`` with a pydantic model, and a
forced tool call from ``pydantic_function_tool`` parsed back into its model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import openai
import pytest
from pydantic import BaseModel, Field

from lmwebui.api import create_app
from lmwebui.api.services import Runtime
from tests.support.app import http_server, make_settings
from tests.support.chat_app import gguf_engines
from tests.support.live import login
from tests.support.models import models_dir_with_bundled

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
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    base = tmp_path_factory.mktemp("sdk")
    settings = make_settings(
        base,
        models_dir=models_dir_with_bundled(base / "models"),
        rate_limits={"enabled": False},
        chat={"n_slots": 2, "n_ctx_per_slot": 1024},
    )
    app = create_app(settings, Runtime(chat_engines=gguf_engines))
    with http_server(app) as url:
        token = login(url, "sdk@example.com")["Authorization"].removeprefix("Bearer ")
        with openai.OpenAI(base_url=f"{url}/v1", api_key=token, timeout=300) as client:
            yield client


def test_parse_with_a_pydantic_model(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe a person."}],
        response_format=Person,
        temperature=0.0,
        max_completion_tokens=96,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert isinstance(choice.message.parsed, Person)


def test_forced_tool_call_parsed_into_its_model(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice={"type": "function", "function": {"name": "GetWeather"}},
        temperature=0.0,
        max_completion_tokens=96,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "GetWeather"
    assert isinstance(call.function.parsed_arguments, GetWeather)
