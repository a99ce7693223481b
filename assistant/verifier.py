"""Deterministic grounding verifier: nothing reaches the user unless it matches the evidence.

Checks for every finding and impression sentence of a draft
:class:`~assistant.schemas.Interpretation`:

1. every cited evidence id exists;
2. every number with a unit (``142 ms``, ``45 bpm``, ``-32 deg``, ``1.2 mV``) and every number
   right after a measurement name (``QRS 142``) equals a cited measurement within tolerance
   (citing a statement cites the measurements it rests on);
3. every lead named is among the leads of the cited evidence;
4. no diagnostic concept is asserted that the engine did not state, and none the engine
   stated is denied;
5. nothing is said about a lead excluded for quality or a measurement the engine could not
   make;
6. the impression quotes no number and, when an urgent statement exists, starts with it.

No LLM is involved: the checks are regular expressions over the text and set logic over the
evidence index (:func:`tools.evidence.evidence_index`).
"""
from __future__ import annotations

import re

from assistant.schemas import Interpretation

# unit -> (canonical unit, multiplier to canonical)
_UNITS = {
    "ms": ("ms", 1.0), "msec": ("ms", 1.0), "millisecond": ("ms", 1.0),
    "milliseconds": ("ms", 1.0), "s": ("ms", 1000.0), "sec": ("ms", 1000.0),
    "bpm": ("bpm", 1.0), "beats per minute": ("bpm", 1.0), "/min": ("bpm", 1.0),
    "per minute": ("bpm", 1.0),
    "deg": ("deg", 1.0), "degrees": ("deg", 1.0), "degree": ("deg", 1.0), "°": ("deg", 1.0),
    "mv": ("mV", 1.0), "mm": ("mV", 0.1),
}
_TOL = {"ms": 1.0, "bpm": 1.0, "deg": 2.0, "mV": 0.05}
_NUM_UNIT = re.compile(
    r"(?<![\w.])([-+\u2212]?\d+(?:\.\d+)?)\s*(milliseconds?|msec|ms|beats per minute|bpm|"
    r"per minute|/min|degrees?|deg|°|mV|mm|sec|s)(?![\w])", re.IGNORECASE)
# A number right after a measurement name, e.g. "QRS 142", "QTc of 470", "heart rate: 61".
_KEYWORD_UNIT = [
    (r"\b(?:heart rate|HR|ventricular rate|rate)", "bpm"),
    (r"\bQTc(?:\s*\((?:Fridericia|Bazett)\))?", "ms"), (r"\bQT(?!c)", "ms"),
    (r"\bPR(?:\s+interval)?", "ms"), (r"\bQRS(?:\s+(?:duration|width))?", "ms"),
    (r"\b(?:QRS |P |T )?axis", "deg"),
]
_KEYWORD_NUM = [(re.compile(k + r"\s*(?:interval|duration)?\s*(?:of|is|was|=|:)?\s*"
                            r"(?:about\s+|approximately\s+|~\s*)?([-+\u2212]?\d+(?:\.\d+)?)(?![\d.])"
                            r"(?!\s*(?:ms|msec|millisec|bpm|beats|deg|°|mV|mm|%|/min|per|s\b|sec))",
                            re.IGNORECASE), u)
                for k, u in _KEYWORD_UNIT]
_LEAD = re.compile(r"(?<![\w-])(aVR|aVL|aVF|V[1-6]|III|II)(?![\w])|"
                   r"(?<=\blead )I(?![\w])|(?<=\bleads )I(?![\w])|(?<![\w])I(?=,\s*(?:II|aVL)\b)",
                   re.IGNORECASE)

