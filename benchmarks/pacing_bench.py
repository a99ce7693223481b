"""Atrial pacing added to real sinus records: are the stimuli found, called atrial, and does
the rest of the reading survive them?

No shared record is atrially paced (LUDB's four paced records pace the ventricles), so for
every shared record with millivolt amplitudes (the CinC ones: a stimulus of so many mV has
no meaning in LUDB's per-lead normalised leads, and it breaks their equal spans, so the
engine would read them as millivolts) the engine calls sinus (sinus rhythm, bradycardia,
tachycardia or sinus arrhythmia) a pacemaker stimulus is added 10 ms before each beat's P
onset, as an atrial pacemaker places it: a one-sample step of ``A`` mV followed by its
recharge (-0.3, -0.2, -0.12, -0.07, -0.04 x A), seen by every lead with the gains of one
frontal vector (I 0.5, II 1.0 and the other limb leads from them, so Einthoven's law holds)
and of a precordial spread (V1-V6 0.3 .. 1.0). The P waves, QRS complexes and T waves are
the record's own; only the stimuli are new, so the reading should be the same except for
the rhythm's name.

Reported per stimulus amplitude and per source (PTB-XL, Georgia, Chapman/Ningbo):

- ``atrial_paced``: share stating "Atrial paced rhythm"; ``paced_any``: any paced rhythm;
- ``same_reading``: share whose statements, the rhythm's name left aside (sinus labels,
  sinus arrhythmia, short PR, and premature atrial beats, which are not stated under
  pacing), are those of the record without stimuli;
- ``lost`` / ``appeared``: those statements lost and gained, counted;
- ``dangerous_appeared``: VT, WCT, AF, flutter or an AV block appearing.

First-degree AV block under atrial pacing: in the records at <= 100 /min the P waves are
moved ``--pr-shift`` ms earlier (:func:`benchmarks.long_pr_bench.move_p_earlier`) and paced
10 ms before them (the first stimulus amplitude); ``long_pr`` reports, among those whose
expected PR (unshifted PR + shift) is >= 220 ms, the share stating first-degree AV block
with the stimuli (``avb1_paced``) and without them (``avb1_unpaced``, the same rebuilt
record read as sinus: what the stimuli change), and the share of the unshifted paced
records that state it although their unpaced reading does not (``avb1_false``).

Pacing mode (``mode``): at the first stimulus amplitude, a stimulus 10 ms before each
conducted beat's QRS onset (ventricular pacing falling on the record's own narrow QRS, as in
pseudo-fusion), alone and with an atrial one the record's median PR before it (AV sequential
pacing, one programmed AV delay): ``ventricular_named`` / ``dual_named``, the share naming
"Ventricular paced rhythm" / "AV sequential (dual-chamber) paced rhythm";
``ventricular_called_dual``, ventricular stimuli alone named dual-chamber (the P wave taken
for an atrial stimulus).

Run: ``python -m benchmarks.pacing_bench [--jobs 2] [--amplitudes 0.5 2.0] [--pr-shift 80]``;
writes benchmarks/results/pacing_bench.json.
"""
from __future__ import annotations

import argparse
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.wct_bench import source_of

SINUS_NAMES = {"s:sr", "s:sb", "s:st", "s:sa"}
#: the rhythm's name and what is judged only in sinus rhythm or not stated under pacing
RHYTHM_NAME = SINUS_NAMES | {"s:paced", "s:spr", "s:pac"}
DANGEROUS = {"s:vt", "s:wct", "s:af", "s:afl", "s:avb2", "s:avb3", "s:no_qrs"}
PULSE = np.array([1.0, -0.3, -0.2, -0.12, -0.07, -0.04])
LIMB_GAIN = common.limb_gains(0.5, 1.0)
PRECORDIAL_GAIN = {"V1": 0.3, "V2": 0.5, "V3": 0.7, "V4": 0.9, "V5": 1.0, "V6": 0.8}


def with_atrial_stimuli(analysis, amplitude_mv: float, record=None, earlier_ms: float = 0.0):
    """The analysed record (or ``record``, the same record with its P waves moved
    ``earlier_ms`` earlier: :func:`benchmarks.long_pr_bench.move_p_earlier`) with a stimulus
    10 ms before each beat's P onset (see module docstring), or None when no beat has a P
    onset."""
    rec = analysis.record if record is None else record
    lead_in = int(round((0.010 + earlier_ms / 1000.0) * rec.fs))
    return _with_pulses(rec, [b.p_on - lead_in for b in analysis.beats if b.p_on is not None],
                        amplitude_mv)


