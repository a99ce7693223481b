"""Reconcile per-lead wave boundaries into global beats and global intervals.

Global intervals follow the CSE convention (Willems et al., "Common standards for quantitative
electrocardiography: goals and main results", Methods Inf Med 29:263-271, 1990): QRS from the
earliest onset to the latest offset over simultaneous leads, P onset the earliest, T end the
latest. Taken literally, the extremes pick up one lead's delineation outlier, so - as in the
project's reference rule (../shared/design/MEASUREMENT.md) - the ``trim`` most extreme leads on
each side are dropped first: with 12 leads the 3rd earliest onset and 3rd latest offset.
Beats whose intervals disagree with the record's other beats are dropped, not averaged in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.delineate import LeadDelineation, Wave

BEAT_GAP_MS = 120.0       # QRS centres further apart than this start a new beat
P_SEARCH_MS = (400.0, 20.0)   # P offset in (QRS on - 400 ms, QRS on + 20 ms]
T_SEARCH_MS = (20.0, 600.0)   # T onset in [QRS off - 20 ms, QRS off + 600 ms)


@dataclass
class GlobalBeat:
    """One beat seen across leads; positions in samples, None when not found."""

    index: int
    qrs_on: int
    qrs_off: int
    r_time: int                       # median QRS peak over leads
    leads: list[str]                  # leads whose QRS joined this beat
    kind: str = "normal"              # majority per-lead beat class (openecg)
    p_on: int | None = None
    p_off: int | None = None
    p_leads: list[str] = field(default_factory=list)
    t_off: int | None = None
    t_peak: int | None = None
    t_leads: list[str] = field(default_factory=list)


def trim_for(n_leads: int) -> int:
    """Leads dropped at each extreme: 2 of 12 as in the reference rule, fewer for fewer leads."""
    return 2 if n_leads >= 10 else (1 if n_leads >= 5 else 0)


def _kth(values: list[int], k: int, latest: bool) -> int:
    v = sorted(values)
    k = min(k, len(v) - 1)
    return v[-1 - k] if latest else v[k]


def majority(values: list, tie=None):
    """The most frequent value, or ``tie`` when two values share the top count. (Python's
    ``max(set(values), key=values.count)`` breaks ties by set order, which varies with the
    string hash seed from run to run: a beat typed ventricular by 6 of 12 leads was a PVC in
    some runs and not in others.)"""
    from collections import Counter

    top = Counter(values).most_common(2)
    if not top:
        return tie
    return tie if len(top) > 1 and top[0][1] == top[1][1] else top[0][0]


def group_by_gap(items: list[tuple], gap: float) -> list[list[tuple]]:
    """Items (time first) sorted by time and split wherever the next item is more than
    ``gap`` (samples) after the previous one."""
    groups: list[list] = []
    for it in sorted(items, key=lambda t: t[0]):
        if groups and it[0] - groups[-1][-1][0] <= gap:
            groups[-1].append(it)
        else:
            groups.append([it])
    return groups


def cluster_beats(dels: dict[str, LeadDelineation], fs: float,
                  min_leads: int, windows: dict[str, tuple[int, int]] | None = None
                  ) -> list[GlobalBeat]:
    """Group the QRS complexes of all given leads into beats (one QRS per lead per beat).
    With ``windows`` (a digitised page's printed span per lead, in samples) the leads a beat
    needs are counted among those printed at its time."""
    items = []  # (centre, lead, wave, beat label)
    for lead, d in dels.items():
        labels = dict(d.beat_class)
        for w in d.waves["QRS"]:
            items.append(((w.onset + w.offset) / 2.0, lead, w, labels.get(w.onset, "normal")))
    groups = group_by_gap(items, BEAT_GAP_MS * fs / 1000.0)
    beats: list[GlobalBeat] = []
    for g in groups:
        centre = float(np.median([c for c, *_ in g]))
        per_lead: dict[str, tuple] = {}
        for it in g:  # keep the QRS closest to the beat centre in each lead
            if it[1] not in per_lead or abs(it[0] - centre) < abs(per_lead[it[1]][0] - centre):
                per_lead[it[1]] = it
        if not _enough(per_lead, min_leads, windows, centre, dels):
            continue
        waves: list[Wave] = [it[2] for it in per_lead.values()]
        k = trim_for(len(waves))
        kinds = [it[3] for it in per_lead.values()]
        if windows:  # typed by the rhythm strips; a few 2.5-s leads alone do not type a beat
            kinds = [it[3] for lead, it in per_lead.items() if lead not in windows] or ["unknown"]
        # a tie between the leads' beat classes is no class: the width and P-wave rule of
        # tools.measure.mark_ectopy then decides whether the beat is ventricular
        kind = majority(kinds, tie="unknown")
        beats.append(GlobalBeat(
            index=len(beats),
            qrs_on=_kth([w.onset for w in waves], k, latest=False),
            qrs_off=_kth([w.offset for w in waves], k, latest=True),
            r_time=int(np.median([w.peak for w in waves])),
            leads=sorted(per_lead, key=list(dels).index),
            kind=kind,
        ))
    return beats


def attach_p_t(beats: list[GlobalBeat], dels: dict[str, LeadDelineation], fs: float,
               min_leads: int, windows: dict[str, tuple[int, int]] | None = None) -> None:
    """Find each beat's P onset/offset and T end over leads (in place)."""
    ms = fs / 1000.0
    for i, b in enumerate(beats):
        centre = (b.qrs_on + b.qrs_off) / 2.0
        prev_off = beats[i - 1].qrs_off if i else -10**9
        next_on = beats[i + 1].qrs_on if i + 1 < len(beats) else 10**9
        p_waves, t_waves = {}, {}
        for lead, d in dels.items():
            ps = [w for w in d.waves["P"]
                  if b.qrs_on - P_SEARCH_MS[0] * ms < w.offset <= b.qrs_on + P_SEARCH_MS[1] * ms
                  and w.onset > prev_off]
            if ps:
                p_waves[lead] = ps[-1]
            ts = [w for w in d.waves["T"]
                  if b.qrs_off - T_SEARCH_MS[0] * ms <= w.onset < b.qrs_off + T_SEARCH_MS[1] * ms
                  and w.offset < next_on]
            if ts:
                t_waves[lead] = ts[0]
        if _enough(p_waves, min_leads, windows, centre, dels):
            k = trim_for(len(p_waves))
            b.p_on = _kth([w.onset for w in p_waves.values()], k, latest=False)
            b.p_off = _kth([w.offset for w in p_waves.values()], k, latest=True)
            b.p_leads = sorted(p_waves, key=list(dels).index)
        if _enough(t_waves, min_leads, windows, centre, dels):
            k = trim_for(len(t_waves))
            b.t_off = _kth([w.offset for w in t_waves.values()], k, latest=True)
            b.t_peak = int(np.median([w.peak for w in t_waves.values()]))
            b.t_leads = sorted(t_waves, key=list(dels).index)


def _min_leads(n: int) -> int:
    return max(2, int(np.ceil(n / 2))) if n >= 3 else 1


def _enough(found, min_leads: int, windows: dict[str, tuple[int, int]] | None, at: float,
            dels: dict) -> bool:
    """Whether a wave ``found`` in these leads is a beat's. Simultaneous leads: at least
    ``min_leads``. A page printed lead by lead (``windows``): most of its full-length leads
    (the rhythm strips, as a reader of the page uses them), or most of the leads printed at
    that time (at least 2), so that one lead's miss loses no beat."""
    if not windows:
        return len(found) >= min_leads
    full = [lead for lead in dels if lead not in windows]
    if full and sum(lead in found for lead in full) >= _min_leads(len(full)):
        return True
    n = sum(1 for lead in dels if lead not in windows or windows[lead][0] <= at <= windows[lead][1])
    return len(found) >= max(2, _min_leads(n))


def reconcile(dels: dict[str, LeadDelineation], fs: float,
              windows: dict[str, tuple[int, int]] | None = None) -> list[GlobalBeat]:
    """Beats with global QRS, P and T boundaries from per-lead delineations of usable leads
    (``windows``: leads printed over part of the record only, see :func:`cluster_beats`)."""
    min_leads = _min_leads(len(dels))
    beats = cluster_beats(dels, fs, min_leads, windows)
    if windows:
        beats = _refractory(beats, dels, windows, fs)
    attach_p_t(beats, dels, fs, min_leads, windows)
    if windows:
        align_partial(beats, dels, fs, windows)
    return beats


def _refractory(beats: list[GlobalBeat], dels: dict, windows: dict, fs: float
                ) -> list[GlobalBeat]:
    """Drop a 'beat' seen only by a few window leads within 300 ms of one the rhythm strip
    saw: no QRS follows another inside the ventricular refractory period (about 200-300 ms),
    and such a wave is a T wave the delineator misread where a printed window begins."""
    full = {lead for lead in dels if lead not in windows}
    if not full:
        return beats
    strip_r = [b.r_time for b in beats if full & set(b.leads)]
    gap = 0.300 * fs
    kept = [b for b in beats if full & set(b.leads)
            or all(abs(b.r_time - r) > gap for r in strip_r)]
    for i, b in enumerate(kept):
        b.index = i
    return kept


def align_partial(beats: list[GlobalBeat], dels: dict[str, LeadDelineation], fs: float,
                  windows: dict[str, tuple[int, int]]) -> None:
    """Global boundaries of a record whose leads were printed at different times (a 3x4
    page: each beat is seen in 3-4 leads, each lead in 2-4 beats), in place.

    Each beat's boundaries from its own few leads would vary with the column it falls in.
    As with median beats superimposed over 12 leads (the global-interval approach of the
    CSE study, Willems et al. 1990), each lead's P onset, QRS onset/offset and T end are
    taken relative to the beat's R time in the full-length leads (the fiducial every beat
    shares), as the median over that lead's dominant beats; the same trimmed extremes as
    for simultaneous leads (:func:`trim_for`) then give one global offset each, applied to
    every dominant beat. Ectopic beats keep their own boundaries."""
    full = [lead for lead in dels if lead not in windows]
    gap = BEAT_GAP_MS * fs / 1000.0
    dom = [b for b in beats if b.kind in ("normal", "unknown", "fusion")]
    if len(dom) < 2:
        return

    def fiducial(b: GlobalBeat) -> int:
        peaks = [w.peak for lead in full for w in dels[lead].waves["QRS"]
                 if abs((w.onset + w.offset) / 2.0 - (b.qrs_on + b.qrs_off) / 2.0) <= gap]
        return int(np.median(peaks)) if peaks else b.r_time

    fid = {b.index: fiducial(b) for b in dom}
    rel: dict[str, dict[str, list[int]]] = {k: {} for k in ("qrs_on", "qrs_off", "p_on", "t_off")}
    for b in dom:
        f, c = fid[b.index], (b.qrs_on + b.qrs_off) / 2.0
        for lead, d in dels.items():
            q = [w for w in d.waves["QRS"] if abs((w.onset + w.offset) / 2.0 - c) <= gap]
            if q:
                w = min(q, key=lambda w: abs((w.onset + w.offset) / 2.0 - c))
                rel["qrs_on"].setdefault(lead, []).append(w.onset - f)
                rel["qrs_off"].setdefault(lead, []).append(w.offset - f)
            if b.p_on is not None:
                ps = [w for w in d.waves["P"] if b.p_on - gap <= w.onset and w.offset <= b.qrs_on]
                if ps:
                    rel["p_on"].setdefault(lead, []).append(ps[-1].onset - f)
            if b.t_off is not None:
                ts = [w for w in d.waves["T"] if b.qrs_off - gap <= w.onset
                      and w.offset <= b.t_off + gap]
                if ts:
                    rel["t_off"].setdefault(lead, []).append(ts[0].offset - f)

    def global_rel(key: str, latest: bool) -> int | None:
        per_lead = [int(np.median(v)) for v in rel[key].values() if v]
        if len(per_lead) < 2:
            return None
        return _kth(per_lead, trim_for(len(per_lead)), latest)

    on, off = global_rel("qrs_on", False), global_rel("qrs_off", True)
    p_on, t_off = global_rel("p_on", False), global_rel("t_off", True)
    end = max(b for _, b in windows.values())  # the record's last printed sample
    for b in dom:
        f = fid[b.index]
        if on is not None and off is not None and off > on and f + on >= 0 \
                and f + off <= end:
            b.qrs_on, b.qrs_off, b.r_time = f + on, f + off, f
        if p_on is not None and b.p_on is not None and 0 <= f + p_on < b.qrs_on:
            b.p_on = f + p_on
        if t_off is not None and b.t_off is not None and b.qrs_off < f + t_off <= end:
            b.t_off = f + t_off


def drop_beats(beats: list[GlobalBeat], drop: set[int], dels: dict[str, LeadDelineation],
               fs: float, windows: dict[str, tuple[int, int]] | None = None
               ) -> list[GlobalBeat]:
    """The beats without those whose index is in ``drop``, renumbered, with P and T found
    again (a dropped beat no longer bounds its neighbours' P and T search windows)."""
    return _renumbered([b for b in beats if b.index not in drop], dels, fs, windows)


def _renumbered(beats: list[GlobalBeat], dels: dict[str, LeadDelineation], fs: float,
                windows: dict[str, tuple[int, int]] | None = None) -> list[GlobalBeat]:
    """``beats`` (in time order) renumbered, their P and T found again: a beat dropped or
    added changes its neighbours' P and T search windows."""
    for i, b in enumerate(beats):
        b.index = i
        b.p_on = b.p_off = b.t_off = b.t_peak = None
        b.p_leads, b.t_leads = [], []
    attach_p_t(beats, dels, fs, _min_leads(len(dels)), windows)
    if windows:
        align_partial(beats, dels, fs, windows)
    return beats


def add_beats(beats: list[GlobalBeat], added: list[tuple[int, int, int]],
              dels: dict[str, LeadDelineation], fs: float) -> list[GlobalBeat]:
    """The beats with complexes found outside the learned delineation (``(onset, peak,
    offset)`` samples, e.g. :func:`tools.spatial.missed_beats`) added as beats of unknown
    type without lead-wise QRS (``leads`` empty), all renumbered in time order with P and
    T found again."""
    new = [GlobalBeat(index=-1, qrs_on=int(on), qrs_off=int(max(off, on + 1)), r_time=int(pk),
                      leads=[], kind="unknown") for on, pk, off in added]
    return _renumbered(sorted(beats + new, key=lambda b: b.r_time), dels, fs)


def interval_ms(beats: list[GlobalBeat], fs: float, name: str) -> list[tuple[int, float]]:
    """(beat index, interval ms) for every beat where ``name`` (pr, qrs, qt, p) is defined."""
    out = []
    for b in beats:
        if name == "qrs":
            v = b.qrs_off - b.qrs_on
        elif name == "pr" and b.p_on is not None:
            v = b.qrs_on - b.p_on
        elif name == "p" and b.p_on is not None and b.p_off is not None:
            v = b.p_off - b.p_on
        elif name == "qt" and b.t_off is not None:
            v = b.t_off - b.qrs_on
        else:
            continue
        out.append((b.index, v * 1000.0 / fs))
    return out


def robust_over_beats(values: list[tuple[int, float]], tol_ms: float
                      ) -> tuple[float | None, list[int], list[int]]:
    """Median over beats after dropping beats further than ``max(tol_ms, 3 * 1.4826 * MAD)``
    from the median. Returns (value, beats kept, beats dropped)."""
    if not values:
        return None, [], []
    v = np.array([x for _, x in values])
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * 1.4826
    lim = max(tol_ms, 3.0 * mad)
    keep = np.abs(v - med) <= lim
    kept = [values[i][0] for i in np.flatnonzero(keep)]
    dropped = [values[i][0] for i in np.flatnonzero(~keep)]
    return float(np.median(v[keep])), kept, dropped
