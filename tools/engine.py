"""The evidence engine: quality -> delineation -> reconciliation -> measurements -> statements.

``analyze(record)`` is the one entry point; everything the assistant later says about a
record is a repetition of what it returns.
"""
from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools import measure as M
from tools.calibration import einthoven_residual, limb_gains, spans_normalised, without_wander
from tools.beats import (GlobalBeat, add_beats, drop_beats, interval_ms, reconcile,
                         robust_over_beats)
from tools.delineate import LeadDelineation, delineate_ecgdeli, delineate_openecg
from tools.atrial import (P_CONSISTENCY, consistency, fill_p_waves, p_waves_further_back,
                          set_aside_unlike_p)
from tools.evidence import Measurement, Statement
from tools.mains import remove_mains
from tools.quality import RecordQuality, assess_quality
from tools.record import LIMB_LEADS, STANDARD_LEADS, Record
from tools.pacing import blank_stimuli
from tools.rhythm import (WEAK_TRAIN, _p_ratio, atrial_activity, dissociated_p_waves,
                          regular_rr)
from tools.spatial import (align_to_sv_peaks, missed_beats, reconcile_p_onset, reconcile_qrs,
                           spatial_velocity, weak_beats)
from tools.statements import Features, derive_statements, p_clear_organised

ENGINE_VERSION = "0.1.0"


@lru_cache(maxsize=1)
def engine_build() -> str:
    """First 12 hex digits of the SHA-256 of the engine's own sources (``tools/*.py``): two
    results with one fingerprint were made by the same rules (the evaluation suites reuse
    an earlier run's per-record results only when it matches). Read on first use, not at
    import (house style: no side effects at import time)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]
# Cross-check tolerance between the learned and the classic delineator (ms); beyond it the
# value is flagged and the statements resting on it lose confidence.
_CROSS_TOL_MS = {"pr_ms": 30.0, "qrs_ms": 25.0, "qt_ms": 40.0}
# When the classic cross-check runs: "auto" = only where the engine's own two estimates
# disagree or the learned delineator is outside the domain it was validated on (see
# ``_cross_check_reasons``), "always", or "off". ECG_ASSISTANT_CROSS_CHECK sets the default.
CROSS_CHECK_MODES = ("auto", "always", "off")


@dataclass
class Analysis:
    """Everything measured about one record."""

    record: Record
    quality: RecordQuality
    measurements: dict[str, Measurement]
    statements: list[Statement]
    delineation: dict[str, LeadDelineation]
    beats: list[GlobalBeat]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        fs = self.record.fs
        return {
            "record": self.record.summary(),
            "engine": {"version": ENGINE_VERSION, "build": engine_build(),
                       "delineator": "openecg codec v6 (int8 ONNX)",
                       "cross_check": "ECGdeli (KIT-IBT) via ecgdeli"},
            "quality": self.quality.model_dump(),
            "measurements": {k: v.model_dump() for k, v in self.measurements.items()},
            "statements": [s.model_dump() for s in self.statements],
            "delineation": {lead: d.to_seconds(fs) for lead, d in self.delineation.items()},
            "beats": [_beat_dict(b, fs) for b in self.beats],
            "notes": list(self.notes),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _beat_dict(b: GlobalBeat, fs: float) -> dict:
    s = (lambda v: None if v is None else round(v / fs, 4))
    return {"index": b.index, "kind": b.kind, "r_s": s(b.r_time), "qrs_on_s": s(b.qrs_on),
            "qrs_off_s": s(b.qrs_off), "p_on_s": s(b.p_on), "t_off_s": s(b.t_off),
            "leads": b.leads}


def prepare(record: Record) -> tuple[Record, list[str]]:
    """A copy of ``record`` safe to measure, and notes on what was changed.

    Lead names are normalised; NaN/inf samples are interpolated (a lead with more than half
    non-finite is zeroed, so quality marks it missing); limb leads absent from the record are
    derived from I and II by Einthoven's and Goldberger's equations (III = II - I,
    aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2), as 8-lead exports expect.
    """
    from tools.record import normalize_lead_name

    notes: list[str] = []
    names = [normalize_lead_name(n) for n in record.sig_name]
    x = np.array(record.signal, dtype=float, copy=True)
    bad = ~np.isfinite(x)
    filled = False  # a paper page's gaps filled (no note: the page's note says it all)
    if bad.any():
        idx = np.arange(x.shape[0])
        for j in np.flatnonzero(bad.any(axis=0)):
            gap = bad[:, j]
            span = np.flatnonzero(~gap)
            if record.digitized and span.size >= 2 * record.fs:
                # a lead of a paper page exists only where it was printed: gaps inside
                # its window are filled, outside it stays NaN (see printed_windows); a lead
                # printed over all but the last or first few samples is a full lead
                inner = gap.copy()
                if span[-1] - span[0] + 1 < 0.99 * len(gap):
                    inner[:span[0]] = inner[span[-1] + 1:] = False
                if inner.any():
                    x[inner, j] = np.interp(idx[inner], idx[~gap], x[~gap, j])
                    filled = True
                continue
            if gap.mean() > 0.5:
                x[:, j] = 0.0
                notes.append(f"lead {names[j]}: mostly NaN/inf, treated as missing")
            else:
                x[gap, j] = np.interp(idx[gap], idx[~gap], x[~gap, j])
                notes.append(f"lead {names[j]}: {int(gap.sum())} NaN/inf samples interpolated")
    from tools.record import derive_limb_leads

    x, names, derived = derive_limb_leads(x, names)
    if derived:
        notes.append("derived from I and II (Einthoven/Goldberger): " + ", ".join(derived))
    reader = list(record.reader_notes)  # what the file reader did (derived leads, checksums)
    if not notes and not filled and names == list(record.sig_name):
        return record, reader
    from dataclasses import replace

    return replace(record, signal=x, sig_name=names,
                   units=["mV"] * len(names)), reader + notes


#: |QRS| difference between a page printed lead by lead (3x4, each lead 2.5 s) and the
#: recording it was printed from: within 12 ms on 15 of 17 CinC records (every third; the
#: rule was chosen there) and 15 of 20 LUDB records (every fifth; checked there: the band
#: is narrower than LUDB's spread)
PARTIAL_PAGE_MARGIN_MS = 12.0


def printed_windows(record: Record) -> dict[str, tuple[int, int]]:
    """Leads of a digitised paper page printed over part of the record only (a 3x4 page
    prints each lead for 2.5 s): lead -> (first, last) printed sample."""
    if not record.digitized:
        return {}
    out = {}
    for j, lead in enumerate(record.sig_name):
        ok = np.isfinite(record.signal[:, j])
        if ok.any() and not ok.all():
            idx = np.flatnonzero(ok)
            out[lead] = (int(idx[0]), int(idx[-1]))
    return out


def _context(signal: np.ndarray, names: list[str], windows: dict[str, tuple[int, int]]
             ) -> np.ndarray:
    """The delineators' input for a page printed lead by lead: outside its window each
    partial lead repeats its own printed stretch (the learned delineator was trained on
    10-s records and misreads a short stretch between flat lines). Only waves wholly
    inside the window are kept (:func:`_clip_to_windows`) and every amplitude is measured
    on the NaN signal, so nothing from the repeats reaches a measurement."""
    x = signal.copy()
    n = x.shape[0]
    for lead, (a, b) in windows.items():
        j = names.index(lead)
        seg = signal[a:b + 1, j]
        idx = (np.arange(n) - a) % len(seg)
        outside = (np.arange(n) < a) | (np.arange(n) > b)
        x[outside, j] = seg[idx[outside]]
    return x


def _clip_to_windows(dels: dict[str, LeadDelineation], windows: dict[str, tuple[int, int]],
                     fs: float) -> dict[str, LeadDelineation]:
    """Each lead's waves wholly inside its printed window, 60 ms from its edges (where the
    printed stretch is joined to its repeat, the delineator's labels are unreliable)."""
    from dataclasses import replace

    m = int(0.060 * fs)
    out = {}
    for lead, d in dels.items():
        if lead not in windows:
            out[lead] = d
            continue
        a, b = windows[lead][0] + m, windows[lead][1] - m
        waves = {k: [w for w in ws if w.onset >= a and w.offset <= b] for k, ws in d.waves.items()}
        out[lead] = replace(d, waves=waves,
                            beat_class=[(t, c) for t, c in d.beat_class if a <= t <= b])
    return out


