"""QRS duration: learned, lead-combined and reconciled estimates (tools.spatial).

* LUDB (our half): each estimate against the cardiologists' reference
  (``evals.ludb.reference_intervals``): median |error|, mean error, share within 10 ms.
  The combined estimate's threshold was chosen on these records, so its LUDB figure is a
  development figure.
* CinC 2021: how the QRS distribution of the records labelled with a conduction disorder
  (RBBB, LBBB, incomplete RBBB, nonspecific IVCD) compares with the others, per estimate:
  median QRS and share >= 120 ms / > 110 ms. No reference durations exist there; a wide-QRS
  label with a narrow measured QRS is the failure this checks.

Run: ``python -m benchmarks.qrs_bench [--jobs 2]``; writes benchmarks/results/qrs_bench.json.
"""
from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import mean, median

from benchmarks import common
from evals import labels as L
from evals import ludb
from evals.ludb import default_data_dir

GROUPS = {"rbbb": {"59118001", "713427006"}, "lbbb": {"164909002", "733534002"},
          "irbbb": {"713426002"}, "ivcd": {"698252002"}}


def _one(path: str) -> dict:
    d = common.run_engine(common.engine_or_none(), common.load(path))
    q = ((d.get("measurements") or {}).get("qrs_ms") or {})
    lc = (q.get("details") or {}).get("lead_combined") or {}
    return {"path": path, "reconciled": q.get("value"), "learned": lc.get("learned_ms"),
            "combined": lc.get("combined_ms"), "used": lc.get("used"),
            "seconds": (d.get("timings") or {}).get("total_s")}


def _stats(values: list[float]) -> dict:
    v = [x for x in values if x is not None]
    return {"n": len(v), "median": median(v) if v else None,
            "ge120": sum(x >= 120 for x in v) / len(v) if v else None,
            "gt110": sum(x > 110 for x in v) / len(v) if v else None}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--data", type=Path, default=default_data_dir())
    args = ap.parse_args(argv)
    ludb_paths = {r: str(ludb.record_path(r, args.data / "ludb")) for r in
                  ludb.record_ids(args.data / "ludb")}
    cinc_paths = {p.stem: str(p) for p in sorted((args.data / "cinc2021").glob("*.hea"))}
    jobs = list(ludb_paths.values()) + list(cinc_paths.values())
    with ProcessPoolExecutor(args.jobs) as pool:
        res = {}
        for i, r in enumerate(pool.map(_one, jobs), 1):
            res[r["path"]] = r
            common.progress("qrs", i, len(jobs), Path(r["path"]).stem)
    out: dict = {"ludb": {}, "cinc": {}}
    for est in ("learned", "combined", "reconciled"):
        errs = []
        for rec, path in ludb_paths.items():
            ref = ludb.reference_intervals(ludb.read_waves(Path(path).with_suffix("")))["qrs_ms"]
            v = res[path][est]
            if ref is not None and v is not None:
                errs.append(v - ref)
        out["ludb"][est] = {"n": len(errs), "median_abs_error_ms": median(abs(e) for e in errs),
                            "mean_error_ms": mean(errs),
                            "within_10ms": sum(abs(e) <= 10 for e in errs) / len(errs)}
    labelled = {rec: set(L.parse_header(p).dx) for rec, p in cinc_paths.items()}
    for group, codes in list(GROUPS.items()) + [("none of these", None)]:
        recs = [r for r, dx in labelled.items()
                if (dx & codes if codes else not any(dx & c for c in GROUPS.values()))]
        out["cinc"][group] = {"records": recs} | {
            est: _stats([res[cinc_paths[r]][est] for r in recs])
            for est in ("learned", "combined", "reconciled")}
    out["combined_used"] = sorted(Path(p).stem for p, r in res.items()
                                  if (r["used"] or "").startswith("combined"))
    rows = [[est, v["n"], v["median_abs_error_ms"], v["mean_error_ms"], v["within_10ms"]]
            for est, v in out["ludb"].items()]
    print(common.table(["LUDB estimate", "n", "median |e|", "mean e", "within 10 ms"], rows, 2))
    rows = [[g, len(v["records"])] + [v[e]["median"] for e in ("learned", "combined",
                                                                 "reconciled")]
            + [v[e]["ge120"] for e in ("learned", "combined", "reconciled")]
            for g, v in out["cinc"].items()]
    print(common.table(["CinC label", "n", "med learned", "med combined", "med reconciled",
                        ">=120 learned", ">=120 combined", ">=120 reconciled"], rows, 2))
    print(f"combined boundaries used on {len(out['combined_used'])} records")
    print(f"wrote {common.write_json('qrs_bench', out)}")
    return out


if __name__ == "__main__":
    main()
