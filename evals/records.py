"""Loading records and running the evidence engine: the one code path shared by the
benchmarks (``benchmarks/``) and the evaluation suites (``evals/suites``).

:func:`engine_dict` is exactly what ``ecg-assistant measure PATH --json`` prints for a
record (``load_record(path)`` then ``analyze(record).to_dict()``), so a suite's engine
values are the CLI's values.
"""
from __future__ import annotations

import math
from pathlib import Path


def load(path: str | Path):
    """Load a record (WFDB path with or without ``.hea``) as ``tools.record.Record``, the
    way ``ecg-assistant measure`` does (``tools.record.load_record``)."""
    from tools.record import load_record

    # Resolved: the loader refuses paths with '..' components (a guard for uploads), and
    # the suites take --data as the user typed it.
    path = Path(path).resolve()
    if path.suffix != ".hea" and not path.is_file():  # a WFDB record named without .hea
        path = path.with_name(path.name + ".hea")
    return load_record(path)


def run_engine(analyze, record) -> dict:
    """``analyze(record).to_dict()``; an exception becomes ``{'error': '...'}`` so one bad
    record does not stop an evaluation (the count of errors is reported)."""
    try:
        return analyze(record).to_dict()
    except Exception as exc:  # noqa: BLE001 - an evaluation reports failures, it does not stop
        return {"error": f"{type(exc).__name__}: {exc}"}


def engine_dict(path: str | Path) -> dict:
    """The engine's output for one record file, as ``measure --json`` prints it; a load or
    analysis failure gives ``{'error': ...}``."""
    from tools.engine import analyze

    try:
        record = load(path)
    except Exception as exc:  # noqa: BLE001 - RecordError and friends, reported per record
        return {"error": f"{type(exc).__name__}: {exc}"}
    return run_engine(analyze, record)


def measurement(d: dict, key: str) -> float | None:
    """A measurement's value from an engine dict (None when absent or not finite)."""
    m = (d.get("measurements") or {}).get(key)
    v = m.get("value") if isinstance(m, dict) else m
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def statement_codes(d: dict) -> set[str]:
    """The SNOMED CT codes of an engine dict's statements."""
    return {str(s["snomed"]) for s in d.get("statements") or () if s.get("snomed")}
