"""Prompt templates (``prompts/*.j2``) rendered with strict Jinja2: a missing variable is an
error, never an empty string. Templates are data; tool descriptions come from docstrings."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(PROMPTS_DIR)), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=True)


def render(name: str, **variables) -> str:
    """Render ``prompts/<name>.j2``."""
    return _env().get_template(f"{name}.j2").render(**variables)
