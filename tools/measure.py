"""Global and per-lead measurements, each carrying an evidence id and its provenance.

Inputs are the record's signal (mV), the usable leads, and the global beats reconciled from
per-lead delineation (:mod:`tools.beats`). Global intervals are medians over dominant beats
after beats that disagree with the others are dropped; amplitudes are measured against the
isoelectric PR-segment level of each beat, as the AHA/ACCF/HRS 2009 recommendations for the
standardization of ECG interpretation (Kligfield et al., Circulation 115:1306, 2007, part I)
describe for ST and wave amplitudes.
"""
from __future__ import annotations

import numpy as np

from tools.beats import GlobalBeat, interval_ms, robust_over_beats, trim_for
from tools.evidence import Measurement

# Beat-to-beat tolerance before a beat's interval is called discordant and dropped (ms).
_TOL_MS = {"pr": 20.0, "p": 20.0, "qrs": 16.0, "qt": 30.0}
_FRONTAL_ANGLE = {"I": 0.0, "II": 60.0, "III": 120.0, "aVR": -150.0, "aVL": -30.0, "aVF": 90.0}
# Augmented leads see the frontal vector scaled by sqrt(3)/2 relative to the bipolar leads
# (Goldberger 1942; hexaxial reference system).
_FRONTAL_GAIN = {"I": 1.0, "II": 1.0, "III": 1.0, "aVR": 0.866, "aVL": 0.866, "aVF": 0.866}


def _m(name: str, value, unit: str, method: str, **kw) -> Measurement:
    digits = {"mV": 3, "ratio": 3, "mm*s": 3}.get(unit, 1)
    v = None if value is None or not np.isfinite(value) else round(float(value), digits)
    if v == 0:
        v = 0.0  # no "-0.0" in the output
    if v is None and not kw.get("reason"):
        kw["reason"] = "not measurable in the usable beats and leads of this record"
    return Measurement(id=f"m:{name}", name=name, value=v, unit=unit, method=method, **kw)


def _window(beats: list[GlobalBeat], idx: list[int], fs: float) -> tuple[float, float] | None:
    sel = [b for b in beats if b.index in idx]
    if not sel:
        return None
    start = min(b.p_on if b.p_on is not None else b.qrs_on for b in sel)
    end = max(b.t_off if b.t_off is not None else b.qrs_off for b in sel)
    return (round(start / fs, 3), round(end / fs, 3))


# Room a complete beat needs inside the record: its P wave before the QRS (PR up to 300 ms)
# and its ST-T after it (to about 450 ms). A complex cut by the record's start or end has no
# P wave to find and boundaries the delineator places least reliably (window edge).
P_ROOM_S, T_ROOM_S = 0.300, 0.450


PREMATURE = 0.85      # a premature beat comes before 85 % of the prevailing cycle
WIDER_MS = 40.0       # a beat this much wider than the dominant ones is typed ventricular
RUN_BEATS = 3         # consecutive ventricular beats that make a run (non-sustained VT)
WIDE_QRS_MS = 120.0   # a wide QRS (AHA/ACCF/HRS 2009 part III)
MATCH_MS = 50.0       # half-width of the complex compared with the dominant one (R +- 50 ms)
RUN_MATCH = 0.7       # a complex correlating less than this with the dominant one differs
SINUS_PR_SD_MS = 20.0  # P waves "with a constant PR" (as tools.statements calls them organised)


def constant_pr(beats: list[GlobalBeat], fs: float) -> bool:
    """Whether >= 3 conducted beats have a P wave and those P waves keep a constant PR (SD <
    ``SINUS_PR_SD_MS``)."""
    with_p = [b for b in beats if b.p_on is not None and b.kind != "ventricular"]
    if len(with_p) < 3:
        return False
    pr = np.array([b.qrs_on - b.p_on for b in with_p], float) * 1000.0 / fs
    return float(np.std(pr)) < SINUS_PR_SD_MS


