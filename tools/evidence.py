"""Evidence types: measurements and statements, each with a stable id and its provenance.

Every number the assistant may show is a :class:`Measurement`; every diagnostic claim is a
:class:`Statement` that cites measurement ids. Ids are stable strings (``m:qrs_ms``,
``m:amp.V1.r_mv``, ``s:rbbb``) so that reports, the verifier and the UI can refer to them.
"""
from __future__ import annotations

from pydantic import BaseModel, Field


class Measurement(BaseModel):
    """One measured quantity with the evidence behind it."""

    id: str = Field(description="stable evidence id, e.g. 'm:qrs_ms'")
    name: str = Field(description="name with its unit, e.g. 'qrs_ms'")
    value: float | None = Field(description="the measured value; null when not measurable")
    unit: str
    method: str = Field(description="how it was measured (algorithm and reconciliation rule)")
    leads: list[str] = Field(default_factory=list, description="leads the value rests on")
    beats: list[int] = Field(default_factory=list, description="global beat indices used")
    window_s: tuple[float, float] | None = Field(
        default=None, description="time window of the beats used, seconds from record start")
    reason: str | None = Field(default=None, description="why value is null, when it is")
    details: dict = Field(default_factory=dict, description="cross-checks and sub-values")


#: what a statement's confidence means, said wherever confidences are shown (API schema,
#: app, PDF report)
CONFIDENCE_MEANING = ("how clearly the measured values meet the criterion, a ranking, not the "
                      "probability of being right")


class Statement(BaseModel):
    """A diagnostic statement derived from measurements by a published criterion."""

    id: str = Field(description="stable evidence id, e.g. 's:rbbb'")
    label: str
    snomed: str = Field(description="SNOMED CT concept id")
    criterion: str = Field(description="the rule applied, with its thresholds")
    source: str = Field(description="guideline or paper defining the criterion, with year")
    evidence_ids: list[str]
    confidence: float = Field(ge=0.0, le=1.0, description=(
        f"{CONFIDENCE_MEANING} (0.5 at the criterion's threshold, towards 1 with the margin, "
        "times the record's quality factor); against dataset labels it overstates the share "
        "correct (`ecg-assistant eval statements` reports its reliability)"))
    leads: list[str] = Field(default_factory=list)
    knowledge_id: str | None = Field(default=None, description="knowledge passage id")
    urgent: bool = Field(default=False, description="a pattern that needs action now (STEMI "
                         "or STEMI-equivalent, ventricular tachycardia, complete heart block): "
                         "listed first in every report")


def evidence_index(report: dict) -> dict[str, dict]:
    """Every citable evidence id of an analysis dict (``Analysis.to_dict()``) -> its entry.

    ``m:*`` are measurements, ``s:*`` statements, ``q:record`` the record-level quality,
    ``q:limb_lead_reversal`` the reversal check and ``q:lead.<LEAD>`` one lead's quality.
    """
    out: dict[str, dict] = {m["id"]: m for m in report.get("measurements", {}).values()}
    out.update({s["id"]: s for s in report.get("statements", [])})
    q = report.get("quality") or {}
    if q:
        out["q:record"] = {k: q.get(k) for k in ("usable_leads", "excluded_leads", "abstain",
                                                 "abstain_reason", "issues")}
        out["q:limb_lead_reversal"] = q.get("limb_lead_reversal") or {}
        for lead, lq in (q.get("leads") or {}).items():
            out[f"q:lead.{lead}"] = lq
    return out