# concept -> (pattern, statement ids that support it)
_CONCEPTS: list[tuple[str, str, set[str]]] = [
    # most specific first: a longer concept claims its span before a shorter one inside it
    ("non-sustained ventricular tachycardia",
     r"non-?sustained (?:ventricular tachycardia|VT)|\bNSVT\b", {"s:nsvt"}),
    ("wide-complex tachycardia",
     r"wide[- ](?:QRS[- ])?complex tachycardia|wide[- ]QRS tachycardia|"
     r"broad[- ]complex tachycardia|\bWCT\b", {"s:wct", "s:vt"}),
    # a WCT statement says 'VT not excluded': mentioning VT is supported, denying it is not
    ("ventricular tachycardia", r"ventricular tachycardia|\bV-?tach\b|\bVT\b",
     {"s:vt", "s:wct", "s:nsvt"}),
    ("supraventricular tachycardia", r"supraventricular tachycardia|\bP?SVT\b", {"s:svt"}),
    ("junctional rhythm", r"junctional (?:escape )?rhythm|accelerated junctional",
     {"s:junctional"}),
    ("ectopic atrial rhythm", r"ectopic atrial (?:rhythm|tachycardia)", {"s:ectopic_atrial"}),
    ("third-degree AV block",
     r"third[- ]degree (?:AV |atrioventricular )?block|3rd[- ]degree (?:AV )?block|"
     r"complete (?:heart|AV|atrioventricular) block|\bCHB\b", {"s:avb3"}),
    ("second-degree AV block",
     r"second[- ]degree (?:AV |atrioventricular )?block|2nd[- ]degree (?:AV )?block|"
     r"\bMobitz\b|Wenckebach|2:1 (?:AV |atrioventricular )?block", {"s:avb2"}),
    ("incomplete left bundle branch block",
     r"incomplete left bundle branch block|incomplete LBBB|\bILBBB\b", {"s:ilbbb"}),
    ("left posterior fascicular block",
     r"left posterior (?:fascicular block|hemiblock)|\bLPFB\b|\bLPHB\b", {"s:lpfb"}),
    ("bifascicular block", r"bifascicular block", {"s:lafb", "s:lpfb"}),
    ("intraventricular conduction delay",
     r"intraventricular conduction (?:delay|defect|disturbance|disorder)|\bIVCD\b",
     {"s:ivcd"}),
    ("left atrial enlargement", r"left atrial (?:enlargement|abnormality)|\bLAE\b",
     {"s:lae"}),
    ("right atrial enlargement",
     r"right atrial (?:enlargement|abnormality|overload)|\bRAE\b|P pulmonale", {"s:rae"}),
    ("Brugada pattern", r"Brugada (?:type 1 |type I )?(?:pattern|sign|ECG)", {"s:brugada"}),
    ("flat or low T waves", r"flat(?:tened)? T[- ]waves?|low(?:[- ]amplitude)? T[- ]waves?",
     {"s:tab"}),
    ("incomplete right bundle branch block",
     r"incomplete right bundle branch block|incomplete RBBB|\bIRBBB\b", {"s:irbbb"}),
    ("right bundle branch block", r"(?<!incomplete )right bundle branch block|(?<![Ii])RBBB",
     {"s:rbbb"}),
    ("left bundle branch block", r"(?<!incomplete )left bundle branch block|(?<![Ii])LBBB",
     {"s:lbbb"}),
    ("left anterior fascicular block",
     r"left anterior (?:fascicular block|hemiblock)|\bLAFB\b|\bLAHB\b", {"s:lafb"}),
    ("atrial fibrillation", r"atrial fibrillation|\bA-?fib\b|\bAF\b", {"s:af"}),
    ("atrial flutter", r"atrial flutter|\bflutter\b", {"s:afl"}),
    ("first-degree AV block",
     r"first[- ]degree (?:AV |atrioventricular )?block|1st[- ]degree (?:AV )?block|\bIAVB\b",
     {"s:avb1"}),
    ("sinus bradycardia", r"sinus bradycardia", {"s:sb"}),
    ("sinus tachycardia", r"sinus tachycardia", {"s:st"}),
    ("sinus arrhythmia", r"sinus arrhythmia", {"s:sa"}),
    ("sinus rhythm", r"sinus rhythm", {"s:sr", "s:sb", "s:st"}),
    ("left axis deviation", r"left axis deviation|\bLAD\b", {"s:lad", "s:lafb"}),
    ("right axis deviation", r"right axis deviation|\bRAD\b", {"s:rad"}),
    ("left ventricular hypertrophy", r"left ventricular hypertrophy|\bLVH\b", {"s:lvh"}),
    ("prolonged QT", r"prolonged QTc?|long QTc?|QTc? prolongation", {"s:lqt"}),
    ("short PR", r"short PR", {"s:spr", "s:wpw"}),
    ("pre-excitation", r"pre-?excitation|Wolff|\bWPW\b|delta wave", {"s:wpw"}),
    ("low QRS voltage", r"low (?:QRS )?voltage", {"s:lqrsv", "s:lqrsv_prec"}),
    ("premature ventricular complexes",
     r"premature ventricular|\bPVCs?\b|\bVPBs?\b|ventricular ectop", {"s:pvc"}),
    ("premature atrial complexes",
     r"premature atrial|\bPACs?\b|\bAPBs?\b|supraventricular ectop", {"s:pac"}),
    ("paced rhythm", r"paced rhythm|pacemaker|\bpacing\b|\bpaced\b", {"s:paced"}),
    ("STEMI equivalent", r"STEMI[- ]equivalent|Sgarbossa|posterior (?:MI|infarction|STEMI|"
                         r"ischa?emia)|left main|multivessel", {"s:stemi_eq"}),
    ("ST elevation", r"ST[- ]segment elevation|ST[- ]elevation|\bSTEMI\b(?![- ]equivalent)",
     {"s:ste_*", "s:stemi_eq"}),
    ("pathological Q waves", r"pathologic(?:al)? Q[- ]waves?|QS complex(?:es)?|"
                             r"Q[- ]waves? (?:of|suggesting|consistent with) (?:an? )?"
                             r"(?:old |prior |previous )?infarct", {"s:q_*"}),
    # diagnoses the engine does not state by name, which an impression might add: only an
    # ST-elevation, STEMI-equivalent or Q-wave statement supports infarction, and only a
    # stated ST-T abnormality supports ischaemia; the others are never supported
    ("myocardial infarction", r"(?:myocardial )?infarct(?:ion)?s?|\bN?STEMI\b|\bMI\b|"
                              r"Q[- ]wave infarct|heart attack",
     {"s:ste_*", "s:stemi_eq", "s:q_*"}),
    ("myocardial ischaemia", r"isch(?:a)?emi(?:a|c)", {"s:ste_*", "s:stemi_eq", "s:std_*",
                                                       "s:tinv", "s:lv_strain"}),
    ("pericarditis", r"pericarditis", set()),
    ("early repolarisation", r"early repolari[sz]ation", {"s:er"}),
    ("electrolyte disorder", r"hyperkal(?:a)?emi(?:a|c)|hypokal(?:a)?emi(?:a|c)|"
                             r"hypercal(?:c)?(?:a)?emi(?:a|c)|hypocal(?:c)?(?:a)?emi(?:a|c)",
     set()),
    ("digoxin effect", r"digoxin effect|digitalis effect", set()),
    # conditions a clinician may be advised to look for, never findings of the ECG itself
    ("ventricular dysfunction", r"(?:left |right )?ventricular (?:systolic |diastolic )?"
                                r"dysfunction|heart failure|cardiomyopathy|"
                                r"structural heart disease|coronary (?:artery|heart) disease",
     set()),
    # "an underlying arrhythmia" needs a stated rhythm or ectopy abnormality
    ("arrhythmia", r"\b(?:cardiac )?(?:arrhythmias?|dysrhythmias?)\b",
     {"s:af", "s:afl", "s:pvc", "s:pac", "s:vt", "s:wct", "s:nsvt", "s:svt", "s:junctional",
      "s:ectopic_atrial", "s:avb2", "s:avb3", "s:brady", "s:tachy", "s:sa", "s:sb", "s:st",
      "s:paced", "s:wide_rhythm"}),
    ("right ventricular hypertrophy", r"right ventricular hypertrophy|\bRVH\b", {"s:rvh"}),
    ("LVH strain", r"strain pattern|repolari[sz]ation abnormality", {"s:lv_strain"}),
    ("short QT", r"short(?:ened)? QTc?|QTc? shortening", {"s:sqt"}),
    ("ST depression", r"ST[- ]segment depression|ST[- ]depression", {"s:std_*"}),
    ("T-wave inversion", r"T[- ]wave inversions?|inverted T[- ]waves?", {"s:tinv"}),
    ("limb-lead reversal", r"lead reversal|reversed (?:limb )?leads|electrode (?:reversal|"
                           r"misplacement)|arm leads reversed", {"s:lead_reversal"}),
    ("normal ECG", r"normal (?:ECG|electrocardiogram)|within normal limits", {"normal"}),
]
_NEGATION = re.compile(r"\b(no|not|without|absent|absence of|negative for|rules? out|ruled out|"
                       r"free of|nor|never|cannot be (?:said|called)|does not (?:show|meet))\b"
                       r"[^.;:]{0,40}$", re.IGNORECASE)
