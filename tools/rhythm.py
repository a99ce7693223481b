"""Atrial activity and rhythm evidence: P-wave presence, PR consistency, flutter waves,
pacemaker stimuli (found by :mod:`tools.pacing`) and an independent RR-based atrial
fibrillation opinion.

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
from tools.measure import PREMATURE
from tools.pacing import (A_STIM_BASE_RATIO, A_STIM_SLOPE_SHARE, AV_DELAY_MS, AV_DELAY_SD_MS,
                          atrial_stimuli, find_stimuli)
from tools.quality import robust_sd
from tools.spatial import relative_peaks

_FLUTTER_LEADS = ("II", "III", "aVF", "V1")


def _p_ratio(beats: list[GlobalBeat]) -> float:
    """Share of beats with a P wave, ventricular beats (typed by the codec) left out."""
    conducted = [b for b in beats if b.kind != "ventricular"]
    if not conducted:
        return 0.0
    return sum(b.p_on is not None for b in conducted) / len(conducted)


def p_ratio_clear_of_t(beats: list[GlobalBeat], fs: float
                       ) -> tuple[float | None, list[GlobalBeat]]:
    """Share of the conducted beats with a P wave among those where a P wave at the record's
    median PR would start >= 20 ms after the preceding beat's T end, and those beats. At
    fast rates a sinus P wave falls inside the preceding T wave after the shorter cycles and
    can only be seen after the longer ones (the pause after a premature
    beat): counted over every beat, its share fell below half and a sinus tachycardia with
    premature beats was left unnamed (CinC JS20013, 143 /min, P waves with a constant PR
    before 8 of 23 beats, every one of the 6 beats with room for one). The share is None
    with fewer than 3 P waves (no median PR to place them by) or fewer than 3 of them in such
    beats."""
    pr = [b.qrs_on - b.p_on for b in beats if b.p_on is not None and b.kind != "ventricular"]
    if len(pr) < 3:
        return None, []
    pr_med = float(np.median(pr))
    clear = [b for prev, b in zip(beats, beats[1:])
             if b.kind != "ventricular" and prev.t_off is not None
             and b.qrs_on - pr_med >= prev.t_off + 0.020 * fs]
    seen = sum(b.p_on is not None for b in clear)
    return (seen / len(clear) if seen >= 3 else None), clear


#: most beats with a P wave whose PR may stray from the others without making the PR
#: inconsistent (a share), and how far (robust SDs from the median PR) it must stray to be
#: set aside. One wrong 'P' (the first beat's own P before the record start, a bump in the
#: T-P segment) made a sinus rhythm with a long PR (SD 5 ms over the other 8 beats) read as
#: no rhythm at all (benchmarks.long_pr_bench); a Wenckebach PR (190, 256, 280, 186, ...)
#: spreads over most beats and has no such outlier (a plain 'farthest fifth' trim made
#: rebuilt Mobitz I read sinus rhythm with first-degree block, benchmarks.av_block_bench)
PR_OUTLIER_SHARE = 0.2
PR_OUTLIER_K = 3.0


def _pr_sd(beats: list[GlobalBeat], fs: float) -> float | None:
    """SD of PR (ms) over the beats with a P wave, leaving out outliers: PRs more than
    ``PR_OUTLIER_K`` robust SDs (1.4826 x MAD) from the median, the farthest first, at most
    ``PR_OUTLIER_SHARE`` of the beats (none with fewer than 5)."""
    pr = np.array([(b.qrs_on - b.p_on) * 1000.0 / fs for b in beats if b.p_on is not None])
    if pr.size < 3:
        return None
    dev = np.abs(pr - np.median(pr))
    far = int(np.sum(dev > PR_OUTLIER_K * robust_sd(pr)))
    drop = min(far, int(PR_OUTLIER_SHARE * pr.size))
    keep = np.argsort(dev, kind="stable")[:pr.size - drop]
    return float(np.std(pr[keep]))


def _flutter_rate(sig: np.ndarray, fs: float, usable: list[str], beats: list[GlobalBeat]
                  ) -> tuple[float | None, float | None]:
    """Atrial rate (/min) of organised flutter waves (or None), and the rate of a peak set
    aside as the T waves' harmonic (or None).

    QRS complexes (+-20 ms) are blanked by linear interpolation, the residual is band-passed
    2-15 Hz and its Welch spectrum searched for a dominant atrial frequency in 3.8-6.0 Hz
    (228-360 /min). The organisation index is the share of 2-12 Hz power within 0.5 Hz of
    that peak and its first harmonic (after Everett et al., "Frequency domain algorithm for
    quantifying atrial fibrillation organization", IEEE TBME 48:969, 2001): flutter waves are
    one periodic sawtooth, fibrillatory waves are not. Flutter when >= 3 of II, III, aVF, V1
    reach 0.40. The threshold was set on the only flutter records available here (two LUDB
    records) against LUDB's fibrillation records, so its accuracy is not yet established.

    Blanking the QRS leaves the T waves, which repeat at the ventricular rate: their
    harmonics put power at exactly 2x a regular ventricular rate of 114-180 /min, inside the
    flutter band. A peak there cannot be told from 2:1 flutter by this spectrum (and average
    beat subtraction would remove the flutter waves too, being locked to the QRS at a fixed
    ratio), so it is not taken as flutter: its rate is returned second, for the statements
    to say that 2:1 flutter is not excluded. Found on real and rebuilt records: sinus
    tachycardia at 115-124 bpm gave
    "organised atrial waves" at 240 /min (CinC E07514, HR06003), and a wide complex repeated
    at 120 /min without P waves was called atrial flutter instead of a wide-complex
    tachycardia (``benchmarks.wct_bench``).
    """
    from scipy.signal import butter, sosfiltfilt, welch

    leads = [lead for lead in _FLUTTER_LEADS if lead in usable]
    if len(leads) < 3 or len(beats) < 3 or sig.shape[0] < 4 * fs:
        return None, None
    sos = butter(3, [2.0, 15.0], "bandpass", fs=fs, output="sos")
    pad = int(0.020 * fs)
    hits = []
    for lead in leads:
        x = sig[:, usable.index(lead)].astype(float).copy()
        for b in beats:
            lo, hi = max(0, b.qrs_on - pad), min(x.size - 1, b.qrs_off + pad)
            x[lo:hi + 1] = np.linspace(x[lo], x[hi], hi - lo + 1)
        f, p = welch(sosfiltfilt(sos, x), fs, nperseg=int(4 * fs))
        band = (f >= 2.0) & (f <= 12.0)
        search = (f >= 3.8) & (f <= 6.0)
        if not band.any() or p[band].sum() <= 0:
            continue
        fa = float(f[np.argmax(np.where(search, p, 0.0))])
        near = (np.abs(f - fa) <= 0.5) | (np.abs(f - 2 * fa) <= 0.5)
        if p[near & band].sum() / p[band].sum() >= 0.40:
            hits.append(fa)
    if len(hits) < 3:
        return None, None
    rate = 60.0 * float(np.median(hits))
    if _twice_regular_ventricular_rate(rate / 60.0, beats, fs):
        return None, round(rate, 0)
    return rate, None


#: the organisation window of the flutter search (its 'near' band): a peak that close to the
#: second harmonic of a regular ventricular rhythm cannot be told from it
_HARMONIC_HZ = 0.5
REGULAR_RR_CV = 0.08             # the regularity limit the rhythm rules use


def regular_rr(rr) -> bool:
    """RR intervals regular by the rhythm rules' limit: coefficient of variation <
    ``REGULAR_RR_CV`` (callers ask for the number of intervals they need)."""
    rr = np.asarray(rr, float)
    return rr.size > 0 and float(np.mean(rr)) > 0 and \
        float(np.std(rr) / np.mean(rr)) < REGULAR_RR_CV


WEAK_TRAIN = 0.3            # beats below this share of the upper-quartile SV peak and area
COUPLING_RANGE_MS = 120.0   # ... whose coupling to the beat before varies more than this


def dissociated_p_waves(beats, sv: np.ndarray, fs: float, weak: set[int]) -> set[int]:
    """Indices of beats (not already in ``weak``) below ``WEAK_TRAIN`` x the upper-quartile
    spatial-velocity peak and x its area over +-80 ms (:func:`tools.spatial.relative_peaks`;
    a P wave is slow and small, while a native QRS beside paced beats, whose stimuli raise
    the peak, is slow but not small) that are the P waves of a
    dissociated atrial rhythm: the other beats are regular (:func:`regular_rr`, >= 4 of
    them) and these lie anywhere in their cycle (the interval from the preceding other beat
    ranges over more than ``COUPLING_RANGE_MS``; >= 2 of them).

    In complete heart block the P waves walk through the ventricular cycle, and tall P
    waves (a Georgia record's P of > 0.25 mV in II; LUDB's amplitudes normalised per lead)
    reached 0.12-0.22 of the QRS's spatial-velocity peak: labelled QRS by the learned
    delineator (below 0.12 they are set aside by :func:`tools.spatial.weak_beats`), they made
    the ventricular rhythm irregular, and complete block at 33 /min read as atrial
    fibrillation (benchmarks.av_block_bench: E07514, LUDB 77 and 151). Ectopic beats are
    coupled to the beat before them: the accepted variation of the coupling interval of
    non-parasystolic ventricular premature beats is 80-120 ms (Cardioscience 2:7, 1991), and
    the weakest aberrant beats of the shared records (0.17, LUDB 109) sit in the irregular
    rhythm of atrial fibrillation."""
    rel = np.maximum(relative_peaks(beats, sv, fs), relative_peaks(beats, sv, fs, 80.0))
    low = [i for i, x in enumerate(rel) if x < WEAK_TRAIN and beats[i].index not in weak]
    keep = [i for i, x in enumerate(rel) if x >= WEAK_TRAIN]
    if len(low) < 2 or len(keep) < 4:
        return set()
    r = np.array([beats[i].r_time for i in keep], float)
    if not regular_rr(np.diff(r)):
        return set()
    coupling = [(beats[i].r_time - r[r < beats[i].r_time].max()) * 1000.0 / fs
                for i in low if (r < beats[i].r_time).any()]
    if len(coupling) < 2 or max(coupling) - min(coupling) <= COUPLING_RANGE_MS:
        return set()
    return {beats[i].index for i in low}


def _without_premature(rr: np.ndarray) -> np.ndarray:
    """The RR intervals of the dominant rhythm: without the premature ones (< 85 % of the
    median, the prematurity margin of :func:`tools.measure.mark_ectopy`) and the pause after
    each."""
    short = rr < PREMATURE * float(np.median(rr))
    keep = ~short
    keep[1:] &= ~short[:-1]
    return rr[keep]


def _twice_regular_ventricular_rate(fa_hz: float, beats: list[GlobalBeat], fs: float) -> bool:
    """The atrial peak lies within the flutter search's own organisation window (0.5 Hz) of
    the second harmonic of a regular ventricular rhythm (RR coefficient of variation < 0.08).
    One 0.25-Hz bin was too narrow: a wide complex repeated at 112 /min (harmonic 3.73 Hz,
    just below the 3.8-Hz search band) leaked into the 4.0-Hz bin and was read as flutter at
    240 /min, which vetoed the wide-complex tachycardia statement. Regularity is that of the
    dominant rhythm, premature beats and their pauses left out: two capture beats in a
    rebuilt VT at 120 /min raised the RR variation to 0.096 and it read "atrial flutter 2:1
    with LBBB" (``benchmarks.wct_bench --capture``, LUDB 13); flutter with variable
    conduction has no regular dominant rhythm to leave."""
    rr = np.diff([b.r_time for b in beats]) / fs
    if rr.size >= 3:
        rr = _without_premature(rr)
    if rr.size < 3 or not regular_rr(rr):
        return False
    fv = 1.0 / float(np.median(rr))
    return abs(fa_hz - 2.0 * fv) <= _HARMONIC_HZ


def _afib_rule(sig: np.ndarray, fs: float, usable: list[str]) -> bool:
    from openecg import afib_score

    lead = next((lead for lead in ("II", "V1", "I", "aVF") if lead in usable), usable[0])
    try:
        return bool(afib_score(sig[:, usable.index(lead)], int(round(fs)))["is_afib"])
    except Exception:
        return False


def atrial_activity(sig: np.ndarray, fs: float, usable: list[str], beats: list[GlobalBeat],
                    dels: dict[str, LeadDelineation], pacing_sig: np.ndarray | None = None
                    ) -> dict:
    """Rhythm features and their measurements (see module docstring). ``pacing_sig``: the
    signal as recorded where ``sig`` had its stimuli blanked
    (:func:`tools.pacing.blank_stimuli`)."""
    p_ratio = _p_ratio(beats)
    p_clear, clear = p_ratio_clear_of_t(beats, fs)
    pr_sd = _pr_sd(beats, fs)
    flutter, harmonic = _flutter_rate(sig, fs, usable, beats)
    afib = _afib_rule(sig, fs, usable)
    as_recorded = sig if pacing_sig is None else pacing_sig
    paced, spikes, joint, v_spikes, v_times = find_stimuli(as_recorded, fs, usable, beats)
    ventricular = paced and v_spikes >= 3
    n_a, n_v, av_delay, av_sd = atrial_stimuli(as_recorded, fs, beats, v_times) \
        if ventricular else (0, 0, None, None)
    dual = av_delay is not None and av_sd is not None and av_sd <= AV_DELAY_SD_MS
    idx = [b.index for b in beats]
    ms = [
        Measurement(id="m:p_wave_ratio", name="p_wave_ratio", value=round(p_ratio, 2),
                    unit="ratio", beats=[b.index for b in beats if b.p_on is not None],
                    method="share of non-ventricular beats with a P wave ending within 400 ms "
                           "before the QRS in at least half of the usable leads", leads=usable),
        Measurement(id="m:p_wave_ratio_clear", name="p_wave_ratio_clear",
                    value=None if p_clear is None else round(p_clear, 2), unit="ratio",
                    beats=[b.index for b in clear],
                    method="share of non-ventricular beats with a P wave among those where a "
                           "P wave at the median PR would start >= 20 ms after the preceding "
                           "T end (elsewhere it would lie inside the T wave)",
                    leads=usable, details={"beats_with_room": len(clear),
                                           "with_p_wave": sum(b.p_on is not None
                                                              for b in clear)},
                    reason=None if p_clear is not None else
                    "fewer than 3 P waves in beats with room for one"),
        Measurement(id="m:pr_sd_ms", name="pr_sd_ms",
                    value=None if pr_sd is None else round(pr_sd, 1), unit="ms", beats=idx,
                    method="SD of PR over beats with a P wave, outliers (> 3 robust SDs from "
                           "the median PR, at most a fifth of the beats) left out",
                    reason=None if pr_sd is not None else "fewer than 3 beats with a P wave"),
        Measurement(id="m:atrial_rate_bpm", name="atrial_rate_bpm",
                    value=None if flutter is None else round(flutter, 0), unit="/min",
                    method="dominant atrial frequency of the QRS-blanked residual in II, III, "
                           "aVF, V1 "
                           "(organisation index >= 0.40 in >= 3 leads)",
                    leads=[lead for lead in _FLUTTER_LEADS if lead in usable],
                    reason=None if flutter else (
                        f"organised activity at {harmonic:.0f} /min is twice the regular "
                        "ventricular rate: not separable from the QRS-T complexes' own "
                        "harmonics, so not taken as flutter (2:1 flutter not excluded)"
                        if harmonic else "no organised atrial waves at 228-360 /min"),
                    details={"harmonic_of_ventricular": harmonic} if harmonic else {}),
        Measurement(id="m:pacing_spikes", name="pacing_spikes", value=float(max(spikes, joint)),
                    unit="count", method="pacemaker spikes lying before the R peak (0-80 ms before "
                           "QRS onset .. 20 ms before R) or just before a P onset, the larger "
                           "count of two detectors: openecg detect_pacings coinciding within 10 "
                           "ms in >= 2 of II, V1, V5, and one-sample steps coinciding in a limb "
                           "and >= 2 precordial leads (robust to muscle noise)",
                    details={"openecg": spikes, "joint_steps": joint,
                             "before_qrs_onset": v_spikes}),
        Measurement(id="m:afib_rule", name="afib_rule", value=float(afib), unit="bool",
                    method="openecg afib_score RR rules (independent second opinion)"),
        Measurement(id="m:paced_av_delay_ms", name="paced_av_delay_ms",
                    value=round(av_delay, 0) if dual else None, unit="ms",
                    method="atrial stimulus to ventricular stimulus, median over the "
                           "ventricular stimuli with an atrial one "
                           f"{AV_DELAY_MS[0]:.0f}-{AV_DELAY_MS[1]:.0f} ms before (the "
                           "sharpest multi-lead deflection there, >= "
                           f"{A_STIM_SLOPE_SHARE:.2f} x the ventricular stimulus's slope and "
                           f">= {A_STIM_BASE_RATIO:.0f} x the window's median slope; one delay: "
                           f"SD <= {AV_DELAY_SD_MS:.0f} ms)",
                    details={"atrial_stimuli": n_a, "ventricular_stimuli": n_v,
                             "sd_ms": None if av_sd is None else round(av_sd, 1)},
                    reason=None if dual else (
                        "no ventricular pacing" if not ventricular else
                        f"atrial stimuli before {n_a} of {n_v} ventricular ones"
                        + (f" at an AV delay varying by SD {av_sd:.0f} ms"
                           if av_sd is not None else "")
                        + ": not AV-sequential pacing")),
    ]
    return {"p_ratio": p_ratio, "p_ratio_clear": p_clear, "pr_sd_ms": pr_sd,
            "flutter_rate": flutter,
            "flutter_harmonic": harmonic, "afib_rule": afib,
            "paced": paced, "paced_ventricular": ventricular,
            "paced_av_sequential": dual, "measurements": ms}
