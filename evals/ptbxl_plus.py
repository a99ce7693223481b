"""PTB-XL+ machine measurements as a reference for ``eval measurements`` on PTB-XL.

PTB-XL+ (Strodthoff et al., "PTB-XL+, a comprehensive electrocardiographic feature
dataset", Sci Data 10:279, 2023; PhysioNet ``ptb-xl-plus`` 1.0.1) ships, for the PTB-XL
records, the features three algorithms measured: ``features/12sl_features.csv`` (GE
Marquette 12SL), ``features/unig_features.csv`` (University of Glasgow, Uni-G) and
``features/ecgdeli_features.csv`` (ECGdeli, KIT, open source). Each row is one PTB-XL
record keyed by ``ecg_id``; values are already in ms, bpm and degrees (no scale factor).
These are another machine's measurements, not cardiologists' annotations.

:func:`read_features` maps a file to ``{ecg_id: {'hr_bpm', 'pr_ms', 'qrs_ms', 'qt_ms',
'qrs_axis_deg'}}`` (floats; None for an empty, NaN or non-numeric cell) through
:data:`COLUMNS`: per quantity a candidate list of column names, the first present in the
file's header wins; when none is present the quantity is None for every record of that
reference (reported as missing, never guessed).

Column names, and how sure we are of them (no PTB-XL+ file is available here; these come
from public code that reads the real files, found with the code search tools):

- 12SL: ``HR__Global``, ``PR_Int_Global``, ``QRS_Dur_Global``, ``QT_Int_Global``,
  ``R_AxisFrontal_Global`` (confirmed by several independent readers of
  ``12sl_features.csv``, one selecting exactly these with ``usecols``, one citing
  ``feature_description.csv`` v1.0.1). ``ecg_id`` is not the first column (reported as
  column 145 of 783, between ``QRS_Area_aVF`` and ``P_On_Global``) and the rows are not
  sorted by it, so it is found by name. One reader claims the file has no ``ecg_id`` at
  all and aligns rows to ``labels/12sl_statements.csv``; we do not align by position (a
  wrong alignment would silently score the wrong records): a file without ``ecg_id`` is
  an error.
- Uni-G: ``HR__Global``, ``PR_Int_Global``, ``QRS_Dur_Global``, ``QT_Int_Global`` and the
  axis ``QRS_AxisFront_Global`` (confirmed by readers of ``unig_features.csv``). Uni-G
  flags an indeterminate frontal axis in ``QRS_AxisIndet_Global`` (seen in one reader
  only); where that column is present and non-zero the axis is None.
- ECGdeli: ``PR_Int_Global``, ``QRS_Dur_Global`` and ``RR_Mean_Global`` confirmed (a
  reader's list of ECGdeli columns); ``QT_Int_Global`` from one source only (citing
  ``feature_description.csv``; that list shows ``QT_IntFramingham_Global``, a corrected
  QT we do not use). ``HR__Global`` and an axis column are NOT confirmed for ECGdeli:
  HR falls back to 60000 / ``RR_Mean_Global``; the axis is tried under the 12SL and Uni-G
  names and is otherwise missing.
"""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Literal

from evals import records
from evals.scoring import INTERVALS
from evals.suites.common import LayoutError

Source = Literal["12sl", "unig", "ecgdeli"]
SOURCES: tuple[str, ...] = ("12sl", "unig", "ecgdeli")
FILES: dict[str, str] = {"12sl": "12sl_features.csv", "unig": "unig_features.csv",
                         "ecgdeli": "ecgdeli_features.csv"}
NAMES: dict[str, str] = {"12sl": "GE Marquette 12SL", "unig": "University of Glasgow (Uni-G)",
                         "ecgdeli": "ECGdeli (open source, KIT)"}
QUANTITIES: tuple[str, ...] = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg")
_AXIS = ("R_AxisFrontal_Global", "QRS_AxisFront_Global")
#: per source and quantity, the candidate columns (first present in the header wins);
#: see the module docstring for which are confirmed.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "12sl": {"hr_bpm": ("HR__Global",), "pr_ms": ("PR_Int_Global",),
             "qrs_ms": ("QRS_Dur_Global",), "qt_ms": ("QT_Int_Global",),
             "qrs_axis_deg": _AXIS},
    "unig": {"hr_bpm": ("HR__Global",), "pr_ms": ("PR_Int_Global",),
             "qrs_ms": ("QRS_Dur_Global",), "qt_ms": ("QT_Int_Global",),
             "qrs_axis_deg": _AXIS[::-1]},
    "ecgdeli": {"hr_bpm": ("HR__Global",), "pr_ms": ("PR_Int_Global",),
                "qrs_ms": ("QRS_Dur_Global",), "qt_ms": ("QT_Int_Global",),
                "qrs_axis_deg": _AXIS},
}
#: HR from the mean RR interval (ms) when no HR column is present
RR_COLUMN = "RR_Mean_Global"
AXIS_INDETERMINATE = "QRS_AxisIndet_Global"


class FeatureFileError(LayoutError):
    """A PTB-XL+ feature file is missing or lacks what the reader needs (message says)."""