def sinus_cycle(beats: list[GlobalBeat], fs: float) -> float | None:
    """The sinus cycle (samples): the median RR between consecutive beats that both have a P
    wave, when there are >= 2 such intervals, the P waves keep a constant PR (SD <
    ``SINUS_PR_SD_MS``) and every such interval lies within the prematurity margin of the
    median (none < 85 %, none > 1/0.85 of it). None otherwise (atrial fibrillation, scarce
    P waves, or P-to-P intervals that are not one regular cycle)."""
    if not constant_pr(beats, fs):
        return None
    cyc = np.array([b.r_time - a.r_time for a, b in zip(beats, beats[1:])
                    if a.p_on is not None and b.p_on is not None
                    and a.kind != "ventricular" and b.kind != "ventricular"], float)
    if cyc.size < 2:
        return None
    med = float(np.median(cyc))
    if cyc.min() < PREMATURE * med or cyc.max() > med / PREMATURE:
        return None
    return med


def mark_ectopy(beats: list[GlobalBeat], fs: float, irregular: bool, n_samples: int,
                bigeminal: bool = False, combined_ms: dict[int, float] | None = None,
                signal: np.ndarray | None = None) -> None:
    """Label premature beats (in place): RR shorter than 85 % of the median RR and followed by
    a longer RR; or, where the P waves give a regular sinus cycle (:func:`sinus_cycle`), a beat
    without a P wave whose RR is shorter than 85 % of that cycle (frequent premature beats,
    in pairs or every other beat, shorten the median RR itself and hide their P waves in the
    preceding T wave: sinus rhythm was then lost, P before < 50 % of beats, and the premature
    beats not counted). Ventricular when the codec typed the beat ventricular, or its QRS is
    >= 40 ms wider than the median QRS (wide, no preceding P) with room for its P wave and its
    ST-T inside the record (``n_samples`` long) and, where the beat has a lead-combined
    (spatial velocity) width (``combined_ms``, by beat index,
    :func:`tools.spatial.reconcile_qrs`), that width too >= 40 ms above the beats' median
    at <= 100 /min: flutter waves or noise on one complex stretched its learned boundaries
    (LUDB 103, a conducted beat called a PVC), while a ventricular beat is wider by both;
    supraventricular otherwise. The median-RR
    rule is skipped in an irregularly irregular rhythm, where prematurity is undefined, except
    in a ``bigeminal`` one (RR alternating short-long) for the beats without a P wave where
    the other beats' P waves keep a constant PR: every other beat premature, as in atrial
    bigeminy, is regular in its own way. The sinus-cycle rule needs the regular P-to-P cycle
    that fibrillation does not have. Runs of premature beats: :func:`_wide_runs` (needs the
    ``signal``, samples x leads)."""
    if len(beats) < 4:
        return
    r = np.array([b.r_time for b in beats], float)
    rr = np.diff(r)
    med_rr = float(np.median(rr))
    med_qrs = float(np.median([b.qrs_off - b.qrs_on for b in beats]))
    combined_ms = combined_ms or {}
    # not above 100 /min: without isoelectric segments the lead-combined threshold rises and
    # wide complexes come out narrow (tools.spatial), and a run of wide beats must not be
    # lost there (a rebuilt wide tachycardia at 180 /min lost its ventricular run)
    med_comb = float(np.median(list(combined_ms.values()))) \
        if len(combined_ms) >= 3 and med_rr >= 0.6 * fs else None
    for i, b in enumerate(beats):
        whole = b.qrs_on >= P_ROOM_S * fs and b.qrs_off <= n_samples - T_ROOM_S * fs
        wide = whole and (b.qrs_off - b.qrs_on) - med_qrs >= WIDER_MS * fs / 1000.0
        if wide and med_comb is not None and b.index in combined_ms:
            # the lead-combined width must agree that the beat is wider
            wide = combined_ms[b.index] - med_comb >= WIDER_MS
        if b.kind == "ventricular" or (wide and b.p_on is None):
            b.kind = "ventricular"
    cycle = sinus_cycle(beats, fs)
    paired = bigeminal and constant_pr(beats, fs)
    for i, b in enumerate(beats):
        if b.kind == "ventricular" or i == 0:
            continue
        if cycle is not None and b.p_on is None and rr[i - 1] < PREMATURE * cycle:
            b.kind = "supraventricular"
            continue
        if irregular and not (paired and b.p_on is None):
            continue
        premature = rr[i - 1] < PREMATURE * med_rr
        pause = i < len(rr) and rr[i] > rr[i - 1] * 1.1
        if premature and (pause or i == len(rr)):
            b.kind = "supraventricular"
    if signal is not None:
        _wide_runs(beats, combined_ms, signal, fs)


