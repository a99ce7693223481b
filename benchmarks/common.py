"""Shared plumbing for the benchmarks: loading, the engine call, progress, tables, JSON."""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def load(path: str | Path):
    """Load a WFDB record (path with or without ``.hea``) as ``tools.record.Record``, via
    ``load_record`` when it exists, else via wfdb directly (signal in mV, standard leads)."""
    try:
        from tools.record import load_record
    except ImportError:
        load_record = None
    if load_record is not None:
        path = Path(path)
        return load_record(path if path.suffix == ".hea" else path.with_name(path.name + ".hea"))
    import wfdb
    from tools.record import Record, normalize_lead_name

    path = Path(path)
    rec = wfdb.rdrecord(str(path.with_suffix("") if path.suffix == ".hea" else path))
    units = [str(u).lower() for u in rec.units]
    scale = np.array([1e-3 if u in ("uv", "µv") else 1.0 for u in units])
    return Record(signal=np.asarray(rec.p_signal, dtype=float) * scale, fs=float(rec.fs),
                  sig_name=[normalize_lead_name(n) for n in rec.sig_name],
                  units=["mV"] * len(units), source=str(path))


def engine_or_none():
    """``tools.engine.analyze`` when the engine is importable, else None (and why, on stderr)."""
    try:
        from tools.engine import analyze
    except ImportError as exc:
        print(f"[bench] engine unavailable ({exc}); running without it", file=sys.stderr)
        return None
    return analyze


def run_engine(analyze, record) -> dict:
    """``analyze(record).to_dict()``; an exception becomes ``{'error': '...'}`` so one bad
    record does not stop a benchmark (the count of errors is reported)."""
    try:
        return analyze(record).to_dict()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop
        return {"error": f"{type(exc).__name__}: {exc}"}


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
    """The SNOMED codes of an engine dict's statements."""
    return {str(s["snomed"]) for s in d.get("statements") or () if s.get("snomed")}


def progress(tag: str, i: int, n: int, what: str = "") -> None:
    """One overwritten progress line on stderr."""
    end = "\n" if i >= n else ""
    print(f"\r[{tag}] {i}/{n} {what}".ljust(60), end=end, file=sys.stderr, flush=True)


def fmt(v, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(headers: list[str], rows: list[list], digits: int = 1) -> str:
    """A plain fixed-width text table."""
    cells = [[fmt(c, digits) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def jsonable(x):
    """Convert numpy scalars, sets and tuples so ``json.dump`` accepts the structure."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        seq = sorted(x) if isinstance(x, (set, frozenset)) else x
        return [jsonable(v) for v in seq]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json`` atomically; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
