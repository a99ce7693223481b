"""Render benchmark: seconds per 12-lead PNG page, without and with the analysis.

For each record: ``load_record``; ``analyze(record).to_dict()`` (timed: the analysis the page's
header needs); ``render_ecg_page`` to PNG at the default 150 dpi with two evidence ids shaded
(timed: the render alone). "Included" is analysis + render, what the ``render_ecg`` tool costs.
Wall and CPU (process) seconds are both reported: on a loaded shared machine the CPU figure is
the steadier one. One warm-up render (matplotlib and SciPy imports, font cache) runs first and
is reported on its own as the cold first render. Records: the two bundled examples, then
alternating LUDB and CinC 2021 records from ../shared/data when present.

Run: ``python -m benchmarks.render_bench [--n 8]``.
Writes ``benchmarks/results/render_bench.json``.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from statistics import median

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [ROOT / "examples" / "ludb-1" / "1.hea", ROOT / "examples" / "cinc-E07500" / "E07500.hea"]
SHARED = ROOT.parent / "shared" / "data"
HIGHLIGHT = ["m:qrs_ms", "m:amp.V1.r_mv"]


def _records(n: int) -> list[Path]:
    """The bundled examples plus up to ``n`` shared records (LUDB and CinC alternating)."""
    lu = sorted((SHARED / "ludb").rglob("*.hea"),
                key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
    bundled = {p.stem for p in BUNDLED}
    ci = [p for p in sorted((SHARED / "cinc2021").glob("*.hea")) if p.stem not in bundled]
    mixed = [p for pair in zip(lu, ci) for p in pair] + lu[len(ci):] + ci[len(lu):]
    return BUNDLED + [p for p in mixed if p.stem not in bundled][:n]


def _p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def _stats(xs: list[float]) -> dict:
    return {"median_s": median(xs), "p90_s": _p90(xs), "max_s": max(xs)} if xs else {}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8, help="shared records after the bundled two")
    args = ap.parse_args(argv)
    from tools.render import render_ecg_page

    analyze = common.engine_or_none()
    paths = _records(args.n)
    rows, render_t, render_cpu, total_t = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page.png"
        first = common.load(paths[0])
        t0 = time.perf_counter()
        render_ecg_page(first, None, out)  # warm-up: imports, font cache
        cold_s = time.perf_counter() - t0
        for i, path in enumerate(paths, 1):
            rec = common.load(path)
            t0 = time.perf_counter()
            report = common.run_engine(analyze, rec) if analyze else None
            t_an = time.perf_counter() - t0
            if report and "error" in report:
                report = None
            t0, c0 = time.perf_counter(), time.process_time()
            res = render_ecg_page(rec, report, out, highlight=HIGHLIGHT)
            t_r, c_r = time.perf_counter() - t0, time.process_time() - c0
            rows.append({"record": path.stem, "analysis_s": t_an if analyze else None,
                         "render_s": t_r, "render_cpu_s": c_r, "total_s": t_an + t_r,
                         "width_px": res.width_px, "height_px": res.height_px,
                         "png_bytes": out.stat().st_size, "highlighted": res.highlighted,
                         "notes": res.notes})
            render_t.append(t_r)
            render_cpu.append(c_r)
            total_t.append(t_an + t_r)
            common.progress("render", i, len(paths), path.stem)
    result = {
        "records": rows,
        "cold_first_render_s": cold_s,
        "render_only": _stats(render_t),
        "render_only_cpu": _stats(render_cpu),
        "analysis_plus_render": _stats(total_t) if analyze else None,
        "format": "png", "dpi": 150, "highlight": HIGHLIGHT,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_1min": os.getloadavg()[0],
                    "platform": platform.platform()},
    }
    print(common.table(["path", "median_s", "p90_s", "max_s"], [
        ["render PNG (analysis excluded)", *result["render_only"].values()],
        ["  same, CPU seconds", *result["render_only_cpu"].values()],
        ["analyze + render PNG", *(result["analysis_plus_render"] or {}).values()]], 3))
    print(f"cold first render {cold_s:.3f} s; {len(rows)} records; page "
          f"{rows[0]['width_px']}x{rows[0]['height_px']} px ({os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f})")
    print(f"wrote {common.write_json('render_bench', result)}")
    return result


if __name__ == "__main__":
    main()
