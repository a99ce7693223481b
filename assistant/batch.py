"""Measure whole archives: ``ecg-assistant batch PATHS|DIR --out results.parquet``.

One row per record: ``path``, ``error`` (null when fine), one column per global measurement
named as in ``measure`` (``hr_bpm``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qrs_axis_deg``, ...),
``statements`` (labels), ``snomed`` (codes) and ``report`` (the whole analysis as JSON text,
what ``measure --json`` prints). The per-record function :func:`measure_row` is the same for
every runner:

* ``local`` (default): worker processes (``--jobs N``), each loading the models once;
* ``ray``: Ray Data with actors that load the models once (``pip install .[scale]``), on a
  local Ray instance or a cluster (``RAY_ADDRESS``); identical output.

Resumable: finished rows are appended to ``<out>.parts.jsonl`` as they come; a rerun skips
the records already there and the parquet file is written from it at the end.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

# the same JSON as `measure --json` (numpy scalars as numbers)
from assistant.cli import _json_default

def find_records(inputs: Iterable[str]) -> list[str]:
    """Record paths from files and folders (folders searched recursively for the files a
    record is opened by), sorted, unique."""
    from tools.record import RECORD_SUFFIXES

    out: list[str] = []
    for item in inputs:
        p = Path(item).expanduser().resolve()
        if p.is_dir():
            out += [str(f) for f in sorted(p.rglob("*"))
                    if f.is_file() and f.suffix.lower() in RECORD_SUFFIXES]
        else:
            out.append(str(p))
    return list(dict.fromkeys(out))


def measure_row(path: str, fs: float | None = None) -> dict:
    """The row of one record (never raises: a failure is the row's ``error``)."""
    from tools.engine import analyze
    from tools.record import RecordError, load_record

    row: dict = {"path": path, "error": None}
    try:
        d = analyze(load_record(path, fs=fs)).to_dict()
    except RecordError as exc:
        return row | {"error": str(exc)}
    except Exception as exc:  # one bad record must not stop an archive run
        return row | {"error": f"analysis failed: {type(exc).__name__}: {exc}"}
    for name, m in d["measurements"].items():
        if "." not in name:  # global measurements only; per-lead values stay in 'report'
            row[name] = m.get("value")
    row["statements"] = [s["label"] for s in d["statements"]]
    row["snomed"] = [s["snomed"] for s in d["statements"] if s["snomed"]]
    row["report"] = json.dumps(d, allow_nan=False, default=_json_default)
    return row


# --------------------------------------------------------------------------- runners
def _warm(onnx_threads: int | None = None) -> None:
    """Load the models once per worker (imports, ONNX sessions) before the first record;
    with several workers each runs its ONNX model on one thread."""
    import os

    if onnx_threads:
        os.environ["ECG_ASSISTANT_ONNX_THREADS"] = str(onnx_threads)
        # one lead at a time too: a Ray actor is not a multiprocessing child, which
        # tools.delineate.lead_threads would see by itself
        os.environ["ECG_ASSISTANT_CODEC_THREADS"] = "1"
    import tools.engine  # noqa: F401


def run_local(paths: list[str], jobs: int, fs: float | None) -> Iterator[dict]:
    """Rows as they finish, from ``jobs`` worker processes (in-process for jobs=1)."""
    if jobs <= 1:
        for p in paths:
            yield measure_row(p, fs)
        return
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    with ProcessPoolExecutor(max_workers=jobs, initializer=_warm, initargs=(1,)) as pool:
        yield from pool.map(partial(measure_row, fs=fs), paths, chunksize=1)


class _RayMeasurer:
    """A Ray Data actor: models loaded once in ``__init__``, then rows per batch."""

    def __init__(self, fs: float | None = None):
        _warm(1)
        self.fs = fs

    def __call__(self, batch: dict) -> dict:
        rows = [measure_row(str(p), self.fs) for p in batch["path"]]
        # every row carries the same keys so Ray can build one table
        return {"row": [json.dumps(r, allow_nan=False, default=_json_default) for r in rows]}


def init_ray(jobs: int):
    """The ``ray`` module, initialised once: ``ray.init()`` joins the cluster ``RAY_ADDRESS``
    names or starts a local instance with ``jobs`` CPUs. Shared by ``batch`` and the
    evaluation suites' ``--runner ray``."""
    try:
        import ray
    except ImportError as exc:
        raise SystemExit("--runner ray needs Ray: pip install '.[scale]'") from exc
    if not ray.is_initialized():
        import os

        # the engine's settings travel with the job to every node (a cluster's workers do
        # not inherit this process's environment)
        env = {k: v for k, v in os.environ.items()
               if k in ("ECG_ASSISTANT_CROSS_CHECK", "ECG_ASSISTANT_ONNX_THREADS",
                        "ECG_ASSISTANT_CODEC_THREADS")}
        ray.init(num_cpus=None if jobs <= 0 else jobs, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": env} if env else None)
    return ray


def run_ray(paths: list[str], jobs: int, fs: float | None) -> Iterator[dict]:
    """Rows from Ray Data actors (:func:`init_ray`)."""
    ray = init_ray(jobs)
    ds = ray.data.from_items([{"path": p} for p in paths])
    out = ds.map_batches(_RayMeasurer, fn_constructor_kwargs={"fs": fs}, batch_size=1,
                         concurrency=max(1, jobs), num_cpus=1)
    for rec in out.iter_rows():
        yield json.loads(rec["row"])


RUNNERS = {"local": run_local, "ray": run_ray}


# --------------------------------------------------------------------------- the command
def run_batch(inputs: list[str], out: str, *, jobs: int = 1, runner: str = "local",
              fs: float | None = None, resume: bool = True, progress=None) -> dict:
    """Measure every record of ``inputs`` into the parquet file ``out``; returns a summary."""
    paths = find_records(inputs)
    if not paths:
        raise SystemExit(f"no records found in {', '.join(inputs)}")
    out_path = Path(out)
    parts = out_path.with_name(out_path.name + ".parts.jsonl")
    done: dict[str, dict] = {}
    if resume and parts.exists():
        for line in parts.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill: that record is measured again
            done[row["path"]] = row
    elif parts.exists():
        parts.unlink()
    todo = [p for p in paths if p not in done]
    t0 = time.perf_counter()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(parts, "a", encoding="utf-8") as fh:
        for i, row in enumerate(RUNNERS[runner](todo, jobs, fs), 1):
            fh.write(json.dumps(row, allow_nan=False, default=_json_default) + "\n")
            fh.flush()
            done[row["path"]] = row
            if progress:
                progress(i, len(todo), row)
    rows = [done[p] for p in paths if p in done]
    _write_parquet(rows, out_path)
    secs = time.perf_counter() - t0
    errors = sum(r.get("error") is not None for r in rows)
    return {"records": len(rows), "measured_now": len(todo), "resumed": len(paths) - len(todo),
            "errors": errors, "seconds": round(secs, 1),
            "records_per_s": round(len(todo) / secs, 2) if todo and secs > 0 else None,
            "out": str(out_path)}


def _write_parquet(rows: list[dict], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fixed = ["path", "error"]
    tail = ["statements", "snomed", "report"]
    measures = sorted({k for r in rows for k in r} - set(fixed) - set(tail))
    cols: dict[str, list] = {k: [r.get(k) for r in rows] for k in fixed + measures}
    for k in measures:  # numbers as float64 (a column of ints and nulls stays numeric)
        cols[k] = [None if v is None else float(v) for v in cols[k]]
    for k in tail:
        cols[k] = [r.get(k) for r in rows]
    schema = pa.schema([pa.field("path", pa.string()), pa.field("error", pa.string())]
                       + [pa.field(k, pa.float64()) for k in measures]
                       + [pa.field("statements", pa.list_(pa.string())),
                          pa.field("snomed", pa.list_(pa.string())),
                          pa.field("report", pa.string())])
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(pa.table(cols, schema=schema), tmp)
    tmp.replace(out)  # never a half-written parquet file


def bar(i: int, n: int, row: dict) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * i / max(n, 1))
    status = "error" if row.get("error") else "ok"
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} {Path(row['path']).name} "
          f"{status}".ljust(100)[:100], end="\n" if i == n else "", file=sys.stderr,
          flush=True)