def analyze(record: Record, cross_check: str | None = None) -> Analysis:
    """Measure ``record`` and state findings with cited evidence (see module docstring).

    ``cross_check``: when the classic ECGdeli delineation is run as a second opinion on PR,
    QRS and QT (``CROSS_CHECK_MODES``; default ``$ECG_ASSISTANT_CROSS_CHECK`` or "auto")."""
    mode = cross_check or os.environ.get("ECG_ASSISTANT_CROSS_CHECK") or "auto"
    if mode not in CROSS_CHECK_MODES:
        raise ValueError(f"cross_check must be one of {', '.join(CROSS_CHECK_MODES)}, "
                         f"not {mode!r}")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    record, prep_notes = prepare(record)
    measured = record  # what the report shows: a paper page's leads only where printed
    windows = printed_windows(record)
    if windows:
        from dataclasses import replace

        record = replace(record, signal=_context(record.signal, record.sig_name, windows))
        prep_notes.append("printed for part of the record only (measured where printed): " +
                          ", ".join(f"{k} {a / record.fs:.1f}-{b / record.fs:.1f} s"
                                    for k, (a, b) in windows.items()))
    quality = assess_quality(measured, windows or None)
    timings["quality_s"] = time.perf_counter() - t0
    usable = [lead for lead in STANDARD_LEADS if lead in quality.usable_leads
              and record.has(lead)]
    if quality.abstain or len(usable) < 3:
        f = Features(m={}, amp={}, terminal={}, usable=usable, abstain=True,
                     abstain_reason=quality.abstain_reason or "fewer than 3 usable leads")
        return Analysis(measured, quality, _null_measurements(f.abstain_reason),
                        derive_statements(f), {}, [], timings, prep_notes)

    cols = [record.sig_name.index(lead) for lead in usable]
    sig = record.signal[:, cols]
    sig_m = measured.signal[:, cols]  # NaN outside a partial lead's window
    if not windows:
        sig, mains_note = remove_mains(sig, float(record.fs), usable, quality)
        if mains_note:
            sig_m = sig
            prep_notes.append(mains_note)
    win = {lead: w for lead, w in windows.items() if lead in usable} or None
    fs = float(record.fs)
    # Where the cross-check is certain to run it runs in a worker thread while the ONNX codec
    # (which releases the GIL) runs here: on 2 cores the two delineators overlap. On a page
    # printed lead by lead there is no lead-combined estimate, so "auto" always runs it.
    t = time.perf_counter()
    upfront = mode == "always" or (mode == "auto" and bool(win))
    with ThreadPoolExecutor(max_workers=1) as pool:
        cross_job = pool.submit(_cross_check, sig, fs, usable, win) if upfront else None
        dels = dict(zip(usable, delineate_openecg(sig, fs)))
        if win:
            dels = _clip_to_windows(dels, win, fs)
        timings["delineate_openecg_s"] = time.perf_counter() - t
        cross = cross_job.result() if cross_job else None
    if cross is not None:
        cross["run_because"] = ["always run (cross_check='always')" if mode == "always" else
                                "page printed lead by lead: no lead-combined estimate"]
        timings["delineate_both_s"] = time.perf_counter() - t
    beats = reconcile(dels, fs, win)
    recorded = None  # the signal as recorded, where pacemaker stimuli were blanked
    if not win:
        blanked, n_stim = blank_stimuli(sig, fs, usable, beats)
        if blanked is not None:
            recorded, sig = sig, blanked
            sig_m = sig  # no printed windows here: the same samples
            dels = dict(zip(usable, delineate_openecg(sig, fs)))
            beats = reconcile(dels, fs, win)
            prep_notes.append(f"{n_stim} pacemaker-like stimuli outside the QRS complexes "
                              "blanked before delineation (counted as pacing spikes from the "
                              "signal as recorded)")
    partial = None
    p_alike, p_set_aside = None, False
    if win:
        # a page printed lead by lead: the beats, the rhythm and the atrial activity come
        # from the full-length leads (the rhythm strips), as a reader of the page does; the
        # lead-combined QRS/P estimates need the same leads at every beat and are not used
        full = [lead for lead in usable if lead not in win]
        cols_f = [usable.index(lead) for lead in full] or list(range(len(usable)))
        partial = {"sig": sig[:, cols_f], "leads": [usable[j] for j in cols_f]}
        qrs_info, p_info = {"used": "learned", "reason": "page printed lead by lead: the "
                            "lead-combined estimate needs every lead at every beat"}, {}
    else:
        sv = spatial_velocity(sig, fs)
        weak = weak_beats(beats, sv, fs)
        walking = dissociated_p_waves(beats, sv, fs, weak)
        drop = weak | walking
        not_qrs = [(b.qrs_on, b.r_time, b.qrs_off) for b in beats if b.index in drop]
        if drop:
            beats = drop_beats(beats, drop, dels, fs)
        if weak:
            prep_notes.append(f"{len(weak)} complex(es) labelled QRS by the learned delineator "
                              "were too slow in every lead to be QRS complexes (spatial "
                              "velocity < 12 % of the upper-quartile beat) and were treated as "
                              "atrial waves")
        if walking:
            prep_notes.append(f"{len(walking)} complex(es) labelled QRS by the learned "
                              f"delineator, slow (spatial velocity < {WEAK_TRAIN:.0%} of the "
                              "upper-quartile beat) and at a varying interval from a regular "
                              "rhythm of the others, were treated as dissociated atrial waves")
        missed = missed_beats(beats, sig, sv, fs)
        if missed:
            beats = add_beats(beats, missed, dels, fs)
            align_to_sv_peaks(beats, sv, fs)
            prep_notes.append(
                f"{len(missed)} complex(es) as fast as the QRS complexes in most leads but not "
                "labelled QRS by the learned delineator were added as beats (boundaries from "
                "the lead-combined spatial velocity; beat type unknown)")
        r_s = np.array([b.r_time for b in beats], float) / fs
        rr = np.diff(r_s)
        fast = r_s.size >= 3 and 60.0 / float(np.mean(rr)) > 100
        # the lead-combined QRS may widen the learned one only in a *regular* tachycardia
        # without P waves, the monomorphic VT it was made for (Brugada 1991 is about 'a
        # regular tachycardia with a wide QRS'); in fast AF its offset ran into the ST
        # segment (benchmarks.af_bench, AF at 120 /min with f waves: VT or WCT stated on
        # 9 -> 5 narrow complexes)
        regular = r_s.size >= 4 and regular_rr(rr)
        qrs_info = reconcile_qrs(beats, sig, fs, sv, tachycardia_without_p=fast and regular
                                 and _p_ratio(beats) < 0.5)
        qrs_info["not_qrs"] = not_qrs
        p_alike, p_set_aside = set_aside_unlike_p(sig, fs, beats, fast)
        if p_set_aside:
            prep_notes.append(
                f"the 'P waves' found before the QRS complexes are not alike (median "
                f"correlation {p_alike:.2f} < {P_CONSISTENCY}, m:p_wave_consistency): they "
                "are not taken as P waves")
        # not in a tachycardia: there the template also matches whatever precedes each
        # identical complex (the previous T wave of a monomorphic VT: rebuilt VTs at
        # 120-150 /min became 'sinus tachycardia', benchmarks.wct_bench)
        filled = [] if fast else fill_p_waves(sig, fs, beats, p_alike)
        if filled:
            prep_notes.append(
                f"P wave of {len(filled)} beat(s) found by the record's own P template near "
                "the median PR (the learned delineator had none, or one at another PR)")
        back = p_waves_further_back(sig, fs, beats)  # <= 100 /min only: its own check
        if back:
            p_alike, p_set_aside = consistency(sig, fs, beats), False
            prep_notes.append(
                f"P wave of {len(back)} beat(s) found further back, between the preceding T "
                "end and the QRS, by the beats' median T-P window and its template (the "
                "learned delineator had none before most beats, only unlike ones, or a "
                "smaller wave at an ordinary PR)")
        p_info = reconcile_p_onset(beats, sig, fs)
    # "auto": the reasons come from the learned and lead-combined estimates; a needed
    # cross-check runs in a thread beside the measurements (which do not depend on it)
    reasons = _cross_check_reasons(beats, fs, qrs_info, p_info) \
        if cross is None and mode == "auto" else []
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(_cross_check, sig, fs, usable, win) if reasons else None
        meas, feats = _measure(record, sig_m, fs, usable, beats, dels, quality, qrs_info,
                               partial, p_alike, p_set_aside, recorded)
        if job is not None:
            cross = job.result() | {"run_because": reasons}
            timings["measure_and_classic_s"] = time.perf_counter() - t
    if cross is None:
        cross = {"not_run": "cross_check='off'" if mode == "off" else
                 "not needed: the learned and lead-combined QRS and P estimates agree, QRS "
                 "< 120 ms and the P wave is clear of the preceding T"}
    _apply_cross_check(meas, feats, cross)
    if "pr_ms" in meas:
        meas["pr_ms"].details["lead_combined_p_onset"] = p_info
        if p_info.get("reason"):
            feats.notes.append("PR: " + p_info["reason"])
    statements = derive_statements(feats)
    _withdraw(meas, statements, feats)
    spikes_note = _low_rate_pacing_note(fs, feats, statements)
    if spikes_note:
        feats.notes.append(spikes_note)
    if measured.digitized:
        _digitisation_uncertainty(meas, measured.digitized, bool(win))
    timings["total_s"] = time.perf_counter() - t0
    return Analysis(measured, quality, meas, statements, dels, beats, timings,
                    prep_notes + feats.notes)


