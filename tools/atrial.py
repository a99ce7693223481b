"""Atrial events independent of the QRS: every P wave the delineator found, conducted or
not, and the atrioventricular (AV) relationship they show.

The beat reconciliation (:mod:`tools.beats`) only looks for a P wave in the 400 ms before each
QRS, which is right for sinus rhythm and first-degree AV block but cannot see a P wave that
is not followed by a QRS. Here the P waves of all usable leads are clustered in time into
atrial events wherever they fall outside a QRS; the atrial rate, the blocked (non-conducted)
P waves and the P-to-QRS relationship then decide the AV conduction statements:

* second-degree AV block: a P wave, on time (not premature), not followed by a QRS; Mobitz I
  (Wenckebach) when the PR before the dropped beat is longer than after it, Mobitz II when PR
  is constant around it, "2:1" when every other P is blocked (type undecidable);
* third-degree AV block: atrial rate faster than the ventricular rate, both regular, and no
  fixed P-QRS relationship (PR varying beat to beat);
* AV dissociation (no fixed P-QRS relationship at any rate), an argument for VT in a
  wide-complex tachycardia.

Definitions: 2018 ACC/AHA/HRS guideline on bradycardia and cardiac conduction delay
(Kusumoto et al., Circulation 140:e382, 2019), section 4.1 and table of AV block types; AHA/
ACCF/HRS 2009 recommendations part I (Kligfield et al. 2007) for the rhythm vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

P_GAP_MS = 60.0            # P peaks closer than this across leads are one atrial event
CONDUCT_MS = (80.0, 450.0)  # a QRS onset this long after a P onset may be its conducted beat
PREMATURE = 0.85           # a P earlier than 85 % of the median PP is premature (a PAC)
THIRD_RATE_RATIO = 1.2     # complete block: atrial rate above this x the ventricular rate
DISSOCIATION_MIN_EVENTS = 6   # atrial events an AV dissociation is judged on
DISSOCIATION_COVERAGE = 0.6   # ... and the share of the atrial cycles in their span found


def atrial_events(dels: dict, beats, fs: float) -> list[tuple[int, int, int]]:
    """Atrial events as (onset, peak, offset) samples: P waves of >= max(2, n/3) usable leads
    clustered by peak time, leaving out any whose peak lies inside a QRS."""
    n = len(dels)
    need = max(2, int(np.ceil(n / 3))) if n >= 3 else 1
    from tools.beats import group_by_gap

    items = [(w.peak, lead, w) for lead, d in dels.items() for w in d.waves["P"]]
    groups = group_by_gap(items, P_GAP_MS * fs / 1000.0)
    qrs = [(b.qrs_on, b.qrs_off) for b in beats]
    out = []
    for g in groups:
        if len({lead for _, lead, _ in g}) < need:
            continue
        peak = int(np.median([p for p, _, _ in g]))
        if any(on <= peak <= off for on, off in qrs):
            continue
        out.append((int(np.median([w.onset for *_, w in g])), peak,
                    int(np.median([w.offset for *_, w in g]))))
    return out


TEMPLATE_CORR = 0.85        # P-template correlation for an atrial event found by matching
TEMPLATE_GAIN = (0.4, 2.5)  # its amplitude relative to the template
TEMPLATE_CORR_FLOOR = 0.7   # ... lowered to the beats' own P waves' level, never below this
P_CONSISTENCY = 0.35        # beats' P waves less alike than this are not a template
# ... but 'P waves' set aside at or above this are more alike than noise alone: rebuilt
# rhythms without P waves (benchmarks.av_block_bench junctional and complete block, clean and
# noisy) reached it on 3 of 39 CinC-rebuilt records and none of 24 LUDB-rebuilt ones
P_FAINT = 0.2
CONFIRM_CORR = 0.5          # a delineator's P wave in the T-P segment matching the template


def _basis(length: int) -> np.ndarray:
    """Orthonormal mean and linear-trend vectors of one window."""
    t = np.arange(length, dtype=float)
    basis = np.stack([np.ones(length), t - t.mean()])
    return basis / np.linalg.norm(basis, axis=1, keepdims=True)


def _windows(sig: np.ndarray, onsets: list[int], length: int, m: int) -> list[np.ndarray]:
    n = sig.shape[0]
    return [sig[on - m:on - m + length] for on in onsets if on - m >= 0 and on - m + length <= n]


def _correlate(sig: np.ndarray, segs: list[np.ndarray], length: int):
    """Correlation and gain of the median of ``segs`` (leads x length, detrended) at every
    start sample of ``sig`` (each window detrended, all leads together); None for a
    degenerate template."""
    basis = _basis(length)
    tmpl = np.median(np.stack(segs), axis=0).T                     # leads x length
    tmpl = tmpl - (tmpl @ basis.T) @ basis                        # detrended template
    tn = float(np.linalg.norm(tmpl))
    if tn <= 0:
        return None
    # Sliding sums by correlation (O(n log n) memory-light, any record length): the
    # template is orthogonal to the trend basis, so <detrended window, template> is
    # <window, template>, and ||detrended window||^2 = ||window||^2 - sum_b <window, b>^2.
    from scipy.signal import correlate

    x = np.asarray(sig, float)
    n = x.shape[0]
    dot = np.zeros(n - length + 1)
    energy = np.zeros(n - length + 1)
    for j in range(x.shape[1]):
        col = x[:, j]
        dot += correlate(col, tmpl[j], mode="valid")
        energy += correlate(col ** 2, np.ones(length), mode="valid")
        for b in basis:
            energy -= correlate(col, b, mode="valid") ** 2
    wn = np.sqrt(np.clip(energy, 0.0, None))
    corr = np.where(wn > 0, dot / (wn * tn + 1e-12), 0.0)
    return corr, dot / tn ** 2


def _detrended(segs: list[np.ndarray], length: int) -> np.ndarray:
    """Windows (n x length x leads) as n x leads x length, each lead's mean and trend removed."""
    basis = _basis(length)
    w = np.stack([seg.T for seg in segs])
    return w - (w @ basis.T) @ basis


P_BAND_HZ = 15.0   # template matching of P waves is done below this (muscle noise is above)


