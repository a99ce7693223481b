"""Scores for measured intervals and wave boundaries against a reference.

Global intervals (:func:`interval_errors`, :func:`interval_report`)
    Per interval: records with both values (``n``), reference present but prediction
    missing (``missing``), prediction present where the reference has none (``extra``, e.g.
    a PR in atrial fibrillation), mean and SD of (predicted - reference) in ms, median
    |error|, and the share of records whose |error| is within a per-record tolerance.

    Tolerances. IEC 60601-2-25:2011 (which absorbed IEC 60601-2-51:2003) tests global
    interval measurement on biological ECGs of the CSE measurement database and bounds the
    *mean* and the *SD* of the differences over that set; the limits as we recall them are
    PR and QRS mean within +-10 ms with SD <= 10 ms, QT mean within +-25 ms with SD <= 30 ms
    (P duration +-10 / 15 ms). We could not check the clause or the numbers against the
    standard's text here (it is not freely available): treat them as "IEC-style" and verify
    before claiming anything about conformity. They are applied to LUDB, not to CSE, so ``iec_style_ok`` is informative
    only. The per-record share ``within_tol`` uses the same mean limits as a per-record
    tolerance (10 ms PR/QRS, 25 ms QT): that criterion is ours, not the standard's.

Per-lead wave boundaries (:func:`match_boundaries`, :func:`boundary_scores`)
    Predicted onsets/offsets of P, QRS and T in each lead are matched one-to-one to the
    annotated ones within 150 ms (closest pairs first). Matched pairs give the error
    (predicted - annotated, ms); unmatched annotations are false negatives. LUDB does not
    annotate the first and last second or so of many leads, so an unmatched prediction is a
    false positive only inside the lead's annotated span: from its first annotated onset
    - 150 ms to its last annotated offset + 150 ms (over P, QRS and T of that lead);
    predictions outside are ignored. Sensitivity = TP / (TP + FN), PPV = TP / (TP + FP).
"""
from __future__ import annotations

import math
from statistics import mean, median, stdev

from evals.ludb import annotated_span

INTERVALS: tuple[str, ...] = ("pr_ms", "qrs_ms", "qt_ms")
#: "IEC-style" (|mean| limit, SD limit) in ms; see module docstring for their status
IEC_STYLE_LIMITS_MS: dict[str, tuple[float, float]] = {
    "pr_ms": (10.0, 10.0), "qrs_ms": (10.0, 10.0), "qt_ms": (25.0, 30.0)}
#: our per-record tolerance (ms) for the ``within_tol`` share
RECORD_TOLERANCE_MS: dict[str, float] = {"pr_ms": 10.0, "qrs_ms": 10.0, "qt_ms": 25.0}
BOUNDARY_TOLERANCE_S = 0.150
WAVES: tuple[str, ...] = ("P", "QRS", "T")