def _with_pulses(rec, at: list[int], amplitude_mv: float):
    """``rec`` with a stimulus (see module docstring) at each sample of ``at`` inside it, or
    None when none is."""
    x = np.array(rec.signal, float)
    gains = np.array([(LIMB_GAIN | PRECORDIAL_GAIN).get(lead, 0.0) for lead in rec.sig_name])
    at = [t for t in at if 0 <= t < x.shape[0] - PULSE.size]
    if not at:
        return None
    for t in at:
        x[t:t + PULSE.size] += amplitude_mv * PULSE[:, None] * gains[None, :]
    return replace(rec, signal=x)


def with_ventricular_stimuli(analysis, amplitude_mv: float, atrial: bool):
    """The analysed record with a stimulus 10 ms before each conducted beat's QRS onset (a
    ventricular stimulus falling on the record's own QRS, as in pseudo-fusion) and, with
    ``atrial``, one the record's median PR before each of those: AV sequential pacing, its
    programmed AV delay the same for every beat (a delineator's P onsets scatter by 10-20
    ms, a pacemaker's delay does not). None without such beats."""
    rec, lead = analysis.record, int(round(0.010 * analysis.record.fs))
    beats = [b for b in analysis.beats if b.p_on is not None and b.kind != "ventricular"]
    if not beats:
        return None
    v = [b.qrs_on - lead for b in beats]
    delay = int(np.median([b.qrs_on - b.p_on for b in beats]))
    return _with_pulses(rec, sorted(v + ([t - delay for t in v] if atrial else [])),
                        amplitude_mv)


def _mode(a, amp: float) -> dict | None:
    """The pacing mode named with ventricular stimuli alone and with atrial ones too (see
    module docstring)."""
    from tools.engine import analyze

    out = {}
    for kind, atrial in (("ventricular", False), ("dual", True)):
        rec = with_ventricular_stimuli(a, amp, atrial)
        if rec is None:
            return None
        paced = next((s for s in analyze(rec).statements if s.id == "s:paced"), None)
        out[kind] = None if paced is None else paced.label
    return out


def _long_pr(a, amp: float, shift_ms: float) -> dict | None:
    """The first-degree AV block reading of ``a``'s record with its P waves ``shift_ms``
    earlier, without and with atrial stimuli (see module docstring); None above 100 /min
    or without a measured PR."""
    from benchmarks.long_pr_bench import move_p_earlier
    from tools.engine import analyze

    hr, pr = a.measurements["hr_bpm"].value, a.measurements["pr_ms"].value
    if hr is None or hr > 100 or pr is None:
        return None
    moved = move_p_earlier(a.record, a, shift_ms)
    unpaced = analyze(moved)
    rec = with_atrial_stimuli(a, amp, moved, shift_ms)
    paced = analyze(rec) if rec is not None else None
    by_id = {s.id: s for s in paced.statements} if paced is not None else {}
    return {"expected_pr_ms": pr + shift_ms,
            "avb1_unpaced": "s:avb1" in {s.id for s in unpaced.statements},
            "avb1_paced": "s:avb1" in by_id,
            "atrial_paced": bool(by_id.get("s:paced")
                                 and by_id["s:paced"].label == "Atrial paced rhythm")}


def _one(args: tuple[str, tuple[tuple[float, ...], float]]) -> dict | None:
    from tools.engine import analyze

    path, (amplitudes, shift_ms) = args
    a = common.millivolt_analysis(path)
    if a is None:
        return None
    ids0 = {s.id for s in a.statements}
    if not ids0 & SINUS_NAMES:
        return None
    rows = []
    for amp in amplitudes:
        rec = with_atrial_stimuli(a, amp)
        if rec is None:
            return None
        b = analyze(rec)
        by_id = {s.id: s for s in b.statements}
        paced = by_id.get("s:paced")
        rows.append({"amplitude_mv": amp, "ids": sorted(by_id),
                     "paced": paced is not None,
                     "atrial_paced": bool(paced and paced.label == "Atrial paced rhythm"),
                     "lost": sorted((ids0 - set(by_id)) - RHYTHM_NAME),
                     "appeared": sorted((set(by_id) - ids0) - RHYTHM_NAME)})
    name = Path(path).stem
    return {"record": name, "source": source_of(name), "ids": sorted(ids0), "rows": rows,
            "long_pr": _long_pr(a, amplitudes[0], shift_ms) if shift_ms else None,
            "mode": _mode(a, amplitudes[0])}


def _mode_summary(recs: list[dict]) -> dict:
    """Pacing mode named (see module docstring)."""
    modes = [r["mode"] for r in recs if r.get("mode")]
    rows = [{"v": (m["ventricular"] or "").startswith("Ventricular paced"),
             "v_dual": (m["ventricular"] or "").startswith("AV sequential"),
             "dual": (m["dual"] or "").startswith("AV sequential")} for m in modes]
    return {"n": len(modes), "ventricular_named": common.share(rows, "v"),
            "ventricular_called_dual": sum(r["v_dual"] for r in rows),
            "dual_named": common.share(rows, "dual"),
            "dual_labels": dict(Counter(m["dual"] or "" for m in modes).most_common())}