def _withdraw(meas: dict[str, Measurement], statements: list[Statement],
              feats: Features) -> None:
    """Null measurements the statements show to be meaningless, keeping the reason: PR and
    P duration in atrial fibrillation or flutter (no organised P wave; the P-labelled waves
    are fibrillatory or flutter waves), and every amplitude in mV when the file's amplitudes
    are normalised per lead."""
    ids = {s.id for s in statements}
    if ids & {"s:af", "s:afl"}:
        for name in ("pr_ms", "p_ms", "pr_sd_ms"):
            if name in meas and meas[name].value is not None:
                meas[name] = meas[name].model_copy(update={
                    "value": None, "reason": "atrial fibrillation/flutter: no organised P wave "
                    "(the waves found before the QRS are atrial activity, not P waves)"})
    if feats.amplitude_normalised:
        for name, m in list(meas.items()):
            if m.unit == "mV" and m.value is not None:
                meas[name] = m.model_copy(update={
                    "value": None, "reason": "amplitudes in this file are normalised per lead "
                    "(every lead spans the same range): not a physical voltage"})
    for s in statements:  # a statement cites only evidence that still has a value
        kept = [e for e in s.evidence_ids
                if not e.startswith("m:") or meas.get(e[2:]) is None or
                meas[e[2:]].value is not None]
        if kept and kept != s.evidence_ids:
            s.evidence_ids = kept


def _digitisation_uncertainty(meas: dict[str, Measurement], dig: dict, partial: bool) -> None:
    """Every interval of a digitised page carries what the page adds to its uncertainty:
    one pixel of an image at the paper speed (a vector page: one 2-ms sample), or the
    partial-page band on a page printed lead by lead, whichever is larger."""
    px = dig.get("pixels_per_mm")
    speed = float(dig.get("speed_mm_s") or 25.0)
    res = 1000.0 / (float(px) * speed) if px else 2.0
    unc = max(res, PARTIAL_PAGE_MARGIN_MS if partial else 0.0)
    why = (f"digitised {dig.get('source')}: +-{unc:.0f} ms from the page "
           + ("(printed lead by lead)" if partial else f"(resolution {res:.1f} ms)"))
    for m in meas.values():
        if m.unit == "ms" and m.value is not None:
            m.details["digitisation_uncertainty_ms"] = round(unc, 1)
            m.details["digitisation"] = why


def _null_measurements(reason: str) -> dict[str, Measurement]:
    names = [("hr_bpm", "bpm"), ("pr_ms", "ms"), ("qrs_ms", "ms"), ("qt_ms", "ms"),
             ("qtc_ms", "ms"), ("qrs_axis_deg", "deg")]
    return {n: Measurement(id=f"m:{n}", name=n, value=None, unit=u, method="not measured",
                           reason=f"abstained: {reason}") for n, u in names}


def _cross_check(sig: np.ndarray, fs: float, usable: list[str],
                 windows: dict[str, tuple[int, int]] | None = None) -> dict[str, float | None]:
    """Global PR/QRS/QT from the classic ECGdeli delineation, same reconciliation rule."""
    import warnings

    try:
        with warnings.catch_warnings():
            if windows:  # a 2.5-s lead has too few beats for ECGdeli's template: expected
                warnings.simplefilter("ignore", UserWarning)
            dels = dict(zip(usable, delineate_ecgdeli(sig, fs)))
    except Exception as exc:  # a classic-method failure must not hide the primary result
        return {"error": f"{type(exc).__name__}: {str(exc)[:120]}"}
    if windows:
        dels = _clip_to_windows(dels, windows, fs)
    beats = reconcile(dels, fs, windows)
    out = {}
    for key, tol in (("pr", 20.0), ("qrs", 16.0), ("qt", 30.0)):
        out[f"{key}_ms"] = robust_over_beats(interval_ms(beats, fs, key), tol)[0]
    return out


def _cross_check_reasons(beats: list[GlobalBeat], fs: float, qrs_info: dict,
                         p_info: dict) -> list[str]:
    """Why the classic cross-check is needed on this record (empty: it is not).

    Measured on the 100 LUDB records against the cardiologists' boundaries (2026-12-05):
    where ECGdeli disagreed with the learned delineator it was itself the one in error on
    PR 23 of 25 times and on QRS 72 of 79 times (the learned value: 0 and 2 times), and its
    disagreement did not mark the learned errors (learned QRS off by > 25 ms in 2 of 79
    disagreeing and 2 of 21 agreeing records; QT 5 of 37 vs 3 of 63). It costs as much CPU
    as the learned delineator. So it is run as a third opinion where the engine's own two
    estimates (learned and lead-combined, :mod:`tools.spatial`) disagree, and where the
    learned delineator is outside the domain it was validated on: wide QRS (bundle branch
    block, ventricular rhythm, pacing) and P waves merged with the preceding T wave."""
    out = []
    if qrs_info.get("agree") is False:
        out.append("the lead-combined QRS disagrees with the learned one")
    if str(qrs_info.get("used", "")).startswith("combined"):
        out.append("the lead-combined QRS boundaries replaced the learned ones")
    if p_info.get("used") == "combined":
        out.append("the lead-combined P onset replaced the learned one")
    share = M.p_on_preceding_t(beats, fs)
    if share is not None and share >= 0.5:
        out.append("the P wave starts on the preceding T wave in at least half the beats")
    width = max(qrs_info.get(k) or 0.0 for k in ("learned_ms", "combined_ms")) or \
        robust_over_beats(interval_ms(beats, fs, "qrs"), 16.0)[0] or 0.0
    if width >= 120.0:
        out.append("QRS >= 120 ms")
    return out


