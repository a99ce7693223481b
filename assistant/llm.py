"""The one LLM client boundary (the only ``openai`` importer).

vLLM, the embedded llama.cpp server and any OpenAI-compatible endpoint differ only in base
URL, model name and whether images are accepted. Structured output is asked for in the prompt
and, where the server does it fast, as ``response_format`` (``llm_json_mode``: ``prompt`` by
default, because grammar-constrained sampling in llama-cpp-python took 6-17x longer here;
``json_schema`` for vLLM); the reply is validated with pydantic, and errors become
:class:`LLMError` with a message that says what to check.
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from assistant.config import Settings


class LLMError(RuntimeError):
    """The LLM endpoint failed, timed out or returned something unusable."""


@dataclass
class ChatResult:
    content: str
    tool_calls: list[dict] = field(default_factory=list)  # [{"id", "name", "arguments"}]
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the server reused from its prompt cache


class LLM:
    """An OpenAI-compatible chat endpoint."""

    def __init__(self, settings: Settings, *, base_url: str | None = None,
                 model: str | None = None, accepts_images: bool | None = None):
        from openai import OpenAI

        self.settings = settings
        self.base_url = base_url or settings.llm_base_url
        if not self.base_url:
            raise LLMError("no LLM endpoint: set ECG_ASSISTANT_LLM_BASE_URL or start the "
                           "embedded model (ecg-assistant llm serve)")
        self.model = model or settings.llm_model
        self.accepts_images = settings.llm_accepts_images if accepts_images is None \
            else accepts_images
        self._client = OpenAI(base_url=self.base_url, api_key=settings.llm_api_key or "x",
                              timeout=settings.llm_timeout_s, max_retries=0)

    def chat(self, messages: list[dict], *, tools: list[dict] | None = None,
             tool_choice: str | dict | None = None, schema: type[BaseModel] | None = None,
             max_tokens: int | None = None, images: list[bytes] | None = None) -> ChatResult:
        """One chat completion. ``images`` (PNG bytes) are attached to the last user message
        only when the model accepts images; ``schema`` asks for JSON matching the model."""
        messages = [dict(m) for m in messages]
        if images and self.accepts_images:
            last = next(i for i in range(len(messages) - 1, -1, -1)
                        if messages[i]["role"] == "user")
            parts = [{"type": "text", "text": messages[last]["content"]}]
            for png in images:
                url = "data:image/png;base64," + base64.b64encode(png).decode()
                parts.append({"type": "image_url", "image_url": {"url": url}})
            messages[last]["content"] = parts
        kw: dict = {"model": self.model, "messages": messages,
                    "max_tokens": max_tokens or self.settings.llm_max_tokens,
                    "temperature": self.settings.llm_temperature}
        if tools:
            kw["tools"] = tools
            if tool_choice:
                kw["tool_choice"] = tool_choice
        mode = self.settings.llm_json_mode
        if schema is not None and mode == "json_schema":
            kw["response_format"] = {"type": "json_schema", "json_schema": {
                "name": schema.__name__, "schema": schema.model_json_schema()}}
        elif schema is not None and mode == "json_object":
            kw["response_format"] = {"type": "json_object"}
        t0 = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(**kw)
        except Exception as exc:  # openai raises many types; all mean the same to the caller
            raise LLMError(_describe(exc, self.base_url)) from exc
        if not getattr(resp, "choices", None):
            raise LLMError(f"LLM at {self.base_url} returned no choices")
        msg = resp.choices[0].message
        calls = []
        for tc in msg.tool_calls or []:
            try:
                args = json.loads(tc.function.arguments or "{}")
            except json.JSONDecodeError:
                args = {"_unparsed": tc.function.arguments}
            calls.append({"id": tc.id, "name": tc.function.name, "arguments": args})
        usage = getattr(resp, "usage", None)
        return ChatResult(content=msg.content or "", tool_calls=calls,
                          seconds=time.perf_counter() - t0,
                          prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                          completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                          cached_tokens=getattr(getattr(usage, "prompt_tokens_details", None),
                                                "cached_tokens", 0) or 0)

    def structured(self, messages: list[dict], schema: type[BaseModel], **kw) -> tuple[
            BaseModel, ChatResult]:
        """Chat and parse the reply as ``schema`` (JSON, possibly wrapped in a code fence)."""
        result = self.chat(messages, schema=schema, **kw)
        return parse_json_reply(result.content, schema), result

    def available(self) -> bool:
        try:
            self._client.models.list()
            return True
        except Exception:
            return False


def parse_json_reply(text: str, schema: type[BaseModel]) -> BaseModel:
    """The first JSON object in ``text`` validated as ``schema``; LLMError otherwise. HTML
    entities some models emit (``&lt;``) are decoded first."""
    import html

    text = html.unescape(text or "")
    m = re.search(r"\{.*\}", text, re.DOTALL)
    if not m:
        raise LLMError(f"LLM reply is not JSON: {text[:200]!r}")
    try:
        return schema.model_validate_json(m.group(0))
    except ValidationError as exc:
        raise LLMError(f"LLM reply does not match {schema.__name__}: "
                       f"{exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from exc


def _describe(exc: Exception, url: str) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return f"LLM at {url} timed out ({name}); raise ECG_ASSISTANT_LLM_TIMEOUT or check load"
    if "Connection" in name:
        return f"cannot reach the LLM at {url} ({name}); is the server running?"
    status = getattr(exc, "status_code", None)
    if status:
        return f"LLM at {url} answered HTTP {status}: {str(exc)[:300]}"
    return f"LLM call to {url} failed: {name}: {str(exc)[:300]}"
