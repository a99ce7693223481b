"""Atrial abnormality criteria from the P wave: duration, P-terminal force in V1, P amplitude.

AHA/ACCF/HRS 2009 recommendations part V, chamber hypertrophy (Hancock et al., Circulation
119:e251-e261, 2009), section on atrial abnormalities:

* left atrial abnormality (enlargement): P-wave duration in II > 120 ms; P-terminal force in V1
  (depth x duration of the terminal negative P phase) >= 0.04 mm*s (Morris et al.,
  Circulation 29:242, 1964); a notched P is supportive and not used alone here;
* right atrial abnormality: P amplitude > 0.25 mV in II (peaked P): stated
  (:func:`tools.morphology.right_atrial_abnormality`).

The left atrial criteria are measured and noted, not stated (see :func:`atrial_notes` for
the figures that decided it). The V1 and II amplitude criteria need millivolts and are not
applied to amplitude-normalised files.
"""
from __future__ import annotations

import numpy as np


def p_wave_features(sig: np.ndarray, usable: list[str], beats, fs: float) -> dict:
    """P-terminal force in V1 (mm*s; 10 mm/mV; against the PR-segment baseline) and the P
    amplitude in II (mV; above the level at the P onset) from the median P wave of the beats
    with a P."""
    from tools.measure import dominant, isoelectric

    con = [b for b in dominant(beats) if b.p_on is not None and b.p_off is not None
           and b.p_off > b.p_on]
    out: dict = {"ptf_v1_mm_s": None, "p_ii_mv": None}
    if len(con) < 2:
        return out
    n = int(np.median([b.p_off - b.p_on for b in con])) + 1
    x = sig - isoelectric(sig, beats, fs)

    def median_p(lead):
        j = usable.index(lead)
        segs = [x[b.p_on:b.p_on + n, j] for b in con if b.p_on + n <= x.shape[0]]
        segs = [s for s in segs if np.isfinite(s).all()]  # a page's lead: where printed
        return np.median(np.stack(segs), axis=0) if segs else None

    if "V1" in usable:
        p = median_p("V1")
        if p is not None:
            # the terminal negative phase: the negative run (after the positive peak)
            # that holds the deepest point; depth (mm at 10 mm/mV) x duration (s)
            seg = p[int(np.argmax(p)):]
            k = int(np.argmin(seg))
            if seg[k] < 0:
                lo = k
                while lo > 0 and seg[lo - 1] < 0:
                    lo -= 1
                hi = k
                while hi + 1 < seg.size and seg[hi + 1] < 0:
                    hi += 1
                out["ptf_v1_mm_s"] = float(-seg[k] * 10.0 * (hi - lo + 1) / fs)
            else:
                out["ptf_v1_mm_s"] = 0.0
    if "II" in usable:
        p = median_p("II")
        if p is not None:
            # height above the level where the P wave starts, not above the PR segment:
            # atrial repolarisation (the Ta wave) depresses the PR segment most when the P
            # wave is tall or the rate fast, and would add its depth to the P
            k = max(1, int(round(0.004 * fs)))
            out["p_ii_mv"] = float(p.max() - p[:k].mean())
    return out


def p_duration_lead(dels: dict, lead: str, beats, fs: float) -> float | None:
    """Median P-wave duration (ms) in one lead: the delineator's P wave of that lead ending
    within 400 ms before each dominant beat's QRS onset."""
    from tools.measure import dominant

    d = dels.get(lead)
    if d is None:
        return None
    out = []
    for b in dominant(beats):
        ps = [w for w in d.waves["P"]
              if b.qrs_on - 0.400 * fs < w.offset <= b.qrs_on + 0.020 * fs]
        if ps:
            out.append((ps[-1].offset - ps[-1].onset) * 1000.0 / fs)
    return float(np.median(out)) if len(out) >= 2 else None


def atrial_notes(f) -> None:
    """Notes (in ``f.notes``) for the atrial abnormality criteria a record meets. They are
    measured and reported, not stated: checked on the CinC records (where the learned
    delineator was not trained), P duration in II > 120 ms would have been stated on 16 of
    46 records without an atrial-enlargement label, and P-terminal force >= 0.04 mm*s on 6
    of 46 for 2 of 4 labelled (LUDB cannot check either: its amplitudes are normalised and
    its delineator figures are the delineator's training data). A statement needs a
    criterion that holds on unseen records (issue 12)."""
    m = f.m
    p_ms = m.get("p_ii_ms")
    if p_ms is not None and p_ms > 120:
        f.notes.append(f"P duration in II {p_ms:.0f} ms > 120 ms, a criterion of left atrial "
                       "abnormality (AHA 2009 part V): noted, not stated (see m:p_ii_ms)")
    ptf = None if f.amplitude_normalised else m.get("ptf_v1_mm_s")
    if ptf is not None and ptf >= 0.04:
        f.notes.append(f"P-terminal force in V1 {ptf:.3f} mm*s >= 0.04, a criterion of left "
                       "atrial abnormality (Morris 1964): noted, not stated (see m:ptf_v1_mm_s)")
