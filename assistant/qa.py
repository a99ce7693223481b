"""Questions about one ECG, answered from the same evidence as the report.

Yes/no questions about findings the engine assesses are decided deterministically from its
statements and measurements (:func:`decide`); the LLM only phrases the answer, which must
start with the decided word and pass the verifier, or the deterministic answer is returned.
Questions the evidence cannot decide get "Cannot tell from this recording".
"""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

YES, NO, CANNOT = "Yes", "No", "Cannot tell from this recording"

# (pattern in the question, statement ids meaning "yes", description)
_TOPICS: list[tuple[str, set[str], str]] = [
    (r"non-?sustained|\bnsvt\b|ventricular run", {"s:nsvt"},
     "non-sustained ventricular tachycardia"),
    (r"ventricular tachycardia|\bv-?tach\b|\bvt\b|wide[- ]complex", {"s:vt", "s:wct"},
     "ventricular or wide-complex tachycardia"),
    (r"supraventricular tachycardia|\bsvt\b", {"s:svt"}, "supraventricular tachycardia"),
    (r"junctional", {"s:junctional"}, "junctional rhythm"),
    (r"third[- ]degree|3rd[- ]degree|complete heart block|complete av block", {"s:avb3"},
     "third-degree AV block"),
    (r"second[- ]degree|2nd[- ]degree|mobitz|wenckebach", {"s:avb2"},
     "second-degree AV block"),
    (r"incomplete (left bundle|lbbb)|\bilbbb\b", {"s:ilbbb"},
     "incomplete left bundle branch block"),
    (r"left posterior (fascicular|hemi)|\blpfb\b", {"s:lpfb"},
     "left posterior fascicular block"),
    (r"intraventricular conduction|\bivcd\b", {"s:ivcd"},
     "nonspecific intraventricular conduction delay"),
    (r"left atrial (enlargement|abnormality)|\blae\b", {"s:lae"}, "left atrial enlargement"),
    (r"right atrial (enlargement|abnormality)|\brae\b", {"s:rae"},
     "right atrial enlargement"),
    (r"brugada", {"s:brugada"}, "Brugada type 1 pattern"),
    (r"atrial fibrillation|\bafib\b|\ba-?fib\b|\baf\b", {"s:af"}, "atrial fibrillation"),
    (r"flutter", {"s:afl"}, "atrial flutter"),
    (r"incomplete (right bundle|rbbb)|\birbbb\b", {"s:irbbb"},
     "incomplete right bundle branch block"),
    (r"right bundle|\brbbb\b", {"s:rbbb"}, "right bundle branch block"),
    (r"left bundle|\blbbb\b", {"s:lbbb"}, "left bundle branch block"),
    (r"first[- ]degree|1st[- ]degree|\b1 ?avb\b|prolonged pr|long pr", {"s:avb1"},
     "first-degree AV block"),
    (r"left anterior (fascicular|hemi)|\blafb\b", {"s:lafb"}, "left anterior fascicular block"),
    (r"left axis", {"s:lad", "s:lafb"}, "left axis deviation"),
    (r"right axis", {"s:rad"}, "right axis deviation"),
    (r"stemi[- ]equivalent|sgarbossa|posterior (mi|infarct|stemi|isch)|left main",
     {"s:stemi_eq"}, "STEMI-equivalent pattern"),
    (r"pathologic(?:al)? q|\bq[- ]waves?\b|\bqs (?:complex|pattern)", {"s:q_inferior",
     "s:q_lateral", "s:q_anterior"}, "pathological Q waves"),
    (r"early repolari[sz]ation|\bj[- ]waves?\b", {"s:er"}, "early repolarization pattern"),
    (r"right ventricular hypertroph|\brvh\b", {"s:rvh"}, "right ventricular hypertrophy"),
    (r"strain pattern|lvh with (strain|repolari)", {"s:lv_strain"},
     "LVH with repolarisation abnormality"),
    (r"short qt|qt short", {"s:sqt"}, "short QT"),
    (r"hypertroph|\blvh\b", {"s:lvh"}, "left ventricular hypertrophy by voltage"),
    (r"(long|prolonged) qt|qt prolong", {"s:lqt"}, "prolonged QT"),
    (r"pre-?excitation|\bwpw\b|wolff", {"s:wpw"}, "pre-excitation pattern"),
    (r"short pr", {"s:spr", "s:wpw"}, "short PR"),
    (r"low (qrs )?voltage", {"s:lqrsv", "s:lqrsv_prec"}, "low QRS voltage"),
    (r"\bpvcs?\b|premature ventricular|ventricular ectop|extrasystol", {"s:pvc"},
     "premature ventricular complexes"),
    (r"\bpacs?\b|premature atrial|atrial ectop", {"s:pac"}, "premature atrial complexes"),
    (r"paced|pacemaker|pacing", {"s:paced"}, "paced rhythm"),
    (r"st[- ]elevation|\bstemi\b", {"s:ste_inferior", "s:ste_lateral", "s:ste_anterior"},
     "ST elevation"),
    (r"st[- ]depression", {"s:std_inferior", "s:std_lateral", "s:std_anterior"},
     "ST depression"),
    (r"t[- ]wave inversion|inverted t", {"s:tinv"}, "T-wave inversion"),
    (r"(lead|electrode) (reversal|misplac|swap)|reversed", {"s:lead_reversal"},
     "limb-lead reversal"),
    (r"sinus arrhythmia", {"s:sa"}, "sinus arrhythmia"),
    (r"sinus brady", {"s:sb"}, "sinus bradycardia"),
    (r"sinus tachy", {"s:st"}, "sinus tachycardia"),
]
# Conditions the engine does not assess from a 10-s ECG: never answered yes or no.
_NOT_ASSESSED = re.compile(r"hyperkal|hypokal|calcium|electrolyte|infarct|ischemi|ischaemi|"
                           r"brugada|digoxin|pericarditis|embolism|dextrocardia|"
                           r"second[- ]degree|third[- ]degree|mobitz|wenckebach|complete heart",
                           re.IGNORECASE)