_HEDGE = re.compile(r"\b(consider|causes?|such as|exclude|check|look for|assess(?:ed)? for|"
                    r"evaluat(?:e|ed|ion) for|differential|including|e\.g\.)\b[^.;:]{0,60}$",
                    re.IGNORECASE)
# conditions the engine never states by name: a hedged mention ("causes include inferior
# myocardial infarction", "check potassium: hypokalaemia") is advice drawn from a knowledge
# passage, not a finding; asserted, they are refused like any unstated diagnosis
_CAUSES = {"myocardial infarction", "myocardial ischaemia", "pericarditis",
           "early repolarisation", "electrolyte disorder", "digoxin effect",
           "ventricular dysfunction"}
_ABNORMAL = {"s:af", "s:afl", "s:avb1", "s:rbbb", "s:irbbb", "s:lbbb", "s:lafb", "s:lad",
             "s:rad", "s:lvh", "s:lqt", "s:spr", "s:wpw", "s:lqrsv", "s:pvc", "s:pac",
             "s:paced", "s:tinv", "s:lead_reversal", "s:sb", "s:st", "s:poor_quality",
             "s:vt", "s:wct", "s:nsvt", "s:svt", "s:junctional", "s:ectopic_atrial",
             "s:avb2", "s:avb3", "s:brady", "s:ilbbb", "s:lpfb", "s:ivcd", "s:lae", "s:rae",
             "s:tab", "s:brugada", "s:lqrsv_prec", "s:stemi_eq", "s:rvh", "s:lv_strain",
             "s:sqt", "s:tachy", "s:no_qrs", "s:q_inferior", "s:q_lateral", "s:q_anterior",
             "s:er", "s:wide_rhythm"}