def _apply_cross_check(meas: dict[str, Measurement], f: Features, cross: dict) -> None:
    """The classic cross-check's values beside PR, QRS and QT; where one disagrees beyond its
    tolerance the statements lose confidence (x 0.85) and a note names it."""
    for name, tol in _CROSS_TOL_MS.items():
        if name not in meas:
            continue
        other = cross.get(name)
        mine = meas[name].value
        agree = None if other is None or mine is None else abs(other - mine) <= tol
        cc = {"method": "ECGdeli per-lead delineation, same reconciliation",
              "value": None if other is None else round(float(other), 1),
              "tolerance_ms": tol, "agrees": agree}
        if "not_run" in cross:
            cc["not_run"] = cross["not_run"]
        elif cross.get("run_because"):
            cc["run_because"] = cross["run_because"]
        meas[name].details["cross_check"] = cc
    # the classic QRS width is the third estimate the wide-complex rule may need
    # (tools.arrhythmia.ventricular_statements)
    f.m["qrs_classic_ms"] = cross.get("qrs_ms")
    if cross.get("error"):
        f.notes.append(f"classic cross-check (ECGdeli) did not run: {cross['error']}")
    bad = [n for n in _CROSS_TOL_MS if n in meas
           and meas[n].details["cross_check"]["agrees"] is False]
    if bad:
        f.quality_factor *= 0.85
        f.notes.append("learned and classic delineators disagree on " + ", ".join(bad))


