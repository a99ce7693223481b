"""Clinical knowledge passages: the bundled data file and the model that validates it.

``passages.json`` holds short passages written for this project (not copied guideline text),
each with a stable id (``k:<slug>``; the evidence engine's statements cite ``k:<statement id>``),
a title, 60-150 words of concrete criteria and numbers, the guideline or textbook it follows
(with its year) and tags. The file is validated on every load; nothing is read at import time.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PASSAGES_FILE = Path(__file__).with_name("passages.json")
ID_PATTERN = r"^k:[a-z0-9_]+$"
MIN_WORDS, MAX_WORDS = 50, 170          # the bundled file keeps to 60-150 (tests check it)
_YEAR = re.compile(r"\b(19|20)\d\d\b")


class Passage(BaseModel):
    """One knowledge passage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN, description="stable id, e.g. 'k:lbbb'")
    title: str = Field(min_length=3, max_length=120)
    text: str = Field(description="the passage, 60-150 words with criteria and numbers")
    source: str = Field(min_length=5, description="guideline or textbook, with year")
    tags: list[str] = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _word_count(cls, v: str) -> str:
        n = len(v.split())
        if not MIN_WORDS <= n <= MAX_WORDS:
            raise ValueError(f"text has {n} words; expected {MIN_WORDS}-{MAX_WORDS}")
        return v

    @field_validator("source")
    @classmethod
    def _has_year(cls, v: str) -> str:
        if not _YEAR.search(v):
            raise ValueError(f"source {v!r} names no year")
        return v


def passages_path(path: str | Path | None = None) -> Path:
    """``path`` as a Path, or the bundled ``knowledge/passages.json``."""
    return Path(path) if path is not None else PASSAGES_FILE


def file_digest(path: str | Path | None = None) -> str:
    """SHA-256 of the passage file's bytes."""
    return hashlib.sha256(_read(passages_path(path))).hexdigest()


def load_passages(path: str | Path | None = None) -> list[Passage]:
    """All passages of ``path`` (default: the bundled file), validated; ids must be unique.

    Raises ValueError naming the file and the offending passage."""
    p = passages_path(path)
    data = _read(p)
    return list(_parse(str(p), hashlib.sha256(data).hexdigest(), data))


def passage_index(path: str | Path | None = None) -> dict[str, Passage]:
    """Passages by id."""
    return {p.id: p for p in load_passages(path)}


def get_passage(passage_id: str, path: str | Path | None = None) -> Passage:
    """The passage with id ``passage_id``; KeyError names it when it does not exist."""
    found = passage_index(path).get(passage_id)
    if found is None:
        raise KeyError(f"no knowledge passage {passage_id!r} in {str(passages_path(path))!r} "
                       "(ids look like 'k:lbbb')")
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read knowledge passages {str(path)!r}: {exc}") from None


@lru_cache(maxsize=8)
def _parse(path: str, digest: str, data: bytes) -> tuple[Passage, ...]:
    # keyed by the digest too, so an edited file is re-validated
    try:
        rows = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path!r} is not valid JSON: {exc}") from None
    if not isinstance(rows, list):
        raise ValueError(f"{path!r}: expected a JSON list of passages, got {type(rows).__name__}")
    out, seen = [], set()
    for i, row in enumerate(rows):
        try:
            passage = Passage.model_validate(row)
        except ValidationError as exc:
            pid = row.get("id") if isinstance(row, dict) else None
            raise ValueError(f"{path!r}: passage #{i} ({pid!r}) is invalid: {exc}") from None
        if passage.id in seen:
            raise ValueError(f"{path!r}: passage id {passage.id!r} occurs more than once")
        seen.add(passage.id)
        out.append(passage)
    return tuple(out)
