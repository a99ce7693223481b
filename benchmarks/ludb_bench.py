"""LUDB benchmark: the engine and a NeuroKit2-alone baseline against cardiologists' annotations.

Reports, for the engine and the baseline side by side:
- global PR/QRS/QT errors against the MEASUREMENT.md reference (trim = 2), on all records,
  on the 21 records held out of openecg's training (``evals.ludb.HELD_OUT``) and on the rest;
  errors against the plain-extreme reference (trim = 0) for information;
- per-lead P/QRS/T onset and offset scores (150 ms matching; ``evals.scoring``);
- (engine only) rhythm category (sinus / af / flutter) and axis category agreement with
  ludb.csv, paced records excluded, and per-class P/R/F1 of the statements LUDB can judge.

Run: ``python -m benchmarks.ludb_bench [--records 1 3 5] [--jobs 2] [--no-engine]``.
Writes ``benchmarks/results/ludb_bench.json``.
"""
from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from statistics import median

from benchmarks import common
from evals import labels as L
from evals import ludb, scoring
from evals.ludb_eval import (LUDB_CLASSES, axis_category, record_result,  # noqa: F401
                             rhythm_category)


def process_record(rec: int, use_engine: bool, use_baseline: bool) -> dict:
    """Reference, engine and baseline results of one LUDB record (picklable dict); the
    computation is :func:`evals.ludb_eval.record_result`, shared with the eval suite."""
    return record_result(ludb.record_path(rec), use_engine, use_baseline)


def _agreement(rows: list[tuple[str, str | None]]) -> dict:
    """Share of (truth, predicted) pairs that agree, with the confusion counts."""
    conf: dict[str, int] = {}
    for t, p in rows:
        conf[f"{t}->{p}"] = conf.get(f"{t}->{p}", 0) + 1
    n = len(rows)
    return {"n": n, "agree": sum(t == p for t, p in rows),
            "agreement": (sum(t == p for t, p in rows) / n) if n else None,
            "no_answer": sum(p is None for _, p in rows), "confusion": conf}


def _worst(pred: dict, refs: dict, n: int = 3) -> dict:
    """Per interval, the ``n`` records with the largest |predicted - reference| (ms)."""
    out = {}
    for k in scoring.INTERVALS:
        errs = [(pred[r][k] - ref[k], r) for r, ref in refs.items()
                if ref[k] is not None and pred.get(r, {}).get(k) is not None]
        errs.sort(key=lambda x: -abs(x[0]))
        out[k] = [{"record": r, "error_ms": e} for e, r in errs[:n]]
    return out


def score(results: list[dict], labs: dict) -> dict:
    """All scores from the per-record results."""
    refs = {r["record"]: r["ref"] for r in results}
    refs0 = {r["record"]: r["ref0"] for r in results}
    waves = {r["record"]: r["waves"] for r in results}
    held = [r for r in refs if r in ludb.HELD_OUT]
    rest = [r for r in refs if r not in ludb.HELD_OUT]
    out: dict = {"reference": {}}
    for name, rr in (("trim2", refs), ("trim0", refs0)):
        out["reference"][name] = {k: {"median": median(v) if v else None, "n": len(v),
                                      "missing": len(rr) - len(v)}
                                  for k in scoring.INTERVALS
                                  for v in [[x[k] for x in rr.values() if x[k] is not None]]}
    for method in ("engine", "baseline"):
        if method not in results[0]:
            continue
        pred = {r["record"]: r[method] for r in results}
        dels = {k: v["delineation"] for k, v in pred.items()}
        bnd = lambda **kw: scoring.boundary_scores(dels, waves, **kw)  # noqa: E731
        out[method] = {
            "intervals": scoring.interval_report(pred, refs, ludb.HELD_OUT),
            "intervals_vs_trim0": scoring.interval_errors(pred, refs0),
            "boundaries": {"all_leads": bnd(), "lead_II": bnd(leads={"II"}),
                           "held_out": bnd(records=held), "rest": bnd(records=rest)},
            "worst": _worst(pred, refs),
            "seconds_median": median(p["seconds"] for p in pred.values()),
            "failures": {k: (p.get("error") or p.get("errors")) for k, p in pred.items()
                         if p.get("error") or p.get("errors")},
        }
    if "engine" in results[0]:
        eng = {r["record"]: r["engine"] for r in results}
        unpaced = [r for r in eng if r in labs and not labs[r].paced]
        out["engine"]["rhythm"] = _agreement([(labs[r].rhythm, eng[r]["rhythm"]) for r in unpaced])
        for key in ("axis", "axis_below0"):
            out["engine"][key] = _agreement([(labs[r].axis, eng[r][key]) for r in unpaced
                                             if labs[r].axis is not None])
        classes = [L.CLASS_BY_KEY[k] for k in LUDB_CLASSES]
        out["engine"]["classes"] = L.score_classes(
            {r: eng[r]["codes"] for r in eng}, {r: labs[r].snomed for r in eng if r in labs},
            classes)
    out["per_record"] = {r["record"]: {
        "ref": r["ref"], "ref_trim0": r["ref0"],
        **{m: {k: v for k, v in r[m].items() if k != "delineation"}
           for m in ("engine", "baseline") if m in r}} for r in results}
    return out


