"""Plumbing shared by the evaluation suites: resumable per-record results, progress,
summary/CSV/Markdown writing and matplotlib (Agg) figures.

Resume: each finished record is appended to ``OUTDIR/records.jsonl`` and flushed at once, so
an interrupted run loses at most the record in progress; a rerun with ``--resume`` (the
default) reads the file and skips the records already there (records that failed are
tried again).
"""
from __future__ import annotations

import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import Callable, Iterable

import numpy as np


class LayoutError(ValueError):
    """``--data`` does not hold the layout the suite expects (the message says which)."""


def jsonable(x):
    """numpy scalars, sets, tuples and non-finite floats made JSON-safe."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        seq = sorted(x, key=str) if isinstance(x, (set, frozenset)) else x
        return [jsonable(v) for v in seq]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def progress(i: int, n: int, what: str) -> None:
    """``[i/n] what`` on stderr, one line per record."""
    print(f"[{i}/{n}] {what}", file=sys.stderr, flush=True)


class ResultLog:
    """Append-only JSONL of per-record results in ``OUTDIR/records.jsonl``.

    Parameters
    ----------
    out_dir : the suite's output folder (created).
    resume : keep and reuse earlier results (False: start a fresh file).
    config : what a result depends on (suite options); with ``resume``, earlier results
        are reused only if they were made with the same config and the same engine sources
        (``tools.engine.engine_build``), else the run stops with a message instead of
        mixing results.
    """

    def __init__(self, out_dir: Path, *, resume: bool, config: dict):
        from tools.engine import engine_build

        build = engine_build()
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "records.jsonl"
        cfg_path = self.out_dir / "config.json"
        self.rows: dict[str, dict] = {}
        config = jsonable({**config, "engine_build": build})
        if resume and self.path.exists():
            old = json.loads(cfg_path.read_text()) if cfg_path.exists() else None
            if old is not None and old.get("engine_build") != build \
                    and {k: v for k, v in old.items() if k != "engine_build"} == \
                    {k: v for k, v in config.items() if k != "engine_build"}:
                raise LayoutError(
                    f"{str(self.out_dir)!r} holds results made by other engine code (build "
                    f"{old.get('engine_build')}, this is {build}): its per-record "
                    "results would be mixed with this engine's; use --no-resume to start "
                    "again or another --out")
            if old is not None and old != config:
                raise LayoutError(
                    f"{str(self.out_dir)!r} holds results made with other options ({old}); "
                    f"use --no-resume to start again or another --out")
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut by an interrupt: that record is redone
                    if row.get("error") or (row.get("engine") or {}).get("error"):
                        continue  # a failed record is tried again on resume
                    self.rows[str(row["key"])] = row
        else:
            self.path.write_text("", encoding="utf-8")
        cfg_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        self._fh = None

    def __contains__(self, key) -> bool:
        return str(key) in self.rows

    def add(self, key, row: dict) -> dict:
        """Record and flush one result (``key`` identifies the record / item)."""
        row = jsonable({"key": str(key), **row})
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.rows[str(key)] = row
        return row

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def run_items(items: list, key: Callable, work: Callable, log: ResultLog, *,
              jobs: int = 1, label: Callable = str, runner: str = "local") -> dict:
    """Compute ``work(item)`` for each item not yet in ``log``, in ``jobs`` processes,
    appending each result as it completes. Returns ``{'computed', 'skipped'}`` counts.

    ``runner='ray'``: the same ``work`` on ``jobs`` Ray actors (a local Ray instance, or the
    cluster ``RAY_ADDRESS`` names), as ``ecg-assistant batch --runner ray`` does; each actor
    loads the models once."""
    todo = [it for it in items if key(it) not in log]
    skipped = len(items) - len(todo)
    if skipped:
        print(f"resuming: {skipped} of {len(items)} already in {log.path}", file=sys.stderr)
    n = len(items)
    done = skipped
    try:
        if runner == "ray" and todo:
            for it, row in _ray_map(work, todo, jobs):
                log.add(key(it), row)
                done += 1
                progress(done, n, f"record {label(it)}")
        elif jobs > 1 and len(todo) > 1:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(jobs) as pool:
                futs = {pool.submit(work, it): it for it in todo}
                for f in as_completed(futs):
                    it = futs[f]
                    log.add(key(it), f.result())
                    done += 1
                    progress(done, n, f"record {label(it)}")
        else:
            for it in todo:
                log.add(key(it), work(it))
                done += 1
                progress(done, n, f"record {label(it)}")
    finally:
        log.close()
    return {"computed": len(todo), "skipped": skipped}


def _ray_map(work: Callable, todo: list, jobs: int):
    """``(item, work(item))`` in order, from a pool of Ray actors."""
    from assistant.batch import init_ray

    init_ray(max(1, jobs))
    from ray.util.multiprocessing import Pool

    with Pool(processes=max(1, jobs)) as pool:
        yield from zip(todo, pool.imap(work, todo))


def flatten(row: dict, prefix: str = "") -> dict:
    """Nested dict -> flat ``a.b`` columns; lists joined with ``;``."""
    out = {}
    for k, v in row.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            out[name] = ";".join(map(str, v))
        else:
            out[name] = v
    return out


def write_outputs(out_dir: Path, summary: dict, rows: Iterable[dict], report_md: str) -> None:
    """``summary.json``, ``records.csv`` (one row per record) and ``report.md``, each
    written to a temporary file and renamed so a reader never sees half a file."""
    out_dir = Path(out_dir)
    _atomic(out_dir / "summary.json", json.dumps(jsonable(summary), indent=1) + "\n")
    flat = [flatten(r) for r in rows]
    cols: list[str] = []
    for r in flat:
        cols += [c for c in r if c not in cols]
    tmp = out_dir / "records.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(flat)
    os.replace(tmp, out_dir / "records.csv")
    _atomic(out_dir / "report.md", report_md)


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_plot(path: Path, groups: dict[str, dict[str, float | None]], title: str,
             ylabel: str) -> Path:
    """Grouped bars: ``{series: {category: value}}`` (None drawn as 0, labelled '-')."""
    plt = pyplot()
    cats = list(dict.fromkeys(c for g in groups.values() for c in g))
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(cats) + 2), 4))
    width = 0.8 / max(1, len(groups))
    for i, (name, vals) in enumerate(groups.items()):
        xs = [j + i * width for j in range(len(cats))]
        ys = [vals.get(c) or 0.0 for c in cats]
        bars = ax.bar(xs, ys, width, label=name)
        for b, c in zip(bars, cats):
            v = vals.get(c)
            ax.annotate("-" if v is None else f"{v:.2f}", (b.get_x() + b.get_width() / 2,
                                                          b.get_height()),
                        ha="center", va="bottom", fontsize=7)
    ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(len(cats))])
    ax.set_xticklabels(cats, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(groups) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fmt(v, digits: int = 1) -> str:
    """A table cell: '-' for None, fixed digits for floats."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def md_table(headers: list[str], rows: list[list], digits: int = 1) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(c, digits) for c in r) + " |" for r in rows]
    return "\n".join(lines)