def _supported(ids: set[str], stated: set[str]) -> bool:
    for sid in ids:
        if sid == "normal":
            if not (stated & _ABNORMAL) and not any(s.startswith(("s:ste_", "s:std_"))
                                                    for s in stated):
                return True
        elif sid.endswith("*"):
            if any(s.startswith(sid[:-1]) for s in stated):
                return True
        elif sid in stated:
            return True
    return False


def _expand(ids: list[str], index: dict[str, dict]) -> set[str]:
    """Cited ids plus the evidence the cited statements rest on."""
    out = set()
    for eid in ids:
        out.add(eid)
        entry = index.get(eid) or {}
        out.update(entry.get("evidence_ids") or [])
    return out


_OPS = [(r"<=|≤|at most|no more than", "<="), (r">=|≥|at least|no less than", ">="),
        (r"<|&lt;|below|under|less than|lower than|shorter than", "<"),
        (r">|&gt;|above|over|more than|greater than|exceeds?|exceeding|longer than|higher than",
         ">")]
_COMPARISON = re.compile(r"(" + "|".join(p for p, _ in _OPS) + r")\s*(?:the\s+)?(?:\w+\s+)?$",
                         re.IGNORECASE)
_QUOTED_THRESHOLD = re.compile(r"(threshold|cut-?off|limit|criterion)(\s+of)?\s*$",
                               re.IGNORECASE)
