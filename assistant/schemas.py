"""Output models of the agent: the structured interpretation and its grounding report."""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class Finding(BaseModel):
    """One sentence of the interpretation and the evidence it rests on."""

    text: str = Field(description="one clinical finding, in words; numbers only as measured")
    evidence_ids: list[str] = Field(description="ids of the measurements/statements cited, "
                                                "e.g. 'm:qrs_ms', 's:rbbb'")
    knowledge_ids: list[str] = Field(default_factory=list,
                                     description="ids of knowledge passages whose criterion "
                                                 "is applied, e.g. 'k:rbbb'")


class Interpretation(BaseModel):
    """A structured ECG interpretation; every finding and impression sentence cites evidence.

    ``findings`` (one per statement, then the measured intervals), ``summary`` and
    ``limitations`` are written by code from the evidence; ``impression`` and the comparison
    narrative are the LLM's, verified like everything else (empty in a deterministic report).
    """

    findings: list[Finding]
    summary: str = Field(description="one or two sentences; no number that is not in a finding")
    impression: list[Finding] = Field(default_factory=list,
                                      description="what the findings mean together and what "
                                                  "to consider next, most important first")
    comparison_with_prior: str | None = None
    limitations: list[str] = Field(default_factory=list)


class ReportDraft(BaseModel):
    """What the LLM writes for a report: the impression (and, with a prior ECG, the
    comparison narrative). Everything deterministic is written by code."""

    impression: list[Finding] = Field(description="1 to 3 sentences, most important first, "
                                                  "each citing the statements it is about "
                                                  "and the knowledge passages it uses")
    comparison_with_prior: str | None = None

    @field_validator("impression", mode="before")
    @classmethod
    def _sentences(cls, v):
        # a small model sometimes writes the impression as one string or a list of strings:
        # kept, uncited, so that the verifier names the problem and the repair round fixes it
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            v = [{"text": x, "evidence_ids": []} if isinstance(x, str) else x for x in v]
        return v


class Grounding(BaseModel):
    """What the verifier concluded about the draft that is shown."""

    passed: bool
    fallback: bool = False
    repaired: bool = False
    attempts: int = 1
    problems: list[str] = Field(default_factory=list,
                                description="verifier messages of the last failing draft")
    checked_findings: int = 0
    checked_numbers: int = 0