def p_band(sig: np.ndarray, fs: float) -> np.ndarray:
    """``sig`` (samples x leads) low-passed at ``P_BAND_HZ`` (2nd-order Butterworth, zero
    phase): a P wave's energy lies below it, muscle noise (20-150 Hz) mostly above."""
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(sig, float)
    if x.shape[0] <= 30:
        return x
    return sosfiltfilt(butter(2, min(P_BAND_HZ, 0.45 * fs), "lowpass", fs=fs, output="sos"),
                       x, axis=0)


def consistency(sig: np.ndarray, fs: float, beats) -> float | None:
    """Median correlation (all leads together, detrended) of each beat's P wave with the
    median of the *other* beats' P waves: how alike the beats' P waves are. None with fewer
    than 3.

    Leave-one-out, because a window correlates with a median it is part of: with the usual
    10 beats of a 10-s record, 'P waves' a learned delineator put into the noise before
    every QRS correlated 0.26-0.41 with the median of all of them and -0.05-0.19 with the
    others' median; and that self-match shrinks as beats are added, so a fixed limit on it
    means something else in a fast or long record. The limit ``P_CONSISTENCY`` was chosen on
    rebuilt records of the CinC sources (benchmarks.av_block_bench rhythms without P waves,
    clean and with noise, vs the records' own sinus P waves clean and with muscle noise;
    P waves >= 0.37, no P waves <= 0.31) and checked on LUDB's (P waves >= 0.29, of 18; no P
    waves <= 0.04, of 24). With the median of all beats and a limit of 0.5 the P waves of
    rebuilt Mobitz I blocks with muscle noise (0.40-0.48) were set aside with the noise
    (benchmarks.av_block_bench --noise all)."""
    pw = _p_windows(sig, fs, beats)
    if pw is None:
        return None
    segs, length, _ = pw
    w = _detrended(segs, length).reshape(len(segs), -1)
    c = []
    for i in range(w.shape[0]):
        t = np.median(np.delete(w, i, axis=0), axis=0)
        c.append(float(w[i] @ t) / (float(np.linalg.norm(w[i]) * np.linalg.norm(t)) + 1e-12))
    return float(np.median(c))


def _beat_p_spans(beats) -> list[tuple[int, int]]:
    return [(b.p_on, b.p_off) for b in beats if b.p_on is not None and b.p_off is not None
            and b.kind != "ventricular" and b.p_off > b.p_on]


def _p_windows(sig: np.ndarray, fs: float, beats, min_p: int = 3):
    """The beats' P waves as windows of the median P length with 20-ms margins, with that
    length and margin; None with fewer than ``min_p`` complete windows."""
    spans = _beat_p_spans(beats)
    if len(spans) < min_p:
        return None
    m = int(0.020 * fs)
    length = int(np.median([off - on for on, off in spans])) + 2 * m
    segs = _windows(sig, [on for on, _ in spans], length, m)
    return (segs, length, m) if len(segs) >= min_p else None


def _template_match(sig: np.ndarray, fs: float, beats, min_p: int = 3):
    """Correlation and gain of the record's median conducted P wave at every start sample
    (windows and template detrended, all leads together), with the window length and the
    20-ms margin; None without ``min_p`` conducted P waves."""
    pw = _p_windows(sig, fs, beats, min_p)
    if pw is None:
        return None
    segs, length, m = pw
    if length < 8 or length >= sig.shape[0]:
        return None
    cg = _correlate(sig, segs, length)
    return None if cg is None else (*cg, length, m)


def _seed_clusters(sig: np.ndarray, fs: float, seeds, max_clusters: int = 3):
    """Candidate P templates from atrial events: groups of >= 2 events whose windows
    correlate >= ``TEMPLATE_CORR`` with the group's first member at the best shift within
    +-20 ms (a delineator's P onsets scatter by about that much), the largest groups
    first, as (onsets aligned on the first member, length, margin). Some of the delineator's
    events are not P waves (a learned delineator puts a 'P' before many a QRS), so the
    events are grouped by shape and each group is tried as a template."""
    spans = [(on, off) for on, _, off in seeds if off > on]
    if len(spans) < 2:
        return []
    m = int(0.020 * fs)
    length = int(np.median([off - on for on, off in spans])) + 2 * m
    n = sig.shape[0]
    onsets = [on for on, _ in spans if on - 2 * m >= 0 and on + length <= n]
    if len(onsets) < 2 or length < 8 or length >= n:
        return []
    lags = range(-m, m + 1)
    # every window at every shift, detrended and unit-norm: k x shifts x (leads*length)
    w = np.stack([_detrended(_windows(sig, [on + d for d in lags], length, m), length)
                  .reshape(len(lags), -1) for on in onsets])
    w /= np.linalg.norm(w, axis=2, keepdims=True) + 1e-12
    zero = m                                              # index of the unshifted window
    best = np.einsum("il,jsl->ijs", w[:, zero], w)        # i unshifted vs j at every shift
    corr, shift = best.max(axis=2), best.argmax(axis=2) - m
    groups = sorted({tuple(np.flatnonzero(corr[i] >= TEMPLATE_CORR)) + (i,)
                     for i in range(len(onsets))}, key=lambda g: (-len(set(g)), g))
    out, seen = [], set()
    for g in groups:
        i, members = g[-1], sorted(set(g))
        if len(members) < 2 or frozenset(members) in seen:
            continue
        seen.add(frozenset(members))
        out.append(([onsets[j] + int(shift[i, j]) for j in members], length, m))
    return out[:max_clusters]


@dataclass
class PMatch:
    """A P template's matches: the events found and the correlation at every window start
    (window ``length`` samples, starting ``m`` samples before a P onset)."""

    events: list[tuple[int, int, int]]
    corr: np.ndarray
    length: int
    m: int


def _accepted(corr: np.ndarray, gain: np.ndarray,
              level: float = TEMPLATE_CORR) -> np.ndarray:
    """Window starts whose template match is a detection: correlation >= ``level``
    (``TEMPLATE_CORR`` unless :func:`own_level` lowered it) at 0.4-2.5 x the template's
    amplitude."""
    return (corr >= level) & (gain >= TEMPLATE_GAIN[0]) & (gain <= TEMPLATE_GAIN[1])