_MEASURE_WORDS = [(re.compile(r"\bQTc\b", re.I), "qtc"), (re.compile(r"\bQT\b(?!c)", re.I), "qt"),
                  (re.compile(r"\bQRS\b", re.I), "qrs"), (re.compile(r"\bPR\b", re.I), "pr"),
                  (re.compile(r"heart rate|\bHR\b|\brate\b", re.I), "hr")]


def _thresholds(index: dict) -> dict[str, set[float]]:
    """Numbers with units in the criteria of the engine's statements (their thresholds)."""
    out: dict[str, set[float]] = {}
    for eid, entry in index.items():
        crit = entry.get("criterion") if eid.startswith("s:") else None
        if not crit:
            continue
        for m in _NUM_UNIT.finditer(crit):
            unit, mult = _UNITS[m.group(2).lower()]
            out.setdefault(unit, set()).add(float(m.group(1)) * mult)
        for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:-|\.\.|to)\s*\d+(?:\.\d+)?\s*(ms|bpm|mV|deg)",
                             crit):  # ranges such as "60-100 bpm": the lower end too
            unit, _ = _UNITS[m.group(2).lower()]
            out.setdefault(unit, set()).add(float(m.group(1)))
    return out


def _named(before: str, values: list[tuple[str, float]]) -> list[tuple[str, float]] | None:
    """The candidate measurements named just before a number (QRS, PR, QT, QTc, heart
    rate); None when no measurement is named or none of that name is a candidate."""
    named = None
    for pattern, key in _MEASURE_WORDS:
        for m in pattern.finditer(before):
            if named is None or m.start() > named[0]:
                named = (m.start(), key)
    if not named:
        return None
    prefix = {"qtc": "qtc", "qt": "qt_", "qrs": "qrs_ms", "pr": "pr_", "hr": "hr_"}[named[1]]
    # the measurement itself (m:) or its serial-comparison entries (c:...prior, c:...change):
    # "heart rate 45 bpm now vs 57 bpm before" names the heart rate for both numbers
    sel = [(e, v) for e, v in values if e.startswith(("m:" + prefix, "c:" + prefix))]
    return sel or None


def _comparison_holds(op: str, x: float, before: str, unit: str,
                      values: list[tuple[str, float]]) -> bool:
    """Does the cited measurement the sentence talks about satisfy ``value <op> x``? The
    measurement is the one named just before (QRS, PR, QT, QTc, heart rate), else any cited
    one of that unit."""
    named = None
    for pattern, key in _MEASURE_WORDS:
        for m in pattern.finditer(before):
            if named is None or m.start() > named[0]:
                named = (m.start(), key)
    cands = values
    if named:
        prefix = {"qtc": "m:qtc", "qt": "m:qt_", "qrs": "m:qrs_ms", "pr": "m:pr_",
                  "hr": "m:hr_"}[named[1]]
        cands = [(e, v) for e, v in values if e.startswith(prefix)] or values
    test = {"<": lambda v: v < x, "<=": lambda v: v <= x, ">": lambda v: v > x,
            ">=": lambda v: v >= x}[op]
    return any(test(v) for _, v in cands)


