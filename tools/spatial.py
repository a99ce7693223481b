"""A lead-combined QRS estimate from the spatial velocity of all usable leads.

The learned delineator works lead by lead and was trained on LUDB, QTDB and ISP, where wide
complexes are rare: on held-out ventricular tachycardia it cut a > 160 ms QRS at 112 ms. The
spatial velocity, the magnitude of the derivative vector over simultaneous leads,

    SV(t) = sqrt(sum_l (dx_l/dt)^2),

is large wherever any lead is changing fast, i.e. over the whole ventricular depolarisation
whatever its shape, and small over the isoelectric PR and ST segments. QRS onset and offset
are where SV crosses a threshold on each side of its peak; this is the classic
vectorcardiographic boundary rule (Sornmo & Laguna, *Bioelectrical Signal Processing in
Cardiac and Neurological Applications*, 2005, sect. 7.4; spatial-velocity boundaries were
used by several programs of the CSE study, Willems et al., JACC 10:1313, 1987). It needs no
training data and sees every lead at once, so it does not miss a lead's late terminal force.

The threshold is a fraction of the beat's SV peak plus a multiple of the record's noise
level. ``SV_FRACTION`` was chosen on our LUDB half (its cardiologists' boundaries) and is
checked on CinC 2021 records, where the QRS of labelled bundle branch blocks must come out
wide (``benchmarks.qrs_combined_bench``).
"""
from __future__ import annotations

import numpy as np

SV_FRACTION = 0.04      # threshold = fraction of the beat's SV peak (chosen on LUDB)
NOISE_K = 2.0           # ... or this many times the record's baseline SV, whichever is higher
NOISE_PERCENTILE = 20.0  # the baseline SV: this percentile of the record's SV
# In a fast rhythm without isoelectric segments the 20th percentile lies inside the waves,
# the threshold rises and wide complexes come out narrow (rebuilt VT of 126-166 ms measured
# 106-118 ms at 150-180 /min); the lower percentile still finds the turning points between
# them. Used only in a regular tachycardia without sinus P waves, where the width decides VT
# against SVT: rebuilt wide complexes flagged 0.71 -> 0.81 (150 /min) and 0.58 -> 0.74
# (180 /min), narrow controls falsely 1 -> 1 and 0 -> 2 of 33 (benchmarks.wct_bench)
TACHY_NOISE_PERCENTILE = 5.0
SUSTAIN_MS = 16.0       # SV must stay below the threshold this long to end the QRS
MAX_QRS_MS = 280.0      # search limits around the R time
PRE_MS = 160.0


def spatial_velocity(signal: np.ndarray, fs: float) -> np.ndarray:
    """SV(t) in mV/s over the columns of ``signal`` (samples x leads), after a 40-Hz
    low-pass (2nd-order Butterworth, zero phase) that keeps QRS slopes and drops EMG."""
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(signal, float)
    if x.shape[0] > 30:
        sos = butter(2, min(40.0, 0.45 * fs), "lowpass", fs=fs, output="sos")
        x = sosfiltfilt(sos, x, axis=0)
    d = np.gradient(x, axis=0) * fs
    sv = np.sqrt((d ** 2).sum(axis=1))
    w = max(1, int(round(0.008 * fs)))
    return np.convolve(sv, np.ones(w) / w, mode="same")