def _num(x) -> float | None:
    """A finite float, or None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def interval_errors(predictions: dict, references: dict, records=None) -> dict[str, dict]:
    """Error statistics per global interval.

    Parameters
    ----------
    predictions, references : ``{record: {'pr_ms', 'qrs_ms', 'qt_ms'}}`` (values float ms or
        None); a record absent from ``predictions`` predicts nothing.
    records : restrict to these records (default: all reference records).

    Returns
    -------
    ``{interval: {'n','missing','extra','mean_error_ms','sd_error_ms',
    'median_abs_error_ms','within_tol','tolerance_ms','iec_style_ok'}}``.
    """
    recs = list(references) if records is None else [r for r in records if r in references]
    out = {}
    for key in INTERVALS:
        errors, missing, extra = [], 0, 0
        for r in recs:
            ref = _num(references[r].get(key))
            pred = _num((predictions.get(r) or {}).get(key))
            if ref is None:
                extra += pred is not None
            elif pred is None:
                missing += 1
            else:
                errors.append(pred - ref)
        tol = RECORD_TOLERANCE_MS[key]
        m = mean(errors) if errors else None
        sd = stdev(errors) if len(errors) > 1 else None
        lim_mean, lim_sd = IEC_STYLE_LIMITS_MS[key]
        out[key] = {
            "n": len(errors), "missing": missing, "extra": extra,
            "mean_error_ms": m, "sd_error_ms": sd,
            "median_abs_error_ms": median(abs(e) for e in errors) if errors else None,
            "within_tol": (sum(abs(e) <= tol for e in errors) / len(errors)) if errors else None,
            "tolerance_ms": tol,
            "iec_style_ok": (abs(m) <= lim_mean and sd <= lim_sd) if sd is not None else None,
        }
    return out


def interval_report(predictions: dict, references: dict, held_out) -> dict[str, dict]:
    """:func:`interval_errors` on all records, on ``held_out`` and on the rest."""
    held = set(held_out)
    return {
        "all": interval_errors(predictions, references),
        "held_out": interval_errors(predictions, references, [r for r in references if r in held]),
        "rest": interval_errors(predictions, references, [r for r in references if r not in held]),
    }


# ---------------------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------------------
def match_boundaries(pred: list[float], ref: list[float],
                     tolerance_s: float = BOUNDARY_TOLERANCE_S) -> list[tuple[int, int]]:
    """One-to-one matching of predicted to reference times (s) within ``tolerance_s``,
    closest pairs first. Returns (index into pred, index into ref) pairs."""
    pairs = sorted((abs(p - r), i, j) for i, p in enumerate(pred) for j, r in enumerate(ref)
                   if abs(p - r) <= tolerance_s)
    used_p, used_r, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_p and j not in used_r:
            used_p.add(i)
            used_r.add(j)
            out.append((i, j))
    return sorted(out)


def _times(waves, idx: int) -> list[float]:
    out = []
    for w in waves or ():
        v = _num(w[idx]) if len(w) > idx else None
        if v is not None:
            out.append(v)
    return out


def _new_counts() -> dict:
    return {"tp": 0, "fn": 0, "fp": 0, "errors_ms": []}


def boundary_counts(pred_lead: dict, ref_lead: dict,
                    tolerance_s: float = BOUNDARY_TOLERANCE_S) -> dict[str, dict]:
    """TP/FN/FP and errors for one lead: ``{'P_on': {...}, 'P_off': ..., 'T_off': ...}``.

    ``pred_lead`` / ``ref_lead``: ``{'P'|'QRS'|'T': [(onset_s, peak_s, offset_s), ...]}``."""
    span = annotated_span(ref_lead)
    out = {}
    for wave in WAVES:
        for idx, side in ((0, "on"), (2, "off")):
            c = _new_counts()
            ref = _times(ref_lead.get(wave), idx)
            pred = _times((pred_lead or {}).get(wave), idx)
            if span is not None:
                lo, hi = span[0] - tolerance_s, span[1] + tolerance_s
                pred = [p for p in pred if lo <= p <= hi]
            else:
                pred = []
            matched = match_boundaries(pred, ref, tolerance_s)
            c["tp"] = len(matched)
            c["fn"] = len(ref) - len(matched)
            c["fp"] = len(pred) - len(matched)
            c["errors_ms"] = [(pred[i] - ref[j]) * 1000.0 for i, j in matched]
            out[f"{wave}_{side}"] = c
    return out


def summarize_counts(c: dict) -> dict:
    """Sensitivity, PPV, F1, mean and SD of error (ms) from pooled counts."""
    tp, fn, fp, e = c["tp"], c["fn"], c["fp"], c["errors_ms"]
    return {
        "n_ref": tp + fn, "tp": tp, "fn": fn, "fp": fp,
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "ppv": tp / (tp + fp) if tp + fp else None,
        "f1": 2 * tp / (2 * tp + fn + fp) if tp + fn + fp else None,
        "mean_error_ms": mean(e) if e else None,
        "sd_error_ms": stdev(e) if len(e) > 1 else None,
    }


def boundary_scores(predicted: dict, reference: dict, records=None, leads=None,
                    tolerance_s: float = BOUNDARY_TOLERANCE_S) -> dict[str, dict]:
    """Per-lead boundary scores pooled over records and leads.

    Parameters
    ----------
    predicted : ``{record: {lead: {'P'|'QRS'|'T': [(on, peak, off), ...]}}}`` (lists or
        tuples; None/NaN boundaries are skipped). A record or lead absent from it predicts
        nothing (all its annotations count as misses).
    reference : same shape, the annotations (:func:`evals.ludb.read_waves`).
    records, leads : restrict to these (default: every reference record, every lead).

    Returns
    -------
    ``{'P_on': {'n_ref','tp','fn','fp','sensitivity','ppv','f1','mean_error_ms',
    'sd_error_ms'}, ...}`` for P, QRS and T onsets and offsets.
    """
    recs = list(reference) if records is None else [r for r in records if r in reference]
    pooled: dict[str, dict] = {}
    for r in recs:
        for lead, ref_lead in reference[r].items():
            if leads is not None and lead not in leads:
                continue
            pred_lead = (predicted.get(r) or {}).get(lead) or {}
            for key, c in boundary_counts(pred_lead, ref_lead, tolerance_s).items():
                acc = pooled.setdefault(key, _new_counts())
                acc["tp"] += c["tp"]
                acc["fn"] += c["fn"]
                acc["fp"] += c["fp"]
                acc["errors_ms"].extend(c["errors_ms"])
    return {k: summarize_counts(v) for k, v in pooled.items()}