def _number_problems(text: str, cited: set[str], index: dict) -> tuple[list[str], int]:
    values = {}
    for eid in cited:
        e = index.get(eid) or {}
        if isinstance(e.get("value"), (int, float)) and e.get("unit") in _TOL:
            values.setdefault(e["unit"], []).append((eid, float(e["value"])))
    thresholds = _thresholds(index)
    found: list[tuple[float, str, str, int]] = []
    for m in _NUM_UNIT.finditer(text):
        unit, mult = _UNITS[m.group(2).lower()]
        found.append((float(m.group(1).replace("\u2212", "-")) * mult, unit, m.group(0),
                      m.start()))
    for pattern, unit in _KEYWORD_NUM:
        for m in pattern.finditer(text):
            found.append((float(m.group(1).replace("\u2212", "-")), unit, m.group(0),
                          m.start(1)))
    problems = []
    for x, unit, raw, pos in found:
        before = text[max(0, pos - 40):pos]
        cands = values.get(unit, [])
        comp = _COMPARISON.search(before)
        if comp:  # "QRS above 120 ms": a comparison, true of the cited measurement or not
            word = comp.group(1).lower()
            op = next(o for p, o in _OPS if re.fullmatch(p, word, re.IGNORECASE))
            if _comparison_holds(op, x, before[:comp.start()] or before, unit, cands):
                continue
            problems.append(f"comparison '{comp.group(0).strip()} {raw.strip()}' is not true of "
                            f"the cited {unit} measurement")
            continue
        if _QUOTED_THRESHOLD.search(before) and x in thresholds.get(unit, set()):
            continue  # a criterion's threshold quoted as such
        named = _named(before[-30:], cands)
        if named is not None:  # "QRS ... 93 ms" must be the QRS measurement itself
            cands = named
        if not any(abs(x - v) <= max(_TOL[unit], 0.02 * abs(v)) for _, v in cands):
            near = ", ".join(f"{eid}={v:g}" for eid, v in cands) or "none cited"
            problems.append(f"number '{raw.strip()}' matches no cited {unit} measurement "
                            f"({near})")
    return problems, len(found)


def _lead_problems(text: str, cited: set[str], index: dict, excluded: set[str]) -> list[str]:
    allowed = set()
    for eid in cited:
        allowed.update((index.get(eid) or {}).get("leads") or [])
    problems = []
    for m in _LEAD.finditer(text):
        lead = m.group(0)
        lead = {"avr": "aVR", "avl": "aVL", "avf": "aVF"}.get(lead.lower(), lead.upper()
                                                             if lead[0] in "vV" else lead)
        if lead in excluded:
            problems.append(f"lead {lead} was excluded for poor quality and must not be "
                            "interpreted")
        elif lead not in allowed:
            problems.append(f"lead {lead} is not among the leads of the cited evidence")
    return problems


def _concept_problems(text: str, stated: set[str]) -> list[str]:
    problems = []
    taken: list[tuple[int, int]] = []
    for name, pattern, ids in _CONCEPTS:
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if any(a <= m.start() < b for a, b in taken):
                continue  # part of a longer concept already judged
            taken.append((m.start(), m.end()))
            negated = bool(_NEGATION.search(text[:m.start()]))
            supported = _supported(ids, stated)
            # "check potassium: causes include hypokalaemia" names a cause to look for, not a
            # finding of this ECG; allowed for _CAUSES only, never for a stated-kind diagnosis
            hedged = name in _CAUSES and bool(_HEDGE.search(text[:m.start()]))
            if negated and supported:
                problems.append(f"denies {name}, which the engine stated")
            elif not negated and not supported and not hedged:
                problems.append(f"asserts {name}, which the engine did not state")
    return problems


def has_number(text: str) -> bool:
    """A digit outside lead names (V1), conduction ratios (2:1) and '12-lead'."""
    return bool(re.search(r"\d", re.sub(r"\bV[1-6]\b|\b\d+:\d+\b|\b12-lead\b", "", text)))


