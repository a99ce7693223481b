"""Statement stability under the noise real recordings carry: the shared records with baseline
wander, muscle (EMG) noise, mains interference, or all three, added at levels a reader would
still interpret (types after the MIT-BIH Noise Stress Test Database: Moody, Muldrow & Mark,
Computers in Cardiology 11:381, 1984).

Per condition, relative to the engine's output on the clean record (no reference labels
needed: a statement that appears or disappears because of noise is an error either way):

- ``same_statements``: share of records whose statement set is unchanged; ``same_rhythm``:
  share whose rhythm statements are unchanged;
- ``appeared`` / ``lost``: statements gained / lost, counted per statement id;
- ``dangerous_appeared``: new VT, WCT, NSVT, AV block, AF, flutter, ST elevation or STEMI
  equivalent statements (false alarms a clinician would act on);
- ``abstained``: records where the engine now abstains (honest, counted apart);
- ``median_abs_delta_ms``: PR, QRS, QT change where both values exist.

Noise (mV, per lead, independent phases and seeds; on a file whose leads are normalised
per lead, as LUDB here, each noisy lead is normalised again): ``wander`` 0.15 mV respiration at
0.2-0.4 Hz plus a 0.05-0.5 Hz random component of 0.3 mV peak-to-peak; ``emg`` white noise
band-passed 20-150 Hz, 0.025 mV RMS; ``mains`` 50 Hz, 0.05 mV amplitude; ``all``: the three.

Run: ``python -m benchmarks.noise_bench [--jobs 2] [--conditions mains ...] [--mains-mv 0.05]``;
writes benchmarks/results/noise_bench.json (``--out NAME`` for another name).
"""
from __future__ import annotations

import argparse
import os
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from statistics import median

import numpy as np

from benchmarks import common
from tools.statements import RHYTHM_IDS

CONDITIONS = ("wander", "emg", "mains", "all")
DANGEROUS = {"s:vt", "s:wct", "s:nsvt", "s:avb2", "s:avb3", "s:af", "s:afl", "s:stemi_eq"}


