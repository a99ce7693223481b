"""Amplitude calibration checks: per-lead normalised exports and limb-lead gain recovery.

Some exports rescale every lead to the same span (LUDB 1.0.1 as distributed here: each lead's
max - min is exactly 1.0). Voltage criteria (Sokolow-Lyon, Cornell, low voltage) are then
meaningless and must not be stated. The six limb leads are linear combinations of two
independent signals (Einthoven: II = I + III; Goldberger: aVR = -(I + II)/2, aVL = (I - III)/2,
aVF = (II + III)/2), so their relative gains can be recovered by least squares, which is enough
for the frontal axis (a ratio of projections). Precordial gains cannot be recovered.
The relations are checked on the leads without baseline wander (:func:`without_wander`).
"""
from __future__ import annotations

import numpy as np

_LIMB = ("I", "II", "III", "aVR", "aVL", "aVF")
# Rows: coefficients on (I, II, III, aVR, aVL, aVF) of relations that are zero in a true ECG.
_RELATIONS = np.array([
    [-1.0, 1.0, -1.0, 0.0, 0.0, 0.0],    # II - I - III
    [0.5, 0.5, 0.0, 1.0, 0.0, 0.0],      # aVR + (I + II)/2
    [-0.5, 0.0, 0.5, 0.0, 1.0, 0.0],     # aVL - (I - III)/2
    [0.0, -0.5, -0.5, 0.0, 0.0, 1.0],    # aVF - (II + III)/2
])


#: AHA/ACC/HRS 2007 recommendations part I (Kligfield et al., Circulation 115:1306): a
#: low-frequency cutoff up to 0.67 Hz is acceptable when the filter is zero-phase
WANDER_CUTOFF_HZ = 0.67


def without_wander(signal: np.ndarray, fs: float) -> np.ndarray:
    """``signal`` with baseline wander removed (zero-phase 2nd-order Butterworth high-pass at
    ``WANDER_CUTOFF_HZ``), for the Einthoven/Goldberger checks: wander that a normalised export
    scaled and offset lead by lead left the relations unmet by any set of gains (LUDB 97, 115,
    183, 193: residual 0.11-0.19 after correction on the recorded leads, 0.01-0.04 without
    their wander), so no frontal axis was measured."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, WANDER_CUTOFF_HZ, btype="highpass", fs=fs, output="sos")
    return sosfiltfilt(sos, signal, axis=0)


def spans_normalised(signal: np.ndarray, tol: float = 0.005) -> bool:
    """True when every lead has the same peak-to-peak span (within ``tol``, relative): the
    signature of a per-lead normalised export, not of a physical recording."""
    if signal.ndim != 2 or signal.shape[1] < 3:
        return False
    span = np.ptp(signal, axis=0)
    if np.any(span <= 0):
        return False
    return bool(np.ptp(span) / np.median(span) < tol)


def limb_gains(signal: np.ndarray, leads: list[str]) -> dict[str, float] | None:
    """Relative gains (lead I = 1) that make the six limb leads satisfy Einthoven/Goldberger
    best, or None when a limb lead is missing. Multiply lead k by ``gains[k]`` to restore it."""
    if not all(lead in leads for lead in _LIMB):
        return None
    x = np.stack([signal[:, leads.index(lead)] for lead in _LIMB], axis=1)
    x = x - np.median(x, axis=0)
    # For each relation r and sample t: sum_k R[r,k] * g_k * x[t,k] = 0, with g_I = 1.
    blocks = [x * _RELATIONS[r] for r in range(len(_RELATIONS))]
    a = np.concatenate(blocks, axis=0)
    g_rest, *_ = np.linalg.lstsq(a[:, 1:], -a[:, 0], rcond=None)
    gains = np.concatenate(([1.0], g_rest))
    if np.any(~np.isfinite(gains)) or np.any(gains <= 0):
        return None
    return dict(zip(_LIMB, gains.tolist()))


def einthoven_residual(signal: np.ndarray, leads: list[str],
                       gains: dict[str, float] | None = None) -> float | None:
    """RMS of the Einthoven/Goldberger relations relative to the RMS of the limb leads."""
    if not all(lead in leads for lead in _LIMB):
        return None
    g = np.array([1.0 if gains is None else gains[lead] for lead in _LIMB])
    x = np.stack([signal[:, leads.index(lead)] for lead in _LIMB], axis=1)
    x = (x - np.median(x, axis=0)) * g
    res = x @ _RELATIONS.T
    return float(np.sqrt(np.mean(res ** 2)) / (np.sqrt(np.mean(x ** 2)) + 1e-12))
