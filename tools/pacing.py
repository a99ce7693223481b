"""Pacemaker stimuli: found jointly over the leads, blanked before delineation, typed atrial
or ventricular by what follows them, and the pacing mode they make (atrial, ventricular, or
AV sequential: the chambers the NASPE/BPEG code's first letter names, Bernstein et al.,
Pacing Clin Electrophysiol 25:260, 2002). The rhythm evidence of :mod:`tools.rhythm` reads
them."""
from __future__ import annotations

import numpy as np

from tools.beats import GlobalBeat
from tools.quality import robust_sd
from tools.record import LIMB_LEADS


def lead_spans(x: np.ndarray) -> np.ndarray:
    """Each lead's excursion: the 99.5th percentile of its |deviation| from its median (a
    scale for steps and slopes that holds on millivolt and on per-lead normalised files)."""
    return np.percentile(np.abs(x - np.median(x, axis=0)), 99.5, axis=0) + 1e-12


def coherent_spikes(sig: np.ndarray, fs: float, usable: list[str]) -> np.ndarray:
    """Sample indices of pacemaker-like spikes found jointly over the leads: a second
    detector beside openecg's, for muscle noise.

    openecg's detector scores each lead against that lead's own spread of (second)
    derivatives, so the 20-150 Hz noise of skeletal muscle lifts its threshold above the
    spikes: under such noise (benchmarks.noise_bench) paced rhythm was lost on all 4 paced
    LUDB records although their spikes stood 4-24 noise SDs above it. A pacemaker stimulus
    is one electrical event that every lead sees at the same sample, while muscle noise is
    lead-specific, so here a lead's step counts only together with other leads:

    * a step: the sample-to-sample difference exceeds 6 robust SDs of the lead's
      differences (MAD x 1.4826) and 10 % of the lead's excursion (its 99.5th percentile
      |deviation| from the median), beyond any same-direction difference within 2 samples
      (a QRS slope continues, a stimulus is over in one sample and decays back), and
      rises out of a quiet baseline (no difference half as large in the 10 ms before:
      the jagged slopes of a fragmented QRS are not stimuli);
    * coincidence within one sample in a limb lead and in >= 2 precordial leads (the six
      limb leads are derived from two recorded ones, so a kink seen in all of them is one
      observation, not six).

    Chosen on LUDB's paced records (the only paced ones here); on the 146 others it found
    no spike before a QRS as recorded, and no paced rhythm appeared on them with noise added
    (benchmarks.noise_bench; at most 2 such spikes a record while the rule was tuned) or
    resampled to 250-1000 Hz (benchmarks.fs_bench)."""
    limb = np.array([lead in LIMB_LEADS for lead in usable])
    if not limb.any() or (~limb).sum() < 2 or sig.shape[0] < 3:
        return np.empty(0, dtype=np.int64)
    x = np.asarray(sig, float)
    # below 400 Hz an anti-alias filter spreads the stimulus edge over two samples (a 500-Hz
    # record decimated to 250 Hz rises -0.02, -0.18, -0.38 mV where it stepped 0.01 to
    # -0.34; benchmarks.fs_bench lost 2 of 4 paced records there), so the step is taken
    # over two samples
    g = 1 if fs >= 400 else 2
    d = x[g:] - x[:-g]
    ad, sgn = np.abs(d), np.sign(d)
    cont = np.zeros_like(d)     # the largest same-direction difference within 2 samples
    for sh in (1, 2):
        cont[sh:] = np.maximum(cont[sh:], sgn[sh:] * d[:-sh])
        cont[:-sh] = np.maximum(cont[:-sh], sgn[:-sh] * d[sh:])
    w = max(2, int(round(0.010 * fs)))
    before = np.zeros_like(d)   # the largest |difference| in the 10 ms before
    for sh in range(1, w + 1):
        before[sh:] = np.maximum(before[sh:], ad[:-sh])
    sd = robust_sd(d) + 1e-12
    span = lead_spans(x)
    step = ad - cont
    hit = (step >= 6.0 * sd) & (step >= 0.10 * span) & (before < 0.5 * ad)
    near = hit.copy()           # within one sample (leads sampled in turn)
    near[1:] |= hit[:-1]
    near[:-1] |= hit[1:]
    joint = near[:, limb].any(axis=1) & (near[:, ~limb].sum(axis=1) >= 2) & hit.any(axis=1)
    out: list[int] = []
    for k in np.flatnonzero(joint):
        if not out or k + g - out[-1] > 0.010 * fs:
            out.append(int(k) + g)  # the difference d[k] ends at sample k + g
    return np.asarray(out, dtype=np.int64)


