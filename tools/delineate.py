"""Wave boundaries per lead: P, QRS and T onsets, peaks and offsets.

Two independent delineators are run on every usable lead and cross-checked downstream:

* ``method="openecg"``: the learned single-lead delineator of the ``openecg`` package
  (codec v6, a 1.2 M-parameter transformer trained on LUDB, QTDB and ISP; int8 ONNX, no torch).
  It labels every sample as other / P / QRS / T (/ paced QRS); waves are the contiguous runs.
* ``method="ecgdeli"``: the classic wavelet/template delineator of the KIT-IBT ECGdeli toolbox
  (Pilia et al., "ECGdeli - An open source ECG delineation toolbox for MATLAB", SoftwareX 13,
  100639, 2021), here through its Python port. Not trained on LUDB, so free of the openecg
  contamination on that benchmark.

All positions are sample indices into the record's signal at the record's own ``fs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

WaveName = Literal["P", "QRS", "T"]
WAVES: tuple[WaveName, ...] = ("P", "QRS", "T")

_CODEC_FS = 500
_CODEC_SEQ = 5000
# Minimum plausible wave durations (ms): shorter runs of one label are model flicker.
_MIN_MS = {"P": 30.0, "QRS": 30.0, "T": 50.0}
# In atrial fibrillation the codec's frame head labels flat baseline around the QRS as QRS:
# on LUDB's AF records its global QRS ran +50..+75 ms over the cardiologists'. Where the
# codec's own rhythm head calls the lead AF, QRS boundaries are tightened by the slope rule
# below (threshold 10 % of the largest slope). The 10 % was chosen on LUDB's 7 AF and 2
# flutter records, so the AF figures on LUDB are optimistic; sinus records are untouched.
_AF_QRS_SLOPE_FRAC = 0.10
_RHYTHM_AFIB = 3


@dataclass(frozen=True)
class Wave:
    """One delineated wave in one lead (sample indices, inclusive offset)."""

    onset: int
    peak: int
    offset: int


@dataclass
class LeadDelineation:
    """The waves found in one lead by one method, each list sorted by onset."""

    waves: dict[str, list[Wave]] = field(default_factory=lambda: {w: [] for w in WAVES})
    beat_class: list[tuple[int, str]] = field(default_factory=list)  # (QRS onset, label)
    codec_afib: bool = False  # the codec's rhythm head called most of this lead AF

    def to_seconds(self, fs: float) -> dict[str, list[list[float]]]:
        return {
            name: [[round(w.onset / fs, 4), round(w.peak / fs, 4), round(w.offset / fs, 4)]
                   for w in self.waves[name]]
            for name in WAVES
        }


# ---------------------------------------------------------------- openecg (learned)

def warm_up() -> None:
    """Load the learned delineator now (a worker process does it once, before its first
    record), not on the first record."""
    _codec_session()


@lru_cache(maxsize=1)
def _codec_session():
    """The bundled openecg codec (int8 ONNX), loaded once on first use."""
    import onnxruntime as ort
    from openecg.deploy import bundled_codec_onnx_path

    import os

    opts = ort.SessionOptions()
    # One thread: the classic cross-check runs beside it in another thread, and analyses run
    # one per core; on 2 cores 2 ONNX threads made a record take 0.39 s instead of 0.28 s
    # (100 LUDB records, identical results). ECG_ASSISTANT_ONNX_THREADS overrides it.
    opts.intra_op_num_threads = int(os.environ.get("ECG_ASSISTANT_ONNX_THREADS", "1"))
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(bundled_codec_onnx_path("v6")), opts,
                                providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    idx = {head: next(i for i, n in enumerate(names) if head in n)
           for head in ("frame", "beat", "rhythm")}
    return sess, sess.get_inputs()[0].name, idx


#: most leads delineated at once in one process (threads: onnxruntime releases the GIL)
MAX_LEAD_THREADS = 4


def lead_threads() -> int:
    """Threads that run the codec over the leads of one record: ``ECG_ASSISTANT_CODEC_THREADS``
    when set; 1 in a worker process of a pool (its siblings keep the other cores busy, and a
    thread each would only contend); otherwise the cores this process may use, at most
    ``MAX_LEAD_THREADS``. The 12 leads are independent, so the labels are the same however
    many threads run them; one 10-s record took 0.85 s on one core, most of it the 12 codec
    runs (``benchmarks.speed_bench``)."""
    import multiprocessing
    import os

    env = os.environ.get("ECG_ASSISTANT_CODEC_THREADS")
    if env:
        return max(1, int(env))
    if multiprocessing.parent_process() is not None:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_LEAD_THREADS, cores or 1))


def _resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    if abs(fs_in - fs_out) < 1e-9:
        return x
    from fractions import Fraction

    from scipy.signal import resample_poly

    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    return resample_poly(x, frac.numerator, frac.denominator, axis=0)


def _window_starts(n: int) -> list[int]:
    """10-s windows overlapping by 2 s so that every sample lies >= 1 s inside some window
    (the codec is least reliable at window edges)."""
    if n <= _CODEC_SEQ:
        return [0]
    starts = list(range(0, n - _CODEC_SEQ, _CODEC_SEQ - 1000))
    starts.append(n - _CODEC_SEQ)
    return sorted(set(starts))


def _codec_labels(x500: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample frame, beat and rhythm labels of one lead at 500 Hz."""
    from openecg.dsp import rank_normalize

    sess, inp, idx = _codec_session()
    n = x500.size
    frame = np.zeros(n, np.uint8)
    beat = np.zeros(n, np.uint8)
    rhythm = np.zeros(n, np.uint8)
    starts = _window_starts(n)
    for k, s in enumerate(starts):
        seg = x500[s:s + _CODEC_SEQ].astype(np.float32)
        if seg.size < _CODEC_SEQ:
            # The codec only saw full 10-s windows: a short record is repeated to fill one
            # (zero padding made it widen QRS by ~35 ms on a 4-s crop); labels of the copy
            # are discarded.
            seg_full = np.resize(seg, _CODEC_SEQ)
        else:
            seg_full = seg
        x = rank_normalize(seg_full).astype(np.float32)
        out = sess.run(None, {inp: x[None, :]})
        f = out[idx["frame"]][0, :seg.size].argmax(-1)
        b = out[idx["beat"]][0, :seg.size].argmax(-1)
        r = out[idx["rhythm"]][0, :seg.size].argmax(-1)
        # keep the central part of each window except at the record's ends
        lo = 0 if k == 0 else 500
        hi = seg.size if k == len(starts) - 1 else seg.size - 500
        frame[s + lo:s + hi] = f[lo:hi]
        beat[s + lo:s + hi] = b[lo:hi]
        rhythm[s + lo:s + hi] = r[lo:hi]
    return frame, beat, rhythm