def report(s: dict) -> str:
    """The printed tables."""
    lines = ["LUDB reference (MEASUREMENT.md), median over records:"]
    lines.append(common.table(["rule", "interval", "median_ms", "n", "missing"], [
        [name, k, v["median"], v["n"], v["missing"]]
        for name, d in s["reference"].items() for k, v in d.items()]))
    methods = [m for m in ("engine", "baseline") if m in s]
    rows = [[m, sub, k, v["n"], v["missing"], v["extra"], v["mean_error_ms"], v["sd_error_ms"],
             v["median_abs_error_ms"], v["within_tol"], v["iec_style_ok"]]
            for m in methods for sub, d in s[m]["intervals"].items() for k, v in d.items()]
    lines += ["", "Global intervals vs reference (trim 2); error = predicted - reference:",
              common.table(["method", "records", "interval", "n", "miss", "extra", "mean",
                            "sd", "med|e|", "within_tol", "iec_style"], rows, 2)]
    rows = [[m, sub, k, v["n_ref"], v["sensitivity"], v["ppv"], v["mean_error_ms"],
             v["sd_error_ms"]] for m in methods
            for sub in ("all_leads", "lead_II", "held_out", "rest")
            for k, v in s[m]["boundaries"][sub].items()]
    lines += ["", "Per-lead boundaries (150 ms matching; held_out/rest: all leads):",
              common.table(["method", "leads", "boundary", "n_ref", "sens", "ppv", "mean_ms",
                            "sd_ms"], rows, 3)]
    if "engine" in s and "rhythm" in s["engine"]:
        e = s["engine"]
        lines += ["", f"Rhythm agreement (unpaced): {e['rhythm']['agree']}/{e['rhythm']['n']}"
                  f"  {e['rhythm']['confusion']}",
                  f"Axis agreement (unpaced, stated; left < -30): {e['axis']['agree']}/"
                  f"{e['axis']['n']}  {e['axis']['confusion']}",
                  f"Axis agreement (left < 0, LUDB's apparent convention): "
                  f"{e['axis_below0']['agree']}/{e['axis_below0']['n']}  "
                  f"{e['axis_below0']['confusion']}", "",
                  common.table(["class", "support", "tp", "fp", "fn", "precision", "recall",
                                "f1"], [[k, v["support"], v["tp"], v["fp"], v["fn"],
                                         v["precision"], v["recall"], v["f1"]]
                                        for k, v in e["classes"].items()], 2)]
    for m in methods:
        worst = "; ".join(f"{k} " + ", ".join(f"#{w['record']} {w['error_ms']:+.0f}" for w in ws)
                          for k, ws in s[m]["worst"].items())
        lines.append(f"{m} largest errors (ms): {worst}")
    for m in methods:
        lines.append(f"{m}: median {s[m]['seconds_median']:.2f} s/record, "
                     f"{len(s[m]['failures'])} records with failures")
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, nargs="*", help="LUDB record numbers (default all)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="worker processes (default: CPUs, at most 4)")
    ap.add_argument("--no-engine", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args(argv)
    recs = args.records or ludb.record_ids()
    use_engine = not args.no_engine and common.engine_or_none() is not None
    job = (use_engine, not args.no_baseline)
    results = []
    with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
        futures = [pool.submit(process_record, r, *job) for r in recs]
        for i, f in enumerate(futures, 1):
            results.append(f.result())
            common.progress("ludb", i, len(recs), f"record {results[-1]['record']}")
    s = score(results, ludb.read_labels())
    s["config"] = {"records": recs, "engine": use_engine, "baseline": not args.no_baseline,
                   "held_out": ludb.HELD_OUT}
    print(report(s))
    print(f"wrote {common.write_json('ludb_bench', s)}")
    return s


class _Serial:
    """Stand-in for an executor that runs each job when its result is asked for."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        return _Lazy(fn, args)


class _Lazy:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def result(self):
        return self.fn(*self.args)


if __name__ == "__main__":
    main()