def dominant_match(signal: np.ndarray, beats: list[GlobalBeat], fs: float,
                   idx: list[int]) -> dict[int, float]:
    """Per beat numbered in ``idx``, the correlation of its complex (R time +- ``MATCH_MS``,
    all leads, each lead's mean removed) with the median complex of the dominant beats not
    in ``idx``; empty with fewer than 3 such beats inside the record."""
    x = np.asarray(signal, float)
    w = int(round(MATCH_MS * fs / 1000.0))

    def seg(b: GlobalBeat) -> np.ndarray | None:
        if b.r_time - w < 0 or b.r_time + w > x.shape[0]:
            return None
        s = x[b.r_time - w:b.r_time + w]
        return (s - s.mean(axis=0)).ravel()

    dom = [s for s in (seg(b) for b in dominant(beats) if b.index not in idx) if s is not None]
    if len(dom) < 3:
        return {}
    template = np.median(np.stack(dom), axis=0)
    out = {}
    for b in beats:
        s = seg(b) if b.index in idx else None
        if s is not None and np.ptp(s) > 0:
            out[b.index] = float(np.corrcoef(s, template)[0, 1])
    return out


def _wide_runs(beats: list[GlobalBeat], combined_ms: dict[int, float], signal: np.ndarray,
               fs: float) -> None:
    """Type ventricular (in place) every beat of a run of >= ``RUN_BEATS`` consecutive
    premature beats (typed supraventricular or ventricular by :func:`mark_ectopy`) without
    P waves, each of a shape unlike the dominant complex (:func:`dominant_match` <
    ``RUN_MATCH``), whose QRS width, median over the run, is >= ``WIDER_MS`` (the margin of
    :func:`mark_ectopy`) above the dominant beats' median, or >= 120 ms where theirs is
    under 120 ms (a run of wide complexes in a narrow-complex rhythm: the QRS limit of
    AHA/ACCF/HRS 2009 part III). A beat's width is the larger of its learned and its
    lead-combined one: in a run either can be cut short or missing (the combined one has no
    boundary where overlapping complexes keep the spatial velocity above its threshold).

    Three or more consecutive ventricular beats are non-sustained VT (2017 AHA/ACC/HRS
    guideline, Al-Khatib et al., Circulation 138:e272, 2018). Inside such a run at 150-200
    /min the learned boundaries cut the complexes short, one after the other (a 126-ms
    ventricular complex measured 90-114 ms, each one landing on the previous one's T
    wave), so the runs' beats were typed supraventricular and the run read as premature
    atrial beats, while the lead-combined width (:func:`tools.spatial.qrs_bounds`) kept
    them 40-54 ms wider than the conducted beats (``benchmarks.vrun_bench``). A premature
    beat's combined width also runs into the T wave it lands on (+46-52 ms on single atrial
    premature beats of Chapman JS20001 and JS20014, and a burst of a record's own conducted
    complexes at 160-200 /min was 'wide' on 5-8 of 134 records): the run's complexes must
    also have a shape of their own, each a correlation with the dominant complex
    (:func:`dominant_match`) below ``RUN_MATCH`` - a ventricular complex is one of
    'different morphology' (Surawicz & Knilans, Chou's Electrocardiography in Clinical
    Practice, 6th ed., 2008). No published number exists for 'different': the limit was
    chosen on the CinC recipients of the benchmark (runs of other patients' ventricular
    complexes at 160 /min: the run's median correlation -0.43..0.50; bursts of the
    recipients' own conducted complexes: 0.77..1.00) and checked on LUDB's (ventricular 85
    of 86 below it, conducted 2 of 87). It is applied to each beat, not to the run's median
    (a record's own two premature atrial beats beside one laid-in ventricular complex made
    a 'run' of three: per beat, runs flagged at 160 /min 0.64 / 0.79 -> 0.65 / 0.79 of 3 /
    5, one or two ventricular complexes read as a run 1 / 4 -> 0 / 2 of 134, bursts 0). A
    single beat is not retyped."""
    def width(b: GlobalBeat) -> float:
        return max((b.qrs_off - b.qrs_on) * 1000.0 / fs, combined_ms.get(b.index, 0.0))

    dom = [width(b) for b in beats if b.kind in ("normal", "unknown")]
    if len(dom) < 3:
        return
    ref = float(np.median(dom))
    early = [b.index for b in beats
             if b.kind in ("supraventricular", "ventricular") and b.p_on is None]
    match = dominant_match(signal, beats, fs, early) if len(early) >= RUN_BEATS else {}
    run: list[GlobalBeat] = []
    for b in beats + [None]:
        if b is not None and match.get(b.index, 1.0) < RUN_MATCH:
            run.append(b)
            continue
        w = float(np.median([width(x) for x in run])) if run else 0.0
        if len(run) >= RUN_BEATS and (w - ref >= WIDER_MS or (w >= WIDE_QRS_MS > ref)):
            for x in run:
                x.kind = "ventricular"
        run = []


