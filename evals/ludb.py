"""LUDB reference: per-lead wave annotations, global reference intervals and diagnosis labels.

LUDB (Kalyakulina et al., IEEE Access 8:186181, 2020, doi:10.1109/ACCESS.2020.3029211;
ODC-By 1.0) has cardiologists' P/QRS/T boundaries annotated separately in each of the 12
leads, and per-record diagnoses in ``ludb.csv``. This module turns them into:

- :func:`read_waves`: ``{lead: {'P'|'QRS'|'T': [(onset_s, peak_s, offset_s), ...]}}``;
- :func:`reference_intervals`: one global PR/QRS/QT per record by the rule in
  ``shared/design/MEASUREMENT.md`` (implemented here and nowhere else);
- :func:`read_labels`: rhythm and axis categories, paced flag and conduction labels, with
  the SNOMED CT codes of :mod:`evals.labels` so the same scorer serves LUDB and CinC.

Example
-------
>>> waves = read_waves(default_ludb_dir() / "data" / "1")          # doctest: +SKIP
>>> reference_intervals(waves)["qrs_ms"]                           # doctest: +SKIP
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import wfdb

Wave = tuple  # (onset_s | None, peak_s, offset_s | None)

#: annotation file extension -> standard lead name
LUDB_LEADS: dict[str, str] = {
    "i": "I", "ii": "II", "iii": "III", "avr": "aVR", "avl": "aVL", "avf": "aVF",
    "v1": "V1", "v2": "V2", "v3": "V3", "v4": "V4", "v5": "V5", "v6": "V6",
}
_PEAK_TO_WAVE = {"p": "P", "N": "QRS", "t": "T"}

#: Records of our LUDB half that are in openecg's validation split (STACK.md): the only
#: LUDB records on which a pipeline using openecg's delineator is not contaminated.
HELD_OUT: tuple[int, ...] = (11, 21, 33, 35, 39, 47, 53, 55, 67, 73, 91, 93, 95, 101, 115,
                             119, 133, 135, 179, 189, 191)

# MEASUREMENT.md constants (seconds).
BEAT_GAP_S = 0.120        # a new beat when the next QRS peak is > 120 ms after the previous
MIN_LEADS = 6             # beats annotated in >= 6 leads; >= 6 P / T waves per beat
P_WINDOW_S = (0.400, 0.020)   # P offset in (QRS onset - 400 ms, QRS onset + 20 ms]
T_WINDOW_S = (0.020, 0.600)   # T onset in [QRS offset - 20 ms, QRS offset + 600 ms)
# Times are sample / fs in float seconds: 60 samples at 500 Hz give 1.12 - 1.0 =
# 0.12000000000000011. Comparisons allow this rounding so that a boundary exactly on a limit falls as the rule says.
_EPS_S = 1e-9


def default_data_dir() -> Path:
    """``<workspace>/shared/data``: the folder beside this checkout (see shared/data/README)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def default_ludb_dir() -> Path:
    """The LUDB folder (holding ``data/`` and ``ludb.csv``) under :func:`default_data_dir`."""
    return default_data_dir() / "ludb"


def record_ids(ludb_dir: Path | None = None) -> list[int]:
    """Numbers of the LUDB records present (``data/N.hea``), sorted."""
    data = Path(ludb_dir or default_ludb_dir()) / "data"
    ids = sorted(int(p.stem) for p in data.glob("*.hea") if p.stem.isdigit())
    if not ids:
        raise FileNotFoundError(f"no LUDB records (*.hea) under {str(data)!r}")
    return ids


def record_path(record: int, ludb_dir: Path | None = None) -> Path:
    """Path of a record without extension (what wfdb and the loaders take)."""
    return Path(ludb_dir or default_ludb_dir()) / "data" / str(record)