_BEAT_NAMES = {1: "normal", 2: "ventricular", 3: "paced", 4: "fusion", 5: "unknown"}


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(class, start, end-inclusive) for each run of equal labels."""
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels.astype(np.int16))) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change - 1, [labels.size - 1]))
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def tighten_qrs(x: np.ndarray, on: int, off: int, fs: float,
                frac: float = 0.10) -> tuple[int, int]:
    """Move QRS onset/offset inward across flat signal.

    The learned delineator sometimes labels flat baseline around the QRS as QRS (seen in atrial
    fibrillation on LUDB, where its QRS ran ~70 ms wider than the cardiologists'). A boundary
    is moved inward while the local slope (5-ms differences) stays below ``frac`` of the
    largest slope inside the complex: the classic slope-threshold boundary rule (e.g. Laguna
    et al., Comput Biomed Res 27:45, 1994), applied here only to shrink, never to widen, and
    by at most 40 ms per side.
    """
    if off - on < 4:
        return on, off
    h = max(1, int(round(0.005 * fs)))
    seg = x[max(0, on - h):min(x.size, off + h + 1)]
    slope = np.abs(seg[2 * h:] - seg[:-2 * h]) if seg.size > 2 * h else np.zeros(0)
    if slope.size < off - on:
        return on, off
    slope = slope[:off - on + 1]
    thr = frac * float(slope.max())
    limit = int(round(0.040 * fs))
    active = np.flatnonzero(slope > thr)
    if active.size == 0:
        return on, off
    new_on = on + min(int(active[0]), limit)
    new_off = off - min(int(slope.size - 1 - active[-1]), limit)
    return (new_on, new_off) if new_off - new_on >= 4 else (on, off)


def _peak(x: np.ndarray, on: int, off: int) -> int:
    seg = x[on:off + 1]
    base = 0.5 * (x[on] + x[off])
    return on + int(np.argmax(np.abs(seg - base)))


def delineate_openecg(signal: np.ndarray, fs: float) -> list[LeadDelineation]:
    """Delineate every column of ``signal`` (n_samples, n_leads, mV) with the openecg codec.

    Returns one :class:`LeadDelineation` per column, positions at ``fs``.
    """
    x500 = _resample(np.asarray(signal, float), fs, _CODEC_FS)
    scale = fs / _CODEC_FS
    cls_to_wave = {1: "P", 2: "QRS", 3: "T", 4: "QRS"}
    out: list[LeadDelineation] = []
    columns = [x500[:, j] for j in range(x500.shape[1])]
    threads = min(lead_threads(), len(columns))
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        _codec_session()  # loaded once here, not by every thread at the same time
        with ThreadPoolExecutor(threads, thread_name_prefix="codec") as pool:
            labels = list(pool.map(_codec_labels, columns))
    else:
        labels = [_codec_labels(c) for c in columns]
    for j, (frame, beat, rhythm) in enumerate(labels):
        lead = LeadDelineation()
        lead.codec_afib = bool(np.mean(rhythm == _RHYTHM_AFIB) > 0.5)
        x = signal[:, j]
        for cls, s, e in _runs(frame):
            name = cls_to_wave.get(cls)
            if name is None or (e - s + 1) * 1000.0 / _CODEC_FS < _MIN_MS[name]:
                continue
            on = int(round(s * scale))
            off = min(int(round(e * scale)), x.size - 1)
            if name == "QRS" and lead.codec_afib:
                on, off = tighten_qrs(x, on, off, fs, _AF_QRS_SLOPE_FRAC)
            lead.waves[name].append(Wave(on, _peak(x, on, off), off))
            if name == "QRS":
                codes = beat[s:e + 1]
                codes = codes[codes > 0]
                label = _BEAT_NAMES.get(int(np.bincount(codes).argmax()), "unknown") \
                    if codes.size else ("paced" if cls == 4 else "unknown")
                lead.beat_class.append((on, label))
        out.append(lead)
    return out


# ---------------------------------------------------------------- ECGdeli (classic)

def delineate_ecgdeli(signal: np.ndarray, fs: float) -> list[LeadDelineation]:
    """Delineate every column of ``signal`` with ECGdeli (Pilia et al. 2021).

    ECGdeli filters the signal itself (baseline removal, band-pass, isoline correction) and
    synchronises beats across leads. Returns one :class:`LeadDelineation` per column.
    """
    import ecgdeli

    x = np.asarray(signal, float)
    # the 50-Hz notch needs fs > 100 Hz (Nyquist); below that there is no mains band to remove
    filtered = ecgdeli.filter_ecg(x, fs, notch=50.0 if fs > 110 else None)
    ann = ecgdeli.annotate(filtered, fs)
    cols = {"P": (0, 1, 2), "QRS": (3, 5, 7), "T": (9, 10, 11)}
    out: list[LeadDelineation] = []
    for fpt in ann.leads:
        pos = fpt.samples  # (beats, 12) float, NaN where missing
        lead = LeadDelineation()
        for name, (c_on, c_pk, c_off) in cols.items():
            for on, pk, off in pos[:, [c_on, c_pk, c_off]]:
                if np.isnan(on) or np.isnan(off) or off <= on:
                    continue
                pk = pk if not np.isnan(pk) else 0.5 * (on + off)
                lead.waves[name].append(Wave(int(on), int(pk), int(off)))
        out.append(lead)
    return out