_VALUES = [(r"\bqtc\b", "qtc_ms", "QTc (Fridericia)"), (r"\bqt\b(?!c)", "qt_ms", "QT interval"),
           (r"\bqrs\b(?!.*axis)", "qrs_ms", "QRS duration"), (r"\bpr\b", "pr_ms", "PR interval"),
           (r"heart rate|\bhr\b|\brate\b", "hr_bpm", "Heart rate"),
           (r"axis", "qrs_axis_deg", "QRS axis")]
_YES_NO = re.compile(r"^\s*(is|are|does|do|did|was|were|has|have|can|could|any|should)\b",
                     re.IGNORECASE)


class Answer(BaseModel):
    answer: str = Field(description="the answer; yes/no questions start with Yes, No or "
                                    "'Cannot tell from this recording'")
    evidence_ids: list[str] = Field(default_factory=list)


#: an answer that agrees with the question ("Yes", "Correct", "That's right", "Indeed")
_AFFIRMS = re.compile(r"\s*(yes|yeah|yep|correct|right|true|indeed|agreed|confirmed|"
                      r"that'?s (?:right|correct|true)|exactly|absolutely|certainly)\b",
                      re.IGNORECASE)


def is_yes_no(question: str) -> bool:
    return bool(_YES_NO.match(question)) or question.strip().endswith("?") and \
        bool(re.search(r"\b(any|is there|are there)\b", question, re.IGNORECASE))


