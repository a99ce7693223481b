"""Shared plumbing for the benchmarks: loading, the engine call, progress, tables, JSON."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# The record loading and engine call live in evals.records (one code path for the
# benchmarks and the evaluation suites); re-exported here for the benchmark modules.
from evals.records import load, measurement, run_engine, statement_codes  # noqa: E402,F401
from evals.suites.common import fmt, jsonable  # noqa: E402,F401 - one copy for both


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_record_paths(data: str | Path = SHARED_DATA) -> list[str]:
    """The shared records' headers: the CinC 2021 ones, then LUDB's."""
    data = Path(data)
    return sorted(str(p) for p in (data / "cinc2021").glob("*.hea")) + \
        sorted(str(p) for p in (data / "ludb" / "data").glob("*.hea"))


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


def share(rows: list[dict], key: str) -> float | None:
    """Share of ``rows`` whose ``key`` is true, to 3 decimals (None without rows)."""
    return round(sum(bool(r[key]) for r in rows) / len(rows), 3) if rows else None


def limb_gains(i: float, ii: float) -> dict[str, float]:
    """The six limb leads' share of a frontal vector that gives ``i`` in I and ``ii`` in II:
    the other four by Einthoven's and Goldberger's equations
    (:func:`tools.record.derive_limb_leads`)."""
    from tools.record import derive_limb_leads

    x, names, _ = derive_limb_leads(np.array([[i, ii]], float), ["I", "II"])
    return {name: float(v) for name, v in zip(names, x[0])}


def millivolt_analysis(path: str):
    """The engine's analysis of the record at ``path``, or None where its leads are
    normalised per lead (LUDB as shared): a stimulus or an ST shift of so many millivolts
    added there means nothing."""
    from tools.calibration import spans_normalised
    from tools.engine import analyze

    rec = load(path)
    return None if spans_normalised(np.asarray(rec.signal, float)) else analyze(rec)


def map_records(tag: str, one, paths: list[str], extra: tuple, jobs: int) -> list:
    """``one((path, extra))`` for every path over ``jobs`` processes, in order, with a
    progress line; the results (None included)."""
    from concurrent.futures import ProcessPoolExecutor

    out = []
    with ProcessPoolExecutor(jobs) as pool:
        for i, r in enumerate(pool.map(one, [(p, extra) for p in paths]), 1):
            progress(tag, i, len(paths), Path(paths[i - 1]).stem)
            out.append(r)
    return out


def add_noise_arg(ap) -> None:
    """``--noise KIND``: benchmarks.noise_bench's noise of that kind added to every rebuilt
    record (a real recording is never as clean as complexes laid on a line)."""
    from benchmarks.noise_bench import CONDITIONS

    ap.add_argument("--noise", default=None, choices=CONDITIONS,
                    help="add benchmarks.noise_bench's noise of this kind to every rebuilt "
                         "record")


def scenario_args(argv, doc: str, scenarios: tuple[str, ...], out: str):
    """The arguments of a benchmark that rebuilds every shared record into scenarios:
    ``--jobs``, ``--limit`` (first N records), ``--scenarios``, ``--noise`` (the noise of
    benchmarks.noise_bench added to every rebuilt record: a real recording is never as clean
    as complexes laid on a line) and ``--out`` (results name; ``<out>_noise_<kind>`` with
    ``--noise``)."""
    import argparse
    import os

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--limit", type=int, default=None, help="first N shared records only")
    ap.add_argument("--scenarios", nargs="+", choices=scenarios, default=list(scenarios))
    add_noise_arg(ap)
    ap.add_argument("--out", default=None, help="results name")
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = out + (f"_noise_{args.noise}" if args.noise else "")
    return args


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


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, *, ui: bool = False, log=None,
                 timeout_s: float = 120) -> subprocess.Popen:
    """``ecg-assistant serve`` on ``port`` with ``home`` as its data directory, no LLM endpoint
    and no API key; returns once ``/healthz`` answers (RuntimeError, with the end of ``log``
    when it is a file, if the server exits or does not answer within ``timeout_s``)."""
    import httpx

    env = {**os.environ, "ECG_ASSISTANT_HOME": str(home), "ECG_ASSISTANT_LLM_BASE_URL": "",
           "ECG_ASSISTANT_API_KEY": ""}
    exe = Path(sys.executable).with_name("ecg-assistant")
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)] + \
        ([] if ui else ["--no-ui"])
    proc = subprocess.Popen(cmd, env=env, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    tail = lambda: Path(log.name).read_text()[-2000:] if log else ""  # noqa: E731
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError("server exited while starting: " + tail())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server did not answer /healthz within {timeout_s:g} s: " + tail())
