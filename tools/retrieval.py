"""Typed wrappers over the clinical knowledge base (knowledge/kb.py) and the
``search_knowledge`` tool.

Every passage has a stable id (``k:<slug>``); each engine statement's ``knowledge_id`` is one
of them (``s:lbbb`` -> ``k:lbbb``), so the agent can quote the criterion behind a finding and
the verifier can check a cited id with :func:`get_passage`. Importing this module registers
the tool; it loads no model and opens no database (that happens on the first search).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from knowledge import kb
from knowledge.passages import get_passage as _get_passage
from knowledge.passages import load_passages
from tools.registry import tool


class Passage(BaseModel):
    """A knowledge passage as the agent sees it."""

    id: str = Field(description="stable passage id to cite, e.g. 'k:lbbb'")
    title: str
    text: str
    source: str = Field(description="guideline or textbook the passage follows, with year")
    score: float | None = Field(default=None, description="retrieval score (higher is better; "
                                "comparable only within one search); null for a lookup by id")


class KnowledgeQuery(BaseModel):
    query: str = Field(min_length=1, max_length=1000,
                       description="the clinical question or topic in plain words, e.g. "
                                   "'QRS width for complete LBBB' or 'QTc limit in women'")
    k: int = Field(default=3, ge=1, le=10, description="how many passages to return (1-10)")


class KnowledgeResult(BaseModel):
    passages: list[Passage] = Field(description="best first")


def _out(p, score: float | None = None) -> Passage:
    return Passage(id=p.id, title=p.title, text=p.text, source=p.source, score=score)


def search(query: str, k: int = 3, mode: kb.Mode = "hybrid",
           persist_dir: str | Path | None = None) -> list[Passage]:
    """The ``k`` most relevant passages for ``query``, best first (``mode``: 'hybrid',
    'dense' or 'bm25'; ``persist_dir``: the Chroma directory, default
    ``$ECG_ASSISTANT_HOME/chroma``)."""
    return [_out(p, p.score) for p in kb.query(query, k=k, mode=mode, persist_dir=persist_dir)]


def get_passage(passage_id: str) -> Passage | None:
    """The passage with id ``passage_id`` for citation lookup, or None when no passage has
    that id. Reads the bundled passage file only (no model, no database)."""
    try:
        return _out(_get_passage(passage_id))
    except KeyError:
        return None


def all_passage_ids() -> list[str]:
    """Every valid passage id, sorted (a cited ``k:`` id must be one of them)."""
    return sorted(p.id for p in load_passages())


@tool("search_knowledge")
def search_knowledge(args: KnowledgeQuery) -> KnowledgeResult:
    """Search the clinical ECG knowledge base (criteria and thresholds from ECG guidelines and
    textbooks, e.g. bundle branch blocks, AV blocks, QTc limits, STEMI territories, LVH
    voltage, electrolytes, pacing, lead reversal) and return the k most relevant passages,
    each with a stable id ('k:...') and its source. Cite the passage id for any criterion or
    threshold you state; never state a measurement of this ECG from a passage."""
    return KnowledgeResult(passages=search(args.query, k=args.k))
