"""Wide-complex tachycardia rebuilt from the shared records' own complexes: the held-out
failure of issue 11 ("ventricular tachycardia is never flagged": a 154-bpm tachycardia with
complexes > 160 ms measured at 112 ms; another stated as "right bundle branch block" with no
rhythm statement), reproduced on real waveforms, since no shared record holds a VT.

Sources, from the engine's reading of each shared record:

- ``wide``: a record with a beat typed ventricular (its middle one: a PVC) or a QRS >= 120 ms
  (a middle dominant beat: bundle branch block, paced or pre-excited complex);
- ``narrow``: a record with a QRS < 100 ms (a middle dominant beat), the control.

The complex, from 20 ms before its QRS onset to 40 ms after its T end, straightened so that
both ends sit at zero, is repeated every RR for 120, 150 and 180 /min, overlapping where it is
longer than the cycle (the T wave runs into the next QRS, as in fast VT). Its ST-T part is
shortened for the rate as the QT shortens (Bazett's square root of the RR ratio), so a
narrow control becomes a plausible supraventricular tachycardia without P waves. Every
waveform is recorded signal; only the timing changes. A wide complex repeated without P
waves is what a monomorphic VT looks like; it is not a labelled VT, so these figures check
the rules and the beat detection on wide complexes, not accuracy on real arrhythmias.

Reported per rate: for ``wide``, ``flagged`` (VT, wide-complex tachycardia or non-sustained VT
stated), ``vt`` (ventricular tachycardia stated), the rhythm statements made instead, and
``beats_found`` (median detected / expected beats); per source (PTB-XL, Georgia,
Chapman/Ningbo, LUDB) the flagged share. For ``narrow``: ``false_flags`` (VT/WCT stated) and
``flutter`` (atrial flutter stated: no atrial activity was put there).

With ``--dissociation`` the source record's own P wave is added at 80 /min, independent of
the rebuilt complexes (AV dissociation, present in many VTs and Brugada's step 3): VT must
still be stated, AV dissociation cited, and neither sinus rhythm nor an AV block stated
(``av_dissociation_cited``, ``sinus_stated``, ``av_block_stated``). Records whose source has
no P wave are left out.

With ``--capture`` a sinus-conducted narrow beat (QRS < 100 ms and >= 40 ms narrower than
the wide complex) replaces complexes 8 and 17, each 80 % of a cycle early, the tachycardia
resuming a cycle after it (capture beats, Wellens 1978): the wide complex's own record's
beat where it has one, else that of the first record of the same family (LUDB or CinC) that
has one (a capture beat's shape is the patient's own conducted beat; here it is a real
conducted beat, not always the same patient's). Wide sources the engine reads as AF,
flutter or paced are left out (their complexes carry atrial waves or stimuli). VT must
still be stated, with the capture beats among its arguments (``capture_cited``) and not as
premature atrial complexes (``pac_stated``). Without ``--capture``, ``capture_cited``
counts capture beats cited where every complex is the same (false).

With ``--noise KIND`` (``wander``, ``emg``, ``mains`` or ``all``) every rebuilt tachycardia
carries the noise of ``benchmarks.noise_bench`` (after the MIT-BIH Noise Stress Test
Database), drawn per record and condition: a patient in VT is rarely still, and the
rebuilt complexes are otherwise cleaner than any recording. The engine may then abstain
(``abstained``, counted apart: an honest "cannot tell", not a miss).

Run: ``python -m benchmarks.wct_bench [--jobs 2] [--rates 120 150 180] [--dissociation |
--capture] [--noise all]``; writes benchmarks/results/wct_bench.json
(wct_bench_dissociation.json, wct_bench_capture.json, wct_bench_noise_KIND.json).
"""
from __future__ import annotations

import argparse
import os
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from statistics import median

import numpy as np

from benchmarks import common
from benchmarks.noise_bench import with_noise
from tools.arrhythmia import WIDTH_DOUBT
from tools.statements import RHYTHM_IDS, SINUS_IDS

