"""Speed benchmark: the whole measure path per 10-s 12-lead record vs NeuroKit2.

For each record, in the same process and run: (a) the engine path, ``load_record`` +
``analyze`` (+ ``to_dict``); (b) ``nk.ecg_process`` over the 12 leads of the already loaded
signal (NeuroKit2's cleaning, R peaks and DWT delineation; it does no quality assessment,
reconciliation, measurement or statements). One warm-up record (imports, model sessions)
is run first and not timed. Reported: median and 90th percentile seconds per record, the
ratio of the engine's median to NeuroKit2's median, and the engine's mean CPU seconds per
record (all its threads: what bounds throughput when every core is busy).

Run: ``python -m benchmarks.speed_bench [--n 10]``; records alternate LUDB and CinC 2021.
Writes ``benchmarks/results/speed_bench.json``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from statistics import median

from benchmarks import common
from benchmarks.baselines import nk_delineate
from evals import ludb


def _records(n: int) -> list:
    """Up to ``n`` record paths (``.hea``), alternating LUDB and CinC."""
    lu = [ludb.record_path(r).with_name(f"{r}.hea") for r in ludb.record_ids()]
    ci = sorted((ludb.default_data_dir() / "cinc2021").glob("*.hea"))
    mixed = [p for pair in zip(lu, ci) for p in pair] + lu[len(ci):] + ci[len(lu):]
    return mixed[: n + 1]


def _p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="timed records (after one warm-up)")
    args = ap.parse_args(argv)
    analyze = common.engine_or_none()
    paths = _records(args.n)
    rows, eng_t, nk_t, eng_cpu = [], [], [], []
    for i, path in enumerate(paths):
        t0, c0 = time.perf_counter(), time.process_time()
        rec = common.load(path)
        d = common.run_engine(analyze, rec) if analyze else None
        t_eng, c_eng = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        _, errors = nk_delineate(rec.signal, rec.fs, list(rec.sig_name))
        t_nk = time.perf_counter() - t0
        if i == 0:
            continue  # warm-up
        rows.append({"record": path.stem, "engine_s": t_eng if analyze else None,
                     "neurokit2_s": t_nk, "engine_error": (d or {}).get("error"),
                     "neurokit2_failed_leads": sorted(errors)})
        if analyze:
            eng_t.append(t_eng)
            eng_cpu.append(c_eng)
        nk_t.append(t_nk)
        common.progress("speed", i, len(paths) - 1, path.stem)
    out = {
        "records": rows,
        "engine_median_s": median(eng_t) if eng_t else None,
        "engine_p90_s": _p90(eng_t) if eng_t else None,
        "neurokit2_median_s": median(nk_t), "neurokit2_p90_s": _p90(nk_t),
        "ratio_engine_to_neurokit2": (median(eng_t) / median(nk_t)) if eng_t else None,
        "engine_mean_cpu_s": (sum(eng_cpu) / len(eng_cpu)) if eng_cpu else None,
        "cross_check": os.environ.get("ECG_ASSISTANT_CROSS_CHECK") or "auto",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    print(common.table(["path", "median_s", "p90_s"], [
        ["engine (load + analyze)", out["engine_median_s"], out["engine_p90_s"]],
        ["neurokit2 ecg_process x12", out["neurokit2_median_s"], out["neurokit2_p90_s"]]], 3))
    r = out["ratio_engine_to_neurokit2"]
    print(f"ratio engine / neurokit2: {'-' if r is None else f'{r:.2f}'} "
          f"over {len(rows)} records ({os.cpu_count()} CPUs)")
    if eng_cpu:
        print(f"engine CPU seconds per record (mean, all threads): {out['engine_mean_cpu_s']:.3f} "
              f"(classic cross-check: {out['cross_check']})")
    print(f"wrote {common.write_json('speed_bench', out)}")
    return out


if __name__ == "__main__":
    main()