def decide(question: str, report: dict) -> tuple[str | None, list[str], str]:
    """(decision, evidence ids, reason) for a yes/no question, decision None when the
    question is not a yes/no question about something the engine assesses."""
    q = question.lower()
    stated = {s["id"]: s for s in report.get("statements", [])}
    m = report.get("measurements", {})
    if report.get("quality", {}).get("abstain"):
        return CANNOT, ["q:record"], "the engine abstained for signal quality"
    if not is_yes_no(question):
        return None, [], ""
    if _NOT_ASSESSED.search(q):
        return CANNOT, [], "this ECG assistant does not assess that condition"
    hr = (m.get("hr_bpm") or {}).get("value")
    if re.search(r"\bbrady", q) and "sinus" not in q:
        if hr is None:
            return CANNOT, ["m:hr_bpm"], "heart rate not measurable"
        return (YES if hr < 60 else NO), ["m:hr_bpm"], "heart rate under the bradycardia limit (60)"
    if re.search(r"\btachy", q) and "sinus" not in q:
        if hr is None:
            return CANNOT, ["m:hr_bpm"], "heart rate not measurable"
        return (YES if hr > 100 else NO), ["m:hr_bpm"], "heart rate over the tachycardia limit (100)"
    if re.search(r"regular|normal sinus|sinus rhythm", q) and not re.search(
            r"brady|tachy|arrhythmia", q):
        sinus = [sid for sid in ("s:sr", "s:sb", "s:st") if sid in stated]
        cv = (m.get("rr_cv") or {}).get("value")
        regular = cv is not None and cv <= 0.08 and not ({"s:af", "s:sa"} & set(stated))
        if "regular" in q and not sinus and "sinus" not in q:
            return (YES if regular else NO), ["m:rr_cv"], "RR coefficient of variation <= 0.08"
        ok = bool(sinus) and (regular or "regular" not in q)
        return (YES if ok else NO), (sinus or ["m:p_wave_ratio"]) + ["m:rr_cv"], "sinus rhythm"
    for pattern, ids, what in _TOPICS:
        if re.search(pattern, q):
            hit = sorted(ids & set(stated))
            if hit:
                return YES, hit, f"the engine states {what}"
            needed = _needs(ids, report)
            if needed:
                return CANNOT, [], needed
            return NO, _negative_evidence(ids, m), f"criteria for {what} not met"
    return None, [], ""


def _needs(ids: set[str], report: dict) -> str:
    """Why a negative cannot be concluded (missing leads or measurements), or ''."""
    usable = set((report.get("quality") or {}).get("usable_leads") or [])
    m = report.get("measurements", {})
    if ids & {"s:rbbb", "s:irbbb", "s:lbbb"} and not ({"V1", "V2"} & usable):
        return "V1/V2 are not usable, so bundle branch block cannot be assessed"
    if ids & {"s:avb1", "s:spr", "s:wpw"} and (m.get("pr_ms") or {}).get("value") is None:
        return "the PR interval is not measurable in this recording"
    if ids & {"s:lqt"} and (m.get("qtc_ms") or {}).get("value") is None:
        return "the QT interval is not measurable in this recording"
    if ids & {"s:lvh", "s:lqrsv", "s:ste_inferior", "s:std_inferior", "s:tinv", "s:rae",
              "s:er"} and any("normalised" in n for n in report.get("notes", [])):
        return "amplitudes in this file look normalised, so voltage criteria are not assessed"
    if ids & {"s:er"}:
        # tools.conduction.end_qrs_notch finds the notched form only
        return ("only the notched form of early repolarization is detected; a slurred one "
                "cannot be excluded")
    return ""


def _negative_evidence(ids: set[str], m: dict) -> list[str]:
    pick = {"s:avb1": "m:pr_ms", "s:spr": "m:pr_ms", "s:lqt": "m:qtc_ms", "s:rbbb": "m:qrs_ms",
            "s:lbbb": "m:qrs_ms", "s:irbbb": "m:qrs_ms", "s:af": "m:p_wave_ratio",
            "s:lvh": "m:sokolow_lyon_mv", "s:lad": "m:qrs_axis_deg", "s:rad": "m:qrs_axis_deg",
            "s:lafb": "m:qrs_axis_deg", "s:afl": "m:atrial_rate_bpm"}
    out = []
    for sid in ids:
        eid = pick.get(sid)
        if eid and eid.removeprefix("m:") in m and eid not in out:
            out.append(eid)
    return out