# ---------------------------------------------------------------------------------------
# Per-lead annotations
# ---------------------------------------------------------------------------------------
def parse_annotation(symbols: list[str], samples, fs: float) -> dict[str, list[Wave]]:
    """Group one lead's annotation symbols into waves.

    A wave is a peak symbol (``p``, ``N``, ``t``) with the ``(`` just before it as onset and
    the ``)`` just after it as offset; a missing boundary is ``None``. LUDB has one known
    irregularity (records 7, 95, 111): a QRS peak without its ``(``, and in record 7 a peak
    placed one sample *before* its onset, which sorts as ``N ( )``; that pair is taken as
    the wave's onset and offset.
    """
    waves: dict[str, list[Wave]] = {"P": [], "QRS": [], "T": []}
    n = len(symbols)
    t = [float(s) / fs for s in samples]
    for k, sym in enumerate(symbols):
        if sym not in _PEAK_TO_WAVE:
            continue
        on = t[k - 1] if k > 0 and symbols[k - 1] == "(" else None
        off = t[k + 1] if k + 1 < n and symbols[k + 1] == ")" else None
        if on is None and off is None and k + 2 < n and symbols[k + 1:k + 3] == ["(", ")"]:
            on, off = t[k + 1], t[k + 2]
        waves[_PEAK_TO_WAVE[sym]].append((on, t[k], off))
    return waves


def read_waves(path: str | Path) -> dict[str, dict[str, list[Wave]]]:
    """Read the 12 per-lead annotation files of one LUDB record.

    Parameters
    ----------
    path : the record path without extension (``.../ludb/data/1``).

    Returns
    -------
    ``{lead: {'P': [...], 'QRS': [...], 'T': [...]}}`` with standard lead names and
    ``(onset_s, peak_s, offset_s)`` tuples in seconds from the start of the record.
    """
    path = Path(path)
    out: dict[str, dict[str, list[Wave]]] = {}
    for ext, lead in LUDB_LEADS.items():
        ann_file = path.with_name(f"{path.name}.{ext}")
        if not ann_file.exists():
            raise FileNotFoundError(f"LUDB annotation {str(ann_file)!r} is missing "
                                    f"(expected one file per lead: .i, .ii, ... .v6)")
        ann = wfdb.rdann(str(path), ext)
        fs = float(ann.fs) if ann.fs else 500.0  # LUDB is 500 Hz throughout
        out[lead] = parse_annotation(list(ann.symbol), ann.sample, fs)
    return out


# ---------------------------------------------------------------------------------------
# Reference global intervals (MEASUREMENT.md)
# ---------------------------------------------------------------------------------------
def _kth(values: list[float], k: int, latest: bool = False) -> float | None:
    """The (k+1)-th earliest (or latest) value; None when fewer than MIN_LEADS values."""
    if len(values) < MIN_LEADS:
        return None
    return sorted(values, reverse=latest)[k]


def _cluster_beats(waves: dict) -> list[list[tuple[str, Wave]]]:
    """Cluster all leads' QRS annotations by peak time (MEASUREMENT.md step 1)."""
    qrs = sorted(((w[1], lead, w) for lead, lw in waves.items() for w in lw.get("QRS", [])
                  if w[1] is not None), key=lambda x: x[0])
    beats: list[list[tuple[str, Wave]]] = []
    last_peak = None
    for peak, lead, w in qrs:
        if last_peak is None or peak - last_peak > BEAT_GAP_S + _EPS_S:
            beats.append([])
        beats[-1].append((lead, w))
        last_peak = peak
    return beats


