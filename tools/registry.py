"""Declare a tool once.

A tool is a typed function ``fn(args: InputModel) -> OutputModel`` whose docstring is its
description. :func:`tool` records it in :data:`TOOLS`; the agent's tool schemas, the HTTP
routes and the CLI are all generated from these declarations, so schema and code cannot drift
(the pydantic-ai pattern).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, get_type_hints

from pydantic import BaseModel


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    fn: Callable[[BaseModel], BaseModel]

    def json_schema(self) -> dict:
        """OpenAI-style function schema for the agent."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description,
                             "parameters": self.input_model.model_json_schema()}}

    def __call__(self, args: BaseModel | dict) -> BaseModel:
        if isinstance(args, dict):
            args = self.input_model.model_validate(args)
        return self.fn(args)


TOOLS: dict[str, ToolSpec] = {}


def tool(name: str) -> Callable:
    """Register ``fn`` as tool ``name``; its one parameter's type and its return type must be
    pydantic models and it must have a docstring."""
    def register(fn: Callable) -> Callable:
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 1:
            raise TypeError(f"tool {name!r}: expected one parameter, got {params}")
        in_model, out_model = hints.get(params[0]), hints.get("return")
        for m in (in_model, out_model):
            if not (inspect.isclass(m) and issubclass(m, BaseModel)):
                raise TypeError(f"tool {name!r}: input and output must be pydantic models")
        doc = inspect.getdoc(fn)
        if not doc:
            raise TypeError(f"tool {name!r}: a docstring is required (it is the description)")
        if name in TOOLS:
            raise ValueError(f"tool {name!r} declared twice")
        TOOLS[name] = ToolSpec(name, doc, in_model, out_model, fn)
        return fn
    return register