#: stimuli outside the QRS complexes before the signal is re-delineated without them: on
#: the 146 unpaced shared records at most 2 of the joint detector's steps fall outside a QRS,
#: on LUDB 111 and 93 (paced) 3 and 6
MIN_STIMULI_TO_BLANK = 3
STIMULUS_BLANK_MS = (2.0, 12.0)  # before / after the step: the stimulus, its decay, recharge


def blank_stimuli(sig: np.ndarray, fs: float, usable: list[str], beats: list[GlobalBeat]
                  ) -> tuple[np.ndarray | None, int]:
    """``sig`` with the pacemaker stimuli that lie outside the QRS complexes
    (:func:`coherent_spikes`; outside each beat's QRS onset - 4 ms .. offset) replaced by a
    straight line from 2 ms before to 12 ms after each, when there are at least
    :data:`MIN_STIMULI_TO_BLANK`; else (None, 0).

    The learned delineator was trained without pacemakers: an atrial stimulus, sharpened
    into a wavelet by its filters, moved the P onsets 30-40 ms earlier and broke the P
    waves. Given a stimulus 10 ms before each P onset (``benchmarks.pacing_bench``), 28 of
    47 CinC sinus records changed their reading beyond the rhythm's name ('atrial
    fibrillation' twice, 'ventricular tachycardia' once at 2 mV) and pacing was found on
    0.81 / 0.32 of them (0.5 / 2 mV); with the stimuli blanked, 46 of 47 read as before
    and pacing is found on 0.96 / 0.94. The stimulus is the device's, not the heart's: it is
    counted (``m:pacing_spikes``, from the signal as recorded), not delineated. Stimuli
    inside a QRS stay: there the joint detector also fires on the sharp
    notches of a fragmented QRS (LUDB 99, 103)."""
    spikes = coherent_spikes(sig, fs, usable)
    lead_in = 0.004 * fs
    out = [int(t) for t in spikes
           if not any(b.qrs_on - lead_in <= t <= b.qrs_off for b in beats)]
    if len(out) < MIN_STIMULI_TO_BLANK:
        return None, 0
    x = np.array(sig, float)
    a = int(round(STIMULUS_BLANK_MS[0] * fs / 1000.0))
    b = max(1, int(round(STIMULUS_BLANK_MS[1] * fs / 1000.0)))
    n = x.shape[0]
    for t in out:
        lo, hi = max(0, t - a), min(n - 1, t + b)
        ramp = np.linspace(0.0, 1.0, hi - lo + 1)[:, None]
        x[lo:hi + 1] = x[lo] + ramp * (x[hi] - x[lo])
    return x, len(out)


def find_stimuli(sig: np.ndarray, fs: float, usable: list[str], beats: list[GlobalBeat]
                 ) -> tuple[bool, int, int, int, list[int]]:
    """Pacemaker spikes from openecg's center-surround detector in II, V1 and V5, counted only
    when they coincide (within 10 ms) in at least two leads: a pacing artefact is one
    electrical event seen by every lead, while noise spikes are lead-specific; and, for muscle
    noise, from :func:`coherent_spikes` over all usable leads. Paced when either finds >= 3
    spikes preceding a complex and at least one per two beats. Returns (paced, openecg
    count, joint count, the larger count of either detector's spikes before a QRS onset
    rather than a P onset: from 3 the ventricles are paced, not only the atria; and both
    detectors' ventricular stimuli, for :func:`atrial_stimuli`)."""
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
    sync: list[str] = []
    sync_t: list[float] = []
    leads = list(spikes)
    if leads:
        ref = max(leads, key=lambda k: spikes[k].size)
        for t in spikes[ref]:
            if any(np.any(np.abs(spikes[o] - t) <= tol) for o in leads if o != ref):
                sync.append(_paces(t, beats, fs))
                sync_t.append(float(t))
    joint_t = coherent_spikes(sig, fs, usable)
    joint = [_paces(t, beats, fs) for t in joint_t]
    # the ventricular stimuli of both detectors (each misses some: the joint one those an
    # interpolating resampler spreads over samples, openecg's those under muscle noise)
    v_times = sorted(int(round(t)) for t, c in zip(list(sync_t) + list(joint_t), sync + joint)
                     if c == "V")
    sync, joint = [c for c in sync if c], [c for c in joint if c]
    n_beats = len(beats)
    paced = any(len(n) >= 3 and (n_beats == 0 or len(n) / n_beats >= 0.5)
                for n in (sync, joint))
    return paced, len(sync), len(joint), max(sync.count("V"), joint.count("V")), v_times


