"""NeuroKit2-alone baseline: per-lead delineation and naive global intervals.

Each lead goes through ``nk.ecg_process`` (NeuroKit2 cleaning and R-peak detection, then
``ecg_delineate(method='dwt')``, the wavelet delineator after Martinez et al., IEEE TBME
51(4):570-581, 2004). Per beat: PR = R onset - P onset, QRS = R offset - R onset,
QT = T offset - R onset; per lead the median over beats; globally the median over leads of
the per-lead medians. Non-positive intervals (boundaries out of order) are dropped; no other
bound-checking is done, on purpose: this is what NeuroKit2 gives without our engine.
"""
from __future__ import annotations

import warnings
from statistics import median

import numpy as np

_WAVE_KEYS = {"P": ("ECG_P_Onsets", "ECG_P_Peaks", "ECG_P_Offsets"),
              "QRS": ("ECG_R_Onsets", "ECG_R_Peaks", "ECG_R_Offsets"),
              "T": ("ECG_T_Onsets", "ECG_T_Peaks", "ECG_T_Offsets")}


def _s(v, fs: float) -> float | None:
    """Sample index -> seconds; None for NaN/None."""
    if v is None:
        return None
    v = float(v)
    return None if np.isnan(v) else v / fs


def nk_process_lead(x: np.ndarray, fs: float) -> dict:
    """Run ``nk.ecg_process`` on one lead and return its per-beat boundaries.

    Returns ``{'P'|'QRS'|'T': [(onset_s, peak_s, offset_s), ...]}``, one tuple per detected
    R peak (None where DWT found no boundary)."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_process(np.asarray(x, dtype=float), sampling_rate=int(round(fs)))
    n = len(info["ECG_R_Peaks"])
    out = {}
    for wave, keys in _WAVE_KEYS.items():
        cols = [list(info.get(k, [np.nan] * n)) for k in keys]
        out[wave] = [tuple(_s(c[i], fs) if i < len(c) else None for c in cols) for i in range(n)]
    return out


def nk_delineate(signal: np.ndarray, fs: float, leads: list[str]) -> tuple[dict, dict]:
    """Per-lead NeuroKit2 delineation of a ``(n_samples, n_leads)`` signal.

    Returns ``(delineation, errors)``: ``{lead: waves}`` for leads that processed, and
    ``{lead: message}`` for leads where NeuroKit2 raised (flat or very noisy leads)."""
    dels, errors = {}, {}
    for j, lead in enumerate(leads):
        try:
            dels[lead] = nk_process_lead(signal[:, j], fs)
        except Exception as exc:  # noqa: BLE001 - NeuroKit2 raises many types on bad leads
            errors[lead] = f"{type(exc).__name__}: {exc}"
    return dels, errors


def _per_beat(waves: dict, name: str) -> list[float]:
    out = []
    for p, q, t in zip(waves["P"], waves["QRS"], waves["T"]):
        a, b = {"pr_ms": (p[0], q[0]), "qrs_ms": (q[0], q[2]), "qt_ms": (q[0], t[2])}[name]
        if a is not None and b is not None and b > a:
            out.append((b - a) * 1000.0)
    return out


def nk_intervals(delineation: dict) -> dict:
    """Global PR/QRS/QT (ms): median over leads of per-lead medians over beats."""
    out: dict = {"per_lead": {}}
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        lead_medians = {}
        for lead, waves in delineation.items():
            vals = _per_beat(waves, name)
            if vals:
                lead_medians[lead] = median(vals)
        out["per_lead"][name] = lead_medians
        out[name] = float(median(lead_medians.values())) if lead_medians else None
    return out


def nk_analyze(record) -> dict:
    """Baseline analysis of a ``tools.record.Record``: delineation, intervals, errors."""
    dels, errors = nk_delineate(record.signal, record.fs, list(record.sig_name))
    return {"delineation": dels, "intervals": nk_intervals(dels), "errors": errors}
