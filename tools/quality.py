"""Per-lead signal quality of a 12-lead ECG; poor quality is an output field, not an exception.

:func:`assess_quality` grades every standard lead (``good``, ``acceptable``, ``poor``,
``missing``), lists the issues found as stable snake_case codes with the metric behind each,
decides which leads downstream measurement may use, whether the record is too degraded to
interpret at all (``abstain``), and screens the limb leads for an LA/RA cable reversal and for
Einthoven/Goldberger inconsistency.

Issue codes (per lead): ``missing``, ``non_finite_samples``, ``flat_line``, ``clipping``,
``baseline_wander``, ``high_frequency_noise``, ``powerline``, ``low_amplitude``.
Issue codes (per record): ``einthoven_inconsistent``, ``goldberger_inconsistent``,
``limb_lead_reversal_suspected``.

Thresholds were calibrated on the 100 LUDB and 50 PhysioNet/CinC 2021 records in
``../shared/data``: on those, clean leads grade ``good`` and the flagged leads were checked by
eye (see the comments beside each threshold).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from scipy import ndimage, signal

from tools.record import LIMB_LEADS, STANDARD_LEADS, Record

Grade = Literal["good", "acceptable", "poor", "missing"]

# --- thresholds (mV, s, or dimensionless ratios) -------------------------------------------
# A lead whose total peak-to-peak is below 0.05 mV holds no ECG (a QRS is >= 0.1 mV even in
# isoelectric leads of the 1,800 calibration leads, min 0.13 mV).
FLAT_PTP_MV = 0.05
# Flat: every 0.1-s window peak-to-peak under 0.02 mV, for >= 2 s, while the other leads are
# active. With 1 s, 13 clean LUDB leads were flagged: diastole of a bradycardic beat stays
# this flat for up to 1.22 s (LUDB 51, 127, 129, 133). A sinus pause flattens all leads
# together (mean share of other leads active < 0.25), a technical flat line only one.
FLAT_WINDOW_S, FLAT_LOCAL_PTP_MV, FLAT_RUN_S, FLAT_OTHERS_ACTIVE = 0.1, 0.02, 2.0, 0.25
# Clipping: plateaus (>= 8 ms of one identical value) at the lead's own maximum or minimum,
# at least 3 of them, covering >= 0.5 % of samples. A real R peak is rounded and reaches its
# maximum once; a saturated amplifier or a clipped export repeats the same value exactly.
# The rail must lie away from the lead's median: quantised diastole at the extreme of a lead
# whose QRS points only the other way otherwise passes for clipping (4 clean LUDB leads).
CLIP_PLATEAU_S, CLIP_MIN_PLATEAUS, CLIP_FRACTION, CLIP_POOR_FRACTION = 0.008, 3, 0.005, 0.02
# Baseline: two median filters (0.2 s, then 0.6 s) remove QRS and T and leave the baseline
# (de Chazal, O'Dwyer, Reilly, IEEE TBME 2004). Excursion = 2nd-98th percentile range.
# Calibration: 99th percentile of clean leads 0.96 mV; above 4 mV only motion artefacts.
WANDER_MV, WANDER_POOR_MV = 1.0, 4.0
# High-frequency (EMG) noise: robust SD of the >40 Hz residual (mains lines notched out; the
# median ignores QRS samples) relative to the lead's QRS amplitude. Clean leads: median 0.003,
# 99th percentile ~0.03; EMG-contaminated leads seen by eye start near 0.05.
HF_CUTOFF_HZ, HF_RATIO, HF_POOR_RATIO = 40.0, 0.05, 0.15
# Mains interference: amplitude of the 50 or 60 Hz line relative to QRS amplitude.
MAINS_HZ, POWERLINE_RATIO, POWERLINE_POOR_RATIO = (50.0, 60.0), 0.10, 0.5
# Low amplitude: median beat QRS peak-to-peak under 0.15 mV (quality flag only; clinical low
# voltage is judged by the measurement tools against 0.5 mV limb / 1.0 mV precordial).
LOW_AMPLITUDE_MV = 0.15
# Einthoven (II = I + III) and Goldberger (aVR = -(I+II)/2, ...) residual, RMS relative to
# the lead's RMS. Recorded data satisfy them to < 0.01 (CinC: max 0.008).
EINTHOVEN_RATIO = 0.10
# Record-level abstention (see _abstain): frontal axis and limb-lead criteria need >= 3 limb
# leads; global intervals (earliest onset / latest offset across leads) need >= 6 leads.
MIN_USABLE_LIMB, MIN_USABLE_TOTAL = 3, 6

# Windows relative to the QRS centre (s): QRS net area, P-wave search, beat segment span.
_QRS_WIN, _P_WIN, _SPAN = (-0.06, 0.06), (-0.28, -0.08), (-0.35, 0.45)

_SEVERITY = {"good": 0, "acceptable": 1, "poor": 2, "missing": 3}


class LeadQuality(BaseModel):
    """Quality of one lead: grade, whether measurement may use it, issue codes and the
    metrics (units in the key: ``_mv``, ``_s``; ratios are dimensionless) behind them."""

    lead: str
    grade: Grade
    usable: bool
    issues: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


class LimbReversal(BaseModel):
    """Suspicion of a limb-electrode cable reversal (``kind`` e.g. ``'LA/RA'``)."""

    suspected: bool
    kind: str | None = None
    evidence: str = ""
    confidence: float = Field(0.0, ge=0.0, le=1.0)


class RecordQuality(BaseModel):
    """Quality of a whole record: per-lead results, the leads measurement may use, the
    record-level issues/metrics and whether interpretation should abstain, and why."""

    leads: dict[str, LeadQuality]
    usable_leads: list[str]
    excluded_leads: list[str]
    limb_lead_reversal: LimbReversal
    abstain: bool
    abstain_reason: str | None = None
    issues: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


def assess_quality(record: Record) -> RecordQuality:
    """Grade each of the 12 standard leads of ``record`` and the record as a whole.

    Parameters
    ----------
    record : Record
        Signal in mV, ``(n_samples, n_leads)``, any sampling frequency >= 100 Hz works best.

    Returns
    -------
    RecordQuality
        Never raises for bad signal quality; raises ``ValueError`` only when ``record``
        itself is malformed (signal shape not matching ``sig_name``).

    Examples
    --------
    >>> import numpy as np
    >>> from tools.record import Record, STANDARD_LEADS
    >>> rec = Record(np.zeros((5000, 12)), 500.0, list(STANDARD_LEADS))
    >>> q = assess_quality(rec)
    >>> q.abstain, q.leads["II"].grade
    (True, 'missing')
    """
    x, present = _standard_matrix(record)
    fs = float(record.fs)
    leads: dict[str, LeadQuality] = {}
    work: dict[str, tuple[int, float]] = {}
    for j, name in enumerate(STANDARD_LEADS):
        if not present[j]:
            leads[name] = _lead("missing", name, ["missing"], {"absent": 1.0})
            continue
        finite = np.isfinite(x[:, j])
        bad_frac = 1.0 - float(finite.mean()) if len(finite) else 1.0
        if bad_frac > 0.5 or np.ptp(x[finite, j]) == 0.0:
            leads[name] = _lead("missing", name, ["missing"],
                                {"ptp_mv": 0.0, "non_finite_fraction": bad_frac})
            continue
        if bad_frac > 0:  # keep the lead, fill gaps at its median so filters stay finite
            x[~finite, j] = np.median(x[finite, j])
        work[name] = (j, bad_frac)
    # Mains lines are notched out once: they are reported as `powerline`, and must not
    # inflate the QRS amplitude or pass for EMG in the other checks.
    clean = _notch_mains(x, fs)
    bp = _bandpass(clean, fs)
    cols = [j for j, _ in work.values()]
    beats = _detect_beats(bp, fs, [j for j in cols if np.ptp(x[:, j]) >= FLAT_PTP_MV])
    seg = _segments(bp, fs, beats)
    if work:
        _assess_present(x, clean, bp, seg, fs, work, leads)
    return _finish(bp, seg, fs, len(beats), leads)


# --- per-lead checks ----------------------------------------------------------------------
def _standard_matrix(record: Record) -> tuple[np.ndarray, np.ndarray]:
    sig = np.asarray(record.signal, dtype=float)
    if sig.ndim != 2 or sig.shape[1] != len(record.sig_name):
        raise ValueError(f"record signal has shape {sig.shape!r} but sig_name lists "
                         f"{len(record.sig_name)} leads {record.sig_name!r}; expected "
                         "(n_samples, n_leads)")
    if not record.fs or record.fs <= 0:
        raise ValueError(f"record fs is {record.fs!r}; expected a positive sampling frequency")
    x = np.zeros((sig.shape[0], len(STANDARD_LEADS)))
    present = np.zeros(len(STANDARD_LEADS), dtype=bool)
    for j, name in enumerate(STANDARD_LEADS):
        if name in record.sig_name:
            x[:, j] = sig[:, record.sig_name.index(name)]
            present[j] = True
    return x, present


def _assess_present(x: np.ndarray, clean: np.ndarray, bp: np.ndarray, seg: np.ndarray,
                    fs: float, work: dict, leads: dict) -> None:
    cols = [j for j, _ in work.values()]
    xs = x[:, cols]
    amp = _qrs_amplitude(bp, seg, fs)[cols]
    flat_mask = _flat_mask(xs, fs)
    wander = _baseline_excursion(xs, fs)
    hf_mv = _hf_noise(clean[:, cols], fs)
    mains_mv, mains_hz = _mains_amplitude(xs, fs)
    for k, (name, (j, bad_frac)) in enumerate(work.items()):
        y = xs[:, k]
        qrs_amp = max(float(amp[k]), 1e-6)
        m = {"ptp_mv": float(np.ptp(y)), "qrs_amplitude_mv": qrs_amp,
             "baseline_excursion_mv": float(wander[k])}
        issues: list[tuple[str, str]] = []  # (code, severity grade)
        if bad_frac > 0:
            m["non_finite_fraction"] = bad_frac
            issues.append(("non_finite_samples", "poor" if bad_frac > 0.01 else "acceptable"))
        others = np.delete(flat_mask, k, axis=1)
        m["flat_run_s"] = _technical_flat_run(flat_mask[:, k], others, fs)
        if m["ptp_mv"] < FLAT_PTP_MV or m["flat_run_s"] >= FLAT_RUN_S:
            issues.append(("flat_line", "poor"))
        m["clip_fraction"], m["clip_plateaus"] = _clipping(y, fs)
        if m["clip_plateaus"] >= CLIP_MIN_PLATEAUS and m["clip_fraction"] >= CLIP_FRACTION:
            issues.append(("clipping",
                           "poor" if m["clip_fraction"] >= CLIP_POOR_FRACTION else "acceptable"))
        if m["baseline_excursion_mv"] > WANDER_MV:
            issues.append(("baseline_wander",
                           "poor" if m["baseline_excursion_mv"] > WANDER_POOR_MV else "acceptable"))
        if hf_mv is not None:
            m["hf_noise_mv"] = float(hf_mv[k])
            m["hf_noise_ratio"] = float(hf_mv[k]) / qrs_amp
            if m["hf_noise_ratio"] > HF_RATIO:
                issues.append(("high_frequency_noise",
                               "poor" if m["hf_noise_ratio"] > HF_POOR_RATIO else "acceptable"))
        if mains_mv is not None:
            m["powerline_mv"], m["powerline_hz"] = float(mains_mv[k]), float(mains_hz[k])
            m["powerline_ratio"] = float(mains_mv[k]) / qrs_amp
            if m["powerline_ratio"] > POWERLINE_RATIO:
                issues.append(("powerline", "poor" if m["powerline_ratio"] > POWERLINE_POOR_RATIO
                               else "acceptable"))
        if qrs_amp < LOW_AMPLITUDE_MV and m["ptp_mv"] >= FLAT_PTP_MV:
            issues.append(("low_amplitude", "acceptable"))
        grade = max((g for _, g in issues), key=_SEVERITY.get, default="good")
        leads[name] = _lead(grade, name, [c for c, _ in issues], m)


def _qrs_amplitude(bp: np.ndarray, seg: np.ndarray, fs: float) -> np.ndarray:
    """QRS peak-to-peak (mV) of the median beat, per lead: the median over >= 3 beats keeps
    noise that is not locked to the QRS (mains, EMG) out of the amplitude. Without beats,
    the 0.5th-99.5th percentile range of the band-passed lead stands in."""
    if len(seg) >= 3:
        t0 = int(round(-_SPAN[0] * fs))
        w = np.median(seg, axis=0)[t0 + int(-0.08 * fs):t0 + int(0.08 * fs)]
        return np.ptp(w, axis=0)
    return np.percentile(bp, 99.5, axis=0) - np.percentile(bp, 0.5, axis=0)


def _lead(grade: Grade, name: str, issues: list[str], metrics: dict) -> LeadQuality:
    rounded = {k: round(float(v), 5) for k, v in metrics.items()}
    return LeadQuality(lead=name, grade=grade, usable=grade in ("good", "acceptable"),
                       issues=issues, metrics=rounded)


def _bandpass(x: np.ndarray, fs: float, lo: float = 0.5, hi: float = 40.0) -> np.ndarray:
    hi = min(hi, 0.45 * fs)
    sos = signal.butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, x, axis=0)


def _flat_mask(x: np.ndarray, fs: float) -> np.ndarray:
    w = max(2, int(round(FLAT_WINDOW_S * fs)))
    local_ptp = (ndimage.maximum_filter1d(x, w, axis=0)
                 - ndimage.minimum_filter1d(x, w, axis=0))
    return local_ptp < FLAT_LOCAL_PTP_MV


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _technical_flat_run(flat: np.ndarray, others_flat: np.ndarray, fs: float) -> float:
    """Longest flat run (s) during which other leads show activity: a pause flattens every
    lead together and is physiology, a lead flat on its own is a technical fault."""
    longest = 0.0
    for s, e in zip(*_runs(flat)):
        if (e - s) / fs < FLAT_RUN_S or (e - s) / fs <= longest:
            continue
        active = float((~others_flat[s:e]).mean()) if others_flat.shape[1] else 1.0
        if active >= FLAT_OTHERS_ACTIVE:
            longest = (e - s) / fs
    return longest


def _clipping(y: np.ndarray, fs: float) -> tuple[float, float]:
    """Fraction of samples on plateaus at the lead's extreme values, and the plateau count."""
    min_len = max(3, int(round(CLIP_PLATEAU_S * fs)))
    tol = max(1e-3, 0.002 * float(np.ptp(y)))
    n_samples, n_plateaus = 0, 0
    same = np.abs(np.diff(y)) <= 1e-9
    same = np.concatenate(([False], same)) | np.concatenate((same, [False]))
    mid = float(np.median(y))
    for rail, at_rail in ((y.max(), y >= y.max() - tol), (y.min(), y <= y.min() + tol)):
        # A rail next to the baseline is an isoelectric segment (leads whose QRS points
        # only the other way), not a wave cut off: rails must lie >= 25 % of ptp away.
        if abs(rail - mid) < 0.25 * np.ptp(y):
            continue
        starts, ends = _runs(at_rail & same)
        long = (ends - starts) >= min_len
        n_plateaus += int(long.sum())
        n_samples += int((ends - starts)[long].sum())
    return n_samples / len(y), float(n_plateaus)


