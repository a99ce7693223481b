"""Mains (power-line) interference removal before measurement.

:mod:`tools.quality` measures the 50/60 Hz line in every lead (``powerline_mv``,
``powerline_hz``) and grades it; here the line is taken out of the leads that carry enough of
it, so that the delineators see the ECG rather than the hum.
"""
from __future__ import annotations

import numpy as np

from tools.quality import RecordQuality

# Mains interference is removed where a lead carries >= 0.02 mV of it (the 90th percentile
# of the strongest lead over the 150 shared records was 0.018 mV; three Chapman records carry
# 0.14-1.6 mV), by subtracting the fitted line (and its harmonic) rather than by a notch
# filter: the sinusoid's frequency is refined to 0.01 Hz and its amplitude and phase are
# fitted over the record, so nothing of the ECG's own spectrum is filtered (the subtraction
# procedure: Levkov et al., BioMed Eng OnLine 4:50, 2005; a narrow notch, tried first, moved
# P-wave detection on a record with 0.02 mV of hum).
MAINS_REMOVE_MV = 0.02


def subtract_line(x: np.ndarray, fs: float, f0: float) -> np.ndarray:
    """``x`` minus its least-squares sinusoid near ``f0`` Hz (frequency searched +-0.3 Hz)."""
    from scipy.signal import zoom_fft

    t = np.arange(x.size) / fs
    xc = x - x.mean()
    # the spectrum at 61 frequencies f0-0.3 .. f0+0.3 Hz in one chirp-z transform
    power = np.abs(zoom_fft(xc, [f0 - 0.30, f0 + 0.30], m=61, fs=fs, endpoint=True))
    f = float(f0 - 0.30 + 0.01 * int(np.argmax(power)))
    basis = np.stack([np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, xc, rcond=None)
    return x - basis @ coef


def remove_mains(sig: np.ndarray, fs: float, leads: list[str], quality: RecordQuality
                 ) -> tuple[np.ndarray, str | None]:
    """``sig`` with the mains line removed from the leads that carry >= ``MAINS_REMOVE_MV``
    of it, and the note saying so (None when nothing was changed)."""
    out, done = sig, []
    for j, lead in enumerate(leads):
        m = quality.leads[lead].metrics if lead in quality.leads else {}
        amp, hz = m.get("powerline_mv"), m.get("powerline_hz")
        if amp is None or hz is None or amp < MAINS_REMOVE_MV or sig.shape[0] < 2 * fs:
            continue
        if out is sig:
            out = np.array(sig, dtype=float, copy=True)
        for h in (hz, 2 * hz):
            if h < 0.45 * fs:
                out[:, j] = subtract_line(out[:, j], fs, h)
        done.append((lead, amp, hz))
    if not done:
        return sig, None
    return out, (f"{done[0][2]:.0f} Hz mains interference (up to "
                 f"{max(a for _, a, _ in done):.2f} mV) subtracted in "
                 + ", ".join(lead for lead, _, _ in done))