def dominant(beats: list[GlobalBeat]) -> list[GlobalBeat]:
    return [b for b in beats if b.kind in ("normal", "unknown", "fusion")] or list(beats)


def rhythm_measurements(beats: list[GlobalBeat], fs: float, leads: list[str]) -> list[Measurement]:
    """Heart rate and RR variability from all beats (R peak = median QRS peak over leads)."""
    method = "global beats clustered over usable leads (openecg QRS), R time = median peak"
    r = np.array([b.r_time for b in beats], float) / fs
    idx = [b.index for b in beats]
    win = (round(float(r[0]), 3), round(float(r[-1]), 3)) if r.size else None
    if r.size < 2:
        reason = "fewer than 2 beats detected"
        return [_m(n, None, u, method, reason=reason) for n, u in
                [("hr_bpm", "bpm"), ("rr_ms", "ms"), ("rr_sd_ms", "ms"), ("rr_cv", "ratio"),
                 ("rmssd_ms", "ms"), ("rr_nmasd", "ratio"), ("rr_range_ms", "ms")]]
    rr = np.diff(r) * 1000.0
    d = np.diff(rr)
    kw = dict(leads=leads, beats=idx, window_s=win)
    out = [
        _m("hr_bpm", 60000.0 / rr.mean(), "bpm", method + "; 60000 / mean RR", **kw),
        _m("rr_ms", rr.mean(), "ms", method, **kw),
        _m("rr_sd_ms", rr.std(ddof=1) if rr.size > 1 else None, "ms", method,
           reason=None if rr.size > 1 else "fewer than 3 beats", **kw),
        _m("rr_range_ms", rr.max() - rr.min(), "ms", method, **kw),
        _m("rr_cv", rr.std(ddof=1) / rr.mean() if rr.size > 1 else None, "ratio",
           method + "; SD (n-1) / mean of RR",
           reason=None if rr.size > 1 else "fewer than 3 beats", **kw),
        _m("rmssd_ms", np.sqrt(np.mean(d ** 2)) if d.size >= 2 else None, "ms", method,
           reason=None if d.size >= 2 else "fewer than 4 beats", **kw),
        _m("rr_nmasd", np.median(np.abs(d)) / np.median(rr) if d.size >= 2 else None, "ratio",
           method + "; median |successive RR difference| / median RR",
           reason=None if d.size >= 2 else "fewer than 4 beats", **kw),
    ]
    return out


