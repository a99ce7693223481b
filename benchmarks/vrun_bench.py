"""Runs of ventricular beats laid into sinus rhythm, rebuilt from the shared records: the
short ventricular tachycardia (non-sustained VT, >= 3 consecutive ventricular beats at > 100
/min) that a 10-s record labelled VT often holds, and that issue 11 asks to be flagged
("ventricular tachycardia never flagged" on held-out records).

For every shared record the engine reads as sinus with at least 6 beats (the recipient), a
ventricular complex (QRS onset - 20 ms to T end + 40 ms, its ST-T shortened for the run's
rate as in :mod:`benchmarks.wct_bench`, straightened) is laid down ``n`` times in a row at
the run's rate, the first one run-cycle after the beat a third of the way into the record.
The recipient's own signal from that beat's T end to the P onset of its first beat after
the run is replaced by a straight line (the sinus beats the run displaces; their P waves,
which in a real run go on hidden or dissociated, are left out), so the run ends with a
pause and sinus rhythm resumes. The ventricular complex is the recipient's own
(``--own`` only, or where it has one) or that of a donor from the same family (LUDB, whose
amplitudes are normalised per lead, or CinC, in millivolts): the engine's beats typed
ventricular in the shared records, the donor chosen by record name (so each donor serves
several recipients). Every waveform is recorded signal; only the timing is made up, and a
donor's complex is another patient's: these check beat detection, beat typing and the run
rule on real complexes, not accuracy on labelled arrhythmias.

Scenarios ``v<n>_<rate>``: 1 (a single PVC), 2 (a couplet), 3 and 5 (runs: non-sustained
VT) ventricular complexes at 120 and 160 /min. Controls ``s<n>_<rate>``: a run of the
recipient's own conducted QRS-T complex (a dominant beat's, without its P wave) at 160 and
200 /min, the burst of atrial tachycardia whose narrow complexes land on the preceding T
waves; it must not be flagged. A scenario is skipped where the run would be slower than 1.2
x the recipient's rate (no run breaks in) or not fit. Reported per scenario: ``flagged``
(NSVT, VT or WCT stated), ``pvc`` (premature ventricular complexes stated), ``sinus`` (a
sinus statement kept), ``found`` (median share of the run's complexes found as beats) and
``typed_v`` (median share typed ventricular); for 1 and 2 ventricular beats and for the
controls ``flagged`` counts false flags. Per source (PTB-XL, Georgia, Chapman/Ningbo, LUDB)
the flagged share.

Run: ``python -m benchmarks.vrun_bench [--jobs 2] [--limit N] [--scenarios ...] [--noise all]``;
writes benchmarks/results/vrun_bench.json (``--out`` another name; with ``--noise KIND``, the
noise of ``benchmarks.noise_bench`` added to every rebuilt record, vrun_bench_noise_KIND.json).
"""
from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import replace
from pathlib import Path
from statistics import median

import numpy as np

from benchmarks import common
from benchmarks.noise_bench import with_noise
from benchmarks.wct_bench import FLAGS, _family, cached_analysis, complex_piece, source_of
from tools.statements import RHYTHM_IDS, SINUS_IDS

SCENARIOS = ("v1_120", "v2_120", "v3_120", "v5_120", "v1_160", "v2_160", "v3_160", "v5_160",
             "s3_160", "s5_160", "s5_200")
MIN_SPEEDUP = 1.2    # the run at least this much faster than the recipient's rhythm
NOT_DONORS = {"s:paced", "s:af", "s:afl"}   # their complexes carry stimuli or atrial waves


def parse(scenario: str) -> tuple[int, float]:
    """'v3_160' -> (3 beats, 160 /min)."""
    n, rate = scenario[1:].split("_")
    return int(n), float(rate)


def should_flag(scenario: str) -> bool:
    """A ventricular run of >= 3 beats (non-sustained VT) is to be flagged; fewer ventricular
    beats and the supraventricular controls are not."""
    return scenario[0] == "v" and parse(scenario)[0] >= 3