def _measure(record: Record, sig: np.ndarray, fs: float, usable: list[str],
             beats: list[GlobalBeat], dels: dict[str, LeadDelineation],
             quality: RecordQuality, qrs_info: dict | None = None,
             partial: dict | None = None, p_alike: float | None = None,
             p_set_aside: bool = False, recorded: np.ndarray | None = None
             ) -> tuple[dict[str, Measurement], Features]:
    """Measurements and statement features. ``partial`` (a page printed lead by lead):
    ``sig`` is NaN outside each lead's printed window and the atrial analysis uses
    ``partial['sig']`` over ``partial['leads']`` (the full-length leads). ``p_alike``: the
    P-wave consistency measured before the beats' P waves may have been set aside as not
    alike (``p_set_aside``; :func:`tools.atrial.set_aside_unlike_p`). ``recorded``: the
    signal as recorded where pacemaker stimuli were blanked from ``sig``."""
    meas: dict[str, Measurement] = {}

    def add(ms):
        for m in ms:
            meas[m.name] = m

    if partial:
        sig_r, leads_r = partial["sig"], partial["leads"]
        atrial = atrial_activity(sig_r, fs, leads_r, beats, {k: dels[k] for k in leads_r})
    else:
        sig_r = sig
        atrial = atrial_activity(sig, fs, usable, beats, dels, pacing_sig=recorded)
    rhythm = M.rhythm_measurements(beats, fs, usable)
    add(rhythm)
    rr = meas["rr_ms"].value
    nrmssd = (meas["rmssd_ms"].value / rr) if rr and meas["rmssd_ms"].value is not None else None
    irregular = (meas["rr_cv"].value or 0) > 0.08 and (nrmssd or 0) > 0.08 \
        and (meas["rr_nmasd"].value or 0) > 0.10 \
        and max(atrial["p_ratio"], p_clear_organised(atrial["p_ratio_clear"],
                                                     atrial["pr_sd_ms"])) < 0.5
    M.mark_ectopy(beats, fs, irregular, sig.shape[0], bigeminal=_bigeminal(beats, fs),
                  combined_ms=(qrs_info or {}).get("beat_widths"), signal=sig)
    # the dominant rhythm's P waves: premature beats hide theirs in the preceding T wave,
    # and with frequent ones the share over all beats fell below half in sinus rhythm
    dom_c = M.dominant(beats)
    meas["p_wave_ratio_dominant"] = M._m(
        "p_wave_ratio_dominant", sum(b.p_on is not None for b in dom_c) / len(dom_c)
        if dom_c else None, "ratio",
        "share of the dominant beats (neither premature nor ventricular) with a P wave",
        beats=[b.index for b in dom_c])
    add(M.interval_measurements(beats, fs, rr))
    add(atrial["measurements"])
    if qrs_info:
        meas["qrs_ms"].details["lead_combined"] = {
            k: (round(v, 1) if isinstance(v, float) else v) for k, v in qrs_info.items()
            if k not in ("not_qrs", "beat_widths")}
        if qrs_info.get("used", "").startswith("combined"):
            meas["qrs_ms"] = meas["qrs_ms"].model_copy(update={
                "method": meas["qrs_ms"].method + "; boundaries from the lead-combined "
                          "spatial-velocity estimate (learned delineator disagreed)"})

    amp = M.lead_amplitudes(sig, usable, usable, beats, fs)
    add(_amplitude_measurements(amp, beats, usable, fs))
    terminal = _terminal_areas(sig, usable, beats, fs)
    for lead, v in terminal.items():
        meas[f"terminal_qrs.{lead}"] = Measurement(
            id=f"m:terminal_qrs.{lead}", name=f"terminal_qrs.{lead}", value=round(v, 2),
            unit="mV*ms", method="net area of the last 40 ms of the global QRS, PR-level baseline",
            leads=[lead], beats=[b.index for b in M.dominant(beats)])
    limb_ok = [lead for lead in usable if lead in LIMB_LEADS]
    normalised = spans_normalised(record.signal)
    gains = _limb_gain_correction(sig, usable, normalised, fs)
    axis_src = {lead: amp[lead]["qrs_area_mvms"] for lead in limb_ok if lead in amp}
    p_areas = M.wave_area(sig, usable, usable, beats, fs, "P")
    meas["p_area_ii_mvms"] = M._m(
        "p_area_ii_mvms", p_areas.get("II"), "mV*ms",
        "net P-wave area in II, median over dominant beats, PR-level baseline",
        leads=["II"], beats=[b.index for b in M.dominant(beats)],
        reason=None if "II" in p_areas else "no P wave in II, or II unusable")
    for wave, vals in (("p", p_areas),
                       ("qrs", axis_src),
                       ("t", M.wave_area(sig, usable, usable, beats, fs, "T"))):
        if gains:
            vals = {lead: v * gains[lead] for lead, v in vals.items()}
        ax = M.frontal_axis(vals) if (gains or not normalised) else None
        meas[f"{wave}_axis_deg"] = M._m(
            f"{wave}_axis_deg", ax, "deg",
            f"least-squares frontal vector from net {wave.upper()} area over {len(vals)} limb "
            "leads (hexaxial angles, aV leads scaled sqrt(3)/2)"
            + ("; limb-lead gains restored by Einthoven/Goldberger least squares" if gains else ""),
            leads=sorted(vals),
            beats=[b.index for b in M.dominant(beats)],
            reason=None if ax is not None else (
                "limb-lead amplitudes are normalised and their gains could not be restored"
                if normalised and not gains else "fewer than 3 usable limb leads with this wave"))

    # a second, independent axis estimate: the net QRS amplitude (R + Q + S, Q and S
    # negative) per limb lead, the bedside method (net deflection in I and aVF). Where the
    # two straddle a category boundary the axis is borderline and no deviation is stated
    # (tools.statements); in a bundle branch block the wide terminal forces pull the area
    # axis and not the peaks (Surawicz & Knilans, Chou's Electrocardiography, 6th ed., 2008)
    net = {lead: amp[lead]["r_mv"] + amp[lead]["q_mv"] + amp[lead]["s_mv"]
           for lead in limb_ok if lead in amp}
    if gains:
        net = {lead: v * gains[lead] for lead, v in net.items()}
    ax_net = M.frontal_axis(net) if (gains or not normalised) else None
    meas["qrs_axis_amplitude_deg"] = M._m(
        "qrs_axis_amplitude_deg", ax_net, "deg",
        f"least-squares frontal vector from the net QRS amplitude (R + Q + S) over {len(net)} "
        "limb leads (hexaxial angles, aV leads scaled sqrt(3)/2): a cross-check of the "
        "area axis", leads=sorted(net), beats=[b.index for b in M.dominant(beats)],
        reason=None if ax_net is not None else (
            "limb-lead amplitudes are normalised and their gains could not be restored"
            if normalised and not gains else "fewer than 3 usable limb leads"))

    from tools.atrial import (atrial_events, av_relationship, confirmed, merge_events,
                              regular_train, seed_template_events, template_events)
    from tools.wide import wct_discriminators

    found = merge_events(atrial_events(dels, beats, fs),
                         list((qrs_info or {}).get("not_qrs", [])), fs=fs)
    # the P template: the beats' own P waves or, where they hold too few alike ones, the
    # delineator's atrial events; its shape-aligned positions come first (they scatter
    # less than the delineator's onsets) and delineator events it cannot vouch for are
    # left out. A template that finds fewer P waves than half the beats carry (a noisy
    # record, or 'P waves' the delineator invented) vouches for nothing.
    if p_alike is None:
        p_alike = consistency(sig_r, fs, beats)
    n_p = sum(b.p_on is not None for b in beats)
    match = None
    for make in (lambda: template_events(sig_r, fs, beats, p_alike),
                 lambda: seed_template_events(sig_r, fs, beats, found)):
        match = make()
        if match is not None and len(match.events) >= 0.5 * n_p:
            break
        match = None
    events = found if match is None else merge_events(
        match.events, confirmed(found, match, beats, fs), fs=fs)
    av = av_relationship(events, beats, fs)
    av_notes: list[str] = []
    train = regular_train(events, fs) if av["pattern"] != "third" else None
    if train is not None and len(train) < len(events):
        # the events off a regular atrial train (e.g. the delineator's 'P waves' in the
        # noise before each QRS) hid a complete block: adopted when the train alone is
        # dissociated from the QRS at a faster regular rate (the third-degree rule), or
        # shows blocked P waves where all events together showed no block. An extra
        # 'P wave' at an ordinary PR before the Wenckebach beat (the real one was on the
        # T wave) made the next, blocked P look premature (a blocked PAC), and Mobitz I
        # with muscle noise read as sinus arrhythmia (benchmarks.av_block_bench --noise)
        # (>= 2 blocked P waves on it: one stray wave at half the cycle of a sinus
        # bradycardia made a train at twice its rate with one 'blocked P', and read as Mobitz
        # II, benchmarks.long_pr_bench, LUDB 127 at 40 /min)
        av_train = av_relationship([events[i] for i in train], beats, fs)
        second = av_train["pattern"] in ("second", "2:1") and av["pattern"] is None \
            and len(av_train["blocked"]) >= 2
        if av_train["pattern"] == "third" or second:
            av_notes.append(
                f"{len(events) - len(train)} of {len(events)} atrial events lie off the "
                f"regular atrial train ({av_train['atrial_rate_bpm']:.0f} /min) that the "
                "others form"
                + (", with P waves on it not followed by a QRS" if second else
                   ", independent of the QRS complexes")
                + ": the AV relationship is read from that train")
            av = av_train
    wide_no_p = (meas["qrs_ms"].value or 0) >= 120 and atrial["p_ratio"] < 0.3
    meas["unlocked_p_waves"] = _unlocked_measurement(sig_r, fs, beats, av, atrial["paced"],
                                                     meas["hr_bpm"].value, meas["rr_cv"].value,
                                                     wide_no_p)
    add(_av_measurements(av, beats))

    meas["p_wave_consistency"] = M._m(
        "p_wave_consistency", p_alike, "ratio",
        "median correlation (all usable leads, mean and trend removed) of each beat's P wave "
        "with the median P wave of the other beats: a conducted P wave repeats its shape",
        beats=[b.index for b in beats if b.p_on is not None],
        reason=None if p_alike is not None else "fewer than 3 beats with a P wave")
    run, run_rate, run_beats = _ventricular_run(beats, fs)
    meas["ventricular_run_beats"] = M._m(
        "ventricular_run_beats", run, "count",
        "longest run of consecutive beats typed ventricular (by the learned delineator, by a "
        "QRS >= 40 ms wider than the dominant one without a P wave, or, for >= 3 premature "
        "beats in a row, by their lead-combined width and a shape unlike the dominant "
        "complex: tools.measure.mark_ectopy)", beats=run_beats,
        details={"rate_per_min": None if run_rate is None else round(run_rate, 1)})
    from tools.chambers import p_wave_features
    from tools.conduction import shapes as qrs_shapes

    pf = p_wave_features(sig, usable, beats, fs)
    dom_idx = [b.index for b in M.dominant(beats)]
    meas["ptf_v1_mm_s"] = M._m(
        "ptf_v1_mm_s", pf["ptf_v1_mm_s"], "mm*s",
        "P-terminal force in V1: depth (mm at 10 mm/mV) x duration (s) of the terminal negative "
        "P phase of the median P wave (Morris et al. 1964)", leads=["V1"], beats=dom_idx,
        reason=None if pf["ptf_v1_mm_s"] is not None else "no P wave in V1, or V1 unusable")
    from tools.chambers import p_duration_lead

    meas["p_ii_ms"] = M._m(
        "p_ii_ms", p_duration_lead(dels, "II", beats, fs), "ms",
        "P-wave duration in II: the learned delineator's P wave of lead II before each dominant "
        "beat, median", leads=["II"], beats=dom_idx,
        reason=None if "II" in dels else "II unusable")
    meas["p_ii_mv"] = M._m(
        "p_ii_mv", pf["p_ii_mv"], "mV", "largest positive P deflection in II, median P wave, "
        "above the level at the P onset", leads=["II"], beats=dom_idx,
        reason=None if pf["p_ii_mv"] is not None else "no P wave in II, or II unusable")

    qt, qrs_d, rr = meas["qt_ms"].value, meas["qrs_ms"].value, meas["rr_ms"].value
    adj = None
    if qt and qrs_d and rr and qrs_d >= 120:
        adj = (qt - 0.485 * qrs_d) / (rr / 1000.0) ** (1 / 3)
    meas["qtc_qrs_adjusted_ms"] = M._m(
        "qtc_qrs_adjusted_ms", None if adj is None else round(adj, 1), "ms",
        "QRS-adjusted QTc for a wide QRS: (QT - 0.485 x QRS) / RR^(1/3) (Bogossian et al., "
        "Heart Rhythm 11:2273, 2014, then Fridericia)", leads=meas["qt_ms"].leads,
        beats=meas["qt_ms"].beats,
        reason=None if adj is not None else "QRS < 120 ms or QT/RR not measured")

    shp = qrs_shapes(sig, usable, beats, fs)
    for lead, sh in shp.items():
        # Q depth and R height are in the file's own scale when its amplitudes are
        # normalised per lead (their ratio still holds), else in mV
        q_amps = {"q_depth": round(sh["q_depth"], 3), "r_height": round(sh["r_height"], 3),
                  "amplitude_unit": "normalised" if normalised else "mV"}
        meas[f"qrs_shape.{lead}"] = M._m(
            f"qrs_shape.{lead}", sh["r_peak_time_ms"], "ms",
            "median dominant beat: QRS onset to the peak of the last R wave (R-peak time); "
            "details: wave sequence inside the QRS (+ R, - Q/S; waves >= 10 % of the lead's QRS "
            "range), largest R and terminal S durations, initial q",
            leads=[lead], beats=dom_idx,
            reason=None if sh["r_peak_time_ms"] is not None else "no R wave in this lead",
            details={"waves": sh["lobes"], "r_ms": round(sh["r_ms"], 1),
                     "s_ms": round(sh["s_ms"], 1), "initial_q": sh["q"],
                     "q_ms": round(sh["q_ms"], 1)} | q_amps)
        if sh["q_ms"] > 0:
            # the initial Q (or QS) duration as a value of its own, so that a sentence
            # quoting it can be checked against the evidence (tools.morphology Q waves)
            meas[f"q_wave.{lead}"] = M._m(
                f"q_wave.{lead}", sh["q_ms"], "ms",
                "median dominant beat: duration of the initial negative wave (Q, or the whole "
                "QS), from 10 % of its depth to its return through zero; details: its depth "
                "and the largest R wave (mV, or the file's scale when normalised)",
                leads=[lead], beats=dom_idx,
                details={"qs": sh["lobes"] == "-"} | q_amps)
    from tools.conduction import end_qrs_notch, median_qrs_end, qrs_ms_without

    ends, end_idx = median_qrs_end(sig, usable, beats, fs)
    j_waves = {}
    for lead, x in ends.items():
        jw = None if normalised else end_qrs_notch(x, end_idx, fs)
        if jw:
            j_waves[lead] = jw
        meas[f"j_wave.{lead}"] = M._m(
            f"j_wave.{lead}", None if jw is None else round(jw["jp_mv"], 3), "mV",
            "median dominant beat: end-QRS notch (J wave) on the downslope of the R wave, "
            "amplitude of the J-wave peak above the PR level (Jp; Macfarlane et al. 2015; the "
            "slurred form is not detected)", leads=[lead], beats=dom_idx,
            reason=(None if jw else "amplitudes normalised per lead (needs millivolts)"
                    if normalised else "no end-QRS notch"),
            details={} if jw is None else {"kind": jw["kind"], "at_ms": round(jw["at_ms"], 1)})
    if j_waves:
        meas["qrs_without_j_ms"] = M._m(
            "qrs_without_j_ms", qrs_ms_without(dels, beats, fs, set(j_waves)), "ms",
            "QRS duration over the leads without an end-QRS notch (learned delineator, global "
            "onset to the trimmed latest offset, median over dominant beats): the QRS of the "
            "early repolarization criterion (Macfarlane et al. 2015)",
            leads=[x for x in usable if x not in j_waves],
            beats=dom_idx)
    wct = {}
    if (meas["hr_bpm"].value or 0) > 100:
        wct = wct_discriminators(sig, usable, beats, fs, meas["qrs_axis_deg"].value)
        add(_wct_measurements(wct, beats))
    m = {k: v.value for k, v in meas.items()}
    m["nrmssd"] = nrmssd
    m["qrs_combined_ms"] = (qrs_info or {}).get("combined_ms")
    # the learned width before the lead-combined boundaries replaced it, and how far noise
    # set their threshold: the width doubt of tools.arrhythmia._noise_narrowed
    m["qrs_learned_ms"] = (qrs_info or {}).get("learned_ms")
    m["qrs_narrowed"] = (qrs_info or {}).get("used", "").startswith("combined") and \
        (m["qrs_combined_ms"] or 0) < (m["qrs_learned_ms"] or 0)
    m["qrs_noise_bound"] = (qrs_info or {}).get("noise_bound")
    m["nmasd"] = meas["rr_nmasd"].value
    q_factor = _quality_factor(quality, usable)
    if qrs_info and qrs_info.get("agree") is False:
        q_factor *= 0.9  # two QRS estimates disagree: every statement resting on it is less sure
    rev = quality.limb_lead_reversal
    f = Features(
        m=m, amp=amp, terminal=terminal, usable=usable, sex=record.sex, age=record.age,
        p_ratio=atrial["p_ratio"], p_ratio_dominant=meas["p_wave_ratio_dominant"].value,
        p_ratio_clear=atrial["p_ratio_clear"],
        pr_sd_ms=atrial["pr_sd_ms"], afib_rule=atrial["afib_rule"],
        p_set_aside=p_set_aside,
        paced=atrial["paced"], paced_ventricular=atrial["paced_ventricular"],
        paced_av_sequential=atrial["paced_av_sequential"],
        flutter_atrial_rate=atrial["flutter_rate"],
        flutter_harmonic_rate=atrial["flutter_harmonic"],
        bigeminal=_fixed_bigeminy(beats, fs), grouped=_grouped_beating(beats),
        n_ventricular=sum(b.kind == "ventricular" for b in beats),
        n_supraventricular=sum(b.kind == "supraventricular" for b in beats),
        quality_factor=q_factor, amplitude_normalised=normalised,
        reversal=(rev.suspected, rev.kind, rev.evidence, rev.confidence),
        n_beats=len(beats), v_run=(run, run_rate), wct=wct, av=av, shapes=shp, j_waves=j_waves,
        interval_margin_ms=PARTIAL_PAGE_MARGIN_MS if partial else 0.0,
        p_on_t_share=(meas["pr_ms"].details or {}).get("p_on_preceding_t_share"))
    f.notes.extend(av_notes)
    if partial:
        f.notes.append("a page printed lead by lead (each lead for part of the record): "
                       "beats and rhythm from the full-length strip(s) "
                       f"({', '.join(partial['leads'])}), morphology from each lead where "
                       f"printed; QRS and QT carry about +-{PARTIAL_PAGE_MARGIN_MS:.0f} ms, so "
                       "duration criteria near their limits are not stated")
    meas["n_ventricular_beats"] = M._m("n_ventricular_beats", f.n_ventricular, "count",
                                       "beats typed ventricular (see statement criterion)",
                                       beats=[b.index for b in beats if b.kind == "ventricular"])
    meas["n_supraventricular_beats"] = M._m(
        "n_supraventricular_beats", f.n_supraventricular, "count", "premature narrow beats",
        beats=[b.index for b in beats if b.kind == "supraventricular"])
    if normalised:
        f.notes.append("every lead has the same peak-to-peak span: amplitudes look normalised "
                       "per lead, so voltage and ST/T amplitude criteria are not assessed")
    excluded = [lead for lead in record.sig_name if lead not in usable]
    if excluded:
        f.notes.append("excluded from measurement (quality): " + ", ".join(excluded))
    if qrs_info and qrs_info.get("reason"):
        f.notes.append("QRS duration: " + qrs_info["reason"])
    return meas, f


