"""Diagnostic labels as SNOMED CT codes: CinC 2021 headers, statement classes, P/R/F1.

The engine emits statements carrying a ``snomed`` code. Reference sets use several codes
for one finding (the PhysioNet/CinC 2021 Challenge scored 713427006 and 59118001 as the
same class, for instance), so both sides are mapped onto :data:`CLASSES` before scoring:

- ``codes``: codes that *are* the class (canonical code first), on either side;
- ``also_accept``: broader or neighbouring reference codes. A reference record carrying
  one of them (but none of ``codes``) is neither a positive nor, if the engine predicts the
  class there, a false positive: the prediction is left out of that class's count.

Decisions (documented here, applied in :data:`CLASSES`):

- RBBB 59118001 == complete RBBB 713427006; LBBB 164909002 == complete LBBB 733534002;
  PVC 427172004 == ventricular premature beats 17338001 == ventricular ectopics 164884008;
  PAC 284470004 == supraventricular premature beats 63593006 (Challenge equivalences, plus
  LBBB and ventricular ectopics by the same reasoning). Bundle branch block 6374002 (side
  not stated) is only ``also_accept`` for RBBB and LBBB.
- T-wave inversion 59931005: CinC's 'T wave abnormal' 164934002 also covers flat or low T
  waves, so it is ``also_accept``, never a positive: an inversion predicted on a TAb-only
  record is not counted against the engine, and a missed one is not counted either.
- First-degree AV block 270492004: 'prolonged PR interval' 164947007 is ``also_accept``
  (the Challenge kept them as separate classes from different source label sets).
- Atrial fibrillation includes chronic 426749004, paroxysmal 282825002 and rapid
  314208002 AF; 'atrial fibrillation and flutter' 195080001 is ``also_accept`` for both AF
  and flutter. 'Bradycardia' 426627000 is ``also_accept`` for sinus bradycardia.
- Pre-excitation: WPW pattern 74390002 == ventricular pre-excitation 195060002.
- Paced rhythm 10370003 == atrial 251268003 / ventricular 251266004 pacing pattern.
- Limb lead reversal: the mapping files' only code is 251139008 'suspect arm ecg leads
  reversed' (unscored).
- ST elevation / depression: 'ST changes' 55930002, 'ST interval abnormal' 164930006 and
  'nonspecific ST-T abnormality' 428750005 are ``also_accept``; inferior ST depression
  704997005 is ST depression.

Per-class precision/recall/F1 count records (one decision per record and class). A class
with no reference positive in the evaluated set has recall and F1 = None and is left out
of the macro F1 (its false positives are still reported), so macro F1 is over the classes
that occur; the classes used are returned with it. A stricter variant also counts such a
class as F1 = 0 when the engine stated it anyway.

Data: CinC 2021 (Reyna et al., CinC 2021; CC BY 4.0); mapping CSVs BSD-2-Clause.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StatementClass:
    """A diagnostic statement class: key, display name, canonical SNOMED CT code (the one
    the engine should emit), equivalent codes and tolerated broader reference codes."""

    key: str
    name: str
    snomed: str
    equivalents: frozenset[str] = frozenset()
    also_accept: frozenset[str] = frozenset()

    @property
    def codes(self) -> frozenset[str]:
        """The canonical code and its equivalents."""
        return self.equivalents | {self.snomed}


def _cls(key: str, name: str, codes: list[str], also: tuple[str, ...] = ()) -> StatementClass:
    return StatementClass(key, name, codes[0], frozenset(codes[1:]), frozenset(also))


_ST_BROAD = ("55930002", "164930006", "428750005")
CLASSES: tuple[StatementClass, ...] = (
    _cls("sr", "sinus rhythm", ["426783006"]),
    _cls("sb", "sinus bradycardia", ["426177001"], ("426627000",)),
    _cls("stach", "sinus tachycardia", ["427084000"]),
    _cls("sa", "sinus arrhythmia", ["427393009"]),
    _cls("af", "atrial fibrillation", ["164889003", "426749004", "282825002", "314208002"],
         ("195080001",)),
    _cls("afl", "atrial flutter", ["164890007"], ("195080001",)),
    _cls("iavb", "first-degree AV block", ["270492004"], ("164947007",)),
    _cls("rbbb", "right bundle branch block", ["59118001", "713427006"], ("6374002",)),
    _cls("irbbb", "incomplete right bundle branch block", ["713426002"]),
    _cls("lbbb", "left bundle branch block", ["164909002", "733534002"], ("6374002",)),
    _cls("lafb", "left anterior fascicular block", ["445118002"]),
    _cls("lad", "left axis deviation", ["39732003"]),
    _cls("rad", "right axis deviation", ["47665007"]),
    _cls("lvh", "left ventricular hypertrophy", ["164873001"], ("55827005", "370365005")),
    _cls("lqt", "prolonged QT interval", ["111975006"]),
    _cls("wpw", "pre-excitation (WPW pattern)", ["74390002", "195060002"]),
    _cls("spr", "short PR interval", ["49578007"]),
    _cls("lqrsv", "low QRS voltages", ["251146004"]),
    _cls("pvc", "premature ventricular contractions", ["427172004", "17338001", "164884008"],
         ("11157007", "251180001", "251182009")),
    _cls("pac", "premature atrial contractions", ["284470004", "63593006"],
         ("251173003", "251170000")),
    _cls("paced", "paced rhythm", ["10370003", "251268003", "251266004"]),
    _cls("ste", "ST elevation", ["164931005"], _ST_BROAD),
    _cls("std", "ST depression", ["429622005", "704997005"], _ST_BROAD),
    _cls("tinv", "T-wave inversion", ["59931005"], ("164934002", "428750005")),
    # 'T wave abnormal' also covers inverted T waves: an inversion label tolerates it
    _cls("tab", "T-wave abnormality (flat or low T)", ["164934002"], ("59931005", "428750005")),
    _cls("lead_reversal", "limb lead reversal", ["251139008"]),
    # Rhythms and conduction added with the rhythm work (issue 11). A wide-complex tachycardia
    # (s:wct) and a ventricular run (s:nsvt) count as flagging VT: treating a WCT as VT until
    # proven otherwise is the guideline's safety rule (2017 AHA/ACC/HRS ventricular
    # arrhythmia guideline, Al-Khatib et al.).
    _cls("vt", "ventricular tachycardia (or WCT / ventricular run)",
         ["164895002", "425856008", "s:vt", "s:wct", "s:nsvt"]),
    _cls("svt", "supraventricular tachycardia", ["426761007", "67198005"],
         ("713422000", "251166008", "233897008", "426648003")),
    _cls("junctional", "junctional rhythm", ["29320008", "426995002", "426664006"]),
    _cls("ear", "ectopic atrial rhythm", ["106068003"], ("233892002",)),
    _cls("wap", "wandering atrial pacemaker", ["195101003", "17366009"]),
    _cls("brady", "bradycardia, not sinus", ["426627000"]),
    _cls("avb2", "second-degree AV block", ["195042002", "54016002", "426183003"]),
    _cls("avb3", "third-degree AV block", ["27885002"], ("50799005",)),
    _cls("sa_block", "sinoatrial block", ["65778007"]),
    _cls("ilbbb", "incomplete left bundle branch block", ["251120003"]),
    _cls("lpfb", "left posterior fascicular block", ["445211001"]),
    _cls("ivcd", "nonspecific intraventricular conduction delay", ["698252002", "82226007"]),
    _cls("lae", "left atrial enlargement", ["67741000119109", "446813000", "253352002"]),
    _cls("rae", "right atrial enlargement", ["446358003", "253339007", "67751000119106"]),
    _cls("rvh", "right ventricular hypertrophy", ["89792004"]),
    _cls("sqt", "short QT interval", ["77867006"]),
    _cls("lv_strain", "LVH with repolarisation abnormality (overload)", ["370365005"]),
    _cls("er", "early repolarization", ["428417006"]),
    _cls("brugada", "Brugada pattern", ["418818005"]),
    # LUDB's ischaemia column names a wall, not a SNOMED code: its classes are scored by
    # statement id (any territory) against the label without the wall.
    _cls("stemi", "ST elevation (LUDB 'STEMI', any wall)",
         ["ludb:stemi", "s:ste_inferior", "s:ste_lateral", "s:ste_anterior", "s:stemi_eq"]),
    _cls("ischemia", "ischaemia (LUDB, any wall)",
         ["ludb:ischemia", "164861001", "s:std_inferior", "s:std_lateral", "s:std_anterior",
          "s:tinv"]),
    # A Q-wave statement claims an infarct of undetermined age: on a record LUDB marks as
    # 'undefined ischemia/scar' or as an acute STEMI (Q waves form within hours), or on a
    # CinC record labelled 'Q wave abnormal', it is left out of the scar count, neither a
    # hit nor a false positive.
    _cls("scar", "infarct scar (LUDB, any wall)",
         ["ludb:scar", "164867002", "s:q_inferior", "s:q_lateral", "s:q_anterior"],
         ("ludb:isch_scar", "ludb:stemi", "164917005")),
    _cls("qab", "pathological Q waves", ["164917005"], ("164867002",)),
    _cls("isch_scar", "ischaemia/scar/suspected NSTEMI, undefined (LUDB)", ["ludb:isch_scar"]),
    _cls("nsrepol", "non-specific repolarisation abnormality", ["ludb:nsrepol", "428750005"]),
    _cls("aberrant", "aberrant conduction (LUDB)", ["ludb:aberrant"]),
)
CLASS_BY_KEY: dict[str, StatementClass] = {c.key: c for c in CLASSES}

#: the macro-F1 class list of the CinC benchmark
CINC_MACRO_CLASSES: tuple[str, ...] = ("sb", "stach", "af", "rbbb", "iavb", "lqt")


def to_classes(codes, classes=CLASSES) -> set[str]:
    """Class keys whose ``codes`` intersect the given SNOMED codes (str or int)."""
    got = {str(c).strip() for c in codes}
    return {c.key for c in classes if c.codes & got}


# ---------------------------------------------------------------------------------------
# CinC 2021 headers and mapping files
# ---------------------------------------------------------------------------------------
@dataclass
class CincHeader:
    """Labels of one CinC 2021 record: SNOMED codes, age in years, sex 'M'/'F'."""

    record: str
    dx: frozenset[str]
    age: float | None
    sex: str | None


def parse_header(path: str | Path) -> CincHeader:
    """Read ``# Dx:``, ``# Age:`` and ``# Sex:`` from a CinC 2021 ``.hea`` file.

    Age 'NaN' or absent -> None; sex 'Male'/'Female' (any case, or M/F) -> 'M'/'F'."""
    path = Path(path)
    if path.suffix != ".hea":
        path = path.with_suffix(".hea")
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"#\s*([A-Za-z]+)\s*:\s*(.*)$", line.strip())
        if m:
            fields[m.group(1).lower()] = m.group(2).strip()
    if "dx" not in fields:
        raise ValueError(f"{str(path)!r} has no '# Dx:' line (not a CinC 2021 header?)")
    dx = frozenset(c.strip() for c in fields["dx"].split(",") if c.strip())
    try:
        age = float(fields.get("age", "nan"))
        age = None if age != age else age
    except ValueError:
        age = None
    sex = fields.get("sex", "").strip().lower()
    sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex)
    return CincHeader(record=path.stem, dx=dx, age=age, sex=sex)


def read_dx_mapping(cinc_dir: str | Path) -> dict[str, dict]:
    """SNOMED code -> {'name', 'abbreviation', 'scored'} from both mapping CSVs."""
    out: dict[str, dict] = {}
    for kind in ("scored", "unscored"):
        path = Path(cinc_dir) / f"dx_mapping_{kind}.csv"
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out[row["SNOMEDCTCode"].strip()] = {
                    "name": row["Dx"].strip(), "abbreviation": row["Abbreviation"].strip(),
                    "scored": kind == "scored"}
    return out


# ---------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------
def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def score_classes(predicted: dict, truth: dict, classes=CLASSES) -> dict[str, dict]:
    """Per-class precision, recall and F1 over records.

    Parameters
    ----------
    predicted, truth : ``{record: iterable of SNOMED codes}``; records in ``truth`` are
        scored (a record missing from ``predicted`` predicts nothing).
    classes : the :class:`StatementClass` list.

    Returns
    -------
    ``{key: {'name','snomed','support','tp','fp','fn','ignored','precision','recall','f1'}}``
    (``ignored``: predictions on records whose reference has only an ``also_accept`` code).
    """
    out = {}
    for c in classes:
        tp = fp = fn = ignored = 0
        for rec, true_codes in truth.items():
            t = {str(x) for x in true_codes}
            p = {str(x) for x in predicted.get(rec, ())}
            is_true, is_pred = bool(c.codes & t), bool(c.codes & p)
            if is_true and is_pred:
                tp += 1
            elif is_true:
                fn += 1
            elif is_pred and c.also_accept & t:
                ignored += 1
            elif is_pred:
                fp += 1
        prec, rec_ = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = None
        if rec_ is not None:
            f1 = 2 * tp / (2 * tp + fp + fn)
        out[c.key] = {"name": c.name, "snomed": c.snomed, "support": tp + fn, "tp": tp,
                      "fp": fp, "fn": fn, "ignored": ignored, "precision": prec,
                      "recall": rec_, "f1": f1}
    return out


def macro_f1(scores: dict[str, dict], keys=CINC_MACRO_CLASSES) -> dict:
    """Mean F1 over ``keys`` that have reference positives (``macro_f1``), listing those left
    out; ``macro_f1_strict`` also counts a left-out class as F1 = 0 when the engine stated it
    anyway (false positives with no positive to find)."""
    used = [k for k in keys if scores[k]["f1"] is not None]
    strict = used + [k for k in keys if k not in used and scores[k]["fp"] > 0]
    mean_f1 = (lambda ks: sum(scores[k]["f1"] or 0.0 for k in ks) / len(ks) if ks else None)
    return {"macro_f1": mean_f1(used), "classes": used,
            "left_out_no_support": [k for k in keys if k not in used],
            "macro_f1_strict": mean_f1(strict), "strict_classes": strict}


#: lower edges of the confidence bins of the reliability table (the last bin closes at 1.0)
CONFIDENCE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)


def classes_of(statement: dict, classes=CLASSES) -> list[StatementClass]:
    """The classes a statement (a dict with ``snomed`` and ``id``) belongs to: those whose
    codes hold its SNOMED code or its id, as :func:`score_classes` matches predictions."""
    keys = {str(k) for k in (statement.get("snomed"), statement.get("id")) if k}
    return [c for c in classes if c.codes & keys]


def statement_outcomes(statements, truth, classes=CLASSES) -> list[tuple[float, bool]]:
    """(confidence, correct) for each statement the reference labels can judge.

    ``statements``: dicts with ``id``, ``snomed`` and ``confidence`` (as the engine writes
    them); ``truth``: the record's reference SNOMED codes; ``classes``: the classes the
    labels can confirm or refute. A statement (of the classes :func:`classes_of` gives) is
    correct when one of its classes is in the reference, not judged when none is but a
    broader reference code of one is (``also_accept``, as ``ignored`` in
    :func:`score_classes`), and wrong otherwise. A statement of no listed class (a class the
    labels cannot judge) is not judged."""
    t = {str(x) for x in truth}
    out = []
    for s in statements:
        mine = classes_of(s, classes)
        if not mine:
            continue
        if any(c.codes & t for c in mine):
            out.append((float(s["confidence"]), True))
        elif not any(c.also_accept & t for c in mine):
            out.append((float(s["confidence"]), False))
    return out


def reliability(outcomes: list[tuple[float, bool]], bins=CONFIDENCE_BINS) -> dict:
    """How far the stated confidences can be taken as probabilities: per confidence bin the
    judged statements, their precision (share correct) and mean confidence; the expected
    calibration error (ECE: the statement-weighted mean |precision - mean confidence| over
    the bins; Naeini, Cooper & Hauskrecht, AAAI 2015) and the Brier score (mean squared
    difference between confidence and outcome, 1 correct / 0 wrong; Brier, Mon Weather Rev
    78:1, 1950). Against incomplete labels (a dataset that does not label every finding) a
    correct statement can count as wrong: precision is then a lower bound."""
    n = len(outcomes)
    edges = list(bins) + [float("inf")]
    rows, ece = [], 0.0
    for lo, hi in zip(edges, edges[1:]):
        sel = [(c, ok) for c, ok in outcomes if lo <= c < hi]
        k = len(sel)
        prec = sum(ok for _, ok in sel) / k if k else None
        conf = sum(c for c, _ in sel) / k if k else None
        if k:
            ece += k / n * abs(prec - conf)
        rows.append({"from": lo, "to": 1.0 if hi == float("inf") else hi, "n": k,
                     "correct": sum(ok for _, ok in sel), "precision": prec,
                     "mean_confidence": conf})
    return {"n": n, "correct": sum(ok for _, ok in outcomes),
            "precision": sum(ok for _, ok in outcomes) / n if n else None,
            "mean_confidence": sum(c for c, _ in outcomes) / n if n else None,
            "ece": ece if n else None,
            "brier": sum((c - ok) ** 2 for c, ok in outcomes) / n if n else None,
            "bins": rows}