def _long_pr_summary(recs: list[dict]) -> dict:
    """First-degree AV block under atrial pacing (see module docstring)."""
    long = [r["long_pr"] for r in recs
            if r.get("long_pr") and r["long_pr"]["expected_pr_ms"] >= 220]
    first = [(rec["rows"][0], "s:avb1" in rec["ids"]) for rec in recs if rec["rows"]]
    plain = [row for row, before in first if not before]
    return {"n_long": len(long), "atrial_paced": common.share(long, "atrial_paced"),
            "avb1_paced": common.share(long, "avb1_paced"),
            "avb1_unpaced": common.share(long, "avb1_unpaced"),
            "n_unshifted": len(plain),
            "avb1_false": round(sum("s:avb1" in row["ids"] for row in plain) / len(plain), 3)
            if plain else None}


def _summary(recs: list[dict], amp: float) -> dict:
    rows = [r for rec in recs for r in rec["rows"] if r["amplitude_mv"] == amp]
    n = len(rows)
    lost = Counter(x for r in rows for x in r["lost"])
    appeared = Counter(x for r in rows for x in r["appeared"])
    return {"n": n,
            "atrial_paced": round(sum(r["atrial_paced"] for r in rows) / n, 3) if n else None,
            "paced_any": round(sum(r["paced"] for r in rows) / n, 3) if n else None,
            "same_reading": round(sum(not r["lost"] and not r["appeared"] for r in rows) / n, 3)
            if n else None,
            "lost": dict(lost.most_common()), "appeared": dict(appeared.most_common()),
            "dangerous_appeared": {k: v for k, v in appeared.items() if k in DANGEROUS}}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--amplitudes", type=float, nargs="+", default=[0.5, 2.0])
    ap.add_argument("--pr-shift", type=float, default=80.0,
                    help="ms the P waves are moved earlier for the first-degree block check "
                         "(0: skipped)")
    ap.add_argument("--data", default=str(common.SHARED_DATA))
    args = ap.parse_args(argv)
    paths = common.shared_record_paths(args.data)
    recs = [r for r in common.map_records("pacing", _one, paths,
                                          (tuple(args.amplitudes), args.pr_shift), args.jobs)
            if r is not None]
    sources = sorted({r["source"] for r in recs})
    summary = {f"{amp:g}_mv": {"all": _summary(recs, amp)} | {
        s: _summary([r for r in recs if r["source"] == s], amp) for s in sources}
        for amp in args.amplitudes}
    rows = [[amp, src, v["n"], v["atrial_paced"], v["paced_any"], v["same_reading"],
             v["dangerous_appeared"] or "", v["lost"] or "", v["appeared"] or ""]
            for amp, by in summary.items() for src, v in by.items()]
    print(common.table(["stimulus", "source", "n", "atrial paced", "paced", "same reading",
                        "dangerous appeared", "lost", "appeared"], rows, 2))
    if args.pr_shift:
        summary["long_pr"] = {"shift_ms": args.pr_shift, "all": _long_pr_summary(recs)} | {
            s: _long_pr_summary([r for r in recs if r["source"] == s]) for s in sources}
        print(f"first-degree AV block, P waves {args.pr_shift:g} ms earlier, <= 100 /min, "
              f"paced at {args.amplitudes[0]:g} mV:")
        print(common.table(
            ["source", "n (PR >= 220)", "atrial paced", "AVB1 paced", "AVB1 unpaced",
             "n unshifted", "AVB1 false"],
            [[s, v["n_long"], v["atrial_paced"], v["avb1_paced"], v["avb1_unpaced"],
              v["n_unshifted"], v["avb1_false"]]
             for s, v in summary["long_pr"].items() if s != "shift_ms"], 2))
    summary["mode"] = {"all": _mode_summary(recs)} | {
        s: _mode_summary([r for r in recs if r["source"] == s]) for s in sources}
    print(f"pacing mode, stimuli of {args.amplitudes[0]:g} mV before the QRS onsets (and, "
          "for dual-chamber pacing, the median PR before those):")
    print(common.table(
        ["source", "n", "ventricular named", "ventricular called dual", "dual named"],
        [[s, v["n"], v["ventricular_named"], v["ventricular_called_dual"], v["dual_named"]]
         for s, v in summary["mode"].items()], 2))
    out = {"summary": summary, "records": recs}
    common.write_json("pacing_bench", out)
    return out


if __name__ == "__main__":
    main()