def _beat(members: list[tuple[str, Wave]], p_waves, t_waves, trim: int) -> dict:
    """Boundaries and intervals of one beat (MEASUREMENT.md step 2)."""
    per_lead: dict[str, list[Wave]] = {}
    for lead, w in members:
        per_lead.setdefault(lead, []).append(w)
    # A lead contributes one onset (its earliest) and one offset (its latest) per beat.
    onsets, offsets = [], []
    for ws in per_lead.values():
        ons = [w[0] for w in ws if w[0] is not None]
        offs = [w[2] for w in ws if w[2] is not None]
        if ons:
            onsets.append(min(ons))
        if offs:
            offsets.append(max(offs))
    qrs_on, qrs_off = _kth(onsets, trim), _kth(offsets, trim, latest=True)
    p_on = t_end = None
    if qrs_on is not None:
        lo, hi = qrs_on - P_WINDOW_S[0], qrs_on + P_WINDOW_S[1]
        p_on = _kth([w[0] for w in p_waves if lo + _EPS_S < w[2] <= hi + _EPS_S], trim)
    if qrs_off is not None:
        lo, hi = qrs_off - T_WINDOW_S[0], qrs_off + T_WINDOW_S[1]
        t_end = _kth([w[2] for w in t_waves if lo - _EPS_S <= w[0] < hi - _EPS_S], trim,
                     latest=True)

    def ms(a, b):
        return None if a is None or b is None else round((b - a) * 1000.0, 3)

    return {
        "qrs_peak_s": median(w[1] for _, w in members), "n_leads": len(per_lead),
        "qrs_on_s": qrs_on, "qrs_off_s": qrs_off, "p_on_s": p_on, "t_end_s": t_end,
        "pr_ms": ms(p_on, qrs_on), "qrs_ms": ms(qrs_on, qrs_off), "qt_ms": ms(qrs_on, t_end),
    }


def reference_intervals(waves: dict[str, dict[str, list[Wave]]], trim: int = 2) -> dict:
    """Global PR, QRS and QT of one record from its per-lead annotations.

    Implements ``shared/design/MEASUREMENT.md`` exactly: beats are QRS annotations of all
    leads clustered by peak time (gap > 120 ms starts a new beat) and kept when annotated in
    >= 6 leads. Per beat, with ``trim`` = k, QRS onset is the (k+1)-th earliest QRS onset
    over leads and QRS offset the (k+1)-th latest offset; P onset is the (k+1)-th earliest
    onset of the P waves (any lead) whose offset lies in (QRS onset - 400 ms, QRS onset +
    20 ms], T end the (k+1)-th latest offset of the T waves whose onset lies in [QRS offset
    - 20 ms, QRS offset + 600 ms); P and T need >= 6 such waves. Per record, the median over
    beats. ``trim=2`` is the reference; ``trim=0`` (plain earliest/latest, CSE style) is
    for information only.

    Where a QRS annotation lacks a boundary (LUDB records 7, 95, 111) that lead simply does
    not contribute it; a beat needs >= 6 known QRS onsets (offsets) as well.

    Returns
    -------
    dict with ``pr_ms``, ``qrs_ms``, ``qt_ms`` (float ms or None when no beat qualifies),
    ``n_beats`` (beats kept), ``n_pr_beats``/``n_qrs_beats``/``n_qt_beats`` and ``beats``
    (one dict per kept beat with its boundaries in s and intervals in ms).
    """
    if trim < 0 or trim >= MIN_LEADS:
        raise ValueError(f"trim must be in 0..{MIN_LEADS - 1}, got {trim!r}")
    p_waves = [w for lw in waves.values() for w in lw.get("P", [])
               if w[0] is not None and w[2] is not None]
    t_waves = [w for lw in waves.values() for w in lw.get("T", [])
               if w[0] is not None and w[2] is not None]
    beats = [_beat(m, p_waves, t_waves, trim) for m in _cluster_beats(waves)
             if len({lead for lead, _ in m}) >= MIN_LEADS]
    out: dict = {"trim": trim, "n_beats": len(beats)}
    for key in ("pr_ms", "qrs_ms", "qt_ms"):
        vals = [b[key] for b in beats if b[key] is not None]
        out[key] = float(median(vals)) if vals else None
        out[f"n_{key[:-3]}_beats"] = len(vals)
    out["beats"] = beats
    return out


def annotated_span(lead_waves: dict[str, list[Wave]]) -> tuple[float, float] | None:
    """(first annotated onset, last annotated offset) of one lead in s, over P, QRS and T;
    a wave lacking a boundary contributes its peak. None when the lead has no annotation."""
    starts = [w[0] if w[0] is not None else w[1] for ws in lead_waves.values() for w in ws]
    ends = [w[2] if w[2] is not None else w[1] for ws in lead_waves.values() for w in ws]
    return (min(starts), max(ends)) if starts else None


