"""Per-lead signal quality of a 12-lead ECG; poor quality is an output field, not an exception.

:func:`assess_quality` grades every standard lead (``good``, ``acceptable``, ``poor``,
``missing``), lists the issues found as stable snake_case codes with the metric behind each,
decides which leads downstream measurement may use, whether interpretation should abstain,
and screens the limb leads for an LA/RA cable reversal and for Einthoven/Goldberger
inconsistency.

Issue codes per lead: ``missing``, ``non_finite_samples``, ``flat_line``, ``clipping``,
``baseline_wander``, ``high_frequency_noise``, ``powerline``, ``low_amplitude``.
Issue codes per record: ``einthoven_inconsistent``, ``goldberger_inconsistent``,
``limb_lead_reversal_suspected``.

Thresholds were calibrated on the 100 LUDB and 50 PhysioNet/CinC 2021 records in
``../shared/data`` (1,800 leads); each comment gives what the calibration showed.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy import ndimage, signal

from tools.record import LIMB_LEADS, STANDARD_LEADS, Record

Grade = Literal["good", "acceptable", "poor", "missing"]
LeadName = Literal["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]

# --- thresholds (mV, s, or dimensionless ratios) -------------------------------------------
# Whole-lead peak-to-peak under 0.05 mV holds no ECG (calibration leads: min 0.23 mV).
FLAT_PTP_MV = 0.05
# Flat run: every 0.1-s window under 0.02 mV peak-to-peak for >= 2 s while the other leads
# are active. With 1 s, 13 clean LUDB leads were flagged: bradycardic diastole stays that
# flat for up to 1.22 s (LUDB 51, 127, 129, 133). A sinus pause flattens all leads together
# (mean share of the other leads active < 0.25); a technical flat line flattens one.
FLAT_WINDOW_S, FLAT_LOCAL_PTP_MV, FLAT_RUN_S, FLAT_OTHERS_ACTIVE = 0.1, 0.02, 2.0, 0.25
# Clipping: >= 3 plateaus (>= 8 ms of one repeated value) at the lead's own maximum or
# minimum, covering >= 0.5 % of samples; poor from 2 %. A real R peak is rounded and reaches
# the maximum once; a saturated amplifier or a clipped export repeats one value exactly. The
# rail must lie >= 25 % of the peak-to-peak from the median: otherwise quantised diastole of a
# lead whose QRS points the other way passes for clipping (4 clean LUDB leads did).
CLIP_PLATEAU_S, CLIP_MIN_PLATEAUS, CLIP_FRACTION, CLIP_POOR_FRACTION = 0.008, 3, 0.005, 0.02
# Baseline: median filters of 0.2 s then 0.6 s remove QRS and T and leave the baseline
# (de Chazal, O'Dwyer, Reilly, IEEE TBME 2004;51:1196); excursion = its 2nd-98th percentile
# range. Clean leads: 99th percentile 0.96 mV; above 4 mV only motion artefacts were seen.
# Wander is removable by high-pass filtering, so it stays `acceptable` up to 4 mV.
WANDER_MV, WANDER_POOR_MV = 1.0, 4.0
# EMG / high-frequency noise: robust SD of the >40 Hz residual (mains notched out; the median
# ignores the QRS samples), relative to the QRS amplitude and absolute. Ratio on the
# calibration leads: median 0.003, 95th percentile 0.023, 99th 0.049; every lead above 0.05
# looked noisy by eye, above 0.12 the QRS was barely visible (CinC JS20015 aVL 0.137,
# JS20019 aVL 0.140). Absolute: 99th percentile 0.020 mV; an SD of 0.04 mV (+-0.1 mV fuzz)
# hides small P waves even beside a tall QRS, 0.12 mV hides them all.
HF_CUTOFF_HZ, HF_RATIO, HF_POOR_RATIO, HF_MV, HF_POOR_MV = 40.0, 0.05, 0.12, 0.04, 0.12
# Mains: amplitude of the 50 or 60 Hz line over the QRS amplitude. Calibration leads: 99th
# percentile 0.053; CinC JS20006/JS20011 hum 0.13-0.68; JS20007 V6 (5 mV hum) 0.75.
MAINS_HZ, POWERLINE_RATIO, POWERLINE_POOR_RATIO = (50.0, 60.0), 0.10, 0.5
# Low amplitude: QRS of the median beat under 0.1 mV peak-to-peak (4 calibration leads, all
# transition leads); a quality hint, not the clinical low-voltage criterion.
LOW_AMPLITUDE_MV = 0.10
# Einthoven II = I + III and Goldberger aVR = -(I+II)/2, aVL = I - II/2, aVF = II - I/2:
# residual RMS over the lead's RMS. CinC records: <= 0.008. The LUDB copy here fails it
# (0.08-0.64 in 97 of 100 records: each lead was rescaled to 1 mV peak-to-peak).
CONSISTENCY_RATIO = 0.10
# Abstention (see _abstain): >= 3 usable limb leads and >= 6 usable leads overall.
MIN_USABLE_LIMB, MIN_USABLE_TOTAL = 3, 6

# Windows relative to the QRS centre (s): QRS amplitude, end of the net-area window, beat span.
_QRS_AMP_S, _QRS_END_S, _SPAN = 0.08, 0.06, (-0.35, 0.45)
_SEVERITY = {"good": 0, "acceptable": 1, "poor": 2, "missing": 3}


class LeadQuality(BaseModel):
    """Quality of one lead: grade, whether measurement may use it, the issue codes and the
    metrics behind them (units in the key: ``_mv``, ``_s``, ``_hz``; others are ratios)."""

    lead: LeadName
    grade: Grade
    usable: bool
    issues: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


class LimbReversal(BaseModel):
    """Suspicion of a limb-electrode cable reversal (``kind``: ``'LA/RA'``), the measured
    evidence in words, and a confidence in [0, 1]."""

    suspected: bool
    kind: str | None = None
    evidence: str = ""
    confidence: float = Field(0.0, ge=0.0, le=1.0)


class RecordQuality(BaseModel):
    """Quality of a whole record: per-lead results, the leads measurement may use, record
    issues and metrics, the limb-reversal screen, and whether to abstain and why."""

    leads: dict[str, LeadQuality]
    usable_leads: list[str]
    excluded_leads: list[str]
    limb_lead_reversal: LimbReversal
    abstain: bool
    abstain_reason: str | None = None
    issues: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


def assess_quality(record: Record, windows: dict[str, tuple[int, int]] | None = None
                   ) -> RecordQuality:
    """Grade each of the 12 standard leads of ``record`` and the record as a whole.

    Parameters
    ----------
    record : Record
        Signal in mV, ``(n_samples, n_leads)``; leads are matched by their normalised
        names, other leads are ignored. Checks above 40 Hz need ``fs`` >= 100 Hz.
    windows : leads present over part of the record only (a digitised 3x4 page prints each
        lead for 2.5 s): lead -> (first, last) sample. Each is graded on its window, with the
        full-length leads over the same span; the record checks use the full-length leads.

    Returns
    -------
    RecordQuality
        Bad signal never raises; ``ValueError`` only for a malformed ``record`` (signal
        shape not matching ``sig_name``, non-positive ``fs``).

    Examples
    --------
    >>> import numpy as np
    >>> from tools.record import Record, STANDARD_LEADS
    >>> q = assess_quality(Record(np.zeros((5000, 12)), 500.0, list(STANDARD_LEADS)))
    >>> q.abstain, q.leads["II"].grade, q.leads["II"].issues
    (True, 'missing', ['missing'])
    """
    if windows:
        return _assess_partial(record, windows)
    x, present = _standard_matrix(record)
    fs = float(record.fs)
    leads: dict[str, LeadQuality] = {}
    live: dict[str, float] = {}  # lead -> share of non-finite samples, for leads with signal
    for j, name in enumerate(STANDARD_LEADS):
        finite = np.isfinite(x[:, j])
        bad = 1.0 - float(finite.mean()) if len(finite) else 1.0
        if not present[j]:
            leads[name] = _lead(name, "missing", [("missing", "missing")], {"absent": 1.0})
        elif bad > 0.5 or np.ptp(x[finite, j]) == 0.0:
            leads[name] = _lead(name, "missing", [("missing", "missing")],
                                {"ptp_mv": 0.0, "non_finite_fraction": bad})
        else:
            x[~finite, j] = np.median(x[finite, j])  # fill gaps so the filters stay finite
            live[name] = bad
        if name not in live:
            x[:, j] = 0.0
    # Mains lines are notched out once: they are reported as `powerline` and must neither
    # inflate the QRS amplitude nor pass for EMG.
    clean = _filter(x, fs, "notch")
    bp = _filter(clean, fs, "band")
    cols = [STANDARD_LEADS.index(n) for n in live]
    beats = _detect_beats(bp, fs, [j for j in cols if np.ptp(x[:, j]) >= FLAT_PTP_MV])
    seg = _segments(bp, fs, beats)
    tmpl = np.median(seg, axis=0) if len(seg) >= 3 else None
    if cols:
        _grade_leads(x, clean, bp, tmpl, fs, live, leads)
    return _assess_record(bp, tmpl, seg, fs, len(beats), leads)


def _assess_partial(record: Record, windows: dict[str, tuple[int, int]]) -> RecordQuality:
    """:func:`assess_quality` of a record whose leads in ``windows`` exist in those spans
    only: the full-length leads as a record of their own, each partial lead in the crop of
    its window (with the full-length leads beside it, which the beat template needs)."""
    from dataclasses import replace

    def part(names: list[str], a: int, b: int) -> Record:
        cols = [record.sig_name.index(n) for n in names]
        return replace(record, signal=record.signal[a:b + 1, cols], sig_name=names,
                       units=["mV"] * len(names), digitized=None)

    full = [n for n in record.sig_name if n not in windows]
    base = assess_quality(part(full, 0, record.n_samples - 1))
    leads = dict(base.leads)
    issues = list(base.issues)
    for a, b in sorted(set(windows.values())):
        names = full + [n for n in record.sig_name if windows.get(n) == (a, b)]
        q = assess_quality(part(names, a, b))
        for n in names:
            if n in windows:
                leads[n] = q.leads[n]
        issues += [i for i in q.issues if i not in issues and i.endswith("_inconsistent")]
    usable = [n for n in STANDARD_LEADS if leads[n].usable]
    abstain, reason = _abstain(leads, usable)
    return RecordQuality(leads=leads, usable_leads=usable,
                         excluded_leads=[n for n in STANDARD_LEADS if n not in usable],
                         limb_lead_reversal=base.limb_lead_reversal, abstain=abstain,
                         abstain_reason=reason, issues=issues, metrics=base.metrics)


# --- signal preparation -------------------------------------------------------------------
def _standard_matrix(record: Record) -> tuple[np.ndarray, np.ndarray]:
    sig = np.asarray(record.signal, dtype=float)
    if sig.ndim != 2 or sig.shape[1] != len(record.sig_name):
        raise ValueError(f"record signal has shape {sig.shape!r} but sig_name lists "
                         f"{len(record.sig_name)} leads {record.sig_name!r}; expected "
                         "(n_samples, n_leads)")
    if not record.fs or record.fs <= 0:
        raise ValueError(f"record fs is {record.fs!r}; expected a sampling frequency > 0 Hz")
    x = np.zeros((sig.shape[0], len(STANDARD_LEADS)))
    present = np.zeros(len(STANDARD_LEADS), dtype=bool)
    for j, name in enumerate(STANDARD_LEADS):
        if name in record.sig_name:
            x[:, j] = sig[:, record.sig_name.index(name)]
            present[j] = True
    return x, present


@lru_cache(maxsize=32)
def _sos(kind: str, fs: float) -> np.ndarray | None:
    """Second-order sections for a zero-phase filter, designed once per sampling rate."""
    nyq_safe = 0.45 * fs
    if kind == "band":  # 0.5-40 Hz: the diagnostic QRS/P/T band without wander or mains
        return signal.butter(2, [0.5, min(40.0, nyq_safe)], "bandpass", fs=fs, output="sos")
    if kind == "high":
        return signal.butter(4, HF_CUTOFF_HZ, "highpass", fs=fs, output="sos")
    lines = [h for f0 in MAINS_HZ for h in (f0, 2 * f0) if h < nyq_safe]
    if not lines:
        return None
    return np.vstack([signal.tf2sos(*signal.iirnotch(h, 10.0, fs=fs)) for h in lines])


def _filter(x: np.ndarray, fs: float, kind: str) -> np.ndarray:
    sos = _sos(kind, fs)
    if sos is None or len(x) <= 3 * (2 * len(sos) + 1):
        return x
    return signal.sosfiltfilt(sos, x, axis=0)


# --- per-lead checks ----------------------------------------------------------------------
def _grade_leads(x: np.ndarray, clean: np.ndarray, bp: np.ndarray, tmpl: np.ndarray | None,
                 fs: float, live: dict[str, float], leads: dict[str, LeadQuality]) -> None:
    cols = [STANDARD_LEADS.index(n) for n in live]
    xs = x[:, cols]
    amp = np.maximum(_qrs_amplitude(bp[:, cols], None if tmpl is None else tmpl[:, cols], fs),
                     1e-6)
    flat = _flat_mask(xs, fs)
    wander = _baseline_excursion(xs, fs)
    hf_mv = _hf_noise(clean[:, cols], fs)
    mains_mv, mains_hz = _mains_amplitude(xs, fs)
    for k, (name, bad) in enumerate(live.items()):
        y = xs[:, k]
        m = {"ptp_mv": float(np.ptp(y)), "qrs_amplitude_mv": float(amp[k]),
             "baseline_excursion_mv": float(wander[k])}
        issues: list[tuple[str, str]] = []  # (code, the grade it implies)
        if bad > 0:
            m["non_finite_fraction"] = bad
            issues.append(("non_finite_samples", "poor" if bad > 0.01 else "acceptable"))
        m["flat_run_s"] = _technical_flat_run(flat, k, fs)
        if m["ptp_mv"] < FLAT_PTP_MV or m["flat_run_s"] >= FLAT_RUN_S:
            issues.append(("flat_line", "poor"))
        m["clip_fraction"], m["clip_plateaus"] = _clipping(y, fs)
        if m["clip_plateaus"] >= CLIP_MIN_PLATEAUS and m["clip_fraction"] >= CLIP_FRACTION:
            issues.append(("clipping", _worse(m["clip_fraction"], CLIP_POOR_FRACTION)))
        if m["baseline_excursion_mv"] > WANDER_MV:
            issues.append(("baseline_wander", _worse(m["baseline_excursion_mv"], WANDER_POOR_MV)))
        if hf_mv is not None:
            m["hf_noise_mv"], m["hf_noise_ratio"] = float(hf_mv[k]), float(hf_mv[k] / amp[k])
            if m["hf_noise_ratio"] > HF_RATIO or m["hf_noise_mv"] > HF_MV:
                poor = m["hf_noise_ratio"] > HF_POOR_RATIO or m["hf_noise_mv"] > HF_POOR_MV
                issues.append(("high_frequency_noise", "poor" if poor else "acceptable"))
        if mains_mv is not None:
            m["powerline_mv"], m["powerline_hz"] = float(mains_mv[k]), float(mains_hz[k])
            m["powerline_ratio"] = float(mains_mv[k] / amp[k])
            if m["powerline_ratio"] > POWERLINE_RATIO:
                issues.append(("powerline", _worse(m["powerline_ratio"], POWERLINE_POOR_RATIO)))
        if amp[k] < LOW_AMPLITUDE_MV and m["ptp_mv"] >= FLAT_PTP_MV:
            issues.append(("low_amplitude", "acceptable"))
        leads[name] = _lead(name, None, issues, m)


def _worse(value: float, poor_above: float) -> str:
    return "poor" if value > poor_above else "acceptable"


def _lead(name: str, grade: str | None, issues: list[tuple[str, str]],
          metrics: dict) -> LeadQuality:
    if grade is None:
        grade = max((g for _, g in issues), key=_SEVERITY.__getitem__, default="good")
    return LeadQuality(lead=name, grade=grade, usable=grade in ("good", "acceptable"),
                       issues=[c for c, _ in issues],
                       metrics={k: round(float(v), 5) for k, v in metrics.items()})


def _qrs_amplitude(bp: np.ndarray, tmpl: np.ndarray | None, fs: float) -> np.ndarray:
    """QRS peak-to-peak (mV) of the median beat within +-80 ms of the QRS centre: the median
    over beats keeps noise not locked to the QRS (mains, EMG) out of it. Without 3 beats, the
    0.5th-99.5th percentile range of the band-passed lead stands in."""
    if tmpl is None:
        return np.percentile(bp, 99.5, axis=0) - np.percentile(bp, 0.5, axis=0)
    t0, h = int(round(-_SPAN[0] * fs)), int(_QRS_AMP_S * fs)
    return np.ptp(tmpl[t0 - h:t0 + h], axis=0)


def _flat_mask(x: np.ndarray, fs: float) -> np.ndarray:
    w = max(2, int(round(FLAT_WINDOW_S * fs)))
    local_ptp = ndimage.maximum_filter1d(x, w, axis=0) - ndimage.minimum_filter1d(x, w, axis=0)
    return local_ptp < FLAT_LOCAL_PTP_MV


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _technical_flat_run(flat: np.ndarray, k: int, fs: float) -> float:
    """Longest flat run (s) of lead ``k`` during which the other leads are active."""
    n_others = flat.shape[1] - 1
    others_active = (n_others - (flat.sum(axis=1) - flat[:, k])) / max(n_others, 1)
    longest = 0.0
    for s, e in zip(*_runs(flat[:, k])):
        dur = (e - s) / fs
        if dur >= FLAT_RUN_S and dur > longest and (
                n_others == 0 or others_active[s:e].mean() >= FLAT_OTHERS_ACTIVE):
            longest = dur
    return longest


def _clipping(y: np.ndarray, fs: float) -> tuple[float, float]:
    """Share of samples on repeated-value plateaus at the lead's extremes, and their count."""
    min_len = max(3, int(round(CLIP_PLATEAU_S * fs)))
    ptp = float(np.ptp(y))
    tol, mid = max(1e-3, 0.002 * ptp), float(np.median(y))
    same = np.abs(np.diff(y)) <= 1e-9
    same = np.concatenate(([False], same)) | np.concatenate((same, [False]))
    n_samples, n_plateaus = 0, 0
    for rail, at_rail in ((y.max(), y >= y.max() - tol), (y.min(), y <= y.min() + tol)):
        if abs(rail - mid) < 0.25 * ptp:
            continue
        starts, ends = _runs(at_rail & same)
        long = (ends - starts) >= min_len
        n_plateaus += int(long.sum())
        n_samples += int((ends - starts)[long].sum())
    return n_samples / len(y), float(n_plateaus)


