"""Atrial activity and rhythm evidence: P-wave presence, PR consistency, flutter waves,
pacemaker spikes and an independent RR-based atrial fibrillation opinion.

Atrial fibrillation is not called from RR irregularity alone: the statement rule
(:mod:`tools.statements`) requires both an irregularly irregular RR series (RR coefficient of
variation and normalised RMSSD, as in Dash et al., "Automatic real time detection of atrial
fibrillation", Ann Biomed Eng 37:1701, 2009) and the absence of consistent P waves, and
reports whether openecg's rule-based AF detector agrees.
"""
from __future__ import annotations

import numpy as np

from tools.beats import GlobalBeat
from tools.delineate import LeadDelineation
from tools.evidence import Measurement

# Atrial flutter: atrial rate 240-340 /min (cycle 176-250 ms), typically with 2:1 or higher
# conduction (AHA/ACCF/HRS 2009 part I; 2015 ACC/AHA/HRS SVT guideline, Page et al.).
_FLUTTER_CYCLE_MS = (170.0, 260.0)
_FLUTTER_LEADS = ("II", "III", "aVF", "V1")


def _p_ratio(beats: list[GlobalBeat]) -> float:
    if not beats:
        return 0.0
    return sum(b.p_on is not None for b in beats) / len(beats)


def _pr_sd(beats: list[GlobalBeat], fs: float) -> float | None:
    pr = [(b.qrs_on - b.p_on) * 1000.0 / fs for b in beats if b.p_on is not None]
    return float(np.std(pr)) if len(pr) >= 3 else None


def _flutter_rate(fs: float, usable: list[str], beats: list[GlobalBeat],
                  dels: dict[str, LeadDelineation]) -> float | None:
    """Atrial rate (/min) when >= 2 leads show >= 2 regular atrial waves per RR cycle at a
    flutter cycle length; None otherwise. Atrial waves are the delineator's P-labelled waves."""
    if len(beats) < 3:
        return None
    rates = []
    for lead in _FLUTTER_LEADS:
        if lead not in dels:
            continue
        p_peaks = np.array([w.peak for w in dels[lead].waves["P"]], float)
        if p_peaks.size < 4:
            continue
        counts = []
        for a, b in zip(beats[:-1], beats[1:]):
            counts.append(int(np.sum((p_peaks > a.qrs_off) & (p_peaks < b.qrs_on + 0.02 * fs))))
        cyc = np.diff(p_peaks) * 1000.0 / fs
        cyc = cyc[cyc < 400]
        if np.median(counts) >= 2 and cyc.size >= 3:
            med = float(np.median(cyc))
            if _FLUTTER_CYCLE_MS[0] <= med <= _FLUTTER_CYCLE_MS[1] and np.std(cyc) / med < 0.15:
                rates.append(60000.0 / med)
    return float(np.median(rates)) if len(rates) >= 2 else None


def _afib_rule(sig: np.ndarray, fs: float, usable: list[str]) -> bool:
    from openecg import afib_score

    lead = next((lead for lead in ("II", "V1", "I", "aVF") if lead in usable), usable[0])
    try:
        return bool(afib_score(sig[:, usable.index(lead)], int(round(fs)))["is_afib"])
    except Exception:
        return False


def _pacing(sig: np.ndarray, fs: float, usable: list[str], n_beats: int) -> tuple[bool, int]:
    """Pacemaker spikes from openecg's center-surround detector in II, V1 and V5, counted only
    when they coincide (within 10 ms) in at least two leads: a pacing artefact is one
    electrical event seen by every lead, while noise spikes are lead-specific. Paced when
    >= 3 such spikes and at least one per two beats."""
    from openecg import detect_pacings

    spikes = {}
    for lead in ("II", "V1", "V5"):
        if lead in usable:
            try:
                spikes[lead] = np.asarray(detect_pacings(sig[:, usable.index(lead)],
                                                         int(round(fs))), float)
            except Exception:
                continue
    tol = 0.010 * fs
    sync = 0
    leads = list(spikes)
    if leads:
        ref = max(leads, key=lambda k: spikes[k].size)
        for t in spikes[ref]:
            if any(np.any(np.abs(spikes[o] - t) <= tol) for o in leads if o != ref):
                sync += 1
    paced = sync >= 3 and (n_beats == 0 or sync / n_beats >= 0.5)
    return paced, sync


def atrial_activity(sig: np.ndarray, fs: float, usable: list[str], beats: list[GlobalBeat],
                    dels: dict[str, LeadDelineation]) -> dict:
    """Rhythm features and their measurements (see module docstring)."""
    p_ratio = _p_ratio(beats)
    pr_sd = _pr_sd(beats, fs)
    flutter = _flutter_rate(fs, usable, beats, dels)
    afib = _afib_rule(sig, fs, usable)
    paced, spikes = _pacing(sig, fs, usable, len(beats))
    idx = [b.index for b in beats]
    ms = [
        Measurement(id="m:p_wave_ratio", name="p_wave_ratio", value=round(p_ratio, 2),
                    unit="ratio", beats=[b.index for b in beats if b.p_on is not None],
                    method="share of beats with a P wave ending within 400 ms before the QRS "
                           "in at least half of the usable leads", leads=usable),
        Measurement(id="m:pr_sd_ms", name="pr_sd_ms",
                    value=None if pr_sd is None else round(pr_sd, 1), unit="ms", beats=idx,
                    method="SD of PR over beats with a P wave",
                    reason=None if pr_sd is not None else "fewer than 3 beats with a P wave"),
        Measurement(id="m:atrial_rate_bpm", name="atrial_rate_bpm",
                    value=None if flutter is None else round(flutter, 0), unit="/min",
                    method="median cycle of regular P-labelled waves in II, III, aVF, V1",
                    leads=[lead for lead in _FLUTTER_LEADS if lead in usable],
                    reason=None if flutter else "no regular atrial waves faster than the QRS"),
        Measurement(id="m:pacing_spikes", name="pacing_spikes", value=float(spikes),
                    unit="count", method="openecg detect_pacings spikes coinciding within 10 ms in >= 2 of II, V1, V5"),
        Measurement(id="m:afib_rule", name="afib_rule", value=float(afib), unit="bool",
                    method="openecg afib_score RR rules (independent second opinion)"),
    ]
    return {"p_ratio": p_ratio, "pr_sd_ms": pr_sd, "flutter_rate": flutter, "afib_rule": afib,
            "paced": paced, "measurements": ms}