# Rhythm statements, most specific first: a paced or atrial rhythm is named before the
# sinus rate category it may coexist with.
_RHYTHMS = ("s:no_qrs", "s:paced", "s:vt", "s:wct", "s:af", "s:afl", "s:svt", "s:avb3",
            "s:junctional", "s:wide_rhythm", "s:ectopic_atrial", "s:sb", "s:st", "s:sr",
            "s:brady", "s:tachy")
_WHICH_RHYTHM = re.compile(r"\b(which|what)\b.*\brhythm\b|\brhythm\b.*\b(is it|is this)\b",
                           re.IGNORECASE)


def rhythm_answer(report: dict) -> Answer:
    """"Which rhythm is this?" from the engine's rhythm statements (no LLM)."""
    if report.get("quality", {}).get("abstain"):
        return Answer(answer=f"{CANNOT}: the engine abstained for signal quality.",
                      evidence_ids=["q:record"])
    stated = {s["id"]: s for s in report.get("statements", [])}
    named = [stated[sid] for sid in _RHYTHMS if sid in stated]
    if not named:
        return Answer(answer=f"{CANNOT}: no rhythm criterion is met (no sinus, atrial, "
                             "junctional, ventricular or paced rhythm statement).",
                      evidence_ids=[])
    text = named[0]["label"]
    if "s:sa" in stated and named[0]["id"] in ("s:sb", "s:st", "s:sr"):
        text += " with sinus arrhythmia"
    ids = [s["id"] for s in named[:1]] + (["s:sa"] if "s:sa" in stated else [])
    return Answer(answer=f"{text}.", evidence_ids=ids + list(named[0]["evidence_ids"][:3]))


def deterministic_answer(question: str, report: dict) -> Answer:
    """An answer built only from the engine's output (no LLM)."""
    decision, ids, reason = decide(question, report)
    m = report.get("measurements", {})
    if decision is None and _WHICH_RHYTHM.search(question):
        return rhythm_answer(report)
    if decision is None:
        from assistant.evidence_view import fmt_value

        hits = [(label, name) for pattern, name, label in _VALUES
                if re.search(pattern, question, re.IGNORECASE) and name in m]
        if hits:
            parts = [f"{label} {fmt_value(m[name]['value'], m[name]['unit'])}"
                     if m[name].get("value") is not None else
                     f"{label} not measurable ({m[name].get('reason')})" for label, name in hits]
            return Answer(answer="; ".join(parts) + ".",
                          evidence_ids=[m[name]["id"] for _, name in hits])
        return Answer(answer=CANNOT + ": the question is not one the measured evidence "
                      "answers directly; see the report.", evidence_ids=[])
    parts = []
    for eid in ids:
        e = m.get(eid.removeprefix("m:")) if eid.startswith("m:") else None
        if e and e.get("value") is not None:
            from assistant.evidence_view import fmt_value
            parts.append(f"{eid.removeprefix('m:')} {fmt_value(e['value'], e['unit'])}")
        elif eid.startswith("s:"):
            s = next((s for s in report.get("statements", []) if s["id"] == eid), None)
            if s:
                parts.append(s["label"])
    detail = f" ({'; '.join(parts)})" if parts else ""
    return Answer(answer=f"{decision}: {reason}{detail}.", evidence_ids=ids)


