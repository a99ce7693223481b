"""Tool declarations over the prior-report store (knowledge/priors.py).

``priors_add`` measures and encodes a record and stores its report under a patient id;
``priors_for_patient`` lists a patient's earlier reports (serial comparison);
``priors_similar`` finds the most similar ECGs of other patients with their reports.
"""
from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from knowledge.priors import (PriorMatch, PriorReport, PriorStore, check_id, default_priors_dir,
                              seed_if_empty)
from tools.registry import tool

_KEY_MEASUREMENTS = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg",
                     "p_axis_deg", "t_axis_deg", "rr_cv", "sokolow_lyon_mv")


def open_store(persist_dir: str | None = None, *, seed: bool = True) -> PriorStore:
    """The store at ``persist_dir`` (default: :func:`default_priors_dir`), seeded with the
    bundled dataset reports on first use."""
    store = PriorStore(persist_dir or default_priors_dir())
    if seed:
        seed_if_empty(store)
    return store


def report_from_analysis(d: dict, *, patient_id: str, date: str = "", report_id: str = "",
                         interpretation: str = "", model: str = "", origin: str = "user",
                         expert_labels: list[str] | None = None) -> PriorReport:
    """A storable report from ``Analysis.to_dict()`` output."""
    m = d.get("measurements", {})
    statements = [{k: s.get(k) for k in ("id", "label", "snomed", "confidence")}
                  for s in d.get("statements", [])]
    if not report_id:
        basis = f"{patient_id}|{date}|{d.get('record', {}).get('source', '')}|" \
                f"{m.get('hr_bpm', {}).get('value')}|{m.get('qrs_ms', {}).get('value')}"
        report_id = "r-" + hashlib.sha256(basis.encode()).hexdigest()[:16]
    return PriorReport(report_id=report_id, patient_id=patient_id, date=date,
                       source=d.get("record", {}).get("source", ""), origin=origin,
                       embedding_model=model,
                       measurements={k: m[k]["value"] for k in _KEY_MEASUREMENTS if k in m},
                       statements=statements, interpretation=interpretation,
                       expert_labels=expert_labels or [])


def _measure_and_encode(path: str, fs: float | None):
    from tools.encoder import encode_record
    from tools.engine import analyze
    from tools.record import load_record

    record = load_record(path, fs=fs)
    return analyze(record).to_dict(), encode_record(record)


class PriorsAddInput(BaseModel):
    path: str = Field(description="ECG file to measure, encode and store")
    patient_id: str = Field(description="patient identifier (letters, digits, . _ : -)")
    date: str = Field(default="", description="ISO date of the ECG, YYYY-MM-DD")
    interpretation: str = Field(default="", description="free-text report (stored as data)")
    fs: float | None = None
    store_dir: str | None = Field(default=None, description="store location (default: home)")


class PriorsAddOutput(BaseModel):
    report: PriorReport
    stored_reports: int


@tool("priors_add")
def priors_add(args: PriorsAddInput) -> PriorsAddOutput:
    """Measure and encode an ECG and store its report as a prior of the given patient."""
    patient = check_id(args.patient_id, "patient id")
    d, enc = _measure_and_encode(args.path, args.fs)
    report = report_from_analysis(d, patient_id=patient, date=args.date,
                                  interpretation=args.interpretation, model=enc.model)
    store = open_store(args.store_dir)
    store.add(report, enc.embedding)
    return PriorsAddOutput(report=report, stored_reports=store.count())


class PatientPriorsInput(BaseModel):
    patient_id: str
    store_dir: str | None = None


class PatientPriorsOutput(BaseModel):
    patient_id: str
    reports: list[PriorReport]


@tool("priors_for_patient")
def priors_for_patient(args: PatientPriorsInput) -> PatientPriorsOutput:
    """List the stored prior ECG reports of one patient, oldest first (serial comparison)."""
    store = open_store(args.store_dir)
    return PatientPriorsOutput(patient_id=args.patient_id,
                               reports=store.for_patient(args.patient_id))


class PriorsSimilarInput(BaseModel):
    path: str = Field(description="ECG file to compare")
    k: int = Field(default=5, ge=1, le=50)
    patient_id: str | None = Field(default=None,
                                   description="this ECG's patient, excluded from the results")
    fs: float | None = None
    store_dir: str | None = None


class PriorsSimilarOutput(BaseModel):
    embedding_model: str
    matches: list[PriorMatch]
    stored_reports: int


@tool("priors_similar")
def priors_similar(args: PriorsSimilarInput) -> PriorsSimilarOutput:
    """Find the k most similar stored ECGs of other patients, with their reports and expert
    labels (case-based reasoning). Similarity is cosine over encoder embeddings."""
    from tools.encoder import encode_record
    from tools.record import load_record

    enc = encode_record(load_record(args.path, fs=args.fs))
    store = open_store(args.store_dir)
    exclude = check_id(args.patient_id, "patient id") if args.patient_id else None
    matches = store.similar(enc.embedding, args.k, exclude_patient=exclude,
                            embedding_model=enc.model)
    return PriorsSimilarOutput(embedding_model=enc.model, matches=matches,
                               stored_reports=store.count())