# ---------------------------------------------------------------------------------------
# Diagnoses (ludb.csv)
# ---------------------------------------------------------------------------------------
_SINUS = {"sinus rhythm": "426783006", "sinus bradycardia": "426177001",
          "sinus tachycardia": "427084000", "sinus arrhythmia": "427393009",
          "irregular sinus rhythm": "427393009"}
_CONDUCTION = {  # ludb.csv text (lower case) -> (our key, SNOMED CT code)
    "complete right bundle branch block": ("rbbb", "59118001"),
    "incomplete right bundle branch block": ("irbbb", "713426002"),
    "complete left bundle branch block": ("lbbb", "164909002"),
    "incomplete left bundle branch block": ("ilbbb", "251120003"),
    "left anterior hemiblock": ("lafb", "445118002"),
    "i degree av block": ("avb1", "270492004"),
    "iii degree av-block": ("avb3", "27885002"),
    "non-specific intravintricular conduction delay": ("ivcd", "698252002"),
    "sinoatrial blockade, undefined": ("sa_block", "65778007"),
}
_AXIS = {"normal": "normal", "vertical": "normal", "horizontal": "normal",
         "left axis deviation": "left", "right axis deviation": "right"}


@dataclass
class LudbLabels:
    """Diagnoses of one LUDB record, as categories and as SNOMED CT codes.

    rhythm : 'sinus' | 'af' | 'flutter' | 'other'.
    axis : 'normal' | 'left' | 'right' | None (not stated; LUDB leaves it empty when paced).
    paced : any entry under 'Cardiac pacing'.
    conduction : keys of ``_CONDUCTION`` ('rbbb', 'irbbb', 'lbbb', 'lafb', 'avb1', ...).
    snomed : codes for the rhythm, axis deviation, conduction, ectopy, LVH and pacing.
    raw : the csv columns, each split into its lines.
    """

    record: int
    rhythm: str
    axis: str | None
    paced: bool
    conduction: set[str] = field(default_factory=set)
    snomed: set[str] = field(default_factory=set)
    age: float | None = None
    sex: str | None = None
    raw: dict[str, list[str]] = field(default_factory=dict)


def _rhythm(lines: list[str]) -> tuple[str, set[str]]:
    """Rhythm category and codes. AF, then flutter, then any sinus label decides. Wandering
    atrial pacemaker alone is 'other' (the pacemaker moves between the SA node and atrial
    foci, so it is not a sinus rhythm); in our half it only occurs beside 'Sinus
    bradycardia' (record 127), where the sinus label decides. 'Aberrant conduction' is a
    QRS finding and does not change the rhythm."""
    low = [s.lower() for s in lines]
    codes = {_SINUS[s] for s in low if s in _SINUS}
    if any(s.startswith("atrial fibrillation") for s in low):
        return "af", {"164889003"}
    if any(s.startswith("atrial flutter") for s in low):
        return "flutter", {"164890007"}
    return ("sinus" if codes else "other"), codes