FLAGS = {"s:vt", "s:wct", "s:nsvt"}
RATES = (120.0, 150.0, 180.0)
SECONDS = 10.0
DISSOCIATED_P_RATE = 80.0   # sinus P waves marching through the VT (--dissociation)
CAPTURE_AT = (8, 17)         # complexes replaced by a capture beat (--capture)
CAPTURE_EARLY = 0.8          # each 80 % of the cycle after the complex before


def source_of(name: str) -> str:
    return {"HR": "PTB-XL", "E0": "Georgia", "JS": "Chapman/Ningbo"}.get(name[:2], "LUDB")


def straightened(seg: np.ndarray) -> np.ndarray:
    """``seg`` (samples x leads) minus the line joining its ends: both ends at zero, so
    pieces can be laid down anywhere without steps."""
    return seg - np.linspace(seg[0], seg[-1], seg.shape[0])


def pick_complex(a) -> tuple[str, object] | None:
    """('wide' | 'narrow', beat) from an analysis, or None (QRS 100-119 ms, or no beat with
    a T end)."""
    beats = [b for b in a.beats if b.t_off is not None and b.qrs_off > b.qrs_on]
    vent = [b for b in beats if b.kind == "ventricular"]
    qrs = a.measurements["qrs_ms"].value if "qrs_ms" in a.measurements else None
    dom = [b for b in beats if b.kind != "ventricular"]
    if vent:
        return "wide", vent[len(vent) // 2]
    if qrs is not None and dom and qrs >= 120:
        return "wide", dom[len(dom) // 2]
    if qrs is not None and dom and qrs < 100:
        return "narrow", dom[len(dom) // 2]
    return None


def complex_piece(record, beat, rr_ms: float, source_rr_ms: float | None) -> np.ndarray:
    """``beat``'s complex (20 ms before its QRS onset to 40 ms after its T end), its ST-T
    shortened for ``rr_ms`` (Bazett), straightened."""
    fs = record.fs
    sig = np.asarray(record.signal, float)
    on = max(0, beat.qrs_on - int(0.020 * fs))
    end = min(sig.shape[0], beat.t_off + int(0.040 * fs))
    qrs = sig[on:beat.qrs_off]
    stt = sig[beat.qrs_off:end]
    factor = min(1.0, float(np.sqrt(rr_ms / source_rr_ms))) if source_rr_ms else 1.0
    n_stt = max(2, int(round(stt.shape[0] * factor)))
    x_old = np.linspace(0.0, 1.0, stt.shape[0])
    x_new = np.linspace(0.0, 1.0, n_stt)
    stt = np.stack([np.interp(x_new, x_old, stt[:, j]) for j in range(sig.shape[1])], axis=1)
    return straightened(np.concatenate([qrs, stt], axis=0))


def rebuild_tachycardia(record, beat, rr_ms: float, source_rr_ms: float | None,
                        seconds: float = SECONDS, capture=None):
    """``record`` (as analysed) with its signal replaced by ``beat``'s complex repeated every
    ``rr_ms`` for ``seconds`` (see module docstring). ``capture``: (record, beat) of a narrow
    beat, laid down instead of the complexes numbered ``CAPTURE_AT``, each ``CAPTURE_EARLY``
    x ``rr_ms`` after the one before, the tachycardia going on one cycle after it (a capture
    beat resets it)."""
    fs = record.fs
    piece = complex_piece(record, beat, rr_ms, source_rr_ms)
    narrow = complex_piece(capture[0], capture[1], rr_ms, source_rr_ms) if capture else None
    step = int(round(rr_ms * fs / 1000.0))
    n = int(round(seconds * fs))
    out = np.zeros((n + max(piece.shape[0], 0 if narrow is None else narrow.shape[0]),
                    piece.shape[1]))
    start, k = 0, 0
    while start < n:
        p = narrow if narrow is not None and k in CAPTURE_AT else piece
        out[start:start + p.shape[0]] += p
        k += 1
        early = narrow is not None and k in CAPTURE_AT
        start += int(round(CAPTURE_EARLY * step)) if early else step
    return replace(record, signal=out[:n])


def add_dissociated_p(record, analysis, rate: float = DISSOCIATED_P_RATE,
                      phase_ms: float = 137.0):
    """``record`` with the source record's own P wave (a dominant beat's, from 10 ms before
    its onset to 10 ms after its offset, straightened to zero at both ends) added every
    60/``rate`` s from ``phase_ms``, independent of the QRS complexes: AV dissociation, as
    in many VTs. None when the source has no P wave."""
    fs = record.fs
    src = np.asarray(analysis.record.signal, float)
    with_p = [b for b in analysis.beats if b.kind != "ventricular" and b.p_on is not None
              and b.p_off is not None and b.p_off > b.p_on]
    if not with_p:
        return None
    b = with_p[len(with_p) // 2]
    lo, hi = max(0, b.p_on - int(0.010 * fs)), min(src.shape[0], b.p_off + int(0.010 * fs))
    p = straightened(src[lo:hi])
    out = np.array(record.signal, float)
    step = int(round(60.0 / rate * fs))
    for start in range(int(phase_ms * fs / 1000.0), out.shape[0] - p.shape[0], step):
        out[start:start + p.shape[0]] += p
    return replace(record, signal=out)


NOT_CAPTURE_SOURCES = {"s:af", "s:afl", "s:paced"}


def narrow_beat(a, width_ms: float | None = None):
    """A sinus-conducted beat of analysis ``a`` (a P wave before it, in a record the engine
    reads as sinus) with a QRS < 100 ms and, given ``width_ms``, >= 40 ms narrower than that
    (the capture beat of ``--capture``), or None. A beat of an AF or flutter record carries
    its fibrillation or flutter waves, which laid down at every repeat would be atrial waves
    locked to the QRS that no real rhythm has."""
    fs = a.record.fs
    if not {s.id for s in a.statements} & SINUS_IDS:
        return None
    limit = 100.0 if width_ms is None else min(100.0, width_ms - 40.0)
    ok = [b for b in a.beats if b.kind == "normal" and b.t_off is not None
          and b.p_on is not None and (b.qrs_off - b.qrs_on) * 1000.0 / fs < limit]
    return ok[len(ok) // 2] if ok else None


def _family(path: str) -> str:
    """'ludb' (amplitudes normalised per lead) or 'cinc' (millivolts)."""
    return "ludb" if "/ludb/" in path else "cinc"


@lru_cache(maxsize=32)
def cached_analysis(path: str):
    """A shared record's analysis, once per process (donor records are asked for by many
    sources; also used by :mod:`benchmarks.vrun_bench`)."""
    from tools.engine import analyze

    return analyze(common.load(path))


def capture_donors(paths: list[str], per_family: int = 3) -> dict[str, list[str]]:
    """For ``--capture``: per family the first records in order with a sinus narrow beat
    (:func:`narrow_beat`), whose beat stands in as the capture beat where the wide complex's
    own record has none."""
    out: dict[str, list[str]] = {"ludb": [], "cinc": []}
    for p in paths:
        if len(out[_family(p)]) < per_family and narrow_beat(cached_analysis(p)) is not None:
            out[_family(p)].append(p)
    return out


def _capture_for(a, beat, donors: list[str]):
    """(record, beat) of the capture beat for wide complex ``beat`` of analysis ``a``: its
    own record's sinus beat, else the first donor's that is >= 40 ms narrower; None."""
    fs = a.record.fs
    width = (beat.qrs_off - beat.qrs_on) * 1000.0 / fs
    own = narrow_beat(a, width)
    if own is not None:
        return a.record, own
    for p in donors:
        d = cached_analysis(p)
        nb = narrow_beat(d, width)
        if nb is not None and d.record.fs == fs and d.record.signal.shape[1] == \
                a.record.signal.shape[1]:
            return d.record, nb
    return None


def _one(args: tuple[str, tuple]) -> dict | None:
    """One shared record's rows; ``args``: (path, (rates, dissociation, capture donors by
    family or None))."""
    from tools.engine import analyze

    path, (rates, dissociation, donors, noise) = args
    a = analyze(common.load(path))
    picked = pick_complex(a)
    if picked is None:
        return None
    kind, beat = picked
    narrow = None
    if donors is not None:  # --capture
        if kind != "wide" or {s.id for s in a.statements} & NOT_CAPTURE_SOURCES:
            return None
        narrow = _capture_for(a, beat, donors[_family(path)])
        if narrow is None:
            return None
    rr = a.measurements["rr_ms"].value
    name = Path(path).stem
    rows = []
    for rate in rates:
        rebuilt = rebuild_tachycardia(a.record, beat, 60000.0 / rate, rr, capture=narrow)
        if dissociation:
            rebuilt = add_dissociated_p(rebuilt, a)
            if rebuilt is None:
                return None
        if noise:
            rebuilt = with_noise(rebuilt, f"{name}_{rate:.0f}", noise)
        t = analyze(rebuilt)
        ids = sorted({s.id for s in t.statements})
        expected = SECONDS * rate / 60.0
        vt = next((s for s in t.statements if s.id in ("s:vt", "s:wct")), None)
        rows.append({"rate": rate, "ids": ids, "abstained": bool(t.quality.abstain),
                     "hr_bpm": t.measurements["hr_bpm"].value,
                     "qrs_ms": t.measurements["qrs_ms"].value,
                     "beats_found": round(len(t.beats) / expected, 2),
                     "av_dissociation_cited": bool(vt and "AV dissociation" in vt.criterion),
                     "av_dissociation_noted": any("dissociat" in s.criterion
                                                  for s in t.statements),
                     "capture_cited": bool(vt and "capture or fusion" in vt.criterion),
                     "width_doubt": any(WIDTH_DOUBT in s.criterion for s in t.statements),
                     "pac_stated": "s:pac" in ids})
    extra = {} if narrow is None else {"capture_from": Path(narrow[0].source or "").stem}
    return {"record": name, "source": source_of(name), "kind": kind, **extra,
            "source_qrs_ms": round((beat.qrs_off - beat.qrs_on) * 1000.0 / a.record.fs),
            "typed": beat.kind, "rows": rows}


def qrs_minus_source(rows: list[tuple[dict, dict]]) -> float | None:
    """Median of (QRS measured on the rebuilt tachycardia - the source complex's own learned
    width): the learned delineator reads the same complex wider once it is repeated
    without P waves, which moves complexes near 120 ms across the wide limit."""
    d = [row["qrs_ms"] - r["source_qrs_ms"] for r, row in rows if row["qrs_ms"] is not None]
    return median(d) if d else None


def summarise(results: list[dict], rates: tuple[float, ...]) -> dict:
    out: dict = {}
    for rate in rates:
        key = f"{rate:.0f}_per_min"
        wide = [(r, row) for r in results if r["kind"] == "wide"
                for row in r["rows"] if row["rate"] == rate]
        narrow = [(r, row) for r in results if r["kind"] == "narrow"
                  for row in r["rows"] if row["rate"] == rate]
        per_source = {}
        for src in sorted({r["source"] for r, _ in wide}):
            sel = [row for r, row in wide if r["source"] == src]
            per_source[src] = {"n": len(sel), "flagged": round(
                sum(bool(FLAGS & set(row["ids"])) for row in sel) / len(sel), 2)}
        out[key] = {
            "wide": {
                "n": len(wide),
                "flagged": round(sum(bool(FLAGS & set(row["ids"])) for _, row in wide)
                                 / max(1, len(wide)), 2),
                "vt": round(sum("s:vt" in row["ids"] for _, row in wide) / max(1, len(wide)), 2),
                "beats_found_median": median(row["beats_found"] for _, row in wide)
                if wide else None,
                "qrs_minus_source_ms": qrs_minus_source(wide),
                "instead": dict(Counter(i for _, row in wide if not FLAGS & set(row["ids"])
                                        for i in row["ids"] if i in RHYTHM_IDS)),
                "not_flagged": [r["record"] for r, row in wide if not FLAGS & set(row["ids"])],
                "abstained": sum(row.get("abstained", False) for _, row in wide),
                # not flagged, but the width that separates VT from SVT is said to be in doubt
                "not_flagged_width_doubt": sum(row.get("width_doubt", False) for _, row in wide
                                               if not FLAGS & set(row["ids"])),
                "av_dissociation_cited": sum(row.get("av_dissociation_cited", False)
                                             for _, row in wide),
                "av_block_stated": sum(bool({"s:avb2", "s:avb3"} & set(row["ids"]))
                                       for _, row in wide),
                "sinus_stated": sum(bool({"s:sr", "s:st", "s:sb", "s:sa"} & set(row["ids"]))
                                    for _, row in wide),
                "capture_cited": sum(row.get("capture_cited", False) for _, row in wide),
                "pac_stated": sum(row.get("pac_stated", False) for _, row in wide),
                "per_source": per_source,
            },
            "narrow": {
                "n": len(narrow),
                "false_flags": sum(bool(FLAGS & set(row["ids"])) for _, row in narrow),
                "false_flag_records": [r["record"] for r, row in narrow
                                       if FLAGS & set(row["ids"])],
                "qrs_minus_source_ms": qrs_minus_source(narrow),
                "abstained": sum(row.get("abstained", False) for _, row in narrow),
                "width_doubt": sum(row.get("width_doubt", False) for _, row in narrow
                                   if not FLAGS & set(row["ids"])),
                "flutter": sum("s:afl" in row["ids"] for _, row in narrow),
                # a narrow complex with dissociated P waves: junctional tachycardia or VT
                "av_dissociation_noted": sum(row.get("av_dissociation_noted", False)
                                             for _, row in narrow),
                "capture_cited": sum(row.get("capture_cited", False) for _, row in narrow),
                "rhythm": dict(Counter(i for _, row in narrow for i in row["ids"]
                                       if i in RHYTHM_IDS)),
            },
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    ap.add_argument("--dissociation", action="store_true",
                    help="add the source's own P wave at 80 /min, independent of the QRS")
    ap.add_argument("--capture", action="store_true",
                    help="replace two complexes by the source's own narrow beat, early")
    common.add_noise_arg(ap)
    ap.add_argument("--out", default=None, help="results name (default wct_bench, "
                    "wct_bench_dissociation, wct_bench_capture, wct_bench_noise_KIND)")
    args = ap.parse_args(argv)
    out_name = args.out or ("wct_bench_dissociation" if args.dissociation else
                            "wct_bench_capture" if args.capture else
                            f"wct_bench_noise_{args.noise}" if args.noise else "wct_bench")
    rates = tuple(args.rates)
    paths = common.shared_record_paths()
    donors = capture_donors(paths) if args.capture else None
    results = [r for r in common.map_records("wct", _one, paths,
                                             (rates, args.dissociation, donors, args.noise),
                                             args.jobs)
               if r is not None]
    summary = summarise(results, rates)
    rows = []
    for key, s in summary.items():
        rows.append([key, s["wide"]["n"], s["wide"]["flagged"], s["wide"]["vt"],
                     s["wide"]["beats_found_median"], s["narrow"]["n"],
                     s["narrow"]["false_flags"], s["narrow"]["flutter"]])
    print(common.table(["rate", "wide n", "flagged", "VT", "beats found", "narrow n",
                        "false VT/WCT", "flutter"], rows, digits=2))
    for key, s in summary.items():
        print(key, "wide per source:", s["wide"]["per_source"], "instead:", s["wide"]["instead"],
              "AV dissociation cited:", s["wide"]["av_dissociation_cited"], "AV block stated:",
              s["wide"]["av_block_stated"], "sinus stated:", s["wide"]["sinus_stated"],
              "capture beats cited:", s["wide"]["capture_cited"], "PAC stated:",
              s["wide"]["pac_stated"], "narrow: AV dissociation noted:",
              s["narrow"]["av_dissociation_noted"], "capture cited:",
              s["narrow"]["capture_cited"])
    path = common.write_json(out_name, {"summary": summary, "records": results,
                                        "dissociation": args.dissociation,
                                        "capture": args.capture, "noise": args.noise})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
