"""Shared plumbing for the benchmarks: loading, the engine call, progress, tables, JSON."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


RESULTS_DIR = Path(__file__).resolve().parent / "results"


# The record loading and engine call live in evals.records (one code path for the
# benchmarks and the evaluation suites); re-exported here for the benchmark modules.
from evals.records import load, measurement, run_engine, statement_codes  # noqa: E402,F401
from evals.suites.common import fmt, jsonable  # noqa: E402,F401 - one copy for both


def engine_or_none():
    """``tools.engine.analyze`` when the engine is importable, else None (and why, on stderr)."""
    try:
        from tools.engine import analyze
    except ImportError as exc:
        print(f"[bench] engine unavailable ({exc}); running without it", file=sys.stderr)
        return None
    return analyze


def progress(tag: str, i: int, n: int, what: str = "") -> None:
    """One overwritten progress line on stderr."""
    end = "\n" if i >= n else ""
    print(f"\r[{tag}] {i}/{n} {what}".ljust(60), end=end, file=sys.stderr, flush=True)


def table(headers: list[str], rows: list[list], digits: int = 1) -> str:
    """A plain fixed-width text table."""
    cells = [[fmt(c, digits) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def write_json(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json`` atomically; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
