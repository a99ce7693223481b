"""Early repolarization rebuilt on the shared records: J waves added to real ECGs.

None of the shared records with millivolt amplitudes carries an early repolarization label
(LUDB's five do, but its amplitudes are normalised per lead, where the 0.1-mV criterion of
Macfarlane et al. 2015 cannot be applied), so the end-QRS notch rule is checked here on the
CinC records' own beats with a J wave added:

- ``control``: the record as it is (early repolarization must not be stated: none of them is
  labelled so);
- ``inferior_<A>``: at every beat a Gaussian J wave (sigma 5 ms) of ``A`` mV peaking 8 ms
  before the beat's QRS end, along the frontal direction of II and III: +A in II, III and
  aVF, -A/2 in aVL and aVR, 0 in I (Einthoven's and Goldberger's relations kept);
- ``lateral_<A>``: the same in I and V4-V6 (+A in I, aVL, V4, V5, V6; -A in III; -A/2 in
  aVF and aVR).

``A`` is 0.1 mV (the criterion's threshold: the notch may stand out less than that from its
dip) and 0.2 mV. The J wave is added where the record's R wave is still descending or has
ended, so in leads whose QRS ends in an S wave the notch rises from below the baseline and
does not meet the criterion (Macfarlane: a notch lies entirely above the baseline): that is a
property of the rule, not a miss. Reported: the share of records with the early
repolarization statement (in the right territory), over all records and over the
*eligible* ones, where two contiguous leads of the territory (``tools.morphology.J_PAIRS``)
end their QRS on the R wave in the unmodified record (no terminal S: wave sequence ``+`` or
``-+``); and the statements that changed besides it.

Run: ``python -m benchmarks.er_bench [--jobs 2] [--limit N]``; writes
benchmarks/results/er_bench.json.
"""
from __future__ import annotations

import argparse
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from benchmarks import common
from benchmarks.wct_bench import source_of

AMPLITUDES = (0.1, 0.2)
#: lead weights of a J wave along each territory's direction (limb leads consistent with
#: Einthoven's law, II = I + III, and Goldberger's augmented leads)
DIRECTIONS = {
    "inferior": {"II": 1.0, "III": 1.0, "aVF": 1.0, "aVL": -0.5, "aVR": -0.5, "I": 0.0},
    "lateral": {"I": 1.0, "aVL": 1.0, "III": -1.0, "aVF": -0.5, "aVR": -0.5, "II": 0.0,
                "V4": 1.0, "V5": 1.0, "V6": 1.0},
}
SCENARIOS = ("control",) + tuple(f"{t}_{a}" for t in DIRECTIONS for a in AMPLITUDES)
SIGMA_MS, BEFORE_END_MS = 5.0, 8.0


def with_j_waves(record, beats, territory: str, amp_mv: float):
    """``record`` with a J wave added at every beat (see the module docstring)."""
    fs = record.fs
    x = record.signal.copy()
    t = np.arange(x.shape[0])
    bump = np.zeros(x.shape[0])
    for b in beats:
        c = b.qrs_off - BEFORE_END_MS * fs / 1000.0
        bump += np.exp(-0.5 * ((t - c) / (SIGMA_MS * fs / 1000.0)) ** 2)
    for lead, w in DIRECTIONS[territory].items():
        if lead in record.sig_name and w:
            x[:, record.sig_name.index(lead)] += w * amp_mv * bump
    return replace(record, signal=x)


def _one(path: str) -> dict | None:
    from tools.calibration import spans_normalised
    from tools.engine import analyze
    from tools.record import load_record

    rec = load_record(path)
    if spans_normalised(rec.signal):
        return None  # LUDB: no millivolts, the rule does not apply
    a0 = analyze(rec)
    name = os.path.basename(path)[:-4]
    out = {"record": name, "source": source_of(name), "scenarios": {}}
    base = {s.id for s in a0.statements}
    out["scenarios"]["control"] = {"er": "s:er" in base, "er_leads": [],
                                   "added": [], "lost": []}
    def ends_on_r(lead):
        m = a0.measurements.get(f"qrs_shape.{lead}")
        return m is not None and (m.details or {}).get("waves") in ("+", "-+")

    from tools.morphology import J_PAIRS

    out["eligible"] = {t: any(ends_on_r(x) and ends_on_r(y) for x, y, tt in J_PAIRS if tt == t)
                       for t in DIRECTIONS}
    for sc in SCENARIOS[1:]:
        terr, amp = sc.rsplit("_", 1)
        a = analyze(with_j_waves(a0.record, a0.beats, terr, float(amp)))
        ids = {s.id for s in a.statements}
        er = [s for s in a.statements if s.id == "s:er"]
        out["scenarios"][sc] = {
            "er": bool(er) and terr in er[0].label,
            "er_leads": er[0].leads if er else [],
            "added": sorted(ids - base - {"s:er"}), "lost": sorted(base - ids)}
    return out


def summarise(results: list[dict]) -> dict:
    out = {}
    for sc in SCENARIOS:
        rows = [r["scenarios"][sc] for r in results]
        n = len(rows)
        by_src: dict[str, list[bool]] = {}
        for r in results:
            by_src.setdefault(r["source"], []).append(r["scenarios"][sc]["er"])
        terr = sc.rsplit("_", 1)[0]
        elig = [r["scenarios"][sc]["er"] for r in results
                if terr in DIRECTIONS and r["eligible"][terr]]
        out[sc] = {
            "n": n, "er_stated": round(sum(r["er"] for r in rows) / n, 3) if n else None,
            "n_eligible": len(elig) if terr in DIRECTIONS else None,
            "er_stated_eligible": round(sum(elig) / len(elig), 3) if elig else None,
            "per_source": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_src.items())},
            "added": dict(Counter(x for r in rows for x in r["added"]).most_common()),
            "lost": dict(Counter(x for r in rows for x in r["lost"]).most_common())}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--limit", type=int, default=None, help="first N shared records only")
    args = ap.parse_args(argv)
    paths = [p for p in common.shared_record_paths() if "cinc2021" in p][:args.limit]
    results = []
    with ProcessPoolExecutor(args.jobs) as ex:
        for i, r in enumerate(ex.map(_one, paths), 1):
            common.progress("er", i, len(paths))
            if r is not None:
                results.append(r)
    summary = summarise(results)
    print(common.table(["scenario", "n", "early repolarization stated", "eligible n",
                        "stated, eligible"],
                       [[sc, s["n"], s["er_stated"], s["n_eligible"], s["er_stated_eligible"]]
                        for sc, s in summary.items()], digits=2))
    for sc, s in summary.items():
        print(sc, "per source:", s["per_source"], "added:", s["added"], "lost:", s["lost"])
    path = common.write_json("er_bench", {"summary": summary, "records": results})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
