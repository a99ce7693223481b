"""Statement stability across sampling rates: the shared records (500 Hz) resampled to the
rates other sources record at, and read again.

The CinC 2021 sources the engine meets record at 500 Hz (PTB-XL, Georgia, Chapman/Ningbo,
CPSC), 257 Hz (St Petersburg INCART) and 1000 Hz (PTB); 250 Hz is common in Holter and
monitor exports. A statement that appears or disappears only because the same ECG was
sampled at another rate is an error either way, so no reference labels are needed: per rate,
relative to the engine's output on the native record, the same figures as
``benchmarks.noise_bench`` (``same_statements``, ``same_rhythm``, ``appeared``, ``lost``,
``dangerous_appeared``, ``abstained``, ``median_abs_delta_ms`` for PR, QRS, QT), per source.

Resampling is polyphase (``scipy.signal.resample_poly``, its default Kaiser anti-alias
filter), as a recorder's decimation would be. On a file normalised per lead (LUDB here) the
resampled leads are scaled back to the record's common span, as such an export would be.
Known and reported, not hidden: below 500 Hz pacemaker spikes (< 2 ms) are filtered out with
the rest of the band above the new Nyquist frequency.

Run: ``python -m benchmarks.fs_bench [--jobs 2] [--rates 250 257 1000]``; writes
benchmarks/results/fs_bench.json.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.noise_bench import _summary, print_summary, summarise
from benchmarks.wct_bench import source_of

RATES = (250.0, 257.0, 1000.0)


def resampled(x: np.ndarray, fs: float, rate: float) -> np.ndarray:
    """``x`` (samples x leads) at ``rate``; a per-lead normalised file stays normalised."""
    from scipy.signal import resample_poly

    frac = Fraction(rate / fs).limit_denominator(1000)
    y = resample_poly(x, frac.numerator, frac.denominator, axis=0)
    span = np.ptp(x, axis=0)
    if np.allclose(span, span[0], rtol=1e-3) and np.all(span > 0):
        y = (y - y.min(axis=0)) / np.ptp(y, axis=0) * span + x.min(axis=0)
    return y


def _one(args: tuple[str, tuple[float, ...]]) -> dict:
    from tools.engine import analyze

    path, rates = args
    rec = common.load(path)
    out = {"record": Path(path).stem, "native": _summary(analyze(rec)), "fs": float(rec.fs)}
    x = np.asarray(rec.signal, float)
    for rate in rates:
        y = resampled(x, float(rec.fs), rate)
        out[f"{rate:g}"] = _summary(analyze(replace(rec, signal=y, fs=rate)))
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--data", default=str(common.SHARED_DATA))
    ap.add_argument("--rates", nargs="+", type=float, default=list(RATES))
    args = ap.parse_args(argv)
    paths = common.shared_record_paths(args.data)
    rows = common.map_records("fs", _one, paths, tuple(args.rates), args.jobs)
    sources = sorted({source_of(r["record"]) for r in rows})
    groups = {"all": rows} | {s: [r for r in rows if source_of(r["record"]) == s]
                              for s in sources}
    kinds = [f"{rate:g}" for rate in args.rates]
    summary = {g: {k: summarise(rs, k, base="native") for k in kinds}
               for g, rs in groups.items()}
    print_summary(summary, groups, "Hz", " Hz")
    out = {"summary": summary, "rates": args.rates, "records": rows}
    common.write_json("fs_bench", out)
    return out


if __name__ == "__main__":
    main()
