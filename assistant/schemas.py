"""Output models of the agent: the structured interpretation and its grounding report."""
from __future__ import annotations

from pydantic import BaseModel, Field


class Finding(BaseModel):
    """One sentence of the interpretation and the evidence it rests on."""

    text: str = Field(description="one clinical finding, in words; numbers only as measured")
    evidence_ids: list[str] = Field(description="ids of the measurements/statements cited, "
                                                "e.g. 'm:qrs_ms', 's:rbbb'")
    knowledge_ids: list[str] = Field(default_factory=list,
                                     description="ids of knowledge passages whose criterion "
                                                 "is applied, e.g. 'k:rbbb'")


class Interpretation(BaseModel):
    """A structured ECG interpretation; every finding cites evidence."""

    findings: list[Finding]
    summary: str = Field(description="one or two sentences; no number that is not in a finding")
    comparison_with_prior: str | None = None
    limitations: list[str] = Field(default_factory=list)


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
