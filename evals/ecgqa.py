"""ECG-QA (Oh et al., NeurIPS 2023 Datasets and Benchmarks; github.com/Jwoo5/ecg-qa):
template and paraphrased questions over PTB-XL records.

Format (the dataset's README): each ``template/{train,valid,test}.json`` (or
``paraphrased/...``) is a JSON list of objects with ``template_id``, ``question_id``,
``sample_id``, ``question_type`` (``single-verify``, ``single-choose``, ``single-query``,
``comparison_*``), ``attribute_type`` (``scp_code``, ``noise``, ``stage_of_infarction``,
``extra_systole``, ``heart_axis``, ``numeric_feature``), ``question``, ``answer`` (list of
strings, e.g. ``["yes"]``), ``ecg_id`` (list of PTB-XL ids; two for comparisons) and
``attribute``. Only single-ECG questions are evaluated here (a comparison needs two ECGs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evals.suites.common import LayoutError

_REQUIRED = ("question", "answer", "question_type", "ecg_id")


@dataclass(frozen=True)
class EcgQaItem:
    """One single-ECG ECG-QA question: ``answer`` lower-cased strings."""

    sample_id: str
    ecg_id: int
    question: str
    answer: tuple[str, ...]
    question_type: str
    attribute_type: str
    template_id: int | None


def ecgqa_files(path: Path) -> list[Path]:
    """The json files of an ECG-QA path (a file, or a folder searched recursively)."""
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(path.rglob("*.json")) if path.is_dir() else []
    if not files:
        raise LayoutError(f"ECG-QA path {str(path)!r}: expected a json file (a list of "
                          f"question objects) or a folder holding template/*.json")
    return files


def read_ecgqa(path: Path, ecg_ids: set[int] | None = None) -> tuple[list[EcgQaItem], dict]:
    """Single-ECG questions of the ECG-QA file(s) at ``path`` (optionally only those over
    ``ecg_ids``), and counts of what was skipped and why."""
    items, skipped = [], {"comparison": 0, "ecg_not_in_data": 0}
    for f in ecgqa_files(path):
        try:
            data = json.loads(Path(f).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise LayoutError(f"ECG-QA file {str(f)!r} is not JSON: {exc}") from None
        if not isinstance(data, list) or (data and not all(
                isinstance(d, dict) and all(k in d for k in _REQUIRED) for d in data)):
            raise LayoutError(f"ECG-QA file {str(f)!r}: expected a list of objects with "
                              f"{', '.join(_REQUIRED)}")
        for i, d in enumerate(data):
            ids = d["ecg_id"] if isinstance(d["ecg_id"], list) else [d["ecg_id"]]
            if not str(d["question_type"]).startswith("single") or len(ids) != 1:
                skipped["comparison"] += 1
                continue
            eid = int(ids[0])
            if ecg_ids is not None and eid not in ecg_ids:
                skipped["ecg_not_in_data"] += 1
                continue
            ans = d["answer"] if isinstance(d["answer"], list) else [d["answer"]]
            items.append(EcgQaItem(
                sample_id=f"{f.stem}:{d.get('sample_id', i)}", ecg_id=eid,
                question=str(d["question"]), answer=tuple(str(a).strip().lower() for a in ans),
                question_type=str(d["question_type"]),
                attribute_type=str(d.get("attribute_type", "")),
                template_id=d.get("template_id")))
    return items, skipped
