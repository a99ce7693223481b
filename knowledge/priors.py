"""Prior-report store in Chroma: earlier ECGs of a patient, and similar ECGs of others.

Each stored report keeps the measurements and statements the evidence engine produced, an
optional free-text interpretation, the date, the patient id, expert labels when known (seed
data) and the encoder embedding used for similarity. Two queries: the priors of one patient
(serial comparison) and the k most similar ECGs of *other* patients (case-based reasoning).

All text kept here (free-text reports, header comments, labels) is untrusted data: it is
stored and returned verbatim as data, length-limited and stripped of control characters, and
nothing in this module ever interprets it.
"""
from __future__ import annotations

import json
import re
from datetime import date as _date
from pathlib import Path

from pydantic import BaseModel, Field

COLLECTION = "prior_reports"
MAX_TEXT = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class PriorReport(BaseModel):
    """One stored ECG report."""

    report_id: str
    patient_id: str
    date: str = Field(description="ISO date of the ECG (YYYY-MM-DD), or '' when unknown")
    source: str = Field(default="", description="file name the report came from")
    origin: str = Field(default="user", description="'user' or 'seed' (bundled dataset)")
    embedding_model: str = ""
    measurements: dict[str, float | None] = Field(default_factory=dict)
    statements: list[dict] = Field(default_factory=list, description="label, snomed, ...")
    interpretation: str = Field(default="", description="free text (untrusted data)")
    expert_labels: list[str] = Field(default_factory=list, description="dataset labels")


class PriorMatch(BaseModel):
    report: PriorReport
    similarity: float = Field(description="cosine similarity of the embeddings, -1..1")


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text -> printable, length-limited data."""
    return _CONTROL.sub(" ", str(text))[:limit]


def check_id(value: str, what: str) -> str:
    value = str(value).strip()
    if not _ID_OK.match(value):
        raise ValueError(f"{what} {value!r} is not valid: use 1-128 letters, digits, '.', '_', "
                         "':' or '-'")
    return value


def check_date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return _date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"date {value!r} is not an ISO date (YYYY-MM-DD)") from None


class PriorStore:
    """A persistent Chroma collection of :class:`PriorReport` with their embeddings."""

    def __init__(self, persist_dir: str | Path):
        import chromadb

        self.path = Path(persist_dir)
        self.path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(self.path), settings=chromadb.Settings(anonymized_telemetry=False))
        self._col = self._client.get_or_create_collection(
            COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    def count(self) -> int:
        return int(self._col.count())

    def add(self, report: PriorReport, embedding: list[float]) -> str:
        """Store (or replace) a report with its embedding; returns its id."""
        rid = check_id(report.report_id, "report id")
        check_id(report.patient_id, "patient id")
        report = report.model_copy(update={
            "date": check_date(report.date),
            "interpretation": clean_text(report.interpretation),
            "source": clean_text(Path(report.source).name, 256),
            "expert_labels": [clean_text(x, 200) for x in report.expert_labels][:50],
        })
        self._col.upsert(ids=[rid], embeddings=[list(map(float, embedding))],
                         documents=[_summary(report)],
                         metadatas=[{"patient_id": report.patient_id, "date": report.date,
                                     "origin": report.origin,
                                     "embedding_model": report.embedding_model,
                                     "report": report.model_dump_json()}])
        return rid

    def for_patient(self, patient_id: str) -> list[PriorReport]:
        """All stored reports of one patient, oldest first."""
        got = self._col.get(where={"patient_id": check_id(patient_id, "patient id")})
        reports = [PriorReport.model_validate_json(m["report"]) for m in got["metadatas"]]
        return sorted(reports, key=lambda r: (r.date, r.report_id))

    def similar(self, embedding: list[float], k: int = 5, *, exclude_patient: str | None = None,
                embedding_model: str | None = None) -> list[PriorMatch]:
        """The ``k`` most similar reports of other patients (same embedding model only)."""
        n = self.count()
        if n == 0:
            return []
        clauses = []
        if exclude_patient:
            clauses.append({"patient_id": {"$ne": exclude_patient}})
        if embedding_model:
            clauses.append({"embedding_model": embedding_model})
        where = None if not clauses else (clauses[0] if len(clauses) == 1 else {"$and": clauses})
        res = self._col.query(query_embeddings=[list(map(float, embedding))],
                              n_results=min(int(k), n), where=where,
                              include=["metadatas", "distances"])
        out = []
        for meta, dist in zip(res["metadatas"][0], res["distances"][0]):
            out.append(PriorMatch(report=PriorReport.model_validate_json(meta["report"]),
                                  similarity=round(1.0 - float(dist), 4)))
        return out


def _summary(r: PriorReport) -> str:
    labels = ", ".join(s.get("label", "") for s in r.statements)
    return json.dumps({"patient": r.patient_id, "date": r.date, "statements": labels,
                       "expert_labels": r.expert_labels}, ensure_ascii=False)


def default_priors_dir() -> Path:
    """``$ECG_ASSISTANT_HOME/priors`` (default ``~/.cache/ecg-assistant/priors``)."""
    import os

    home = os.environ.get("ECG_ASSISTANT_HOME") or str(Path.home() / ".cache" / "ecg-assistant")
    return Path(home) / "priors"


SEED_FILE = Path(__file__).with_name("seed_priors.jsonl.gz")


def seed_if_empty(store: PriorStore, seed_file: Path = SEED_FILE) -> int:
    """Load the bundled seed reports (LUDB and CinC 2021 records with their expert labels and
    precomputed embeddings) into an empty store; returns how many were added."""
    import gzip

    if store.count() or not seed_file.exists():
        return 0
    n = 0
    with gzip.open(seed_file, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            store.add(PriorReport.model_validate(row["report"]), row["embedding"])
            n += 1
    return n