def _baseline_excursion(x: np.ndarray, fs: float) -> np.ndarray:
    # The baseline lies below 1 Hz, so block means down to ~25 Hz lose nothing and make the
    # two median filters cheap.
    step = max(1, int(fs // 25))
    n = (len(x) // step) * step
    if n < 2 * step:
        return np.zeros(x.shape[1])
    m = x[:n].reshape(-1, step, x.shape[1]).mean(axis=1)
    rate = fs / step
    b = ndimage.median_filter(m, size=(_odd(0.2 * rate), 1), mode="nearest")
    b = ndimage.median_filter(b, size=(_odd(0.6 * rate), 1), mode="nearest")
    return np.percentile(b, 98, axis=0) - np.percentile(b, 2, axis=0)


def _odd(v: float) -> int:
    return int(v) // 2 * 2 + 1


def robust_sd(x: np.ndarray, axis: int | None = 0) -> np.ndarray | float:
    """1.4826 x the median absolute deviation: the SD of Gaussian noise, barely moved by the
    few large samples (QRS complexes, spikes) a signal's noise estimate must ignore."""
    x = np.asarray(x, float)
    return 1.4826 * np.median(np.abs(x - np.median(x, axis=axis, keepdims=True)), axis=axis)


def _hf_noise(clean: np.ndarray, fs: float) -> np.ndarray | None:
    """Robust SD (mV) of the >40 Hz residual of the mains-notched signal; None below 100 Hz."""
    if fs < 2.5 * HF_CUTOFF_HZ or len(clean) < fs:
        return None
    # the QRS samples (< 20 % of the record) barely move the robust SD
    return robust_sd(_filter(clean, fs, "high"))


def _mains_amplitude(x: np.ndarray, fs: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Amplitude (mV) of the stronger mains line, 50 or 60 Hz, and which one, per lead."""
    if fs < 2.2 * max(MAINS_HZ) or len(x) < fs:
        return None, None
    power = np.abs(np.fft.rfft(x - x.mean(axis=0), axis=0)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / fs)
    # Parseval: a sinusoid of amplitude A puts A^2 N^2 / 4 into its +-1 Hz band of |X|^2.
    amps = np.array([2.0 * np.sqrt(power[np.abs(f - f0) <= 1.0].sum(axis=0)) / len(x)
                     for f0 in MAINS_HZ])
    best = amps.argmax(axis=0)
    return amps.max(axis=0), np.asarray(MAINS_HZ)[best]


# --- beats ----------------------------------------------------------------------------------
def _detect_beats(bp: np.ndarray, fs: float, cols: list[int]) -> np.ndarray:
    """QRS centres (sample indices) from the summed, per-lead normalised slope of the leads
    with signal, smoothed over 80 ms (a multi-lead variant of Pan & Tompkins, IEEE TBME 1985;
    32:230). On the calibration records it agreed with NeuroKit2 on lead II except where
    NeuroKit2 missed or doubled beats (checked by eye)."""
    if not cols or len(bp) < fs:
        return np.zeros(0, dtype=int)
    slope = np.abs(np.gradient(bp[:, cols], axis=0))
    slope /= np.maximum(np.percentile(slope, 99, axis=0), 1e-9)
    energy = ndimage.uniform_filter1d(slope.sum(axis=1), max(1, int(0.08 * fs)))
    peaks, _ = signal.find_peaks(energy, height=0.35 * np.percentile(energy, 99),
                                 distance=max(1, int(0.25 * fs)))
    return peaks


def _segments(bp: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Per-beat segments (beats, samples, leads) over ``_SPAN`` around each QRS centre."""
    lo, hi = int(round(_SPAN[0] * fs)), int(round(_SPAN[1] * fs))
    beats = beats[(beats + lo >= 0) & (beats + hi < len(bp))]
    return bp[beats[:, None] + np.arange(lo, hi)[None, :]]


def _beat_features(seg: np.ndarray, tmpl: np.ndarray, fs: float,
                   limb: list[int]) -> dict[str, np.ndarray]:
    """Per-lead polarity of the median beat ``tmpl``.

    ``net``: net / absolute QRS area in [-1, 1] from the QRS onset to 60 ms after the centre,
    relative to the PR level. ``p``: P amplitude (mV) at one P-peak time shared by all leads
    (where the usable limb leads' P deflections are largest), after removing the line
    joining the TP level before and the PR level after the P window. ``p_agree``: share of
    beats whose own P deflection there has the template's sign (~0.5 without P waves).
    """
    t0 = int(round(-_SPAN[0] * fs))
    slope = np.abs(np.gradient(tmpl[:, limb], axis=0))
    slope = (slope / np.maximum(slope.max(axis=0), 1e-9)).sum(axis=1)
    # QRS onset: walking back from the slope maximum, the first point where the summed slope
    # (smoothed over 20 ms so the dip at an R apex does not stop the walk) is under 10 % of it.
    env = ndimage.uniform_filter1d(slope, max(1, int(0.02 * fs)))
    half = int(0.06 * fs)
    pk = t0 - half + int(np.argmax(env[t0 - half:t0 + half]))
    onset = max(pk - int(0.15 * fs), int(0.1 * fs))
    below = np.flatnonzero(env[onset:pk + 1] < 0.1 * env[pk])
    onset = onset + int(below[-1]) if len(below) else onset
    ref = np.median(tmpl[onset - int(0.02 * fs):onset + 1], axis=0)
    q = tmpl[onset:t0 + int(_QRS_END_S * fs)] - ref
    net = q.sum(axis=0) / np.maximum(np.abs(q).sum(axis=0), 1e-9)
    # P window: 240 ms ending 20 ms before QRS onset (PR 120-200 ms, P <= 120 ms long); its
    # ends lie on the TP and PR levels up to ~110/min.
    a, b = max(0, onset - int(0.26 * fs)), onset - int(0.02 * fs)
    d = _detrend(tmpl[a:b])
    k = int(np.argmax((d[:, limb] ** 2).sum(axis=1)))
    w = slice(max(0, k - int(0.01 * fs)), k + int(0.01 * fs) + 1)
    p = d[w].mean(axis=0)
    p_beats = _detrend(seg[:, a:b])[:, w].mean(axis=1)
    agree = (np.sign(p_beats) == np.sign(p)[None, :]).mean(axis=0)
    return {"net": net, "p": p, "p_agree": agree}


def _detrend(w: np.ndarray) -> np.ndarray:
    """Remove the straight line joining the first and last sample (axis -2)."""
    ramp = np.linspace(0.0, 1.0, w.shape[-2])[:, None]
    return w - (w[..., :1, :] * (1 - ramp) + w[..., -1:, :] * ramp)


# --- record-level checks ------------------------------------------------------------------
def _assess_record(bp: np.ndarray, tmpl: np.ndarray | None, seg: np.ndarray, fs: float,
                   n_beats: int, leads: dict[str, LeadQuality]) -> RecordQuality:
    usable = [n for n in STANDARD_LEADS if leads[n].usable]
    issues: list[str] = []
    metrics: dict[str, float] = {"n_beats": float(n_beats)}
    present = {n: bp[:, STANDARD_LEADS.index(n)] for n in STANDARD_LEADS
               if leads[n].grade != "missing"}
    _consistency(present, issues, metrics)
    reversal = _limb_reversal(seg, tmpl, fs, leads)
    if reversal.suspected:
        issues.append("limb_lead_reversal_suspected")
    abstain, reason = _abstain(leads, usable)
    return RecordQuality(leads=leads, usable_leads=usable,
                         excluded_leads=[n for n in STANDARD_LEADS if n not in usable],
                         limb_lead_reversal=reversal, abstain=abstain, abstain_reason=reason,
                         issues=issues, metrics={k: round(v, 5) for k, v in metrics.items()})


def _abstain(leads: dict[str, LeadQuality], usable: list[str]) -> tuple[bool, str | None]:
    # Rule: abstain when fewer than 3 of the 6 limb leads or fewer than 6 of the 12 leads are
    # usable. Three limb leads keep the frontal axis over-determined (two independent leads
    # plus a check) and the limb-lead criteria answerable; six leads keep global intervals
    # (earliest onset / latest offset over the leads) close to their 12-lead values.
    limb = [n for n in LIMB_LEADS if n in usable]
    if len(limb) >= MIN_USABLE_LIMB and len(usable) >= MIN_USABLE_TOTAL:
        return False, None
    bad = ", ".join(f"{n} ({'/'.join(leads[n].issues) or leads[n].grade})"
                    for n in STANDARD_LEADS if n not in usable)
    reason = (f"{len(limb)} of 6 limb leads usable ({', '.join(limb) or 'none'}; need "
              f"{MIN_USABLE_LIMB}) and {len(usable)} of 12 leads usable "
              f"({', '.join(usable) or 'none'}; need {MIN_USABLE_TOTAL}); excluded: {bad}")
    absent = [n for n in LIMB_LEADS[2:] if leads[n].metrics.get("absent")]
    if absent and "I" in usable and "II" in usable:
        reason += f"; {', '.join(absent)} could be derived from I and II before assessing"
    return True, reason


def _consistency(col: dict[str, np.ndarray], issues: list[str], metrics: dict) -> None:
    """Einthoven's and Goldberger's laws hold exactly for correctly labelled limb leads of
    one acquisition. A residual means a mislabelled, rescaled or separately recorded lead.
    An LA/RA reversal keeps both laws true, so it is screened separately."""
    def ratio(residual: np.ndarray, ref: np.ndarray) -> float:
        return float(np.sqrt(np.mean(residual ** 2)) / max(np.sqrt(np.mean(ref ** 2)), 1e-9))

    if all(n in col for n in ("I", "II", "III")):
        metrics["einthoven_residual_ratio"] = ratio(col["II"] - col["I"] - col["III"], col["II"])
        if metrics["einthoven_residual_ratio"] > CONSISTENCY_RATIO:
            issues.append("einthoven_inconsistent")
    if "I" in col and "II" in col:
        expected = {"aVR": -(col["I"] + col["II"]) / 2, "aVL": col["I"] - col["II"] / 2,
                    "aVF": col["II"] - col["I"] / 2}
        rs = [ratio(col[n] - e, col[n]) for n, e in expected.items() if n in col]
        if rs:
            metrics["goldberger_residual_ratio"] = max(rs)
            if max(rs) > CONSISTENCY_RATIO:
                issues.append("goldberger_inconsistent")


def _limb_reversal(seg: np.ndarray, tmpl: np.ndarray | None, fs: float,
                   leads: dict[str, LeadQuality]) -> LimbReversal:
    """Screen for LA/RA cable reversal.

    With LA and RA swapped, lead I is globally inverted (negative P, QRS and T), II and III
    and aVR and aVL trade places, and aVR may turn upright (positive P and QRS), a picture
    otherwise very rare in sinus rhythm (Batchvarov, Malik, Camm, "Incorrect electrode cable
    connection during electrocardiographic recording", Europace 2007;9:1081-90; Harrigan,
    Chan, Brady, "Electrocardiographic electrode misplacement, misconnection, and artifact",
    J Emerg Med 2012;43:1038-44). Lead I and V5-V6 both face the lateral wall, so a lead I
    that mirrors V5-V6 points at the cables. Dextrocardia inverts lead I too but inverts
    V5-V6 with it; extreme right axis deviation or biventricular pacing makes the QRS in I
    negative while a sinus P stays upright in I, which vetoes the suspicion.

    Calibration: no clean record of the 150 suspected; with LA/RA swapped by recomputing the
    leads, 139 of 150 suspected (missed: paced rhythms, right axis deviation that the swap
    turns upright, atrial fibrillation without lateral discordance).
    """
    if not leads["I"].usable or tmpl is None:
        return LimbReversal(suspected=False, evidence="not assessable: lead I unusable or "
                            "fewer than 3 complete beats", confidence=0.0)
    limb = [STANDARD_LEADS.index(n) for n in LIMB_LEADS if leads[n].usable]
    f = _beat_features(seg, tmpl, fs, limb)
    i, r = STANDARD_LEADS.index("I"), STANDARD_LEADS.index("aVR")
    net, p, agree = f["net"], f["p"], f["p_agree"]
    # QRS-T correlation of lead I with V5 and V6, 100 ms before to 450 ms after the QRS
    # centre: >= 0.52 in 95 % of the clean calibration records, <= -0.52 once swapped.
    w = tmpl[int(round((-_SPAN[0] - 0.1) * fs)):]
    lateral = [STANDARD_LEADS.index(n) for n in ("V5", "V6") if leads[n].usable]
    cs = [np.corrcoef(w[:, i], w[:, k])[0, 1] for k in lateral
          if np.std(w[:, k]) > 0 and np.std(w[:, i]) > 0]
    corr = float(np.mean(cs)) if cs else float("nan")
    # A P wave counts when >= 75 % of beats agree with the median beat's sign (at chance in
    # atrial fibrillation); 0.02 mV is the smallest P relied on, 0.03 mV upright vetoes.
    p_seen = agree[i] >= 0.75
    qrs_neg_i, p_neg_i = net[i] < -0.2, p_seen and p[i] <= -0.02
    mirror, strong_mirror = corr < -0.3, corr < -0.5
    avr_qrs_up = leads["aVR"].usable and net[r] > 0.2
    avr_up = avr_qrs_up and agree[r] >= 0.75 and p[r] >= 0.02
    facts = (f"lead I: net QRS {net[i]:+.2f}, P {p[i]:+.3f} mV; aVR: net QRS {net[r]:+.2f}, "
             f"P {p[r]:+.3f} mV; QRS-T correlation of I with V5-V6 "
             + ("n/a" if np.isnan(corr) else f"{corr:+.2f}"))
    dextro = "dextrocardia (which inverts V5-V6 as well) is the differential"
    if p_seen and p[i] >= 0.03:
        return LimbReversal(suspected=False, confidence=0.0, evidence=(
            f"upright P in lead I argues against LA/RA reversal ({facts})"))
    if qrs_neg_i and mirror and p_neg_i:
        conf, why = 0.9, ("lead I globally inverted (P and QRS negative) and mirroring V5-V6; "
                          + dextro)
    elif qrs_neg_i and mirror and (avr_qrs_up or strong_mirror):
        conf, why = 0.6, ("QRS negative in I and lead I mirroring V5-V6, P in I not clearly "
                          f"negative; extreme right axis deviation is the alternative; {dextro}")
    elif p_neg_i and strong_mirror:
        conf, why = 0.6, ("P negative in I and lead I mirroring V5-V6 (QRS in I near zero); "
                          + dextro)
    elif qrs_neg_i and p_neg_i and avr_up:
        conf, why = 0.5, ("lead I globally inverted with upright P and QRS in aVR, but V5-V6 do "
                          "not mirror lead I, so dextrocardia is as likely as cable reversal")
    else:
        return LimbReversal(suspected=False, evidence=f"no LA/RA reversal pattern ({facts})",
                            confidence=0.0)
    return LimbReversal(suspected=True, kind="LA/RA", confidence=conf, evidence=f"{why} ({facts})")
