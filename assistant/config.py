"""One Settings object: environment variables override a TOML config file, which overrides
the defaults. Nothing is read at import time; call :func:`get_settings`.

Environment variables (all optional):

=============================== ============================================================
``ECG_ASSISTANT_HOME``          data directory (default ``~/.cache/ecg-assistant``)
``ECG_ASSISTANT_CONFIG``        TOML file (default ``$ECG_ASSISTANT_HOME/config.toml``)
``ECG_ASSISTANT_LLM_BASE_URL``  OpenAI-compatible endpoint, e.g. ``http://gpu:8000/v1``;
                                empty = start the embedded local model on demand
``ECG_ASSISTANT_LLM_MODEL``     model name at that endpoint
``ECG_ASSISTANT_LLM_API_KEY``   API key for that endpoint
``ECG_ASSISTANT_LLM_IMAGES``    ``1`` when the model accepts images (vLLM with a VLM)
``ECG_ASSISTANT_LLM_TIMEOUT``   seconds per LLM request (default 120)
``ECG_ASSISTANT_API_KEY``       API key required by the HTTP API (unset = open)
``ECG_ASSISTANT_EMBEDDED_BACKEND`` ``xllamacpp`` (default) or ``llama-cpp-python``
``ECG_ASSISTANT_ANALYSIS_WORKERS`` analysis worker processes (0 = threads; ``serve``: CPUs)
``ECG_ASSISTANT_ANALYSIS_QUEUE``   waiting analyses before the API answers 503 (default 64)
``ECG_ASSISTANT_LLM_QUEUE``        waiting LLM report jobs before the API answers 503 (default 16)
``ECG_ASSISTANT_ASK_WAIT``         seconds a question waits for a free LLM slot (default 15)
``ECG_ASSISTANT_LLM_IMPRESSION``   ``auto`` (default: an endpoint's model writes the report's
                                impression, the embedded 1.5B model does not), ``on``, ``off``
=============================== ============================================================
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

_ENV = {
    "home": "ECG_ASSISTANT_HOME",
    "llm_base_url": "ECG_ASSISTANT_LLM_BASE_URL",
    "llm_model": "ECG_ASSISTANT_LLM_MODEL",
    "llm_api_key": "ECG_ASSISTANT_LLM_API_KEY",
    "llm_accepts_images": "ECG_ASSISTANT_LLM_IMAGES",
    "llm_timeout_s": "ECG_ASSISTANT_LLM_TIMEOUT",
    "api_key": "ECG_ASSISTANT_API_KEY",
    "llm_json_mode": "ECG_ASSISTANT_LLM_JSON_MODE",
    "embedded_backend": "ECG_ASSISTANT_EMBEDDED_BACKEND",
    "analysis_workers": "ECG_ASSISTANT_ANALYSIS_WORKERS",
    "analysis_queue": "ECG_ASSISTANT_ANALYSIS_QUEUE",
    "llm_queue": "ECG_ASSISTANT_LLM_QUEUE",
    "ask_wait_s": "ECG_ASSISTANT_ASK_WAIT",
    "llm_impression": "ECG_ASSISTANT_LLM_IMPRESSION",
    "model_dir": "ECG_ASSISTANT_MODEL_DIR",
}


class Settings(BaseModel):
    home: Path = Field(default_factory=lambda: Path.home() / ".cache" / "ecg-assistant")
    # where the embedded model (1.1 GB) is assembled; default <home>/models. Several homes
    # (one per test, per user or per service) can share one copy instead of each holding one.
    model_dir: Path | None = None
    llm_base_url: str = ""
    llm_model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    llm_api_key: str = "not-needed"
    llm_accepts_images: bool = False
    llm_timeout_s: float = 120.0
    llm_max_tokens: int = 450  # as measured in benchmarks/results/agent_bench.json
    llm_temperature: float = 0.0
    llm_json_mode: str = "prompt"          # "prompt" | "json_object" | "json_schema" (vLLM)
    report_budget_s: float = 85.0          # no repair round that would exceed this
    embedded_threads: int = 2
    embedded_ctx: int = 4096
    # "chatml": Qwen's own template. "chatml-function-calling" HTML-escaped '<', '>' and quotes
    # in message text (the model then copied "&lt;" and "&#34;"); forced tool choice works
    # with either.
    embedded_chat_format: str = "chatml"
    embedded_start_timeout_s: float = 180.0
    # "xllamacpp": llama.cpp's C++ server from a prebuilt wheel (parallel slots, prompt-cache
    # reuse); "llama-cpp-python": the source-built Python server (README has the comparison)
    embedded_backend: str = "xllamacpp"
    embedded_slots: int = 2                # requests the embedded model serves at once
    api_key: str = ""
    max_upload_mb: float = 50.0
    # 0: analyses run in threads of the server process; N > 0: in N worker processes that
    # load the models once (`ecg-assistant serve` uses one per CPU unless this is set)
    analysis_workers: int = 0
    # requests waiting for an analysis slot beyond which the API answers 503 + Retry-After
    analysis_queue: int = 64
    # LLM report jobs waiting for a slot (beyond the running ones) before a 503 + Retry-After
    llm_queue: int = 16
    # a question waits this long for a free LLM slot, then gets the deterministic answer
    # (with a note) instead of queueing behind report jobs until its client gives up
    ask_wait_s: float = 15.0
    # who writes a report's impression: "auto" = the model of a configured endpoint (vLLM),
    # not the embedded 1.5B model, whose impressions failed the verifier in 58-100 % of
    # reports and, where they passed, gave wrong advice (README: "The LLM's impression")
    llm_impression: Literal["auto", "on", "off"] = "auto"

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured and the embedded local model is used."""
        return not self.llm_base_url

    @property
    def impression_by_llm(self) -> bool:
        """Whether the LLM writes the report's impression (``llm_impression``)."""
        return self.llm_impression == "on" or (self.llm_impression == "auto"
                                               and not self.embedded)


def get_settings(**overrides) -> Settings:
    """Defaults < config file < environment < ``overrides``."""
    values: dict = {}
    home = Path(os.environ.get(_ENV["home"]) or Settings().home)
    cfg = Path(os.environ.get("ECG_ASSISTANT_CONFIG") or home / "config.toml")
    if cfg.is_file():
        with cfg.open("rb") as fh:
            try:
                values.update(tomllib.load(fh))
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"config file {str(cfg)!r} is not valid TOML: {exc}") from None
    for field, var in _ENV.items():
        if os.environ.get(var) not in (None, ""):
            values[field] = os.environ[var]
    if isinstance(values.get("llm_accepts_images"), str):
        values["llm_accepts_images"] = values["llm_accepts_images"].lower() in ("1", "true",
                                                                                "yes")
    values.update(overrides)
    return Settings(**values)