def _ventricular_run(beats: list[GlobalBeat], fs: float) -> tuple[int, float | None, list[int]]:
    """Longest run of consecutive ventricular beats, its rate (/min, from the RR intervals
    inside the run) and its beat indices."""
    best: list[GlobalBeat] = []
    cur: list[GlobalBeat] = []
    for b in beats:
        cur = cur + [b] if b.kind == "ventricular" else []
        if len(cur) > len(best):
            best = cur
    if len(best) < 2:
        return len(best), None, [b.index for b in best]
    rr = np.diff([b.r_time for b in best]) / fs
    return len(best), float(60.0 / rr.mean()), [b.index for b in best]


def _av_measurements(av: dict, beats: list[GlobalBeat]) -> list[Measurement]:
    rate = av.get("atrial_rate_bpm")
    return [
        M._m("atrial_rate_p_bpm", rate, "/min",
             "60000 / median P-P interval of atrial events (P waves of >= 1/3 of the usable "
             "leads clustered in time, conducted or not; where only QRST cancellation found "
             "them, of its P waves: details.dissociation_by, m:unlocked_p_waves)",
             reason=None if rate is not None else "fewer than 3 atrial events",
             details={"n_p_waves": av.get("n_p"), "pp_cv": av.get("pp_cv"),
                      "conduction_ratio": av.get("conduction_ratio"),
                      "av_dissociation": av.get("dissociation"), "pattern": av.get("pattern"),
                      "dissociation_by": av.get("dissociation_by", "atrial events")}),
        M._m("blocked_p_waves", float(len(av.get("blocked", []))), "count",
             "P waves on time (>= 85 % of the median P-P) with no QRS 80-450 ms after their "
             "onset", details={"premature_blocked": av.get("blocked_premature", 0)}),
    ]