def _baseline_excursion(x: np.ndarray, fs: float) -> np.ndarray:
    # Median filtering at full rate is slow; the baseline is < 1 Hz, so decimating to ~50 Hz
    # by block means first loses nothing and makes the two median filters cheap.
    step = max(1, int(fs // 50))
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


def _notch_mains(x: np.ndarray, fs: float) -> np.ndarray:
    y = x
    for f0 in MAINS_HZ:
        for h in (f0, 2 * f0):
            if h < 0.45 * fs:
                b, a = signal.iirnotch(h, 10.0, fs=fs)
                y = signal.filtfilt(b, a, y, axis=0)
    return y


def _hf_noise(x: np.ndarray, fs: float) -> np.ndarray | None:
    """Robust SD (mV) of the >40 Hz residual of the (mains-notched) signal, or None."""
    if fs < 2.5 * HF_CUTOFF_HZ:  # no band above 40 Hz worth measuring
        return None
    y = signal.sosfiltfilt(signal.butter(4, HF_CUTOFF_HZ, "highpass", fs=fs, output="sos"),
                           x, axis=0)
    # Robust SD: the median of |residual| ignores the QRS samples (< 20 % of the record).
    return 1.4826 * np.median(np.abs(y - np.median(y, axis=0)), axis=0)


def _mains_amplitude(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    if fs < 2.2 * max(MAINS_HZ) or len(x) < fs:
        return None, None
    spec = np.abs(np.fft.rfft(x - x.mean(axis=0), axis=0)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / fs)
    best = np.zeros(x.shape[1])
    best_hz = np.zeros(x.shape[1])
    for f0 in MAINS_HZ:
        band = np.abs(f - f0) <= 1.0
        # Parseval for a real signal: amplitude of a sinusoid = 2 sqrt(sum |X|^2) / N
        a = 2.0 * np.sqrt(spec[band].sum(axis=0)) / len(x)
        better = a > best
        best[better], best_hz[better] = a[better], f0
    return best, best_hz


# --- record-level checks ------------------------------------------------------------------
def _finish(bp: np.ndarray, seg: np.ndarray, fs: float, n_beats: int,
            leads: dict[str, LeadQuality]) -> RecordQuality:
    usable = [n for n in STANDARD_LEADS if leads[n].usable]
    excluded = [n for n in STANDARD_LEADS if not leads[n].usable]
    issues: list[str] = []
    metrics: dict[str, float] = {}
    present = [n for n in STANDARD_LEADS if leads[n].grade != "missing"]
    col = {n: bp[:, STANDARD_LEADS.index(n)] for n in present}
    _consistency(col, issues, metrics)
    metrics["n_beats"] = float(n_beats)
    reversal = _limb_reversal(seg, fs, leads)
    if reversal.suspected:
        issues.append("limb_lead_reversal_suspected")
    abstain, reason = _abstain(leads, usable)
    return RecordQuality(leads=leads, usable_leads=usable, excluded_leads=excluded,
                         limb_lead_reversal=reversal, abstain=abstain, abstain_reason=reason,
                         issues=issues, metrics={k: round(v, 5) for k, v in metrics.items()})


def _abstain(leads: dict[str, LeadQuality], usable: list[str]) -> tuple[bool, str | None]:
    # Rule: abstain when fewer than 3 of the 6 limb leads, or fewer than 6 of the 12 leads,
    # are usable. Three limb leads keep the frontal axis over-determined (two independent
    # leads plus one check) and the limb-lead criteria answerable; six leads keep global
    # intervals (earliest onset / latest offset over leads) close to their 12-lead values.
    limb = [n for n in LIMB_LEADS if n in usable]
    if len(limb) >= MIN_USABLE_LIMB and len(usable) >= MIN_USABLE_TOTAL:
        return False, None
    bad = ", ".join(f"{n} ({'/'.join(leads[n].issues) or leads[n].grade})"
                    for n in STANDARD_LEADS if not leads[n].usable)
    return True, (f"only {len(limb)} of 6 limb leads usable ({', '.join(limb) or 'none'}; "
                  f"need {MIN_USABLE_LIMB}) and {len(usable)} of 12 leads usable "
                  f"({', '.join(usable) or 'none'}; need {MIN_USABLE_TOTAL}); "
                  f"excluded: {bad}")


def _consistency(col: dict[str, np.ndarray], issues: list[str], metrics: dict) -> None:
    """Einthoven's law II = I + III and Goldberger's aVR = -(I+II)/2, aVL = I - II/2,
    aVF = II - I/2 hold exactly for correctly labelled leads from one acquisition (they are
    usually derived from I and II). A residual means a lead is mislabelled, rescaled or
    recorded separately. An LA/RA reversal keeps both laws true, so it is screened apart."""
    def ratio(residual: np.ndarray, ref: np.ndarray) -> float:
        return float(np.sqrt(np.mean(residual ** 2)) / max(np.sqrt(np.mean(ref ** 2)), 1e-9))

    if all(n in col for n in ("I", "II", "III")):
        r = ratio(col["II"] - col["I"] - col["III"], col["II"])
        metrics["einthoven_residual_ratio"] = r
        if r > EINTHOVEN_RATIO:
            issues.append("einthoven_inconsistent")
    if "I" in col and "II" in col:
        expected = {"aVR": -(col["I"] + col["II"]) / 2, "aVL": col["I"] - col["II"] / 2,
                    "aVF": col["II"] - col["I"] / 2}
        rs = [ratio(col[n] - e, col[n]) for n, e in expected.items() if n in col]
        if rs:
            metrics["goldberger_residual_ratio"] = max(rs)
            if max(rs) > EINTHOVEN_RATIO:
                issues.append("goldberger_inconsistent")


def _detect_beats(bp: np.ndarray, fs: float, cols: list[int]) -> np.ndarray:
    """QRS centres (sample indices) from the summed, per-lead normalised slope energy of the
    usable leads (a multi-lead Pan-Tompkins-style detector: Pan & Tompkins, IEEE TBME 1985)."""
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


def _polarity(seg: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Net QRS area ratio in [-1, 1], P amplitude (mV) of the median beat, and the fraction
    of beats whose P deflection has the template's sign (P consistency), for every lead."""
    t0 = int(round(-_SPAN[0] * fs))
    tmpl = np.median(seg, axis=0)
    q = slice(t0 + int(round(_QRS_WIN[0] * fs)), t0 + int(round(_QRS_WIN[1] * fs)))
    ref = np.median(tmpl[t0 + int(-0.09 * fs):t0 + int(-0.05 * fs)], axis=0)  # PR segment
    qrs = tmpl[q] - ref
    net = qrs.sum(axis=0) / np.maximum(np.abs(qrs).sum(axis=0), 1e-9)
    a, b = t0 + int(round(_P_WIN[0] * fs)), t0 + int(round(_P_WIN[1] * fs))

    def p_amp(w: np.ndarray) -> np.ndarray:
        # Detrend the P window between its ends (TP level before, PR level after), then take
        # the signed extreme: the P wave's polarity and amplitude.
        ramp = np.linspace(0.0, 1.0, w.shape[-2])[:, None]
        d = w - (w[..., :1, :] * (1 - ramp) + w[..., -1:, :] * ramp)
        k = np.abs(d).argmax(axis=-2)
        return np.take_along_axis(d, k[..., None, :], axis=-2)[..., 0, :]

    p_t = p_amp(tmpl[a:b])
    p_beats = p_amp(seg[:, a:b])
    agree = (np.sign(p_beats) == np.sign(p_t)[None, :]).mean(axis=0)
    return net, p_t, agree


def _limb_reversal(seg: np.ndarray, fs: float, leads: dict[str, LeadQuality]) -> LimbReversal:
    """Screen for LA/RA cable reversal.

    Criteria (Batchvarov, Malik, Camm, "Incorrect electrode cable connection during
    electrocardiographic recording", Europace 2007;9:1081-90; Harrigan, Chan, Brady,
    "Electrocardiographic electrode misplacement, misconnection, and artifact", J Emerg Med
    2012;43:1038-44): with LA and RA swapped, lead I is globally inverted (negative P and
    negative QRS) and aVR becomes upright (positive P and QRS), a combination otherwise very
    rare in sinus rhythm. Dextrocardia gives the same limb-lead picture and is told apart by
    the precordial leads: reversal leaves V5-V6 normal (upright, concordant with normal
    lead I), dextrocardia gives small or negative V5-V6 with reversed R-wave progression.
    """
    if not (leads["I"].usable and leads["aVR"].usable) or len(seg) < 3:
        return LimbReversal(suspected=False, evidence="not assessable: lead I or aVR unusable "
                            "or fewer than 3 complete beats detected", confidence=0.0)
    net, p_amp, p_agree = _polarity(seg, fs)
    i, r = STANDARD_LEADS.index("I"), STANDARD_LEADS.index("aVR")
    # A P wave counts as measured when it is at least 0.02 mV and 70 % of beats agree in sign
    # (no P in atrial fibrillation, so P agreement is then at chance).
    p_ok = all(abs(p_amp[k]) >= 0.02 and p_agree[k] >= 0.7 for k in (i, r))
    qrs_flag = net[i] < -0.2 and net[r] > 0.2
    p_flag = p_ok and p_amp[i] < 0 and p_amp[r] > 0
    facts = (f"lead I: net QRS {net[i]:+.2f}, P {p_amp[i]:+.3f} mV; aVR: net QRS {net[r]:+.2f}, "
             f"P {p_amp[r]:+.3f} mV")
    v = [STANDARD_LEADS.index(n) for n in ("V5", "V6") if leads[n].usable]
    v_upright = bool(v) and float(np.mean(net[v])) > 0.2
    if v:
        facts += f"; V5-V6 mean net QRS {float(np.mean(net[v])):+.2f}"
    if not qrs_flag:
        return LimbReversal(suspected=False, evidence=f"no LA/RA reversal pattern ({facts})",
                            confidence=0.0)
    dextro = ("differential: dextrocardia gives the same limb-lead pattern; "
              + ("upright V5-V6 favour cable reversal" if v_upright else
                 "V5-V6 are not upright, so dextrocardia is as likely as cable reversal"))
    if p_flag:
        conf = 0.85 if v_upright else 0.5
        return LimbReversal(suspected=True, kind="LA/RA", confidence=conf, evidence=(
            f"lead I globally inverted and aVR upright (P and QRS) ({facts}); {dextro}"))
    if not p_ok and v_upright:
        return LimbReversal(suspected=True, kind="LA/RA", confidence=0.4, evidence=(
            f"QRS negative in I and positive in aVR with upright V5-V6, P waves not measurable "
            f"({facts}); extreme right axis deviation is the alternative; {dextro}"))
    return LimbReversal(suspected=False, evidence=(
        f"QRS negative in I and positive in aVR but P waves do not confirm ({facts}); right "
        f"axis deviation more likely"), confidence=0.0)
