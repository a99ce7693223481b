"""Rhythms built from real beats, for the rhythm rules no shared record exercises.

The shared data hold no ventricular tachycardia, AV block beyond first degree (one LUDB
record) or long-PR CinC record. These helpers rearrange the real beats of a real record into
such rhythms: every waveform is recorded signal, only the timing is changed. They test that
the rules fire on the pattern they define and stay silent on the controls; they are not
evidence of accuracy on real arrhythmias (that needs labelled records).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from tools.engine import analyze


def _beats(record):
    a = analyze(record)
    beats = [b for b in a.beats if b.p_on is not None and b.t_off is not None]
    return a, beats


def tile_complex(record, rr_ms: float, n_beats: int = 14) -> object:
    """A regular rhythm of the record's own QRS-T complex without its P wave, at one
    complex every ``rr_ms``: from 10 ms before a middle beat's QRS onset for ``rr_ms``, so
    the complex repeats with no atrial activity (a ventricular or junctional-like rhythm
    of that beat's shape)."""
    a, beats = _beats(record)
    b = beats[len(beats) // 2]
    fs = record.fs
    n = int(round(rr_ms * fs / 1000.0))
    start = b.qrs_on - int(0.010 * fs)
    piece = np.array(a.record.signal[start:start + n], float)
    piece = piece - piece[0]  # start each copy at its own baseline, no step at the joins
    ramp = np.linspace(0.0, 1.0, piece.shape[0])[:, None]
    piece = piece - ramp * (piece[-1] - piece[0])
    sig = np.concatenate([piece] * n_beats, axis=0)
    return replace(a.record, signal=sig)


def drop_every_other_qrs(record) -> object:
    """2:1 AV block: every other beat's QRS-T is replaced by the PR-segment level, its P
    wave kept, so half the P waves are not followed by a QRS."""
    a = analyze(record)
    fs = record.fs
    sig = np.array(a.record.signal, float)
    for b in a.beats[1::2]:
        t_end = b.t_off if b.t_off is not None else b.qrs_off + int(0.350 * fs)
        lo, hi = max(0, b.qrs_on - int(0.010 * fs)), min(sig.shape[0] - 1, t_end + int(0.030 * fs))
        for j in range(sig.shape[1]):
            sig[lo:hi + 1, j] = np.linspace(sig[lo, j], sig[hi, j], hi - lo + 1)
    return replace(a.record, signal=sig)


def lengthen_pr(record, extra_ms: float) -> tuple[object, float]:
    """First-degree AV block: every beat's QRS-T is delayed by ``extra_ms`` after its P wave
    (an isoelectric stretch inserted at the PR-segment level), the same length cut from the
    following T-P segment, so the rate is unchanged. Returns (record, PR of the original
    measured by the engine)."""
    a, beats = _beats(record)
    fs = record.fs
    x = np.array(a.record.signal, float)
    d = int(round(extra_ms * fs / 1000.0))
    pieces, pos = [], 0
    for b in beats:
        pieces.append(x[pos:b.qrs_on])
        pieces.append(np.repeat(x[b.qrs_on - 1:b.qrs_on], d, axis=0))
        pos = b.qrs_on
        # cut d samples from the T-P segment that follows this beat's T wave
        nxt = next((c for c in beats if c.p_on is not None and c.p_on > b.t_off), None)
        end = nxt.p_on - int(0.020 * fs) if nxt else x.shape[0]
        if end - b.t_off <= d + int(0.040 * fs):
            raise ValueError("T-P segment too short to move the QRS by that much")
        pieces.append(x[pos:end - d])
        pos = end
    pieces.append(x[pos:])
    sig = np.concatenate(pieces, axis=0)
    return replace(a.record, signal=sig), a.measurements["pr_ms"].value