def _other_codes(raw: dict[str, list[str]]) -> set[str]:
    """Codes (or ``ludb:`` tokens where SNOMED has no code for LUDB's wording) for the
    rhythm, hypertrophy, ischaemia, repolarisation and other columns, so that every class
    ludb.csv names can be scored (:data:`evals.labels.CLASSES`)."""
    codes: set[str] = set()
    for s in raw.get("Rhythms", []):
        low = s.lower()
        if "wandering atrial pacemaker" in low:
            codes.add("195101003")
        elif low.startswith("aberrant"):
            codes.add("ludb:aberrant")
        elif "ectopic atrial" in low or low.startswith("atrial rhythm"):
            codes.add("106068003")
        elif "junctional" in low or "nodal rhythm" in low:
            codes.add("29320008")
        elif "ventricular tachycardia" in low:
            codes.add("164895002")
    hyper = {
        "left ventricular hypertrophy": "164873001", "left ventricular overload": "370365005",
        "left atrial hypertrophy": "67741000119109", "left atrial overload": "67741000119109",
        "right atrial hypertrophy": "446358003", "right atrial overload": "446358003",
        "right ventricular hypertrophy": "89792004", "right ventricular overload": "89792004"}
    for s in raw.get("Hypertrophies", []):
        if s.lower() in hyper:
            codes.add(hyper[s.lower()])
    for s in raw.get("Ischemia", []):
        low = s.lower()
        if low.startswith("stemi"):
            codes.add("ludb:stemi")
        elif low.startswith("scar"):
            codes.add("ludb:scar")
            # the wall, for the scar-by-wall table (evals.suites.statements)
            wall = low.split(":", 1)[1].replace("wall", "").strip() if ":" in low else ""
            if wall:
                codes.add(f"ludb:scar@{wall}")
        elif low.startswith("undefined ischemia"):
            codes.add("ludb:isch_scar")
        elif low.startswith("ischemia"):
            codes.add("ludb:ischemia")
    if raw.get("Non-specific repolarization abnormalities"):
        codes.add("ludb:nsrepol")
    if any("early repolarization" in s.lower() for s in raw.get("Other states", [])):
        codes.add("428417006")
    return codes


def _labels_from_row(row: dict[str, str]) -> LudbLabels:
    raw = {k.strip(): [s.strip() for s in (v or "").split("\n") if s.strip()]
           for k, v in row.items()}
    rhythm, codes = _rhythm(raw.get("Rhythms", []))
    axis_text = " ".join(raw.get("Electric axis of the heart", [])).lower()
    axis_text = axis_text.replace("electric axis of the heart:", "").strip()
    axis = _AXIS.get(axis_text) if axis_text else None
    codes |= {"left": {"39732003"}, "right": {"47665007"}}.get(axis or "", set())
    conduction = set()
    for s in raw.get("Conduction abnormalities", []):
        key = _CONDUCTION.get(s.lower())
        if key:
            conduction.add(key[0])
            codes.add(key[1])
    for s in raw.get("Conduction abnormalities", []):
        low = s.lower()
        if low.startswith("ii degree") or "mobitz" in low or "wenckebach" in low:
            conduction.add("avb2")
            codes.add("195042002")
    ectopy = " ".join(raw.get("Extrasystolies", [])).lower()
    if "ventricular extrasystole" in ectopy:
        codes.add("427172004")
    if "atrial extrasystole" in ectopy:
        codes.add("284470004")
    codes |= _other_codes(raw)
    paced = bool(raw.get("Cardiac pacing"))
    if paced:
        codes.add("10370003")
    age = raw.get("Age", [""])[0] if raw.get("Age") else ""
    sex = raw.get("Sex", [""])[0] if raw.get("Sex") else ""
    return LudbLabels(record=int(raw["ID"][0]), rhythm=rhythm, axis=axis, paced=paced,
                      conduction=conduction, snomed=codes,
                      age=float(age) if age.replace(".", "", 1).isdigit() else None,
                      sex=sex if sex in ("M", "F") else None, raw=raw)


def read_labels(csv_path: str | Path | None = None) -> dict[int, LudbLabels]:
    """Per-record labels from ``ludb.csv`` (multi-line cells: one diagnosis a line).

    Axis: LUDB's 'vertical' (about +70..+90 degrees) and 'horizontal' (about 0..+30) lie
    inside the normal range -30..+90 degrees, so both count as 'normal'. Caution: LUDB does
    not define its categories; its 'left axis deviation' appears to follow the Russian
    convention (below 0 degrees, not below -30), so it includes axes that the AHA
    convention calls normal (benchmarks.ludb_bench reports agreement under both)."""
    path = Path(csv_path or default_ludb_dir() / "ludb.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "Rhythms" not in rows[0]:
        raise ValueError(f"{str(path)!r} is not LUDB's ludb.csv (no 'Rhythms' column)")
    return {lab.record: lab for lab in map(_labels_from_row, rows)}