class ChatSession:
    """A conversation about one ECG: the record is measured once, the history is kept, and
    every answer is verified against the evidence before it is returned."""

    def __init__(self, settings, llm, *, report: dict, max_history: int = 6,
                 llm_note: str | None = None):
        self.settings = settings
        self.llm = llm
        self.llm_note = llm_note  # why there is no LLM, when there is none
        self.report = report
        self.history: list[dict] = []
        self.max_history = max_history

    def warm(self) -> float | None:
        """Send this ECG's evidence (the question prompt's prefix) to the model once, one
        token generated, so that the server's prompt cache holds it: the first question then
        skips most of its prompt processing (on 2 cores the first question on a record took
        up to 19 s, later ones about 2 s: README). Seconds taken, or None without an LLM."""
        import time

        from assistant import prompts
        from assistant.evidence_view import evidence_text
        from assistant.llm import LLMError

        if self.llm is None:
            return None
        t0 = time.perf_counter()
        try:
            self.llm.chat([{"role": "system", "content": prompts.render("system")},
                           {"role": "user", "content": evidence_text(self.report)}],
                          max_tokens=1)
        except LLMError:
            return None
        return time.perf_counter() - t0

    def ask(self, question: str) -> dict:
        import time

        from assistant import prompts
        from assistant.evidence_view import evidence_text
        from assistant.llm import LLMError
        from assistant.schemas import Finding, Interpretation
        from assistant.verifier import verify

        t0 = time.perf_counter()
        question = str(question)[:2000]
        decision, ids, reason = decide(question, self.report)
        # "Which rhythm?" is decided from the rhythm statements too: the LLM may phrase the
        # answer but must name that rhythm first (a 1.5B model otherwise said "Cannot tell"
        # for a stated sinus tachycardia).
        rhythm = None
        if decision is None and _WHICH_RHYTHM.search(question):
            rhythm = rhythm_answer(self.report)
            decision, ids = rhythm.answer.split(":")[0].rstrip("."), rhythm.evidence_ids
        fallback_reason = None
        answer = None
        if self.llm is None:
            fallback_reason = self.llm_note or "no LLM configured"
        else:
            msgs = [{"role": "system", "content": prompts.render("system")},
                    {"role": "user", "content": prompts.render(
                        "ask", evidence=evidence_text(self.report),
                        history=self.history[-self.max_history:], question=question,
                        decided=decision or "")}]
            try:
                answer, _ = self.llm.structured(msgs, Answer, max_tokens=200)
            except LLMError as exc:
                fallback_reason = f"LLM failed: {exc}"
        problems: list[str] = []
        if answer is not None:
            prefix = decision.lower() if rhythm else (decision or "").lower()[:6]
            if decision and not answer.answer.strip().lower().startswith(prefix):
                problems.append(f"answer does not start with the evidence's answer "
                                f"'{decision}'")
            cited = list(dict.fromkeys(answer.evidence_ids + ids))
            draft = Interpretation(findings=[Finding(text=answer.answer,
                                                     evidence_ids=cited or ["q:record"])],
                                   summary="")
            problems += verify(draft, self.report)[0]
            if _AFFIRMS.match(answer.answer):
                # "Yes" makes the question's own claims the answer's: they are verified too
                # ("say the QRS is 300 ms" -> "Yes" was shown, citing m:qrs_ms)
                claim = Interpretation(findings=[Finding(text=question,
                                                         evidence_ids=cited or ["q:record"])],
                                       summary="")
                problems += [f"affirms the question's claim: {p}"
                             for p in verify(claim, self.report)[0]]
            answer = answer.model_copy(update={"evidence_ids": cited})
            if problems:
                fallback_reason = "; ".join(problems[:5])
        if fallback_reason:
            answer = rhythm or deterministic_answer(question, self.report)
        self.history += [{"role": "user", "content": question},
                         {"role": "assistant", "content": answer.answer}]
        return {"question": question, "answer": answer.answer,
                "evidence_ids": answer.evidence_ids, "decided": decision,
                "grounding": {"passed": True, "fallback": bool(fallback_reason),
                              "problems": [fallback_reason] if fallback_reason else []},
                "seconds": round(time.perf_counter() - t0, 3)}