def _impression_problems(draft: Interpretation, report: dict) -> list[str]:
    """The impression's own rules: an urgent statement (STEMI pattern, VT, complete heart
    block) heads it as it heads the findings, and it quotes no number - the findings carry
    every measured value, and numbers were the 1.5B model's commonest impression error."""
    if not draft.impression:
        return []
    out = []
    urgent = {s["id"] for s in report.get("statements", []) if s.get("urgent")}
    if urgent and not urgent & set(draft.impression[0].evidence_ids):
        out.append(f"impression sentence 1 must be about the urgent statement "
                   f"({', '.join(sorted(urgent))}) and cite it")
    out += [f"impression sentence {i}: write it without numbers or confidences (the "
            "findings already give them)"
            for i, f in enumerate(draft.impression, 1) if has_number(f.text)]
    return out


def verify(draft: Interpretation, report: dict, *, knowledge_ids: set[str] | None = None
           ) -> tuple[list[str], int, int]:
    """Problems found in ``draft`` against ``report`` (``Analysis.to_dict()``, optionally with
    ``report['comparison']``: serial-comparison entries keyed by ``c:`` id), plus the number
    of findings and numbers checked. An empty list means the draft may be shown.
    ``knowledge_ids``: the knowledge base's passage ids (unknown cited ones fail)."""
    from tools.evidence import evidence_index

    index = evidence_index(report)
    index.update(report.get("comparison") or {})
    stated = {s["id"] for s in report.get("statements", [])}
    excluded = set((report.get("quality") or {}).get("excluded_leads") or [])
    problems: list[str] = []
    n_numbers = 0
    if not draft.findings:
        problems.append("the draft has no findings")
    claims = [(f"finding {i}", f) for i, f in enumerate(draft.findings, 1)] + \
        [(f"impression sentence {i}", f) for i, f in enumerate(draft.impression, 1)]
    for where, f in claims:
        if not f.evidence_ids:
            problems.append(f"{where}: cites no evidence")
            continue
        unknown = [e for e in f.evidence_ids if e not in index]
        if unknown:
            problems.append(f"{where}: cites unknown evidence ids {unknown}")
        for eid in f.evidence_ids:
            e = index.get(eid) or {}
            if eid.startswith("m:") and e and e.get("value") is None:
                problems.append(f"{where}: cites {eid}, which was not measurable "
                                f"({e.get('reason') or 'no value'})")
        if knowledge_ids is not None:
            bad_k = [k for k in f.knowledge_ids if k not in knowledge_ids]
            if bad_k:
                problems.append(f"{where}: cites unknown knowledge passages {bad_k}")
        cited = _expand(f.evidence_ids, index)
        nums, n = _number_problems(f.text, cited, index)
        n_numbers += n
        problems += [f"{where}: {p}" for p in nums]
        problems += [f"{where}: {p}" for p in _lead_problems(f.text, cited, index, excluded)]
        problems += [f"{where}: {p}" for p in _concept_problems(f.text, stated)]
    problems += _impression_problems(draft, report)
    # The summary may only repeat what the findings say: its numbers must be in the evidence
    # the findings cite, and its concepts must be stated by the engine.
    all_cited = set().union(*[_expand(f.evidence_ids, index) for _, f in claims]) \
        if claims else set()
    # The summary cites nothing itself: its numbers must be measured values (any measurement
    # or comparison entry, the one named right before the number when one is named).
    measured = {e for e in index if e.startswith(("m:", "c:"))}
    nums, n = _number_problems(draft.summary, measured, index)
    n_numbers += n
    problems += [f"summary: {p}" for p in nums]
    problems += [f"summary: {p}" for p in _concept_problems(draft.summary, stated)]
    problems += [f"summary: {p}" for p in _lead_problems(draft.summary, all_cited, index,
                                                         excluded)]
    if draft.comparison_with_prior:
        comp = set(report.get("comparison") or {}) | all_cited
        nums, n = _number_problems(draft.comparison_with_prior, _expand(sorted(comp), index),
                                   index)
        n_numbers += n
        problems += [f"comparison: {p}" for p in nums]
    return problems, len(claims), n_numbers