def interval_measurements(beats: list[GlobalBeat], fs: float, rr_ms: float | None
                          ) -> list[Measurement]:
    """PR, P duration, QRS, QT and QTc from dominant beats (robust median over beats)."""
    dom = dominant(beats)
    out = []
    names = {"pr": "pr_ms", "p": "p_ms", "qrs": "qrs_ms", "qt": "qt_ms"}
    what = {"pr": "earliest P onset to earliest QRS onset",
            "p": "earliest P onset to latest P offset",
            "qrs": "earliest QRS onset to latest QRS offset",
            "qt": "earliest QRS onset to latest T end"}
    qt = None
    for key, name in names.items():
        vals = interval_ms(dom, fs, key)
        value, kept, dropped = robust_over_beats(vals, _TOL_MS[key])
        leads = sorted({lead for b in dom if b.index in kept
                        for lead in (b.p_leads if key in ("pr", "p") else
                                     b.t_leads if key == "qt" else b.leads)})
        n_leads = max((len(b.p_leads if key in ("pr", "p") else b.t_leads if key == "qt"
                           else b.leads) for b in dom), default=0)
        k = trim_for(n_leads)
        method = (f"openecg per-lead delineation; {what[key]} over leads, the {k} most extreme "
                  f"lead(s) at each side trimmed (CSE convention, robust); median over dominant "
                  f"beats, beats off the median by > max({_TOL_MS[key]:.0f} ms, 3 MAD) dropped")
        reason = None
        if value is None:
            reason = {"pr": "no P wave found before the QRS in enough leads",
                      "p": "no P wave found in enough leads",
                      "qt": "T-wave end not found in enough leads"}.get(key, "no QRS delineated")
        details = {"dropped_beats": dropped, "n_beats": len(kept)}
        if key == "pr":
            details["p_on_preceding_t_share"] = p_on_preceding_t(beats, fs)
        out.append(_m(name, value, "ms", method, leads=leads, beats=kept,
                      window_s=_window(beats, kept, fs), reason=reason, details=details))
        if key == "qt":
            qt = (value, kept, leads)
    value, kept, leads = qt
    rr_how = "mean RR"
    if kept and any(b.kind in ("ventricular", "supraventricular") for b in beats):
        # with premature beats the QT comes from the other beats, and a QT follows the cycle
        # that precedes it (AHA/ACCF/HRS 2009 part IV): the RR before the measured beats,
        # not the mean RR that the premature cycles shorten
        pos = {b.index: i for i, b in enumerate(beats)}
        prev = [(beats[pos[k]].r_time - beats[pos[k] - 1].r_time) * 1000.0 / fs
                for k in kept if pos.get(k, 0) > 0]
        if prev:
            rr_ms, rr_how = float(np.median(prev)), "median RR preceding the measured beats"
    rr_s = rr_ms / 1000.0 if rr_ms else None
    ok = value is not None and rr_s is not None
    reason = None if ok else "QT or RR not measurable"
    common = dict(leads=leads, beats=kept, window_s=_window(beats, kept, fs), reason=reason)
    fri = value / rr_s ** (1 / 3) if ok else None
    baz = value / rr_s ** 0.5 if ok else None
    out += [
        # Fridericia is the default: Bazett over-corrects at high and under-corrects at low
        # heart rates (AHA/ACCF/HRS 2009 part IV, Rautaharju et al., Circulation 119:e241).
        _m("qtc_ms", fri, "ms", f"Fridericia QT / RR^(1/3), RR = {rr_how}", **common),
        _m("qtc_fridericia_ms", fri, "ms", "Fridericia QT / RR^(1/3)", **common),
        _m("qtc_bazett_ms", baz, "ms", "Bazett QT / RR^(1/2)", **common),
    ]
    return out