def _unlocked_measurement(sig: np.ndarray, fs: float, beats: list[GlobalBeat], av: dict,
                          paced: bool, v_rate: float | None, rr_cv: float | None,
                          wide_no_p: bool = False) -> Measurement:
    """P waves left by cancelling the median beat, in a regular tachycardia or a regular
    paced rhythm whose atrial events showed no AV dissociation: there the P waves of a VT
    fall on its QRS-T, and the sinus P waves that a ventricular pacemaker does not track
    fall on the paced QRS-T, where neither the delineator nor the P template looks
    (``tools.atrial.unlocked_dissociation``). A dissociation found this way is added to
    ``av`` (in place): Brugada's step 3 in a VT; in a paced rhythm with the atrial rate
    faster than the paced one, the pattern of complete AV block (pattern "third"). Below
    60 /min (not paced) only that pattern is taken from it, with the atrial rate above
    ``THIRD_RATE_RATIO`` x the ventricular one. At 60-100 /min it is looked for only in a
    wide-QRS rhythm without P waves before the QRS (``wide_no_p``: QRS >= 120 ms, P before
    < 30 % of beats; the ``s:wide_rhythm`` case): there dissociated P waves point to a
    ventricular focus (an accelerated idioventricular rhythm) or, with the atrial rate
    above that ratio, to complete block with a fast escape."""
    from tools.atrial import (THIRD_RATE_RATIO, UNLOCKED_MIN_BEATS, UNLOCKED_MIN_BEATS_SLOW,
                              unlocked_dissociation)

    method = ("P waves left by subtracting each lead's median beat (QRST cancellation, "
              "Slocum 1992) in a regular rhythm > 100 or < 60 /min, a paced one or a wide one "
              "without P waves: >= 6 "
              "regular events, >= 60 % of their atrial cycles, rate differing > 10 % from "
              "the ventricular rate, P-to-QRS delay varying > 120 ms")
    regular = rr_cv is not None and rr_cv < 0.10
    slow = v_rate is not None and v_rate < 60
    wide_no_p = wide_no_p and v_rate is not None and v_rate <= 100
    if av.get("dissociation") or not regular or \
            not ((v_rate or 0) > 100 or paced or slow or wide_no_p):
        return M._m("unlocked_p_waves", None, "count", method, reason=(
            "AV dissociation already shown by the atrial events" if av.get("dissociation")
            else "assessed only in a regular rhythm faster than 100 /min, slower than 60 /min, "
                 "paced, or wide without P waves"))
    # a 10-s record holds 5-6 beats below 40 /min, 4 with a whole cycle inside: the median
    # beat of as few still cancels the QRS-T, the P waves of a complete block falling on
    # it at different places
    found = unlocked_dissociation(sig, fs, beats, UNLOCKED_MIN_BEATS_SLOW if slow else
                                  UNLOCKED_MIN_BEATS)
    # below 60 /min (not paced) only the pattern of complete block is taken from it: a
    # regular escape rhythm with regular P waves faster and unrelated to it (the
    # third-degree rule of tools.atrial.av_relationship), where the delineator found only
    # the 'P waves' it put before each QRS (benchmarks.av_block_bench)
    only_block = slow and not paced
    block = (only_block or (wide_no_p and not paced)) and \
        found["dissociation"] and found["atrial_rate_bpm"] > THIRD_RATE_RATIO * v_rate
    if not (block if only_block else found["dissociation"]):
        return M._m("unlocked_p_waves", float(found["n_events"]), "count", method,
                    details={"av_dissociation": False})
    av["dissociation"] = True
    av["dissociation_by"] = "QRST cancellation"
    if block:
        av["pattern"] = "third"
        av["atrial_rate_bpm"] = found["atrial_rate_bpm"]
    elif paced and found["atrial_rate_bpm"] > 1.1 * v_rate:
        # the definition of complete block (atrial faster than ventricular, both regular, no
        # fixed P-QRS relationship; Kusumoto et al. 2019), the escape rhythm being the
        # pacemaker's, with the dissociation rule's 10 % margin: av_relationship's 20 % put
        # LUDB 111 (P 72-73 /min against 60 paced) on the edge, stated at 500 Hz and not at
        # 257 or 1000 Hz (benchmarks.fs_bench)
        av["pattern"] = "third"
        av["atrial_rate_bpm"] = found["atrial_rate_bpm"]
    return M._m("unlocked_p_waves", float(found["n_events"]), "count", method,
                details={"av_dissociation": True,
                         "atrial_rate_bpm": round(found["atrial_rate_bpm"], 1),
                         "pp_nmad": round(found["pp_nmad"], 3),
                         "peaks_s": [round(p / fs, 3) for p in found["events"]]})


def _wct_measurements(wct: dict, beats: list[GlobalBeat]) -> list[Measurement]:
    idx = [b.index for b in M.dominant(beats)]
    prec = [lead for lead in wct.get("leads", []) if lead != "aVR"]
    out = [M._m("rs_interval_max_ms", wct.get("rs_max_ms"), "ms",
                "longest QRS onset to S nadir over precordial leads with an RS complex "
                "(Brugada et al. 1991)", leads=prec, beats=idx,
                reason=None if wct.get("rs_max_ms") is not None else
                "no RS complex in the precordial leads, or a precordial lead unusable",
                details={"rs_absent_all_precordial": wct.get("rs_absent"),
                         "concordance": wct.get("concordance"),
                         "morphology_vt_v1_v6": wct.get("morphology_vt"),
                         "morphology": wct.get("morphology")}),
           M._m("avr_vi_vt", wct.get("avr_vi_vt"), "ratio",
                "aVR voltage excursion in the first 40 ms / last 40 ms of the QRS "
                "(Vereckei et al. 2008)", leads=["aVR"], beats=idx,
                reason=None if wct.get("avr_vi_vt") is not None else "aVR unusable",
                details={"initial_r": wct.get("avr_initial_r"),
                         "initial_wave_ms": wct.get("avr_initial_wave_ms")}),
           M._m("capture_beats", float(len(wct.get("capture_beats") or [])), "count",
                "capture or fusion beats: premature beats >= 40 ms narrower than the median "
                "QRS of a wide rhythm (Wellens et al. 1978)",
                beats=wct.get("capture_beats") or [])]
    return out


def _limb_gain_correction(sig: np.ndarray, usable: list[str], normalised: bool,
                          fs: float) -> dict[str, float] | None:
    """Relative limb-lead gains when the recorded limb leads violate Einthoven's law in a way
    that per-lead gains explain (residual > 15 % before, or a normalised export; after
    correction < 15 % and less than half of before; both on the leads without baseline
    wander); None otherwise, and None when the limb leads were not recorded together (a
    digitised 3x4 page prints them at different times)."""
    limb = [j for j, lead in enumerate(usable) if lead in LIMB_LEADS]
    if not np.isfinite(sig[:, limb]).all():
        return None
    sig = without_wander(sig, fs)
    before = einthoven_residual(sig, usable)
    if before is None or (before < 0.15 and not normalised):
        return None
    gains = limb_gains(sig, usable)
    after = einthoven_residual(sig, usable, gains) if gains else None
    return gains if after is not None and after < 0.15 and after < 0.5 * before else None


PACING_MIN_FS = 500.0   # AHA 2007 part I (Kligfield et al.): at least 500 samples/s