def noise(kind: str, n: int, n_leads: int, fs: float, seed: int,
          mains_mv: float = 0.05) -> np.ndarray:
    """``n`` x ``n_leads`` noise in mV of one kind (see module docstring)."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    out = np.zeros((n, n_leads))
    if kind in ("wander", "all"):
        f = rng.uniform(0.2, 0.4, n_leads)
        ph = rng.uniform(0, 2 * np.pi, n_leads)
        out += 0.15 * np.sin(2 * np.pi * f[None, :] * t[:, None] + ph[None, :])
        slow = sosfiltfilt(butter(2, [0.05, 0.5], "bandpass", fs=fs, output="sos"),
                           rng.normal(size=(n, n_leads)), axis=0)
        slow /= np.ptp(slow, axis=0, keepdims=True) + 1e-12
        out += 0.3 * slow
    if kind in ("emg", "all"):
        hi = min(150.0, 0.45 * fs)
        emg = sosfiltfilt(butter(4, [20.0, hi], "bandpass", fs=fs, output="sos"),
                          rng.normal(size=(n, n_leads)), axis=0)
        out += 0.025 * emg / (emg.std(axis=0, keepdims=True) + 1e-12)
    if kind in ("mains", "all") and fs > 100:
        ph = rng.uniform(0, 2 * np.pi, n_leads)
        out += mains_mv * np.sin(2 * np.pi * 50.0 * t[:, None] + ph[None, :])
    return out


def _summary(a) -> dict:
    m = a.measurements
    return {"ids": sorted({s.id for s in a.statements}),
            "abstain": bool(a.quality.abstain),
            **{k: (m[k].value if k in m else None) for k in ("pr_ms", "qrs_ms", "qt_ms")}}


def _one(args: tuple[str, tuple[str, ...], float]) -> dict:
    from tools.engine import analyze

    path, conditions, mains_mv = args
    rec = common.load(path)
    out = {"record": Path(path).stem, "clean": _summary(analyze(rec))}
    for kind in conditions:
        out[kind] = _summary(analyze(with_noise(rec, Path(path).stem, kind, mains_mv)))
    return out


def with_noise(rec, stem: str, kind: str, mains_mv: float = 0.05):
    """``rec`` with the noise of condition ``kind`` added, seeded by the record's name
    ``stem`` and the condition (the benchmark's own draw, for tests to reuse)."""
    x = np.asarray(rec.signal, float)
    seed = zlib.crc32(stem.encode()) + CONDITIONS.index(kind)
    noisy = x + noise(kind, x.shape[0], x.shape[1], float(rec.fs), seed, mains_mv)
    span = np.ptp(x, axis=0)
    if np.allclose(span, span[0], rtol=1e-3):
        # an export normalised per lead (LUDB here) normalises what was recorded, noise
        # included: each noisy lead is scaled back to the record's common span
        noisy = (noisy - noisy.min(axis=0)) / np.ptp(noisy, axis=0) * span + x.min(axis=0)
    return replace(rec, signal=noisy)


def summarise(rows: list[dict], kind: str, base: str = "clean") -> dict:
    """Condition ``kind`` of each row against its ``base`` reading."""
    same = same_rhythm = abstained = 0
    appeared, lost, dangerous = Counter(), Counter(), Counter()
    deltas: dict[str, list[float]] = {k: [] for k in ("pr_ms", "qrs_ms", "qt_ms")}
    for r in rows:
        c, n = r[base], r[kind]
        if n["abstain"] and not c["abstain"]:
            abstained += 1
            continue
        a, b = set(c["ids"]), set(n["ids"])
        same += a == b
        same_rhythm += (a & RHYTHM_IDS) == (b & RHYTHM_IDS)
        appeared.update(b - a)
        lost.update(a - b)
        dangerous.update((b - a) & DANGEROUS | {x for x in b - a if x.startswith("s:ste_")})
        for k in deltas:
            if c[k] is not None and n[k] is not None:
                deltas[k].append(abs(n[k] - c[k]))
    judged = len(rows) - abstained
    return {"records": len(rows), "abstained": abstained,
            "same_statements": same / judged if judged else None,
            "same_rhythm": same_rhythm / judged if judged else None,
            "appeared": dict(appeared.most_common()), "lost": dict(lost.most_common()),
            "dangerous_appeared": dict(dangerous.most_common()),
            "median_abs_delta_ms": {k: (median(v) if v else None) for k, v in deltas.items()}}


def print_summary(summary: dict, groups: dict, condition: str, unit: str = "") -> None:
    """One table per group of records: a row per condition (its name, then ``unit``)."""
    for g, by in summary.items():
        print(f"\n{g} ({len(groups[g])} records)")
        print(common.table(
            [condition, "same statements", "same rhythm", "abstained", "dangerous appeared",
             "|dPR|", "|dQRS|", "|dQT|"],
            [[k, v["same_statements"], v["same_rhythm"], v["abstained"],
              v["dangerous_appeared"] or "-", *v["median_abs_delta_ms"].values()]
             for k, v in by.items()], 2))
        for k, v in by.items():
            print(f"  {k}{unit}: appeared {v['appeared'] or '-'}; lost {v['lost'] or '-'}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--data", default=str(common.SHARED_DATA))
    ap.add_argument("--conditions", nargs="+", choices=CONDITIONS, default=list(CONDITIONS))
    ap.add_argument("--mains-mv", type=float, default=0.05, help="mains amplitude (mV)")
    ap.add_argument("--out", default="noise_bench", help="results file name")
    args = ap.parse_args(argv)
    paths = common.shared_record_paths(args.data)
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        jobs = [(p, tuple(args.conditions), args.mains_mv) for p in paths]
        for i, r in enumerate(pool.map(_one, jobs), 1):
            common.progress("noise", i, len(paths), Path(paths[i - 1]).stem)
            rows.append(r)
    groups = {"cinc": [r for r in rows if not r["record"].isdigit()],
              "ludb": [r for r in rows if r["record"].isdigit()]}
    summary = {g: {k: summarise(rs, k) for k in args.conditions} for g, rs in groups.items()}
    print_summary(summary, groups, "noise")
    out = {"summary": summary, "mains_mv": args.mains_mv, "records": rows}
    common.write_json(args.out, out)
    return out


if __name__ == "__main__":
    main()