def p_on_preceding_t(beats: list[GlobalBeat], fs: float) -> float | None:
    """Share of conducted beats whose P onset lies no more than 20 ms after the preceding
    beat's T end (or before it): the P wave merges with that T wave, so its onset, and the
    PR, may be measured late. Measured on the shared records with their P waves moved into
    the preceding T (benchmarks.long_pr_bench): >= half the beats on 1 of 140 unshifted
    sinus records and on 8 of 17 fast records with the P moved 80 ms."""
    n = k = 0
    for prev, b in zip(beats, beats[1:]):
        if b.p_on is None or prev.t_off is None or b.kind == "ventricular":
            continue
        n += 1
        k += b.p_on <= prev.t_off + int(0.020 * fs)
    return round(k / n, 2) if n else None


def isoelectric(signal: np.ndarray, beats: list[GlobalBeat], fs: float) -> np.ndarray:
    """Per-lead baseline through each beat's PR-segment level (median of the 30 ms ending 10 ms
    before QRS onset), linearly interpolated between beats: removes wander without filtering
    the ST segment (a high-pass filter would distort it; AHA 2007 part I)."""
    n, n_leads = signal.shape
    knots_t, knots_v = [], []
    a, b_ = int(0.040 * fs), int(0.010 * fs)
    for b in beats:
        lo, hi = b.qrs_on - a, b.qrs_on - b_
        if lo >= 0 and hi > lo:
            knots_t.append((lo + hi) / 2.0)
            knots_v.append(np.median(signal[lo:hi], axis=0))
    if not knots_t:
        return np.tile(np.median(signal, axis=0), (n, 1))
    kt, kv = np.array(knots_t), np.array(knots_v)
    t = np.arange(n)
    if np.isfinite(kv).all():
        return np.stack([np.interp(t, kt, kv[:, j]) for j in range(n_leads)], axis=1)
    # a lead printed over part of a page (NaN elsewhere): its own knots only
    out = np.full((n, n_leads), np.nan)
    for j in range(n_leads):
        ok = np.isfinite(kv[:, j])
        if ok.any():
            out[:, j] = np.interp(t, kt[ok], kv[ok, j])
    return out


def t_peak_signal(x: np.ndarray, fs: float) -> np.ndarray:
    """The lead smoothed by a 20-ms moving average, for the T peak: the largest single sample
    of a noisy T segment is a noise peak (under muscle noise 'flat' T waves read as +-0.15
    mV; benchmarks.noise_bench), while a T wave, 150-250 ms wide, loses about 1 % of its
    peak to the average."""
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(x, max(1, int(round(0.020 * fs))), mode="nearest")


def _lead_beat_amplitudes(x: np.ndarray, b: GlobalBeat, fs: float,
                          xt: np.ndarray | None = None) -> dict:
    """Q, R, S, ST and T amplitudes of beat ``b`` in one lead ``x``; the T peak read from
    ``xt``, the lead as :func:`t_peak_signal` smooths it (computed here when not given)."""
    xt = t_peak_signal(x, fs) if xt is None else xt
    qrs = x[b.qrs_on:b.qrs_off + 1]
    ir = int(np.argmax(qrs))
    r = max(float(qrs[ir]), 0.0)
    q = min(float(qrs[:ir + 1].min()), 0.0) if r > 0.05 else 0.0
    s = min(float(qrs[ir:].min()), 0.0) if r > 0.05 else min(float(qrs.min()), 0.0)
    j60 = b.qrs_off + int(0.060 * fs)
    st = float(x[j60]) if j60 < x.size else np.nan
    st_j = float(x[b.qrs_off]) if b.qrs_off < x.size else np.nan
    t_lo = b.qrs_off + int(0.080 * fs)
    t_hi = b.t_off if b.t_off is not None else b.qrs_off + int(0.400 * fs)
    seg = xt[t_lo:t_hi]
    t = float(seg[np.argmax(np.abs(seg))]) if seg.size else np.nan
    return {"q_mv": q, "r_mv": r, "s_mv": s, "st_j_mv": st_j, "st60_mv": st, "t_mv": t,
            "qrs_area_mvms": float(qrs.sum() * 1000.0 / fs)}