def _low_rate_pacing_note(fs: float, f: Features, statements) -> str | None:
    """A 'cannot tell' for a wide-QRS record sampled below ``PACING_MIN_FS``: pacemaker
    spikes last under 2 ms and go with the band above such a record's Nyquist frequency
    (AHA/ACCF/HRS 2007 part I asks 500 samples/s at least). At 250 Hz paced rhythm is lost
    on 2 of the 4 paced LUDB records even with the joint step detector
    (:func:`tools.pacing.coherent_spikes`; on all 4 at 250-257 Hz before it), and their paced
    complexes read as IVCD or premature beats (``benchmarks.fs_bench``): the reader is told
    that pacing is not excluded."""
    if fs >= PACING_MIN_FS or f.paced or any(s.id == "s:paced" for s in statements):
        return None
    qrs = f.m.get("qrs_ms")
    if qrs is None or qrs < 120:
        return None
    return (f"sampled at {fs:g} Hz (< {PACING_MIN_FS:g}): pacemaker spikes may not survive at "
            f"this rate, so a paced rhythm is not excluded for this wide QRS ({qrs:.0f} ms, "
            "m:qrs_ms); check the device history")


def _bigeminal(beats: list[GlobalBeat], fs: float) -> bool:
    """RR intervals alternating short-long (successive differences alternate in sign and
    exceed 10 % of the median RR in >= 80 % of pairs): a regularly irregular pattern, such as
    atrial or ventricular bigeminy, not fibrillation."""
    rr = _rr(beats)
    if rr.size < 5:
        return False
    d = np.diff(rr)
    big = np.abs(d) > 0.10 * np.median(rr)
    alternating = np.sign(d[1:]) != np.sign(d[:-1])
    return bool(big.mean() >= 0.8 and alternating.mean() >= 0.8)


GROUP_PAUSE = 1.3   # grouped beating: the longest RR phase >= this x the shortest


def _grouped_beating(beats: list[GlobalBeat]) -> int:
    """The shortest period (2-4 beats) at which the RR intervals repeat, or 0: each of the
    interleaved RR series of that period regular (:func:`regular_rr`, >= 3 intervals each)
    and one of them a pause >= ``GROUP_PAUSE`` x the shortest. Group beating is a regularly
    irregular rhythm (Wenckebach periodicity: 4:3 block at 80 /min gives RR of about
    PP + 80, PP + 40 and 2 PP - 120 ms, repeated; or premature beats at a fixed pattern),
    not the irregularly irregular one of atrial fibrillation. Rebuilt Mobitz I blocks with
    muscle noise, their P waves lost, read as AF (benchmarks.av_block_bench --noise all).
    Simulated AF (independent RR, CV 0.10-0.30, 50-160 /min, 10 s) meets it by chance in
    <= 0.4 % of strips (the pause margin; without it 34 % at CV 0.10 and 60 /min). Period
    2 is also the bigeminy of :func:`_fixed_bigeminy`."""
    rr = _rr(beats)
    for k in (2, 3, 4):
        if rr.size < 3 * k or not _phases_regular(rr, k):
            continue
        means = [float(np.mean(rr[j::k])) for j in range(k)]
        if max(means) >= GROUP_PAUSE * min(means):
            return k
    return 0


def _rr(beats: list[GlobalBeat]) -> np.ndarray:
    return np.diff(np.array([b.r_time for b in beats], float))


def _phases_regular(rr: np.ndarray, k: int) -> bool:
    """Each of the ``k`` interleaved RR series (every k-th interval) regular
    (:func:`regular_rr`): the RR repeats with period ``k``."""
    return all(regular_rr(rr[j::k]) for j in range(k))


def _fixed_bigeminy(beats: list[GlobalBeat], fs: float) -> bool:
    """A bigeminal pattern (:func:`_bigeminal`) whose short intervals are alike and whose
    long intervals are alike (each interleaved half of the RR series regular, CV < 0.08):
    premature beats at a fixed coupling interval, the regularly irregular rhythm that is not
    fibrillation. Random RR intervals alternate in sign two times in three, so in a 10-s
    AF strip the looser pattern alone is met by chance (simulated: 18 % at 80 /min, 6 % at
    120 /min), and it withheld AF on rebuilt AF records (benchmarks.af_bench)."""
    return _bigeminal(beats, fs) and _phases_regular(_rr(beats), 2)


def _quality_factor(quality: RecordQuality, usable: list[str]) -> float:
    """1.0 with 12 good leads, lower with excluded or merely acceptable leads."""
    grades = [quality.leads[lead].grade for lead in usable if lead in quality.leads]
    acceptable = sum(g == "acceptable" for g in grades)
    return float(max(0.5, 1.0 - 0.03 * (12 - len(usable)) - 0.02 * acceptable))


def _amplitude_measurements(amp: dict, beats: list[GlobalBeat], usable: list[str],
                            fs: float) -> list[Measurement]:
    out = []
    idx = [b.index for b in M.dominant(beats)]
    method = ("median over dominant beats; baseline = PR-segment level; Q/R/S within the global "
              "QRS, ST at the global J point (st_j) and J + 60 ms (st60), T = largest "
              "deflection from J + 80 ms to T end")
    for lead, a in amp.items():
        for k in ("q_mv", "r_mv", "s_mv", "st_j_mv", "st60_mv", "t_mv"):
            out.append(M._m(f"amp.{lead}.{k}", a[k], "mV", method, leads=[lead], beats=idx))

    def get(lead, k):
        return amp[lead][k] if lead in amp else None

    sv1, rv5, rv6 = get("V1", "s_mv"), get("V5", "r_mv"), get("V6", "r_mv")
    if sv1 is not None and (rv5 is not None or rv6 is not None):
        sl = abs(sv1) + max(v for v in (rv5, rv6) if v is not None)
        out.append(M._m("sokolow_lyon_mv", sl, "mV", "S(V1) + max(R(V5), R(V6)) "
                        "(Sokolow & Lyon, Am Heart J 1949)", leads=["V1", "V5", "V6"], beats=idx))
    else:
        out.append(M._m("sokolow_lyon_mv", None, "mV", "S(V1) + max(R(V5), R(V6))",
                        reason="V1 or both V5 and V6 unusable"))
    ravl, sv3 = get("aVL", "r_mv"), get("V3", "s_mv")
    out.append(M._m("cornell_mv", None if ravl is None or sv3 is None else ravl + abs(sv3), "mV",
                    "R(aVL) + S(V3) (Casale et al., Circulation 1987)", leads=["aVL", "V3"],
                    beats=idx, reason=None if ravl is not None and sv3 is not None
                    else "aVL or V3 unusable"))
    for group, leads in (("limb", LIMB_LEADS), ("precordial", STANDARD_LEADS[6:])):
        pp = [amp[lead]["r_mv"] - min(amp[lead]["q_mv"], amp[lead]["s_mv"])
              for lead in leads if lead in amp]
        out.append(M._m(f"qrs_amplitude_max_{group}_mv", max(pp) if pp else None, "mV",
                        "largest QRS peak-to-peak amplitude over the usable leads of the group",
                        leads=[lead for lead in leads if lead in amp], beats=idx,
                        reason=None if pp else f"no usable {group} lead"))
    return out


def _terminal_areas(sig: np.ndarray, usable: list[str], beats: list[GlobalBeat],
                    fs: float) -> dict[str, float]:
    """Net area (mV*ms) of the last 40 ms of the global QRS per lead: the direction of the
    terminal forces that separates RBBB (rightward, anterior) from LBBB."""
    dom = M.dominant(beats)
    if not dom:
        return {}
    x = sig - M.isoelectric(sig, beats, fs)
    w = int(0.040 * fs)
    out = {}
    for j, lead in enumerate(usable):
        areas = [float(x[b.qrs_off - w:b.qrs_off + 1, j].sum() * 1000.0 / fs) for b in dom
                 if b.qrs_off - w >= b.qrs_on]
        areas = [a for a in areas if np.isfinite(a)]  # a page's lead: where it was printed
        if areas:
            out[lead] = float(np.median(areas))
    return out