def own_level(corr: np.ndarray, fs: float, beats, m: int) -> float:
    """The correlation a P wave reaches against its template in this record: the lower
    quartile of the beats' own P waves' best correlation (within 10 ms of each window
    start), capped at ``TEMPLATE_CORR`` and floored at ``TEMPLATE_CORR_FLOOR``.

    Noise bounds the correlation of every P wave with the median template: with muscle
    noise the rebuilt Mobitz I records' conducted P waves, copies of one P wave, all
    correlated 0.81, so no blocked P wave reached 0.85 and the block read as sinus
    arrhythmia (benchmarks.av_block_bench --noise all). A wave is accepted as a P wave when
    it matches as well as the beats' own P waves do; the template is only used when
    those are alike (:func:`consistency`), the matches are searched in the T-P segments
    only, and the floor keeps a weak template from matching whatever lies there."""
    h = max(1, int(round(0.010 * fs)))
    own = [float(corr[max(0, on - m - h):on - m + h + 1].max())
           for on, _ in _beat_p_spans(beats) if 0 <= on - m < corr.size]
    if len(own) < 3:
        return TEMPLATE_CORR
    return float(np.clip(np.percentile(own, 25), TEMPLATE_CORR_FLOOR, TEMPLATE_CORR))


def _best_start(corr: np.ndarray, ok: np.ndarray, lo: int, hi: int) -> int | None:
    """The accepted window start in ``lo..hi`` (clipped to the record) with the highest
    correlation, or None."""
    lo, hi = max(lo, 0), min(hi, corr.size - 1)
    if hi < lo:
        return None
    cand = np.flatnonzero(ok[lo:hi + 1])
    return lo + int(cand[np.argmax(corr[lo:hi + 1][cand])]) if cand.size else None