#: AV-sequential (dual-chamber) pacing: an atrial stimulus 80-300 ms before each ventricular
#: one (programmed AV delays are mostly 100-250 ms), sharper than anything else there: its
#: slope over all leads (each lead scaled by its own range) >= ``A_STIM_SLOPE_SHARE`` x the
#: ventricular stimulus's and >= ``A_STIM_BASE_RATIO`` x the window's median slope, at one
#: AV delay (SD <= ``AV_DELAY_SD_MS``) before >= 3 and half of the ventricular stimuli. A
#: recorder's filter can round an atrial stimulus so that it is no one-sample step (LUDB 45,
#: atrial and ventricular pacing: 0.17-0.24 x the ventricular stimulus's slope, 37-59 x the
#: window's median, AV delay 180-186 ms), while a P or T wave there is slow (LUDB 93, 95,
#: 111, ventricular pacing only: <= 0.04 and <= 6.6 x, 'delays' 82-298 ms). Chosen on those
#: four records, the only paced ones here; the unpaced records never reach this rule.
AV_DELAY_MS = (80.0, 300.0)
A_STIM_SLOPE_SHARE, A_STIM_BASE_RATIO, AV_DELAY_SD_MS = 0.10, 20.0, 10.0


def atrial_stimuli(sig: np.ndarray, fs: float, beats: list[GlobalBeat], v_times: list[int]
                   ) -> tuple[int, int, float | None, float | None]:
    """Atrial stimuli of AV-sequential pacing before the ventricular stimuli ``v_times``
    (see :data:`A_STIM_SLOPE_SHARE`): (how many ventricular stimuli have one, how many
    ventricular stimuli there are, one per complex, the median AV delay in ms and its SD),
    the delay None unless >= 3 and half of them have one."""
    x = np.asarray(sig, float)
    # one stimulus per paced complex: a second step within 40 ms (LUDB 111's bipolar
    # stimuli show two, 24 ms apart; both detectors find most) belongs to the first
    firsts: list[int] = []
    for t in sorted(v_times):
        if not firsts or t - firsts[-1] > 0.040 * fs:
            firsts.append(int(t))
    v_times = firsts
    x = x[:, np.isfinite(x).all(axis=0)]
    if len(v_times) < 3 or x.shape[0] < 3 or x.shape[1] == 0:
        return 0, len(v_times), None, None
    # each lead by its own range (a page's lead exists only where printed: those are left
    # out above, a NaN would blank the joint slope)
    slope = np.linalg.norm(np.diff(x, axis=0) / lead_spans(x), axis=1)
    half = max(1, int(round(0.004 * fs)))
    delays = []
    for tv in v_times:
        lo, hi = int(tv - AV_DELAY_MS[1] * fs / 1000.0), int(tv - AV_DELAY_MS[0] * fs / 1000.0)
        # not into the previous complex: the window starts after the last QRS before it
        ends = [b.qrs_off for b in beats if b.qrs_off < tv - AV_DELAY_MS[0] * fs / 1000.0]
        if ends:
            lo = max(lo, ends[-1] + int(0.020 * fs))
        lo = max(lo, 0)
        if hi - lo < 4 or tv + half >= slope.size:
            continue
        k = lo + int(np.argmax(slope[lo:hi]))
        s_v = float(slope[max(tv - half, 0):tv + half + 1].max())
        if slope[k] >= A_STIM_SLOPE_SHARE * s_v and \
                slope[k] >= A_STIM_BASE_RATIO * float(np.median(slope[lo:hi])):
            delays.append((tv - k) * 1000.0 / fs)
    if len(delays) < 3 or len(delays) < 0.5 * len(v_times):
        return len(delays), len(v_times), None, None
    return len(delays), len(v_times), float(np.median(delays)), float(np.std(delays))


def _paces(t: float, beats: list[GlobalBeat], fs: float) -> str:
    """"V", "A" or "": a pacing spike precedes the complex it triggers: between 80 ms before
    the QRS onset and 20 ms before the R peak (ventricular; the delineator often counts the
    spike as the start of the paced QRS), or within 80 ms before to 10 ms after a P onset
    (atrial). A 'spike' at the R peak is a sharp R wave, not a pacemaker."""
    for b in beats:
        if abs(t - b.r_time) < 0.020 * fs:
            return ""
        if b.qrs_on - 0.080 * fs <= t <= b.r_time - 0.020 * fs:
            return "V"
        if b.p_on is not None and b.p_on - 0.080 * fs <= t <= b.p_on + 0.010 * fs:
            return "A"
    return ""
