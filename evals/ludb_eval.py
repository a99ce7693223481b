"""Per-record LUDB evaluation: reference intervals, engine and NeuroKit2 baseline values,
rhythm and axis categories. Shared by ``benchmarks.ludb_bench`` and the ``measurements``
suite (:mod:`evals.suites.measurements`), so both score the same numbers the same way.

The reference is :func:`evals.ludb.reference_intervals` (``shared/design/MEASUREMENT.md``);
the engine values come from :func:`evals.records.engine_dict`, i.e. what
``ecg-assistant measure --json`` prints.
"""
from __future__ import annotations

import time
from pathlib import Path

from evals import labels as L
from evals import ludb, records
from evals.scoring import INTERVALS

#: statement classes LUDB's diagnoses can confirm or refute
#: (every class ludb.csv names; one never stated scores F1 = 0 where it has support)
LUDB_CLASSES = ("sr", "sb", "stach", "sa", "af", "afl", "wap", "ear", "junctional", "vt",
                "aberrant", "iavb", "avb2", "avb3", "sa_block", "rbbb", "irbbb", "lbbb",
                "ilbbb", "lafb", "lpfb", "ivcd", "lad", "rad", "pvc", "pac", "lvh",
                "lv_strain", "lae", "rae", "rvh", "paced", "stemi", "ischemia", "scar",
                "isch_scar", "nsrepol", "er")
#: the LUDB classes whose criteria need no millivolts (rhythm, AV and SA block, bundle branch
#: and fascicular block, axis, extrasystoles, pacing, left atrial enlargement, infarct scar,
#: early repolarization: issue 12's list as read here): all but the voltage, hypertrophy,
#: right-atrial, ST-T and ischaemia classes, which LUDB's per-lead normalised amplitudes
#: cannot judge
LUDB_NO_MV_CLASSES = tuple(k for k in LUDB_CLASSES if k not in (
    "lvh", "lv_strain", "rae", "rvh", "stemi", "ischemia", "isch_scar", "nsrepol"))
_SINUS_KEYS = {"sr", "sb", "stach", "sa"}


def rhythm_category(codes) -> str:
    """'af' | 'flutter' | 'sinus' | 'other' from statement codes (AF, then flutter wins)."""
    keys = L.to_classes(codes)
    if "af" in keys:
        return "af"
    if "afl" in keys:
        return "flutter"
    return "sinus" if keys & _SINUS_KEYS else "other"


def axis_category(axis_deg: float | None, codes=(), left_below_deg: float = -30.0) -> str | None:
    """'normal' (``left_below_deg``..+90), 'left' (-90..<``left_below_deg``), 'right'
    (>+90..180), 'extreme' (other); from the statements (LAD / RAD / else normal) when the
    axis value is absent.

    ``left_below_deg=-30`` is the AHA/ACC/HRS convention (Surawicz et al., Circulation
    119:e235, 2009). LUDB's cardiologists (Nizhny Novgorod) appear to follow the Russian
    school, where left deviation starts below 0 degrees ('horizontal' is 0..+30): LUDB
    does not define its categories, so agreement is reported under both limits."""
    if axis_deg is not None:
        a = (axis_deg + 180.0) % 360.0 - 180.0
        if left_below_deg <= a <= 90.0:
            return "normal"
        if -90.0 <= a < left_below_deg:
            return "left"
        return "right" if a > 90.0 else "extreme"
    keys = L.to_classes(codes)
    if not codes:
        return None
    return "left" if "lad" in keys else "right" if "rad" in keys else "normal"


def engine_summary(d: dict, seconds: float) -> dict:
    """The engine values the LUDB scores use, from an engine dict (``measure --json``)."""
    ok = "error" not in d
    codes = records.statement_codes(d)
    axis = records.measurement(d, "qrs_axis_deg")
    return {
        "seconds": seconds, "error": d.get("error"),
        **{k: records.measurement(d, k) for k in INTERVALS},
        "codes": codes, "rhythm": rhythm_category(codes) if ok else None,
        "axis_deg": axis, "axis": axis_category(axis, codes) if ok else None,
        "axis_below0": axis_category(axis, codes, 0.0) if ok else None,
        "delineation": d.get("delineation") or {}}


def reference_axis(path: str | Path, beats: list[dict]) -> float | None:
    """Frontal QRS axis measured on the cardiologists' boundaries: per limb lead the net
    QRS area between each reference beat's QRS onset and offset (onset level as baseline),
    median over beats, limb gains restored by Einthoven/Goldberger (LUDB stores each lead
    normalised), least squares over the six limb leads (:func:`tools.measure.frontal_axis`).
    It separates the engine's axis error from LUDB's axis-category convention."""
    import numpy as np

    from tools.calibration import limb_gains
    from tools.measure import frontal_axis

    rec = records.load(path)
    sig, names, fs = np.asarray(rec.signal, float), list(rec.sig_name), float(rec.fs)
    gains = limb_gains(sig, names) or {}
    areas = {}
    for lead in ("I", "II", "III", "aVR", "aVL", "aVF"):
        if lead not in names:
            continue
        x = sig[:, names.index(lead)] * gains.get(lead, 1.0)
        vals = []
        for b in beats:
            if b["qrs_on_s"] is None or b["qrs_off_s"] is None:
                continue
            on, off = int(round(b["qrs_on_s"] * fs)), int(round(b["qrs_off_s"] * fs))
            if 0 <= on < off < x.size:
                vals.append(float((x[on:off + 1] - x[on]).sum() * 1000.0 / fs))
        if vals:
            areas[lead] = float(np.median(vals))
    return frontal_axis(areas)


def record_result(path: str | Path, use_engine: bool = True, use_baseline: bool = True) -> dict:
    """Reference, engine and baseline results of one LUDB record.

    Parameters
    ----------
    path : record path without extension (``.../ludb/data/1``); its per-lead annotation
        files (``.i`` ... ``.v6``) must be beside it.
    use_engine, use_baseline : run the evidence engine / the NeuroKit2-alone baseline.

    Returns
    -------
    A picklable dict: ``record`` (the file stem, int when numeric), ``waves`` (annotations),
    ``ref`` / ``ref0`` (reference intervals in ms, trim 2 / trim 0, without per-beat detail),
    and ``engine`` / ``baseline`` dicts with ``pr_ms``, ``qrs_ms``, ``qt_ms`` (ms),
    ``seconds`` and ``delineation``.
    """
    path = Path(path)
    stem = path.name
    waves = ludb.read_waves(path)
    out = {"record": int(stem) if stem.isdigit() else stem, "waves": waves,
           "ref": ludb.reference_intervals(waves, trim=2),
           "ref0": ludb.reference_intervals(waves, trim=0)}
    out["ref"]["axis_deg"] = reference_axis(path, out["ref"]["beats"])
    for r in ("ref", "ref0"):
        out[r].pop("beats")
    if use_engine:
        t0 = time.perf_counter()
        d = records.engine_dict(path)
        out["engine"] = engine_summary(d, time.perf_counter() - t0)
    if use_baseline:
        from benchmarks.baselines import nk_analyze

        t0 = time.perf_counter()
        try:
            b = nk_analyze(records.load(path))
            out["baseline"] = {"errors": b["errors"],
                               **{k: b["intervals"][k] for k in INTERVALS},
                               "delineation": b["delineation"]}
        except Exception as exc:  # noqa: BLE001 - reported per record
            out["baseline"] = {"error": f"{type(exc).__name__}: {exc}",
                               **{k: None for k in INTERVALS}, "delineation": {}}
        out["baseline"]["seconds"] = time.perf_counter() - t0
    return out
