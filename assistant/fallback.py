"""Deterministic interpretation built from the engine's statements and measurements.

Used when the LLM's draft fails verification twice (``grounding.fallback = true``), when no
LLM is reachable, and as the baseline of the grounding evaluation. Every sentence is produced
from evidence entries, so it passes the verifier by construction (a test checks this on every
bundled and shared record).
"""
from __future__ import annotations

from assistant.schemas import Finding, Interpretation

_INTERVALS = (("hr_bpm", "Heart rate", "bpm"), ("pr_ms", "PR interval", "ms"),
              ("qrs_ms", "QRS duration", "ms"), ("qt_ms", "QT interval", "ms"),
              ("qtc_ms", "QTc (Fridericia)", "ms"), ("qrs_axis_deg", "QRS axis", "deg"))


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 or abs(v) >= 100 else f"{v:.1f}"


def fallback_interpretation(report: dict) -> Interpretation:
    """An interpretation that states exactly the engine's statements and key intervals."""
    m = report.get("measurements", {})
    findings: list[Finding] = []
    for s in report.get("statements", []):
        # The criterion (with its thresholds) stays in the statement, which the finding cites;
        # quoting thresholds here would read as measured numbers.
        text = (("URGENT: " if s.get("urgent") else "")
                + f"{s['label']} (confidence {s['confidence']:.2f}).")
        findings.append(Finding(text=text, evidence_ids=[s["id"]],
                                knowledge_ids=[s["knowledge_id"]] if s.get("knowledge_id")
                                else []))
    measured = [(name, label, unit) for name, label, unit in _INTERVALS
                if name in m and m[name].get("value") is not None]
    if measured:
        parts = [f"{label} {_fmt(m[name]['value'])} {unit}" for name, label, unit in measured]
        findings.append(Finding(text="Measured: " + "; ".join(parts) + ".",
                                evidence_ids=[m[name]["id"] for name, _, _ in measured]))
    labels = [s["label"] for s in report.get("statements", [])]
    summary = ("; ".join(labels) + ".") if labels else \
        "No diagnostic statement met its criterion in this recording."
    return Interpretation(findings=findings, summary=summary,
                          limitations=limitations(report))


def urgent_first(interp: Interpretation, report: dict) -> Interpretation:
    """The findings citing an urgent statement (STEMI or STEMI equivalent, VT, complete heart
    block) first; an urgent statement the draft left out is added at the top, phrased as
    the fallback phrases it. A report never buries or drops one."""
    urgent = [s for s in report.get("statements", []) if s.get("urgent")]
    if not urgent:
        return interp
    ids = {s["id"] for s in urgent}
    cited = set().union(*(set(f.evidence_ids) for f in interp.findings)) if interp.findings \
        else set()
    missing = [s for s in urgent if s["id"] not in cited]
    added = fallback_interpretation({"statements": missing}).findings[:len(missing)]
    first = [f for f in interp.findings if ids & set(f.evidence_ids)]
    rest = [f for f in interp.findings if not ids & set(f.evidence_ids)]
    return interp.model_copy(update={"findings": added + first + rest})


def authorship(grounding: dict) -> str:
    """Who wrote what is shown, in words: the code alone by design (no LLM, an abstaining
    record, or a model that does not write the impression), the code after the LLM's draft
    was refused, or the LLM's verified draft."""
    if not grounding.get("fallback"):
        return "LLM impression, verified" + (" after one repair" if grounding.get("repaired")
                                             else "")
    problems = grounding.get("problems") or []
    if problems and str(problems[0]).startswith(("deterministic report", "no LLM configured",
                                                 "engine abstained")):
        return "written by code"
    return "written by code: the LLM's draft was refused"


def limitations(report: dict) -> list[str]:
    """Excluded leads, abstention, reduced leads and the engine's own notes."""
    q = report.get("quality") or {}
    out = []
    if q.get("abstain"):
        out.append(f"Interpretation withheld: {q.get('abstain_reason')}")
    if q.get("excluded_leads"):
        out.append("Excluded for signal quality: " + ", ".join(q["excluded_leads"]))
    leads = (report.get("record") or {}).get("leads") or []
    if leads and len(leads) < 12:
        out.append(f"Reduced-lead recording ({len(leads)} leads): criteria needing the "
                   "missing leads were not assessed.")
    out += [str(n) for n in report.get("notes", [])]
    return out
