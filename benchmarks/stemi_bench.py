"""ST elevation added to real records: is the STEMI pattern stated, whatever the QRS?

No shared record is labelled with an acute ST-elevation infarction, and a missed occlusion
is the error the product must not make (worse than a false alarm). So for every shared
record with millivolt amplitudes (the CinC ones: LUDB's per-lead normalised leads have no
millivolts, and the engine rightly applies no ST criterion to them) an ST elevation of
``A`` mV is added to one territory at a time, full at the J point (each beat's QRS end) for
up to 200 ms, rising over the last 40 ms of the QRS and falling over 40 ms (raised cosine),
ending by the T end and 40 ms before the next P wave:

- inferior: a frontal vector towards +90 deg projected on the six limb leads (II, III, aVF
  up; aVL and I down or flat: the reciprocal change comes with it, as Einthoven's and
  Goldberger's equations require);
- lateral: a frontal vector towards -30 deg (I, aVL up; III, aVF down) and V5, V6;
- anterior: V2-V4 full, V1 and V5 half.

The P waves, QRS complexes and T waves are the record's own. Reported per territory, per
amplitude, per source and per QRS group (narrow; right bundle branch block; other wide or
paced, where the modified Sgarbossa criteria are the STEMI-equivalent rule):

- ``stated``: share stating ST elevation in that territory (``s:ste_<territory>``);
- ``flagged``: share with any urgent ST statement (any ST elevation or the
  STEMI-equivalent statement, both heading the report);
- ``baseline_flags``: unmodified records with an urgent ST statement (false alarms).

Run: ``python -m benchmarks.stemi_bench [--jobs 2] [--amplitudes 0.2 0.3]``;
writes benchmarks/results/stemi_bench.json.
"""
from __future__ import annotations

import argparse
import os
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.wct_bench import source_of

LIMB_ANGLE = {"I": 0.0, "II": 60.0}   # hexaxial angles of the leads the vector is projected on
TERRITORY = {
    "inferior": (90.0, {}),
    "lateral": (-30.0, {"V5": 1.0, "V6": 1.0}),
    "anterior": (None, {"V1": 0.5, "V2": 1.0, "V3": 1.0, "V4": 1.0, "V5": 0.5}),
}
URGENT_ST = ("s:ste_", "s:stemi_eq")


def territory_gains(territory: str, leads: list[str]) -> np.ndarray:
    """Per-lead factor of the added elevation (see module docstring): I and II are the
    frontal vector's projections, III, aVR, aVL and aVF follow from them by Einthoven's and
    Goldberger's equations, and the limb leads are scaled so that the largest gets 1."""
    angle, precordial = TERRITORY[territory]
    limb: dict[str, float] = {}
    if angle is not None:
        limb = common.limb_gains(*(float(np.cos(np.radians(LIMB_ANGLE[k] - angle)))
                                   for k in ("I", "II")))
        top = max(abs(v) for v in limb.values())
        limb = {k: v / top for k, v in limb.items()}
    return np.array([limb[lead] if lead in limb else precordial.get(lead, 0.0)
                     for lead in leads])


def with_st_elevation(analysis, territory: str, mv: float):
    """The analysed record with ``mv`` of ST elevation in ``territory`` at every beat: full
    from the J point (the QRS end) for up to 200 ms, rising over the QRS's last 40 ms and
    falling over 40 ms, ending by the beat's T end and 40 ms before the next beat's P wave
    (or QRS) so that a fast rhythm's P waves stay as they were."""
    rec = analysis.record
    fs = rec.fs
    x = np.array(rec.signal, float)
    gains = territory_gains(territory, list(rec.sig_name))
    edge = int(0.040 * fs)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, edge))
    beats = list(analysis.beats)
    for k, b in enumerate(beats):
        lo = b.qrs_off - edge
        end = b.qrs_off + int(0.240 * fs)
        if b.t_off is not None:
            end = min(end, b.t_off)
        if k + 1 < len(beats):
            nxt = beats[k + 1]
            end = min(end, (nxt.qrs_on if nxt.p_on is None else nxt.p_on) - edge)
        end = min(end, x.shape[0])
        if lo < 0 or end - b.qrs_off < 2 * edge:
            continue
        shape = np.ones(end - lo)
        shape[:edge], shape[-edge:] = ramp, ramp[::-1]
        x[lo:end] += mv * shape[:, None] * gains[None, :]
    return replace(rec, signal=x)


def _urgent_st(ids: set[str]) -> bool:
    return any(i.startswith(URGENT_ST) for i in ids)


def _qrs_group(ids: set[str], analysis) -> str:
    if "s:rbbb" in ids:
        return "RBBB"
    wide = analysis.measurements["qrs_ms"].value
    return "other wide / paced" if "s:paced" in ids or (wide or 0) >= 120 else "narrow"


def _one(args: tuple[str, tuple[tuple[float, ...]]]) -> dict | None:
    from tools.engine import analyze

    path, (amplitudes,) = args
    a = common.millivolt_analysis(path)
    if a is None:
        return None
    ids0 = {s.id for s in a.statements}
    rows = []
    for terr in TERRITORY:
        for amp in amplitudes:
            ids = {s.id for s in analyze(with_st_elevation(a, terr, amp)).statements}
            rows.append({"territory": terr, "amplitude_mv": amp,
                         "stated": f"s:ste_{terr}" in ids, "flagged": _urgent_st(ids),
                         "ids": sorted(ids)})
    name = Path(path).stem
    return {"record": name, "source": source_of(name), "group": _qrs_group(ids0, a),
            "baseline_flag": _urgent_st(ids0), "ids": sorted(ids0), "rows": rows}


def summarise(recs: list[dict]) -> dict:
    out: dict = {"n": len(recs), "baseline_flags": [r["record"] for r in recs
                                                    if r["baseline_flag"]]}
    by: dict = defaultdict(list)
    for rec in recs:
        for row in rec["rows"]:
            for key in ("all", rec["source"], rec["group"]):
                by[(key, row["territory"], row["amplitude_mv"])].append(row)
    out["cells"] = [{"group": k[0], "territory": k[1], "amplitude_mv": k[2], "n": len(v),
                     "stated": common.share(v, "stated"),
                     "flagged": common.share(v, "flagged")}
                    for k, v in sorted(by.items(), key=lambda kv: (kv[0][0] != "all",) + kv[0])]
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--amplitudes", type=float, nargs="+", default=[0.2, 0.3])
    ap.add_argument("--data", default=str(common.SHARED_DATA))
    args = ap.parse_args(argv)
    paths = common.shared_record_paths(args.data)
    recs = [r for r in common.map_records("stemi", _one, paths, (tuple(args.amplitudes),),
                                          args.jobs) if r is not None]
    summary = summarise(recs)
    print(common.table(["group", "territory", "mV", "n", "stated", "flagged"],
                       [[c["group"], c["territory"], c["amplitude_mv"], c["n"], c["stated"],
                         c["flagged"]] for c in summary["cells"]], 2))
    print(f"unmodified records with an urgent ST statement: {len(summary['baseline_flags'])} "
          f"of {summary['n']} {summary['baseline_flags']}")
    out = {"summary": summary, "records": recs}
    common.write_json("stemi_bench", out)
    return out


if __name__ == "__main__":
    main()