def _events_from(corr, gain, length: int, m: int, beats, fs: float,
                 level: float = TEMPLATE_CORR) -> list[tuple[int, int, int]]:
    ok = _accepted(corr, gain, level)
    centre = np.arange(corr.size) + length // 2
    # only in the T-P segment: inside the QRS-T the T wave itself can match a P template
    # (on normal CinC records T waves did, and every RR then held a 'blocked P'); a
    # blocked P hidden in a T wave is left to the delineator
    ok &= ~_in_qrs_t(centre, beats, fs, m)
    cand = sorted(np.flatnonzero(ok), key=lambda i: -corr[i])
    taken: list[int] = []
    sep = int(0.250 * fs)
    for i in cand:
        if all(abs(i - j) >= sep for j in taken):
            taken.append(int(i))
    p_len = length - 2 * m
    return sorted((i + m, i + m + p_len // 2, i + m + p_len) for i in taken)


def template_events(sig: np.ndarray, fs: float, beats,
                    alike: float | None = None) -> PMatch | None:
    """Atrial events found by matching the record's own conducted P wave.

    The template is the median multi-lead P wave (20 ms margins) of the beats with a P; it
    is slid over the record and an event is a local maximum of the correlation (each
    window and the template with their mean and linear trend removed, all usable leads
    together) >= ``TEMPLATE_CORR`` (or the beats' own level under noise, :func:`own_level`)
    with an amplitude 0.4-2.5 x the template's, in the T-P
    segments (outside QRS onset - 20 ms .. T end + 20 ms), at least 250 ms from the next
    stronger match. Template matching finds the P waves the delineator skips when no QRS
    follows them (a learned delineator sees the P-QRS pair as a unit), which is the
    signature of AV block (P-wave detection by template matching: Sornmo & Laguna 2005,
    ch. 7). The matching is done in the P wave's band (:func:`p_band`): under muscle noise
    the blocked P waves of rebuilt second-degree blocks correlated < 0.85 with the template
    in the raw signal and the blocks read as sinus (benchmarks.av_block_bench --noise all:
    Mobitz II found 0.09 -> 0.94, 2:1 0.04 -> 0.90). None when fewer than 3 beats have a P
    wave or their P waves are not alike (:func:`consistency` < ``P_CONSISTENCY``, judged on
    the raw signal: in the P band the 'P waves' invented before a junctional rhythm's QRS
    passed it; ``alike`` when the caller has it): then :func:`seed_template_events`."""
    if alike is None:
        alike = consistency(sig, fs, beats)
    if (alike or 0.0) < P_CONSISTENCY:
        return None
    tm = _template_match(p_band(sig, fs), fs, beats)
    if tm is None:
        return None
    corr, gain, length, m = tm
    level = own_level(corr, fs, beats, m)
    return PMatch(_events_from(corr, gain, length, m, beats, fs, level), corr, length, m)


def seed_template_events(sig: np.ndarray, fs: float, beats, seeds) -> PMatch | None:
    """Atrial events found by matching a P template built from the delineator's atrial
    events (``seeds``, :func:`atrial_events`) where the beats give none
    (:func:`template_events` is None): the groups of alike seeds (:func:`_seed_clusters`)
    are each tried as the template and the one that finds the most events is kept. In
    complete heart block few P waves sit where a conducted one would, and the 'P waves' a
    learned delineator then puts before each QRS are noise: rebuilt complete heart blocks
    were read as a bradycardia of unknown rhythm or as sinus bradycardia
    (benchmarks.av_block_bench). None when no group of seeds finds 3 events."""
    best = None
    for onsets, length, m in _seed_clusters(sig, fs, seeds):
        cg = _correlate(sig, _windows(sig, onsets, length, m), length)
        if cg is None:
            continue
        found = _events_from(*cg, length, m, beats, fs)
        if best is None or len(found) > len(best.events):
            best = PMatch(found, cg[0], length, m)
    return best if best is not None and len(best.events) >= 3 else None


def set_aside_unlike_p(sig: np.ndarray, fs: float, beats,
                       fast: bool) -> tuple[float | None, bool]:
    """(consistency of the beats' P waves, whether they were set aside): 'P waves' that are
    not alike (:func:`consistency` < ``P_CONSISTENCY``) are removed from ``beats`` (in place)
    at a rate <= 100 /min (``fast`` False) or with a median QRS >= 120 ms.

    Sinus (and any atrial) rhythm has P waves of one shape; a learned delineator puts a
    'P wave' into whatever precedes a QRS, and such 'P waves' are not alike
    (benchmarks.av_block_bench: a rhythm without any P wave was read as sinus bradycardia
    in 48 % of rebuilt records, a complete heart block in 62 %, a VT with dissociated P
    waves as sinus tachycardia). In a narrow-complex tachycardia a P wave on the preceding
    T wave is not alike from beat to beat either (the T under it differs): there they are
    kept (setting them aside made sinus tachycardias with the P moved onto the T 'AF'
    twice as often, benchmarks.long_pr_bench); in a wide one VT is the alternative."""
    alike = consistency(sig, fs, beats)
    if alike is None or alike >= P_CONSISTENCY or not beats:
        return alike, False
    wide = float(np.median([b.qrs_off - b.qrs_on for b in beats])) * 1000.0 / fs >= 120.0
    if fast and not wide:
        return alike, False
    for b in beats:
        b.p_on = b.p_off = None
        b.p_leads = []
    return alike, True


PR_SEARCH_MS = 40.0         # a beat's P is looked for within this of the record's median PR


def fill_p_waves(sig: np.ndarray, fs: float, beats, alike: float | None) -> list[int]:
    """Give a P wave to beats whose P the delineator missed or misplaced, by the record's own
    P template; in place on ``beats``; returns the indices of the beats changed.

    Where the beats' P waves are alike (``alike``, their :func:`consistency`, >=
    ``P_CONSISTENCY``), each
    supraventricular beat with no P wave, or with a PR more than ``PR_SEARCH_MS`` from the
    median PR, gets the best template match (correlation >= ``TEMPLATE_CORR``, amplitude
    0.4-2.5 x the template's) whose onset lies within ``PR_SEARCH_MS`` of the median PR
    before its QRS, searched back into the preceding T wave. With a long PR the P wave sits
    on or near the preceding T wave, where the learned delineator often found none: sinus
    rhythm was then lost (P before < 50 % of beats) and first-degree AV block with it
    (benchmarks.long_pr_bench: P waves moved 120 ms earlier at <= 100 bpm). Not for a
    tachycardia (the engine does not call it there): in a monomorphic VT every complex is
    alike, and so is whatever precedes it."""
    if alike is None or alike < P_CONSISTENCY:
        return []
    tm = _template_match(sig, fs, beats)
    if tm is None:
        return []
    corr, gain, length, m = tm
    con = [b for b in beats if b.kind != "ventricular" and b.p_on is not None]
    pr = float(np.median([b.qrs_on - b.p_on for b in con]))
    p_len = length - 2 * m
    tol = int(PR_SEARCH_MS * fs / 1000.0)
    ok = _accepted(corr, gain)
    changed = []
    for b in beats:
        if b.kind == "ventricular":
            continue
        if b.p_on is not None and abs((b.qrs_on - b.p_on) - pr) <= tol:
            continue
        # window starts (P onset - m) whose onset is median PR +- tol before the QRS, with
        # the P wave ending before the QRS
        i = _best_start(corr, ok, int(b.qrs_on - pr - tol) - m,
                        min(int(b.qrs_on - pr + tol) - m, b.qrs_on - p_len - m))
        if i is None:
            continue
        b.p_on, b.p_off = i + m, i + m + p_len
        changed.append(b.index)
    return changed


BACK_SEARCH = {"min_beats": 4, "share": 0.5, "edge": 0.2, "size": 0.03,
               "p_ms": (40.0, 180.0), "pr_gap_ms": 30.0, "locked": 0.5, "min_pr_ms": 200.0,
               "rival_ms": 80.0, "rival_ratio": 2.0, "single": 0.5}


def _trough_bounds(mag: np.ndarray, j0: int, k: int, j1: int, peak: float,
                   fs: float) -> tuple[int, int]:
    """The wave around ``k`` bounded at its troughs: the first point on each side, within
    ``j0``..``j1`` (where the magnitude falls below the edge level), that is below half the
    peak and lower than the next 20 ms outward. With a long PR the atrial repolarisation
    (Ta) wave, opposite to the P wave and longer than it (Sprague & White, J Clin Invest
    1925; Debbas et al., J Am Coll Cardiol 1999), fills the long PR segment, and a T-wave
    tail may precede the P, each above the edge level: the edge crossing lengthened the P
    to 188-236 ms and the wave was rejected (benchmarks.long_pr_bench: HR06009, LUDB 15 at
    +200 ms read sinus rhythm with PR 154-182 ms)."""
    n = max(1, int(0.010 * fs))
    sm = np.convolve(mag, np.ones(n) / n, "same")
    span = max(1, int(0.020 * fs))
    half = 0.5 * peak
    new_j1 = j1
    for i in range(k + 1, j1):
        if sm[i] < half and sm[i] <= sm[i + 1:i + 1 + span].min(initial=np.inf):
            new_j1 = i
            break
    new_j0 = j0
    for i in range(k - 1, j0, -1):
        if sm[i] < half and sm[i] <= sm[max(i - span, 0):i].min(initial=np.inf):
            new_j0 = i
            break
    return new_j0, new_j1


def p_waves_further_back(sig: np.ndarray, fs: float, beats) -> list[int]:
    """P waves searched back to the preceding T end, for a rhythm <= 100 /min; in place on
    ``beats``, returns the indices of the beats given one.

    A long PR (first-degree AV block of 300-400 ms) puts the P wave far from its QRS, where
    the learned delineator, trained on ordinary PRs, labels none (or a fragment just before
    the QRS, which the not-alike rule then sets aside): sinus rhythm was lost and read as a
    bradycardia of unknown origin or a junctional rhythm (benchmarks.long_pr_bench, P moved
    160-200 ms earlier at <= 100 bpm; issue 11: 'P waves searched back to the preceding T
    end'). Here the window from each previous T end + 20 ms to 30 ms before the QRS is
    averaged over beats, aligned on the QRS a conducted P wave precedes; its largest
    multi-lead deflection is a candidate P wave when it

    * starts > 200 ms before the QRS (``min_pr_ms``, the first-degree AV block limit of
      the 2018 ACC/AHA/HRS guideline): at an ordinary PR the learned delineator's own P
      waves stand (within 2 ms of LUDB's cardiologists, median), and a wave found there
      instead is more likely something else (in a rebuilt junctional rhythm of
      benchmarks.av_block_bench, a remnant of the copied complex read as an ectopic P),
    * stands clear of the window's start (falls below ``edge`` x its peak before it: not the
      tail of the T wave) and lasts 40-180 ms above that level,
    * has >= ``size`` x the QRS's spatial magnitude (a P wave is 5-25 % of the QRS),
    * is the one wave there: nothing else in the window (40 ms clear of it) reaches
      ``single`` x its peak (flutter waves, or a blocked P of 2:1 block, repeat),
    * matches (the record's own template, :data:`TEMPLATE_CORR`) before >= ``share`` of
      the supraventricular beats within 20 ms of one PR, and
    * where the cycle length varies (RR SD >= 20 ms), keeps its distance to the next QRS
      better than to the previous one (SD ratio <= ``locked``): a P wave is locked to the
      QRS it conducts, a U wave or T-wave tail to the QRS before it.

    Where the beats already carry P waves before at least half of them (the delineator's
    'P' may be a fragment in the PR segment in front of the real one: the held-out misses
    measured PR 132-154 ms against a label > 200 ms), the wave found further back replaces
    them only when it starts >= ``rival_ms`` before their median onset and its peak is >=
    ``rival_ratio`` x their largest deflection in the same averaged window; their P is then
    removed from the beats it was not found before.

    P-wave detection by template matching: Sornmo & Laguna, Bioelectrical Signal
    Processing in Cardiac and Neurological Applications, 2005, ch. 7."""
    c = BACK_SEARCH
    ms = 1000.0 / fs
    con = [b for b in beats if b.kind != "ventricular"]
    if len(con) < c["min_beats"]:
        return []
    have = [b for b in con if b.p_on is not None and b.p_off is not None and b.p_off > b.p_on]
    rival = len(have) >= 0.5 * len(con)
    pr_d = int(np.median([b.qrs_on - b.p_on for b in have])) if rival else 0
    pd_d = int(np.median([b.p_off - b.p_on for b in have])) if rival else 0
    pairs = [(a, b) for a, b in zip(beats, beats[1:])
             if a.kind != "ventricular" and b.kind != "ventricular"]
    if len(pairs) < c["min_beats"]:
        return []
    rr = np.array([(b.qrs_on - a.qrs_on) * ms for a, b in pairs])
    if 60000.0 / float(np.median(rr)) > 100.0:
        return []
    gap = int(c["pr_gap_ms"] / ms)
    starts = []
    for a, b in pairs:
        t_end = a.t_off if a.t_off is not None else a.qrs_off + int(0.350 * fs)
        starts.append(b.qrs_on - (t_end + int(0.020 * fs)))
    w = int(np.percentile(starts, 25))
    use = [(a, b) for (a, b), st in zip(pairs, starts) if st >= w and b.qrs_on - w >= 0]
    if (w - gap) * ms < c["p_ms"][1] * 0.5 or len(use) < c["min_beats"]:
        return []
    x = np.asarray(sig, float)
    med = np.median(np.stack([x[b.qrs_on - w:b.qrs_on] for _, b in use]), axis=0)
    # the line from the window's start level to the PR-segment level is the baseline (a
    # T-wave tail or wander would otherwise pass for a wave)
    head = max(int(0.010 * fs), 1)
    a0, a1 = med[:head].mean(axis=0), np.median(med[-gap:], axis=0)
    frac = np.linspace(0.0, 1.0, w)[:, None]
    med = med - (a0 + (a1 - a0) * frac)
    mag = np.linalg.norm(med[:w - gap], axis=1)
    k = int(np.argmax(mag))
    peak = float(mag[k])
    qrs_mag = float(np.median([np.max(np.linalg.norm(x[b.qrs_on:b.qrs_off + 1] - x[b.qrs_on],
                                                     axis=1)) for _, b in use]))
    if peak <= 0 or peak < c["size"] * qrs_mag:
        return []
    below = np.flatnonzero(mag[:k] < c["edge"] * peak)
    after = np.flatnonzero(mag[k:] < c["edge"] * peak)
    j0 = int(below[-1]) + 1 if below.size else 0
    if j0 * ms < c["p_ms"][0] / 2:
        return []                                       # runs into the T wave
    j1 = k + int(after[0]) - 1 if after.size else w - gap - 1
    j0, j1 = _trough_bounds(mag, j0, k, j1, peak, fs)
    if not c["p_ms"][0] <= (j1 - j0) * ms <= c["p_ms"][1]:
        return []
    # one atrial wave in the T-P segment: the waves of a flutter or of an atrial
    # tachycardia with 4:1 block repeat in it, each as locked to the QRS as a P wave, and
    # in 2:1 block the blocked P is a second wave (a synthetic 4:1 rhythm of P-like waves
    # passed every other test: tests/test_atrial.py)
    pad = int(0.040 * fs)
    rest = np.concatenate([mag[:max(j0 - pad, 0)], mag[j1 + pad + 1:]])
    if rest.size and float(rest.max()) >= c["single"] * peak:
        return []
    lead_in = w - j0                                     # samples from P onset to QRS onset
    if lead_in * ms <= c["min_pr_ms"]:
        return []
    if rival:
        # the delineator's P waves stand unless the wave further back starts well before
        # them and is much the larger (theirs then a fragment in the PR segment)
        if (lead_in - pr_d) * ms < c["rival_ms"]:
            return []
        lo_d, hi_d = max(w - pr_d, 0), min(w - pr_d + pd_d + 1, mag.size)
        if hi_d > lo_d and peak < c["rival_ratio"] * float(mag[lo_d:hi_d].max()):
            return []
    m = int(0.020 * fs)
    length = j1 - j0 + 2 * m
    onsets = [b.qrs_on - w + j0 for _, b in use]
    cg = _correlate(x, _windows(x, onsets, length, m), length)
    if cg is None:
        return []
    corr, gain = cg
    ok = _accepted(corr, gain)
    tol = int(0.020 * fs)
    found: dict[int, int] = {}
    for b in con:
        i = _best_start(corr, ok, b.qrs_on - lead_in - tol - m, b.qrs_on - lead_in + tol - m)
        if i is not None:
            found[b.index] = i + m
    if len(found) < max(c["min_beats"], c["share"] * len(con)):
        return []
    by_index = {b.index: b for b in beats}
    prev = {b.index: a for a, b in zip(beats, beats[1:])}
    if float(np.std(rr)) >= 20.0:
        to_next = [(by_index[i].qrs_on - on) * ms for i, on in found.items() if i in prev]
        to_prev = [(on - prev[i].qrs_on) * ms for i, on in found.items() if i in prev]
        if len(to_next) < 3 or np.std(to_next) > c["locked"] * np.std(to_prev):
            return []
    for b in con:
        if b.index in found:
            b.p_on, b.p_off = found[b.index], found[b.index] + (j1 - j0)
        elif rival:
            b.p_on = b.p_off = None                       # its 'P' was the fragment
            b.p_leads = []
    return sorted(found)


def _in_qrs_t(samples: np.ndarray, beats, fs: float, margin: int) -> np.ndarray:
    """Which samples lie in a beat's QRS onset .. T end (QRS offset + 350 ms without a T
    end), widened by ``margin``."""
    inside = np.zeros(samples.shape, bool)
    for b in beats:
        end = b.t_off if b.t_off is not None else b.qrs_off + int(0.350 * fs)
        inside |= (samples >= b.qrs_on - margin) & (samples <= end + margin)
    return inside


def confirmed(events: list[tuple[int, int, int]], match: PMatch, beats,
              fs: float) -> list[tuple[int, int, int]]:
    """The delineator's atrial ``events`` the P template can vouch for: those inside a QRS-T
    (where the template is not searched, so a P hidden in a T wave stays) and those in the
    T-P segment whose window correlates with the template >= ``CONFIRM_CORR`` within
    +-20 ms of their onset (a looser bar than a detection's: a P wave on the tail of a T
    wave matches less well). A 'P wave' in the T-P segment that does not look like the
    record's P wave is the noise a learned delineator reads as a P before a QRS, and such
    events among the P waves broke the P-P regularity that second- and third-degree AV
    block are judged on (rebuilt complete heart blocks, benchmarks.av_block_bench)."""
    lag = int(0.020 * fs)
    peaks = np.array([e[1] for e in events], int)
    inside = _in_qrs_t(peaks, beats, fs, lag)
    out = []
    for e, ins in zip(events, inside):
        i = e[0] - match.m
        lo, hi = max(0, i - lag), min(match.corr.size, i + lag + 1)
        if ins or (hi > lo and float(match.corr[lo:hi].max()) >= CONFIRM_CORR):
            out.append(e)
    return out


UNLOCKED_MIN_BEATS = 8       # beats a median beat is built from
UNLOCKED_MIN_BEATS_SLOW = 4  # ... below 60 /min (a 10-s record holds 5-6, 4 with a whole cycle)
UNLOCKED_K = 4.0             # event threshold: robust SDs of the residual activity
UNLOCKED_MIN_PP_MS = 250.0   # events closer than this are one (atrial rate <= 240 /min)
UNLOCKED_MIN_REL = 0.05      # event amplitude / median beat peak-to-peak, in some lead


def unlocked_events(sig: np.ndarray, fs: float, beats,
                    min_beats: int = UNLOCKED_MIN_BEATS) -> list[tuple[int, int, int]]:
    """Atrial events that are not locked to the QRS, as (onset, peak, offset) samples, in a
    regular ventricular rhythm (RR coefficient of variation < 0.10, >= ``min_beats`` beats:
    8, or 4 below 60 /min, where a 10-s record holds 5-6 and the first and last lack a
    whole cycle).

    Average-beat subtraction (QRST cancellation; Slocum et al., J Electrocardiol 25 suppl:1,
    1992; Stridh & Sornmo, IEEE Trans Biomed Eng 48:105, 2001): each lead's median beat,
    R-aligned over one cycle, is subtracted at every beat. What repeats with the QRS (the
    QRS, the T wave and a conducted P wave) cancels; atrial waves that march at their own
    rate do not, and stand out of the residual even where they fall on an ST segment or a
    T wave, where neither the learned delineator nor a P template looks (the P waves of a
    VT with AV dissociation: benchmarks.wct_bench --dissociation). An event is a peak of
    the leads' combined residual activity (1-15 Hz, each lead in units of its own robust
    SD, 40-ms moving RMS) >= ``UNLOCKED_K`` robust SDs above its median, outside the QRS
    (+-20 ms, where alignment jitter leaves a residual), >= 250 ms from a stronger one."""
    if len(beats) < min_beats:
        return []
    from scipy.signal import butter, find_peaks, sosfiltfilt

    from tools.quality import robust_sd

    r = np.array([b.r_time for b in beats], int)
    rr = np.diff(r).astype(float)
    if rr.size < 2 or np.std(rr) >= 0.10 * np.mean(rr):
        return []
    n = sig.shape[0]
    x = np.nan_to_num(np.asarray(sig, float))
    x = sosfiltfilt(butter(2, [1.0, 15.0], "bandpass", fs=fs, output="sos"), x, axis=0)
    # each beat owns the samples from 40 % of the RR before its R to 60 % of the RR after
    bounds = np.concatenate([[r[0] - 0.4 * rr[0]], r[:-1] + 0.6 * rr, [r[-1] + 0.6 * rr[-1]]])
    bounds = np.clip(np.round(bounds).astype(int), 0, n)
    pre, post = int(r[0] - bounds[0]), int(bounds[-1] - r[-1])
    pre = max(pre, int(np.max(r - bounds[:-1])))
    post = max(post, int(np.max(bounds[1:] - r)))
    full = [k for k in range(len(r)) if r[k] - pre >= 0 and r[k] + post <= n]
    if len(full) < min_beats:
        return []
    template = np.median(np.stack([x[r[k] - pre:r[k] + post] for k in full]), axis=0)
    resid = np.zeros_like(x)
    for k in range(len(r)):
        lo, hi = bounds[k], bounds[k + 1]
        t_lo, t_hi = lo - (r[k] - pre), hi - (r[k] - pre)
        if t_lo < 0 or t_hi > template.shape[0]:
            continue  # a beat at an edge the template does not cover: left out
        resid[lo:hi] = x[lo:hi] - template[t_lo:t_hi]
    # outside the beats, and the first and last beat (the filter's edge transients)
    blank = np.zeros(n, bool)
    blank[:bounds[1]] = blank[bounds[-2]:] = True
    margin = int(0.020 * fs)
    for b in beats:
        blank[max(0, b.qrs_on - margin):b.qrs_off + margin + 1] = True
    seen = resid[~blank]
    if seen.shape[0] < fs:
        return []
    scale = robust_sd(seen) + 1e-9
    z = (resid / scale) ** 2
    w = max(1, int(0.040 * fs))
    act = np.sqrt(np.convolve(z.mean(axis=1), np.ones(w) / w, mode="same"))
    act[blank] = 0.0
    a = act[~blank]
    level = float(np.median(a))
    spread = float(robust_sd(a, axis=None)) + 1e-9
    peaks, _ = find_peaks(act, height=level + UNLOCKED_K * spread,
                          distance=int(UNLOCKED_MIN_PP_MS * fs / 1000.0))
    half = int(0.050 * fs)
    # a P wave, not the jitter that exact copies of one complex leave (< 3 % of the QRS
    # in the rebuilt tachycardias): >= 5 % of the median beat's peak-to-peak in some lead
    ptp = np.ptp(template, axis=0) + 1e-12
    peaks = [p for p in peaks
             if float(np.max(np.abs(resid[max(0, p - half):p + half]) / ptp)) >= UNLOCKED_MIN_REL]
    return [(int(p) - half, int(p), int(p) + half) for p in peaks]


def unlocked_dissociation(sig: np.ndarray, fs: float, beats,
                          min_beats: int = UNLOCKED_MIN_BEATS) -> dict:
    """AV dissociation from the :func:`unlocked_events` (P waves that cancellation of the
    median beat leaves): {"n_events", "dissociation", and when it holds "atrial_rate_bpm",
    "pp_nmad", "events" (peak samples)}. It holds as :func:`av_relationship` finds it: >= 6
    regular events found in >= 60 % of the atrial cycles their span holds (a P wave inside a
    QRS stays hidden), at a rate that differs from the ventricular rate
    by > 10 % with a P-to-QRS delay varying > 120 ms. On the 150 shared records the
    residual of every regular rhythm holds at most 6 events, and none but LUDB 111
    (ventricular pacing at 60 /min, sinus P waves at 76 /min, labelled third-degree AV
    block: 8 events at 72 /min) shows a dissociation; P waves added at 80 /min to complexes
    repeated at 120-180 /min leave 12-16 (benchmarks.wct_bench --dissociation). The event
    threshold (``UNLOCKED_K``) was lowered from 6 to 4 robust SDs on LUDB 111, whose 8
    visible P waves gave 5 events at 6 (and at 5, resampled to 257 or 1000 Hz); at 4 and 5
    no other shared record shows a dissociation, nor any rebuilt VT without P waves."""
    events = unlocked_events(sig, fs, beats, min_beats)
    out: dict = {"n_events": len(events), "dissociation": False}
    av = av_relationship(events, beats, fs)
    if not av["dissociation"]:
        return out
    return out | {"dissociation": True, "atrial_rate_bpm": av["atrial_rate_bpm"],
                  "pp_nmad": av["pp_nmad"], "events": [e[1] for e in events]}


def merge_events(*groups: list[tuple[int, int, int]], fs: float) -> list[tuple[int, int, int]]:
    """One list of atrial events from several detectors: events whose onsets lie within
    80 ms are the same event (the first group's position is kept)."""
    gap = 0.080 * fs
    out: list[tuple[int, int, int]] = []
    for group in groups:
        for e in group:
            if all(abs(e[0] - o[0]) > gap for o in out):
                out.append(e)
    return sorted(out)


TRAIN = {"min_events": 5, "tol": 0.06, "cycle_ms": (300.0, 2000.0), "max_skip": 3}


def regular_train(events: list[tuple[int, int, int]], fs: float) -> list[int] | None:
    """Indices of the events that form the largest regular train: onsets within ``tol`` of
    a cycle from one of them, the cycle 300-2000 ms (an atrial rate of 30-200 /min; flutter
    waves are faster), at least ``min_events`` on it and no gap between neighbours on it
    longer than ``max_skip`` cycles (P waves hidden in the QRS-T leave gaps); the longest
    cycle among equally large trains (not a harmonic). None without such a train.

    In complete heart block the learned delineator may put a 'P wave' into the noise before
    every QRS as well as find the real, dissociated ones: the two sets together were too
    irregular to be read as an atrial rhythm, and the block was read as sinus bradycardia
    or a bradycardia of unknown origin (benchmarks.av_block_bench, e.g. HR06003, JS20019,
    LUDB 133 rebuilt). A train at its own regular rate, independent of the QRS, is atrial
    activity (waves of ventricular origin keep their distance to the QRS)."""
    ms = 1000.0 / fs
    on = np.array([e[0] for e in events], float) * ms
    n = on.size
    if n < TRAIN["min_events"]:
        return None
    lo, hi = TRAIN["cycle_ms"]
    best: tuple[int, float, list[int]] | None = None
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(1, TRAIN["max_skip"] + 1):
                c = (on[j] - on[i]) / k
                if not lo <= c <= hi:
                    continue
                phase = (on - on[i]) / c
                fit = np.flatnonzero(np.abs(phase - np.round(phase)) * c <= TRAIN["tol"] * c)
                steps = np.diff(np.round(phase[fit]))
                if fit.size < TRAIN["min_events"] or np.any(steps < 1) or \
                        np.any(steps > TRAIN["max_skip"]):
                    continue
                key = (fit.size, c)
                if best is None or key > best[:2]:
                    best = (fit.size, c, fit.tolist())
    return best[2] if best else None


def av_relationship(events: list[tuple[int, int, int]], beats, fs: float) -> dict:
    """Atrial rate, blocked P waves, PR per conducted beat and the AV-block pattern."""
    ms = 1000.0 / fs
    out: dict = {"n_p": len(events), "atrial_rate_bpm": None, "pp_cv": None, "pp_nmad": None,
                 "blocked": [], "blocked_premature": 0, "pr_ms": [], "pattern": None,
                 "dissociation": False, "mobitz": None, "conduction_ratio": None,
                 "advanced": False}
    if len(events) < 3 or len(beats) < 3:
        return out
    onsets = np.array([e[0] for e in events], float)
    pp = np.diff(onsets) * ms
    pp = pp[pp < 2500]
    if pp.size < 2:
        return out
    pp = _fundamental(pp)
    med_pp = float(np.median(pp))
    out["atrial_rate_bpm"] = 60000.0 / med_pp
    out["pp_cv"] = float(np.std(pp) / np.mean(pp))
    # regularity by the median absolute deviation: one spurious or missed event must not
    # make a regular atrial rhythm look irregular
    out["pp_nmad"] = float(np.median(np.abs(pp - med_pp)) / med_pp)
    qrs_on = np.array([b.qrs_on for b in beats], float)
    # each P: the first QRS onset that follows it within the conduction window
    pr_of_p: list[float | None] = []
    for on in onsets:
        d = (qrs_on - on) * ms
        ok = d[(d >= CONDUCT_MS[0]) & (d <= CONDUCT_MS[1])]
        pr_of_p.append(float(ok.min()) if ok.size else None)
    last_beat_end = max(b.qrs_off for b in beats)
    for i, (on, pr) in enumerate(zip(onsets, pr_of_p)):
        if pr is not None or on + CONDUCT_MS[1] / ms > last_beat_end:
            continue  # conducted, or too near the end to know
        before = (onsets[i] - onsets[i - 1]) * ms if i else None
        if before is not None and before < PREMATURE * med_pp:
            out["blocked_premature"] += 1  # a blocked PAC, not AV block
            continue
        # a dropped beat leaves a pause: the RR around the blocked P spans >= 1.5 P-P
        # (a 'P' inside an ordinary RR is more likely a misread T or U wave)
        prev_q = qrs_on[qrs_on < on]
        next_q = qrs_on[qrs_on > on]
        if not prev_q.size or not next_q.size:
            continue  # before the first or after the last detected QRS: a QRS may be missed
        if (next_q[0] - prev_q[-1]) * ms < 1.5 * med_pp:
            continue
        out["blocked"].append(i)
    # PR of the beat each conducted P starts: sorted per beat
    out["pr_ms"] = [p for p in pr_of_p if p is not None]
    rr = np.diff(np.array([b.r_time for b in beats], float)) * ms
    v_rate = 60000.0 / float(np.mean(rr))
    rr_cv = float(np.std(rr) / np.mean(rr))
    prs = np.array(out["pr_ms"], float)
    pr_var = float(np.ptp(prs)) if prs.size >= 3 else 0.0
    # the P-to-next-QRS delay for every QRS (the nearest preceding P onset)
    lead_in = []
    for q in qrs_on:
        d = (q - onsets) * ms
        d = d[(d > 0) & (d < 1500)]
        if d.size:
            lead_in.append(float(d.min()))
    lead_in_range = float(np.ptp(lead_in)) if len(lead_in) >= 3 else 0.0
    regular_a = out["pp_nmad"] < 0.08
    # judged on enough atrial events, found in most of the atrial cycles they span: five
    # scattered 'P waves' (PP CV 0.25) in a sinus tachycardia whose P waves lay in the T
    # waves read as a dissociation at 55 /min, and the tachycardia as VT with it
    # (benchmarks.long_pr_bench, CinC JS20006 with the P waves 120 ms earlier)
    span_ms = (onsets[-1] - onsets[0]) * ms
    covered = len(events) >= DISSOCIATION_MIN_EVENTS and \
        len(events) >= DISSOCIATION_COVERAGE * (span_ms / med_pp + 1)
    out["dissociation"] = bool(regular_a and covered and len(lead_in) >= 3
                               and lead_in_range > 120.0
                               and abs(out["atrial_rate_bpm"] - v_rate) > 0.1 * v_rate)
    # complete block: the ventricles follow a slow escape rhythm; dissociated P waves beside
    # ventricles faster than 100 /min are the AV dissociation of a ventricular (or
    # junctional) tachycardia, evidence for VT (Brugada 1991), not an AV block
    if (regular_a and rr_cv < 0.10 and out["atrial_rate_bpm"] > THIRD_RATE_RATIO * v_rate
            and out["dissociation"] and v_rate <= 100):
        out["pattern"] = "third"
    elif out["blocked"] and regular_a:
        ratio = out["atrial_rate_bpm"] / v_rate
        out["conduction_ratio"] = round(ratio, 2)
        if abs(ratio - 2.0) < 0.2 and len(out["blocked"]) >= 2 and pr_var < 40:
            out["pattern"] = "2:1"
        else:
            out["pattern"] = "second"
            out["mobitz"] = _mobitz(out["blocked"], onsets, pr_of_p)
            # >= 2 consecutive on-time P waves not conducted: advanced (high-grade) block,
            # neither Mobitz type (2018 ACC/AHA/HRS bradycardia guideline)
            dropped = set(out["blocked"])
            out["advanced"] = any(i + 1 in dropped for i in dropped)
    return out


def _fundamental(pp: np.ndarray) -> np.ndarray:
    """P-P intervals with those that span missed P waves divided back to one cycle.

    When P waves hide in the QRS-T complexes (complete heart block at a slow ventricular
    rate, where a third of the atrial cycles may fall there), many P-P intervals span two
    or three cycles and the median P-P is a multiple of the atrial cycle: the atrial rate
    then came out below the ventricular rate (rebuilt complete heart blocks,
    benchmarks.av_block_bench). When >= 2 and >= a quarter of the intervals are shorter
    than 0.75 x the median, their median is taken as the cycle, and it is kept only if every
    interval is within 8 % of 1-3 cycles (otherwise the short intervals are premature
    beats or a bigeminal pattern, and the intervals are returned unchanged)."""
    med = float(np.median(pp))
    short = pp[pp < 0.75 * med]
    if short.size < 2 or short.size < 0.25 * pp.size:
        return pp
    cycle = float(np.median(short))
    k = np.round(pp / cycle)
    if np.any(k < 1) or np.any(k > 3) or np.any(np.abs(pp / k - cycle) > 0.08 * cycle):
        return pp
    return pp / k


def _mobitz(blocked: list[int], onsets: np.ndarray, pr_of_p: list[float | None]) -> str | None:
    """'I' when the PR before a dropped beat exceeds the PR after it by >= 40 ms (Wenckebach
    lengthening), 'II' when they differ by < 20 ms, None when no blocked P has conducted
    neighbours on both sides."""
    votes = []
    for i in blocked:
        before = next((pr_of_p[j] for j in range(i - 1, -1, -1) if pr_of_p[j] is not None),
                      None)
        after = next((pr_of_p[j] for j in range(i + 1, len(pr_of_p)) if pr_of_p[j] is not None),
                     None)
        if before is None or after is None:
            continue
        diff = before - after
        votes.append("I" if diff >= 40 else "II" if abs(diff) < 20 else None)
    from tools.beats import majority

    # as many drops of one type as of the other: the type is not decided
    return majority([v for v in votes if v], tie=None)