def conducted_beat(a):
    """The middle dominant beat with a P wave and a T end (the control runs' complex), or
    None."""
    ok = [b for b in a.beats if b.kind == "normal" and b.p_on is not None
          and b.t_off is not None and b.qrs_off > b.qrs_on]
    return ok[len(ok) // 2] if ok else None


def ventricular_beat(a):
    """The middle beat typed ventricular with a T end, or None."""
    v = [b for b in a.beats if b.kind == "ventricular" and b.t_off is not None
         and b.qrs_off > b.qrs_on]
    return v[len(v) // 2] if v else None


def donors(paths: list[str]) -> dict[str, list[str]]:
    """Per family the records with a beat typed ventricular, not paced, AF or flutter."""
    out: dict[str, list[str]] = {"ludb": [], "cinc": []}
    for p in paths:
        a = cached_analysis(p)
        if ventricular_beat(a) is not None and not {s.id for s in a.statements} & NOT_DONORS:
            out[_family(p)].append(p)
    return out


def insert_run(a, donor, vbeat, n: int, rate: float):
    """``a``'s record with ``n`` of ``donor``'s ventricular complex ``vbeat`` laid down at
    ``rate`` (see module docstring): (record, (first, last) QRS onset samples), or None
    where the run does not fit."""
    fs = a.record.fs
    x = np.array(a.record.signal, float)
    rr = 60000.0 / rate
    piece = complex_piece(donor.record, vbeat, rr, donor.measurements["rr_ms"].value)
    step = int(round(rr * fs / 1000.0))
    lead_in = int(round(0.020 * fs))
    b0 = a.beats[len(a.beats) // 3]
    t0 = b0.qrs_on + step - lead_in
    end = t0 + (n - 1) * step + piece.shape[0]
    after = next((b for b in a.beats if (b.p_on if b.p_on is not None else b.qrs_on)
                  > end + int(0.050 * fs)), None)
    if after is None or b0.t_off is None:
        return None
    cut0 = min(b0.t_off + int(0.040 * fs), t0)
    cut1 = (after.p_on if after.p_on is not None else after.qrs_on) - int(0.010 * fs)
    x[cut0:cut1] = np.linspace(x[cut0], x[cut1], cut1 - cut0)
    for i in range(n):
        s = t0 + i * step
        x[s:s + piece.shape[0]] += piece
    return replace(a.record, signal=x), (t0 + lead_in, t0 + lead_in + (n - 1) * step)


def _one(args: tuple[str, tuple]) -> dict | None:
    from tools.engine import analyze

    path, (scenarios, donor_paths, noise) = args
    a = cached_analysis(path)
    ids0 = {s.id for s in a.statements}
    hr = a.measurements["hr_bpm"].value
    if not ids0 & SINUS_IDS or len(a.beats) < 6 or hr is None:
        return None
    name = Path(path).stem
    own = ventricular_beat(a)
    if own is not None:
        donor, vbeat, donor_name = a, own, name
    else:
        pool = donor_paths[_family(path)]
        if not pool:
            return None
        dp = pool[zlib.crc32(name.encode()) % len(pool)]
        donor, donor_name = cached_analysis(dp), Path(dp).stem
        vbeat = ventricular_beat(donor)
    fs = a.record.fs
    rows = []
    for sc in scenarios:
        n, rate = parse(sc)
        if rate < MIN_SPEEDUP * hr:
            continue
        if sc[0] == "s":
            own_beat = conducted_beat(a)
            built = None if own_beat is None else insert_run(a, a, own_beat, n, rate)
        else:
            built = insert_run(a, donor, vbeat, n, rate)
        if built is None:
            continue
        rec, (first, last) = built
        if noise:
            rec = with_noise(rec, f"{name}_{sc}", noise)
        t = analyze(rec)
        ids = sorted({s.id for s in t.statements})
        tol = 0.060 * fs
        inside = [b for b in t.beats if first - tol <= b.r_time <= last + 0.2 * fs]
        rows.append({"scenario": sc, "ids": ids, "flagged": bool(FLAGS & set(ids)),
                     "pvc": "s:pvc" in ids, "sinus": bool(SINUS_IDS & set(ids)),
                     "found": round(min(1.0, len(inside) / n), 2),
                     "typed_v": round(sum(b.kind == "ventricular" for b in inside) / n, 2)})
    return {"record": name, "source": source_of(name), "donor": donor_name,
            "donor_qrs_ms": round((vbeat.qrs_off - vbeat.qrs_on) * 1000.0 / fs),
            "qrs_ms": a.measurements["qrs_ms"].value, "hr_bpm": hr, "rows": rows}


def summarise(results: list[dict], scenarios) -> dict:
    out = {}
    for sc in scenarios:
        rows = [(r, row) for r in results for row in r["rows"] if row["scenario"] == sc]
        if not rows:
            continue
        per_source = {}
        for src in sorted({r["source"] for r, _ in rows}):
            sel = [row for r, row in rows if r["source"] == src]
            per_source[src] = {"n": len(sel), "flagged": common.share(sel, "flagged")}
        sel = [row for _, row in rows]
        out[sc] = {"n": len(rows), "flagged": common.share(sel, "flagged"),
                   "pvc": common.share(sel, "pvc"), "sinus": common.share(sel, "sinus"),
                   "found": median(row["found"] for row in sel),
                   "typed_v": median(row["typed_v"] for row in sel),
                   "rhythm_statements": dict(Counter(i for row in sel for i in row["ids"]
                                                     if i in RHYTHM_IDS)),
                   "not_flagged" if should_flag(sc) else "false_flags":
                       [r["record"] for r, row in rows if row["flagged"] != should_flag(sc)],
                   "per_source": per_source}
    return out


def main(argv: list[str] | None = None) -> int:
    args = common.scenario_args(argv, __doc__, SCENARIOS, "vrun_bench")
    paths = common.shared_record_paths()[:args.limit]
    donor_paths = donors(common.shared_record_paths())
    results = [r for r in common.map_records("vrun", _one, paths,
                                             (tuple(args.scenarios), donor_paths,
                                              args.noise), args.jobs)
               if r is not None]
    summary = summarise(results, args.scenarios)
    print(common.table(["scenario", "n", "flagged", "PVC", "sinus", "found", "typed V"],
                       [[sc, s["n"], s["flagged"], s["pvc"], s["sinus"], s["found"],
                         s["typed_v"]] for sc, s in summary.items()], digits=2))
    for sc, s in summary.items():
        print(sc, "per source:", {k: v["flagged"] for k, v in s["per_source"].items()},
              "rhythm:", s["rhythm_statements"])
    path = common.write_json(args.out, {"summary": summary, "records": results,
                                        "donors": {k: [Path(p).stem for p in v]
                                                   for k, v in donor_paths.items()}})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