def feature_file(path_or_dir: str | Path, source: Source) -> Path:
    """The feature CSV of ``source``: ``path_or_dir`` itself when it is a file, else
    ``DIR/features/<file>`` or ``DIR/<file>``. Raises :class:`FeatureFileError`."""
    if source not in FILES:
        raise ValueError(f"unknown PTB-XL+ source {source!r}; expected one of {SOURCES}")
    p = Path(path_or_dir)
    if p.is_file():
        return p
    tried = [p / "features" / FILES[source], p / FILES[source]]
    for t in tried:
        if t.is_file():
            return t
    raise FeatureFileError(
        f"PTB-XL+ {source} features not found: tried {[str(t) for t in tried]}; expected "
        f"the PTB-XL+ folder (ptb-xl-plus 1.0.1) holding features/{FILES[source]}")


def _num(cell: str | None) -> float | None:
    try:
        v = float(cell)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_features(path_or_dir: str | Path, source: Source) -> dict[int, dict[str, float | None]]:
    """PTB-XL+ global measurements per record.

    Parameters
    ----------
    path_or_dir : the feature CSV, or the PTB-XL+ folder (holding ``features/``).
    source : ``'12sl'`` | ``'unig'`` | ``'ecgdeli'``.

    Returns
    -------
    ``{ecg_id: {'hr_bpm', 'pr_ms', 'qrs_ms', 'qt_ms', 'qrs_axis_deg'}}``: bpm, ms, degrees
    as in the file; None where the cell is empty / NaN or the file has no column for it.

    Raises
    ------
    ValueError for an unknown source; :class:`FeatureFileError` when the file is missing,
    has no ``ecg_id`` column or none of the PR/QRS/QT columns.

    Examples
    --------
    >>> read_features("ptb-xl-plus/1.0.1", "12sl")[1]["qrs_ms"]  # doctest: +SKIP
    94.0
    """
    path = feature_file(path_or_dir, source)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        idx = {h: i for i, h in enumerate(header)}
        id_col = idx.get("ecg_id", next((i for h, i in idx.items() if h.lower() == "ecg_id"),
                                        None))
        if id_col is None:
            raise FeatureFileError(
                f"{str(path)!r} has no 'ecg_id' column (columns {header[:6]}...); expected "
                f"a PTB-XL+ {FILES[source]} whose rows are keyed by ecg_id")
        cols = {q: next((idx[c] for c in cands if c in idx), None)
                for q, cands in COLUMNS[source].items()}
        if all(cols[k] is None for k in INTERVALS):
            want = sorted({c for k in INTERVALS for c in COLUMNS[source][k]})
            raise FeatureFileError(
                f"{str(path)!r} has none of the interval columns {want}; expected a PTB-XL+ "
                f"{FILES[source]} ({NAMES[source]})")
        rr = idx.get(RR_COLUMN) if cols["hr_bpm"] is None else None
        indet = idx.get(AXIS_INDETERMINATE)
        out: dict[int, dict[str, float | None]] = {}
        for row in reader:
            if len(row) <= id_col or _num(row[id_col]) is None:
                continue  # a blank line or a row without an id cannot be joined
            get = (lambda i: _num(row[i]) if i is not None and i < len(row) else None)
            vals = {q: get(i) for q, i in cols.items()}
            if rr is not None and (r := get(rr)):
                vals["hr_bpm"] = 60000.0 / r
            if indet is not None and get(indet):
                vals["qrs_axis_deg"] = None  # Uni-G could not determine the axis
            out[int(_num(row[id_col]))] = vals
    return out


def record_result(item: tuple, use_baseline: bool) -> dict:
    """One PTB-XL record's row: ``item`` is ``(ecg_id, path to .hea, reference dict)``.

    ``engine`` holds what :func:`evals.ludb_eval.engine_summary` takes from the engine
    dict (``ecg-assistant measure --json``, :func:`evals.records.engine_dict`) plus
    ``hr_bpm`` and ``qrs_axis_deg``; ``baseline`` the NeuroKit2-alone intervals
    (:func:`benchmarks.baselines.nk_analyze`, as for LUDB)."""
    from evals.ludb_eval import engine_summary

    ecg_id, path, ref = item
    row = {"record": ecg_id, "ref": dict(ref)}
    t0 = time.perf_counter()
    d = records.engine_dict(path)
    eng = engine_summary(d, time.perf_counter() - t0)
    eng.pop("delineation")
    eng["hr_bpm"] = records.measurement(d, "hr_bpm")
    eng["qrs_axis_deg"] = records.measurement(d, "qrs_axis_deg")
    row["engine"] = eng
    if use_baseline:
        from benchmarks.baselines import nk_analyze

        t0 = time.perf_counter()
        try:
            b = nk_analyze(records.load(path))
            row["baseline"] = {"errors": b["errors"], **{k: b["intervals"][k] for k in INTERVALS}}
        except Exception as exc:  # noqa: BLE001 - reported per record
            row["baseline"] = {"error": f"{type(exc).__name__}: {exc}",
                               **{k: None for k in INTERVALS}}
        row["baseline"]["seconds"] = time.perf_counter() - t0
    return row