def _search_window(r: list[int], i: int, n: int, pre: int, post: int) -> tuple[int, int]:
    """Samples around the complex at sorted R times ``r[i]`` where its boundaries are
    searched: at most ``pre`` before and ``post`` after it, no further than half-way to
    its neighbours, inside a record of ``n`` samples."""
    t = r[i]
    lo = max(0, t - pre, (r[i - 1] + t) // 2 if i else 0)
    hi = min(n - 1, t + post, (t + r[i + 1]) // 2 if i + 1 < len(r) else n - 1)
    return lo, hi


def qrs_bounds(sv: np.ndarray, r_times: list[int], fs: float,
               fraction: float = SV_FRACTION, p_offsets: list[int | None] | None = None,
               noise_percentile: float = NOISE_PERCENTILE) -> list[tuple[int, int] | None]:
    """(onset, offset) sample per R time, None where the beat cannot be bounded (too near
    the record's ends or to a neighbour). Where the beat's P wave is known (``p_offsets``),
    the onset is not placed before the P wave's end: with a short PR segment the P wave's
    slope can stay above the threshold, and ventricular depolarisation cannot begin inside
    the P wave."""
    n = sv.size
    noise = float(np.percentile(sv, noise_percentile)) if n else 0.0
    sustain = max(1, int(round(SUSTAIN_MS * fs / 1000.0)))
    pre, post = int(PRE_MS * fs / 1000.0), int(MAX_QRS_MS * fs / 1000.0)
    out: list[tuple[int, int] | None] = []
    r = sorted(int(t) for t in r_times)
    for i, t in enumerate(r):
        lo, hi = _search_window(r, i, n, pre, post)
        if hi - lo < 4 * sustain:
            out.append(None)
            continue
        c_lo, c_hi = max(lo, t - int(0.06 * fs)), min(hi, t + int(0.06 * fs))
        peak = c_lo + int(np.argmax(sv[c_lo:c_hi + 1]))
        thr = max(fraction * sv[peak], NOISE_K * noise)
        below = sv < thr
        on = None
        for j in range(peak, lo + sustain - 1, -1):
            if below[j - sustain + 1:j + 1].all():
                on = j
                break
        off = None
        for j in range(peak, hi - sustain + 1):
            if below[j:j + sustain].all():
                off = j
                break
        p_off = p_offsets[i] if p_offsets is not None and i < len(p_offsets) else None
        if on is not None and p_off is not None and p_off < peak:
            on = max(on, int(p_off))
        out.append(None if on is None or off is None else (on, off))
    return out


WEAK_BEAT = 0.12       # a 'QRS' whose SV peak is below this share of the upper-quartile beat's


def weak_beats(beats, sv: np.ndarray, fs: float) -> set[int]:
    """Indices of beats whose spatial-velocity peak is below ``WEAK_BEAT`` x the upper
    quartile of beat peaks: too slow in every lead to be ventricular depolarisation. The
    learned delineator labelled isolated P waves (a P not followed by a QRS, as in AV block)
    as QRS complexes; a P wave's SV peak is about a tenth of the QRS's or less, while
    ectopic and aberrant QRS complexes stayed at or above 0.17 on the shared records (LUDB
    and CinC, 1650 beats; the lowest were aberrant beats in AF, LUDB 109)."""
    if len(beats) < 3:
        return set()
    rel = relative_peaks(beats, sv, fs)
    return {b.index for b, p in zip(beats, rel) if p < WEAK_BEAT}


def _sv_peak(sv: np.ndarray, t: int, w: int) -> float:
    """The spatial velocity's largest value within ``w`` samples of ``t``."""
    return float(sv[max(0, t - w):t + w + 1].max())


def _peak_area(sv: np.ndarray, t: int, w: int, half: int) -> float:
    """Spatial-velocity area over +-``half`` samples around the peak within +-``w`` of
    ``t``."""
    j = max(0, t - w) + int(np.argmax(sv[max(0, t - w):t + w + 1]))
    return float(sv[max(0, j - half):j + half + 1].sum())


def relative_peaks(beats, sv: np.ndarray, fs: float, half_ms: float | None = None
                   ) -> np.ndarray:
    """Each beat's spatial-velocity peak (R time +- 30 ms), or with ``half_ms`` its area
    over +-``half_ms`` around that peak, over the upper quartile of them (against the upper
    quartile, not the median: when every other 'beat' is a P wave the median is half P
    waves); NaN where that quartile is 0."""
    w = int(0.030 * fs)
    if half_ms is None:
        vals = np.array([_sv_peak(sv, b.r_time, w) for b in beats])
    else:
        half = max(1, int(half_ms * fs / 1000.0))
        vals = np.array([_peak_area(sv, b.r_time, w, half) for b in beats])
    ref = float(np.percentile(vals, 75)) if vals.size else 0.0
    return vals / ref if ref > 0 else np.full(vals.shape, np.nan)


# An unlabelled SV peak at least MISSED_BEAT x the median beat's. The spatial velocity of a
# complex scales with its amplitude over its duration, so a ventricular complex twice as wide
# as the conducted QRS peaks near half its velocity: 0.5 missed LUDB 125's 222-ms PVC laid in
# at 160 /min (0.42 of the conducted beats' peak; its +-80-ms area 0.70 and 6 of 12 leads
# steep and large did qualify it), and a run of three read as one PVC. 0.35 keeps complexes up
# to about 2.5 x the conducted width; the T wave (about a tenth) stays far below, and the area
# and per-lead tests below and the complex before the candidate (_not_after_larger) decide.
MISSED_BEAT = 0.35
MISSED_AREA = 0.6      # and this share of its SV area over +-40 or +-80 ms (not a spike)
MISSED_LEAD = 0.3      # ... steep in at least half the leads (this share of their beat slope)
MISSED_PTP = 0.5       # ... and large there (this share of their beat peak-to-peak)
REFRACTORY_MS = 200.0  # two ventricular depolarisations are never closer (300 /min)


def _not_after_larger(cands: list[int], r: list[int], sv: np.ndarray, w: int) -> list[int]:
    """The candidates whose spatial-velocity peak also reaches ``MISSED_BEAT`` x that of the
    complex before them (a beat or a kept candidate). The ST-T of a complex moves at about a
    tenth of its QRS velocity, so behind a large ventricular complex its T wave can exceed
    ``MISSED_BEAT`` x the smaller conducted beats' peak: a 158-ms PVC of Chapman JS20006,
    2.6-4.2 x the conducted beats' velocity where laid into smaller-voltage records, had T
    waves at 0.42-0.47 x, read as a third ventricular beat of a couplet (NSVT stated on 3 of
    248 rebuilt couplets, ``benchmarks.vrun_bench``). The next complex of a run keeps its
    predecessor's velocity."""
    kept: list[int] = []
    for p in sorted(cands):
        prev = max([t for t in r if t < p] + kept, default=None)
        if prev is None or _sv_peak(sv, p, w) >= MISSED_BEAT * _sv_peak(sv, prev, w):
            kept.append(p)
    return kept


def missed_beats(beats, signal: np.ndarray, sv: np.ndarray, fs: float
                 ) -> list[tuple[int, int, int]]:
    """(onset, peak, offset) samples of complexes as fast as the record's beats that the
    learned delineator made no beat of.

    The delineator, trained on records where wide complexes are rare, labelled most leads of
    a rebuilt ventricular tachycardia at 180 /min as T waves, so 4 of 17 complexes became
    beats and the record read "atrial fibrillation, 45 bpm" (``benchmarks.wct_bench``). A
    candidate is a spatial-velocity peak reaching ``MISSED_BEAT`` x the median beat's peak
    and x the peak of the complex before it (:func:`_not_after_larger`),
    and ``MISSED_AREA`` x its spatial-velocity area over +-40 ms or over +-80 ms (an atrial
    pacing spike has a QRS-sized peak but under half the area: LUDB 45, 0.29-0.44 and
    0.19-0.28), at least ``REFRACTORY_MS`` from
    every beat and from the other candidates (the ventricles cannot depolarise faster),
    whose slope and peak-to-peak amplitude also reach ``MISSED_LEAD`` and ``MISSED_PTP`` x
    the beats' in at least half of the leads (one lead's artefact is not a beat, and mains
    or muscle noise is steep but small: a one-lead spike riding on 0.14-mV mains hum,
    Chapman JS20011 with its P waves moved, reached 0.3-0.7 of the small limb-lead QRS). A
    T wave's spatial velocity is about a tenth of the QRS's, so ordinary T waves stay far
    below the limit. Needs at least 2 beats to compare with, and a candidate
    between two beats (see below); boundaries by :func:`qrs_bounds`."""
    from scipy.signal import find_peaks

    if len(beats) < 2 or sv.size == 0:
        return []
    w, wa = max(1, int(0.030 * fs)), max(1, int(0.040 * fs))
    r = [b.r_time for b in beats]
    ref = float(np.median([_sv_peak(sv, t, w) for t in r]))

    # the area over +-80 ms is the spatial path the whole complex travels (its QRS loop's
    # length), which a wide complex keeps while its peak velocity and its +-40-ms area
    # fall: ventricular complexes of 130-220 ms laid in at 160 /min reached 0.44-0.59 of
    # the beats' +-40-ms area and were missed, 0.70-0.87 of their +-80-ms one
    # (benchmarks.vrun_bench); a pacing spike is short, and its +-80-ms share smaller still
    windows = (wa, 2 * wa)
    ref_area = [float(np.median([_peak_area(sv, t, w, h) for t in r])) for h in windows]
    if ref <= 0 or min(ref_area) <= 0:
        return []
    gap = int(REFRACTORY_MS * fs / 1000.0)
    peaks, _ = find_peaks(sv, height=MISSED_BEAT * ref, distance=gap)
    r_arr = np.array(r)
    cands = [int(p) for p in peaks if np.min(np.abs(r_arr - p)) >= gap
             and any(_peak_area(sv, int(p), w, h) >= MISSED_AREA * a
                     for h, a in zip(windows, ref_area))]
    cands = _not_after_larger(cands, r, sv, w)
    # the learned delineation often has no beat for a record's first and last complexes
    # (1-2 within about 1 s of either end on most shared records): only a complex missed
    # between two beats shows that complexes are being missed, and only then are those
    # before the first and after the last beat added too
    if not any(r_arr.min() < p < r_arr.max() for p in cands):
        return []
    x = np.asarray(signal, float)
    d = np.abs(np.gradient(x, axis=0))

    def per_lead(t: int) -> tuple[np.ndarray, np.ndarray]:
        """Largest slope and peak-to-peak amplitude per lead within +-40 ms."""
        lo, hi = max(0, t - wa), t + wa + 1
        return d[lo:hi].max(axis=0), np.ptp(x[lo:hi], axis=0)

    refs = [per_lead(t) for t in r]
    slope_ref = np.median(np.stack([a for a, _ in refs]), axis=0)
    ptp_ref = np.median(np.stack([b for _, b in refs]), axis=0)
    need = max(2, int(np.ceil(0.5 * x.shape[1])))
    kept = []
    for p in cands:
        slope, ptp = per_lead(p)
        # steep AND large in most leads: mains hum or muscle noise is steep but small, a
        # one-lead spike (an electrode artefact, Chapman JS20011 V2) is large in one lead only
        steep = (slope >= MISSED_LEAD * slope_ref) & (ptp >= MISSED_PTP * ptp_ref)
        if steep.sum() >= need:
            kept.append(p)
    if not kept:
        return []
    all_r = sorted(r + kept)
    bounds = dict(zip(all_r, qrs_bounds(sv, all_r, fs)))
    # a complex found this way whose spatial velocity never falls below the threshold on
    # one side is bounded by the slowest point between it and its neighbours: in a run of
    # ventricular beats at 160 /min each complex runs into the next one's T wave, and 3 of
    # 5 such complexes, found in all 12 leads, were dropped for want of a boundary
    # (benchmarks.vrun_bench)
    for p in kept:
        if bounds[p] is None:
            bounds[p] = valley_bounds(sv, all_r, all_r.index(p), fs)
    return [(bounds[p][0], p, bounds[p][1]) for p in kept if bounds[p] is not None]


def valley_bounds(sv: np.ndarray, r: list[int], i: int, fs: float) -> tuple[int, int] | None:
    """(onset, offset) of the complex at sorted R times ``r[i]``: the minimum of the
    spatial velocity between it and the previous complex (at most ``PRE_MS`` before) and
    between it and the next (at most ``MAX_QRS_MS`` after); None within those limits of
    the record's ends."""
    t = r[i]
    pre, post = int(PRE_MS * fs / 1000.0), int(MAX_QRS_MS * fs / 1000.0)
    if t - pre < 0 or t + post >= sv.size:
        return None
    lo, hi = _search_window(r, i, sv.size, pre, post)
    if lo >= t or hi <= t:
        return None
    return lo + int(np.argmin(sv[lo:t])), t + int(np.argmin(sv[t:hi + 1]))


def align_to_sv_peaks(beats, sv: np.ndarray, fs: float) -> None:
    """Every beat's R time moved to its spatial-velocity peak (within 60 ms), in place: when
    beats from two sources are mixed (:func:`missed_beats`), one fiducial for all keeps the
    RR series from jittering by the difference between the two."""
    w = int(0.060 * fs)
    for b in beats:
        lo = max(0, b.r_time - w)
        b.r_time = lo + int(np.argmax(sv[lo:b.r_time + w + 1]))


def noise_bound(sv: np.ndarray, r_times: list[int], fs: float,
                noise_percentile: float = NOISE_PERCENTILE) -> float | None:
    """How far the record's noise, rather than the beats' own shape, sets the boundary
    threshold of :func:`qrs_bounds`: the median over beats of (``NOISE_K`` x baseline SV) /
    (``SV_FRACTION`` x the beat's SV peak). Above 1 the threshold is the noise term, and
    the boundaries close in on the complex's peak as the noise grows (the slow start and
    end of the QRS stay under it): 2.0-2.7 where the lead-combined boundaries narrowed
    complexes repeated at 120-180 /min with the muscle, mains and baseline noise of
    benchmarks.noise_bench; 0.1-3.4 (median 0.55) on the 150 shared records, 0.6-2.1 on
    the four whose QRS they narrowed. None without beats."""
    if not r_times or sv.size == 0:
        return None
    noise = float(np.percentile(sv, noise_percentile))
    w = int(0.06 * fs)
    peaks = [_sv_peak(sv, int(t), w) for t in r_times]
    ratios = [NOISE_K * noise / (SV_FRACTION * p) for p in peaks if p > 0]
    return float(np.median(ratios)) if ratios else None


AGREE_MS = 20.0        # a boundary within this of the learned one: keep the learned one
CONSISTENT_MS = 10.0   # the per-beat differences must agree this well (MAD) to be acted on


def reconcile_qrs(beats, signal: np.ndarray, fs: float, sv: np.ndarray | None = None,
                  tachycardia_without_p: bool = False) -> dict:
    """Compare the learned QRS boundaries with the lead-combined ones and, where they
    disagree consistently, move the learned ones (in place on ``beats``).

    The learned delineator is kept where the two agree (it is the more precise on the
    complexes it was trained on: median |error| 4 ms on LUDB). Where they disagree by more
    than ``AGREE_MS`` and the per-beat differences (combined - learned) agree over beats
    (MAD <= ``CONSISTENT_MS``; a physiological boundary does not jump from beat to beat, a
    boundary found in noise does):

    * combined *narrower*: the learned boundaries ran into the PR or ST segment (seen on
      LUDB 129 and 173, +50 ms, and on Chapman records called LBBB at 140 ms): the combined
      onset/offset that differ by > ``AGREE_MS`` are used;
    * combined *wider*: on LUDB this was the combined offset running into an early T wave
      as often as a QRS the learned model cut short, so it is used only where the width
      decides a safety question - a regular tachycardia without sinus P waves (wide-complex
      tachycardia: the learned model measured a > 160 ms VT at 112 ms). Elsewhere the
      learned value is kept and the disagreement is reported.

    The returned dict goes into the QRS measurement's evidence (learned and combined
    values, what was used and why)."""
    from tools.beats import robust_over_beats
    from tools.measure import dominant

    dom = dominant(beats)
    info: dict = {"method": "spatial velocity of all usable leads (Sornmo & Laguna 2005), "
                            f"threshold max({SV_FRACTION:g} x beat peak, {NOISE_K:g} x record "
                            "baseline)",
                  "learned_ms": None, "combined_ms": None, "used": "learned", "agree": None}
    if not dom:
        return info
    ms = 1000.0 / fs
    learned = robust_over_beats([(b.index, (b.qrs_off - b.qrs_on) * ms) for b in dom], 16.0)[0]
    sv = spatial_velocity(signal, fs) if sv is None else sv
    percentile = TACHY_NOISE_PERCENTILE if tachycardia_without_p else NOISE_PERCENTILE
    bounds = qrs_bounds(sv, [b.r_time for b in beats], fs,
                        p_offsets=[b.p_off for b in beats], noise_percentile=percentile)
    ratio = noise_bound(sv, [b.r_time for b in dom], fs, percentile)
    info["noise_bound"] = None if ratio is None else round(ratio, 2)
    # every beat's own lead-combined width: a second opinion on a beat typed ventricular
    # for its width alone (tools.measure.mark_ectopy)
    info["beat_widths"] = {b.index: (bd[1] - bd[0]) * ms for b, bd in zip(beats, bounds)
                           if bd is not None}
    pairs = [(b, bd) for b, bd in zip(beats, bounds) if bd is not None and b in dom]
    combined = robust_over_beats([(b.index, info["beat_widths"][b.index]) for b, _ in pairs],
                                 16.0)[0]
    info.update(learned_ms=learned, combined_ms=combined)
    if learned is None or combined is None or len(pairs) < 3:
        return info
    d_on = np.array([(bd[0] - b.qrs_on) * ms for b, bd in pairs])
    d_off = np.array([(bd[1] - b.qrs_off) * ms for b, bd in pairs])

    def shift(d: np.ndarray) -> tuple[float, bool]:
        med = float(np.median(d))
        return med, float(np.median(np.abs(d - med))) <= CONSISTENT_MS

    on_med, on_ok = shift(d_on)
    off_med, off_ok = shift(d_off)
    info.update(onset_shift_ms=round(on_med, 1), offset_shift_ms=round(off_med, 1),
                agree=abs(on_med) <= AGREE_MS and abs(off_med) <= AGREE_MS)
    if info["agree"]:
        return info
    narrower = combined < learned - AGREE_MS
    wider = combined > learned + AGREE_MS
    move_on = on_ok and abs(on_med) > AGREE_MS and (
        (narrower and on_med > 0) or (wider and on_med < 0 and tachycardia_without_p))
    move_off = off_ok and abs(off_med) > AGREE_MS and (
        (narrower and off_med < 0) or (wider and off_med > 0 and tachycardia_without_p))
    if not (move_on or move_off):
        why = ("the combined QRS is wider, which is acted on only in a tachycardia without "
               "sinus P waves" if wider else "the differences are not consistent over beats")
        info["reason"] = (f"learned {learned:.0f} ms and lead-combined {combined:.0f} ms "
                          f"disagree; {why}: the learned boundaries are kept")
        return info
    for b, bd in zip(beats, bounds):
        if bd is None:
            continue
        if move_on:
            b.qrs_on = int(bd[0])
        if move_off:
            b.qrs_off = int(bd[1])
        b.qrs_off = max(b.qrs_off, b.qrs_on + 1)
    moved = " and ".join(x for x, y in (("onset", move_on), ("offset", move_off)) if y)
    info["used"] = "combined " + moved
    info["reason"] = (f"learned {learned:.0f} ms and lead-combined {combined:.0f} ms disagree; "
                      f"the combined QRS {moved} (shift {on_med:+.0f} / {off_med:+.0f} ms) is "
                      "consistent over beats and is used"
                      + (" (regular tachycardia without sinus P waves)" if wider else ""))
    return info


P_SV_FRACTION = 0.20   # P onset threshold: share of the P wave's own SV peak (chosen on LUDB)
P_MAX_BACK_MS = 120.0  # the P onset is searched at most this far before the learned one


def reconcile_p_onset(beats, signal: np.ndarray, fs: float) -> dict:
    """A second, lead-combined P onset per beat and, where it is consistently earlier than
    the learned one, the earlier onset (in place on ``beats``).

    The P wave's spatial velocity (leads low-passed at 15 Hz, PR-level baseline) is followed
    back from its peak inside the learned P wave until it stays below ``P_SV_FRACTION`` of
    that peak (or twice the record's low-activity level) for 10 ms, never past the previous
    beat's T end nor more than ``P_MAX_BACK_MS`` before the learned onset. The learned
    delineator placed P onsets late on records it was not trained on (first-degree AV block
    measured at PR 132-154 ms against a label > 200 ms): an onset the combined estimate puts
    > 20 ms earlier on every beat alike (MAD <= 10 ms) is used and the PR follows it. Later
    onsets are not acted on. On LUDB the combined PR has median error +2 ms against the
    cardiologists and changed 1 of 88 records; on the CinC records it changed none."""
    from tools.atrial import P_BAND_HZ, p_band
    from tools.measure import isoelectric

    info: dict = {"method": f"P-wave spatial velocity ({P_BAND_HZ:g} Hz low-pass), threshold "
                            f"{P_SV_FRACTION:g} x P peak", "shift_ms": None, "used": "learned"}
    con = [(i, b) for i, b in enumerate(beats) if b.p_on is not None and b.p_off is not None
           and b.p_off > b.p_on and b.kind != "ventricular"]
    if len(con) < 3 or signal.shape[0] < 30:
        return info
    x = p_band(signal - isoelectric(signal, beats, fs), fs)
    sv = np.sqrt(((np.gradient(x, axis=0) * fs) ** 2).sum(axis=1))
    noise = float(np.percentile(sv, 10))
    sus = max(1, int(0.010 * fs))
    onsets = {}
    for i, b in con:
        prev = beats[i - 1] if i else None
        prev_end = (prev.t_off if prev is not None and prev.t_off is not None else
                    prev.qrs_off + int(0.300 * fs) if prev is not None else 0)
        lo = max(prev_end + sus, b.p_on - int(P_MAX_BACK_MS * fs / 1000.0), 0)
        pk = b.p_on + int(np.argmax(sv[b.p_on:b.p_off + 1]))
        thr = max(P_SV_FRACTION * sv[pk], 2.0 * noise)
        on = lo
        for j in range(pk, lo + sus - 1, -1):
            if (sv[j - sus + 1:j + 1] < thr).all():
                on = j
                break
        onsets[b.index] = on
    shifts = np.array([(b.p_on - onsets[b.index]) * 1000.0 / fs for _, b in con])
    med = float(np.median(shifts))
    mad = float(np.median(np.abs(shifts - med)))
    info.update(shift_ms=round(med, 1), shift_mad_ms=round(mad, 1))
    if med > 20.0 and mad <= 10.0:
        for _, b in con:
            b.p_on = min(b.p_on, onsets[b.index])
        info["used"] = "combined"
        info["reason"] = (f"the lead-combined P onset is {med:.0f} ms earlier than the learned "
                          f"one on every beat alike (MAD {mad:.0f} ms): it is used")
    return info