def lead_amplitudes(signal: np.ndarray, leads: list[str], usable: list[str],
                    beats: list[GlobalBeat], fs: float) -> dict[str, dict[str, float]]:
    """Median over dominant beats of Q, R, S, ST(J+60 ms), T amplitudes (mV) per usable lead,
    baseline-corrected; also net QRS area (mV*ms) for the axis."""
    dom = dominant(beats)
    if not dom:
        return {}
    x = signal - isoelectric(signal, beats, fs)
    out = {}
    for j, lead in enumerate(leads):
        if lead not in usable:
            continue
        beats_j = [b for b in dom if in_lead(x[:, j], b, fs)]
        if not beats_j:
            continue  # a lead printed where no dominant beat fell
        xt = t_peak_signal(x[:, j], fs)
        per = [_lead_beat_amplitudes(x[:, j], b, fs, xt) for b in beats_j]
        out[lead] = {k: _nanmedian([p[k] for p in per]) for k in per[0]}
    return out


def in_lead(x: np.ndarray, b: GlobalBeat, fs: float) -> bool:
    """Whether beat ``b`` (40 ms before QRS onset to J + 80 ms) is drawn in this lead's
    signal ``x`` (always, except on a paper page printed lead by lead, NaN elsewhere)."""
    lo, hi = max(0, b.qrs_on - int(0.040 * fs)), min(x.size, b.qrs_off + int(0.080 * fs) + 1)
    return hi > lo and bool(np.isfinite(x[lo:hi]).all())


def _nanmedian(values: list[float]) -> float:
    """Median of the finite values; NaN (not a warning) when there are none (e.g. ST at
    J + 60 ms falls after the end of the record for every beat)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def frontal_axis(values: dict[str, float]) -> float | None:
    """Frontal-plane axis (degrees, -180..180) from a quantity measured in >= 3 limb leads,
    by least squares over all of them (not from two leads only)."""
    rows, ys = [], []
    for lead, v in values.items():
        if lead in _FRONTAL_ANGLE and np.isfinite(v):
            th = np.radians(_FRONTAL_ANGLE[lead])
            g = _FRONTAL_GAIN[lead]
            rows.append([g * np.cos(th), g * np.sin(th)])
            ys.append(v)
    if len(rows) < 3:
        return None
    (hx, hy), *_ = np.linalg.lstsq(np.array(rows), np.array(ys), rcond=None)
    if np.hypot(hx, hy) < 1e-9:
        return None
    return float(np.degrees(np.arctan2(hy, hx)))


def wave_area(signal: np.ndarray, leads: list[str], usable: list[str], beats: list[GlobalBeat],
              fs: float, wave: str) -> dict[str, float]:
    """Net area (mV*ms) of the P or T wave per usable limb lead, median over dominant beats."""
    x = signal - isoelectric(signal, beats, fs)
    out = {}
    for j, lead in enumerate(leads):
        if lead not in usable or lead not in _FRONTAL_ANGLE:
            continue
        areas = []
        for b in dominant(beats):
            if wave == "P" and b.p_on is not None and b.p_off is not None:
                lo, hi = b.p_on, b.p_off
            elif wave == "T" and b.t_off is not None:
                lo, hi = b.qrs_off + int(0.040 * fs), b.t_off
            else:
                continue
            area = float(x[lo:hi + 1, j].sum() * 1000.0 / fs)
            if np.isfinite(area):
                areas.append(area)
        if areas:
            out[lead] = float(np.median(areas))
    return out
