"""FHIR R4 export (assistant.fhir) on the bundled example records, in both report shapes.

Every exported bundle is validated against the official HL7 FHIR R4 (4.0.1) JSON schema
(``tests/fixtures/fhir.r4.schema.json.gz``, see tests/fixtures/ATTRIBUTION.md), after a
round trip through the fhir.resources models, plus the R4 invariants the schema cannot
express (bdl-7 unique fullUrl, obs-6 value xor dataAbsentReason, references resolving in
the bundle).
"""
from __future__ import annotations

import copy
import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import pytest

from assistant.fhir import (EVIDENCE_SYSTEM, LOINC, SNOMED, UCUM, loinc_codes, report_to_fhir,
                            report_to_fhir_json)
from assistant.schemas import Finding, Grounding, Interpretation

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"cinc": ROOT / "examples/cinc-E07500/E07500.hea",
            "ludb": ROOT / "examples/ludb-1/1.hea"}
ISSUED = "2026-11-24T10:00:00+00:00"
# required bindings in R4: ObservationStatus, DiagnosticReportStatus (hl7.org/fhir/R4)
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected",
                      "cancelled", "entered-in-error", "unknown"}
DIAGNOSTIC_REPORT_STATUS = {"registered", "partial", "preliminary", "final", "amended",
                            "corrected", "appended", "cancelled", "entered-in-error", "unknown"}


def _deterministic(d: dict) -> dict:
    """The dict POST /v1/reports?llm=false stores (assistant.api._analyse)."""
    from tools.evidence import evidence_index

    return {"record": d["record"], "evidence": evidence_index(d), "statements": d["statements"],
            "measurements": d["measurements"], "quality": d["quality"],
            "delineation": d["delineation"], "notes": d.get("notes", [])}


@lru_cache(maxsize=None)
def _analysis(name: str) -> str:
    from tools.engine import analyze
    from tools.record import load_record

    return json.dumps(analyze(load_record(str(EXAMPLES[name]))).to_dict())


def deterministic(name: str) -> dict:
    return _deterministic(json.loads(_analysis(name)))


def llm_shaped(name: str, summary: str = "Sinus bradycardia at 57 bpm.") -> dict:
    """The dict the agent stores (ReportAgent._assemble): no measurements, no quality."""
    det = deterministic(name)
    interp = Interpretation(findings=[Finding(text="Sinus bradycardia.",
                                              evidence_ids=["s:sb", "m:hr_bpm"])],
                            summary=summary, limitations=["text only"])
    return {"record": det["record"], "evidence": det["evidence"],
            "statements": det["statements"], "interpretation": interp.model_dump(),
            "grounding": Grounding(passed=True).model_dump(), "timings": {}, "tool_calls": [],
            "notes": det["notes"], "knowledge": [], "llm": None}


@lru_cache(maxsize=None)
def _abstaining() -> str:
    from tools.engine import analyze
    from tools.record import load_record

    rec = load_record(str(EXAMPLES["cinc"]))
    sig = rec.signal.copy()
    for lead in ["I", "II", "III", "aVR", "V1", "V2", "V3", "V4"]:  # as tests/test_quality.py
        sig[:, rec.sig_name.index(lead)] = 0.0
    return json.dumps(analyze(dataclasses.replace(rec, signal=sig)).to_dict())


def resources(bundle: dict, rtype: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def by_evidence(bundle: dict) -> dict[str, dict]:
    out = {}
    for o in resources(bundle, "Observation"):
        ids = [i["value"] for i in o["identifier"] if i["system"] == EVIDENCE_SYSTEM]
        assert len(ids) == 1
        out[ids[0]] = o
    return out


@lru_cache(maxsize=1)
def r4_schema_validator():
    """The official FHIR R4 JSON schema (draft-06, id http://hl7.org/fhir/json-schema/4.0)."""
    import gzip

    from jsonschema import Draft6Validator

    schema = json.loads(gzip.decompress((ROOT / "tests/fixtures/fhir.r4.schema.json.gz")
                                        .read_bytes()))
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"
    return Draft6Validator(schema)


def schema_errors(bundle: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in r4_schema_validator().iter_errors(bundle)]


def check_r4_structure(bundle: dict) -> None:
    """The R4 JSON schema, a round trip through the model, bundle invariants, reference
    resolution and the codes of required bindings."""
    from fhir.resources.R4B.bundle import Bundle

    assert schema_errors(bundle) == []
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    again = Bundle.model_validate(json.loads(json.dumps(bundle))).model_dump(mode="json")
    assert again == bundle
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))  # bdl-7
    for e in bundle["entry"]:
        assert e["fullUrl"] == f"urn:uuid:{e['resource']['id']}"
    refs = [r["reference"] for r in _references(bundle)]
    assert refs and set(refs) <= set(urls)
    for o in resources(bundle, "Observation"):
        has_value = any(k.startswith("value") for k in o)
        assert has_value != ("dataAbsentReason" in o)  # obs-6 (and every one says something)
        assert o["status"] == "final" and o["category"][0]["coding"][0]["code"] == "procedure"
    (dr,) = resources(bundle, "DiagnosticReport")
    assert dr["status"] in DIAGNOSTIC_REPORT_STATUS
    assert all(o["status"] in OBSERVATION_STATUS for o in resources(bundle, "Observation"))
    assert {r["reference"] for r in dr["result"]} == set(urls) - {bundle["entry"][0]["fullUrl"]}


def _references(node):
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for v in node.values():
            yield from _references(v)
    elif isinstance(node, list):
        for v in node:
            yield from _references(v)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("shape", ["deterministic", "llm"])
def test_bundle_is_valid_and_complete(name, shape):
    report = deterministic(name) if shape == "deterministic" else llm_shaped(name)
    bundle = report_to_fhir(report, f"r-{name}", issued=ISSUED)
    check_r4_structure(bundle)
    (dr,) = resources(bundle, "DiagnosticReport")
    assert dr["status"] == "final" and dr["issued"].startswith("2026-11-24T10:00:00")
    assert dr["code"]["coding"][0] == {"system": LOINC, "code": "11524-6",
                                       "display": "EKG study"}
    assert dr["identifier"][0]["value"] == f"r-{name}"
    if shape == "llm":
        assert dr["conclusion"] == "Sinus bradycardia at 57 bpm."
    else:
        assert dr["conclusion"] == "; ".join(s["label"] for s in report["statements"])


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("shape", ["deterministic", "llm"])
def test_loinc_codes_and_values_equal_the_measurements(name, shape):
    det = deterministic(name)
    report = det if shape == "deterministic" else llm_shaped(name)
    obs = by_evidence(report_to_fhir(report, "r1", issued=ISSUED))
    expected = {"hr_bpm": "76282-3", "pr_ms": "8625-6", "qrs_ms": "8633-0", "qt_ms": "8634-8",
                "qtc_ms": "8636-3", "qtc_bazett_ms": "76635-2", "qtc_fridericia_ms": "76634-5",
                "p_axis_deg": "8626-4", "qrs_axis_deg": "8632-2", "t_axis_deg": "8638-9"}
    units = {"hr_bpm": "/min", "p_axis_deg": "deg", "qrs_axis_deg": "deg", "t_axis_deg": "deg"}
    for mname, code in expected.items():
        m = det["measurements"][mname]
        o = obs[m["id"]]
        assert code in [c["code"] for c in o["code"]["coding"] if c["system"] == LOINC], mname
        if m["value"] is None:
            assert "dataAbsentReason" in o
            continue
        q = o["valueQuantity"]
        assert q["value"] == pytest.approx(m["value"]) and q["system"] == UCUM
        assert q["code"] == units.get(mname, "ms")
    # QTc default is Fridericia in the engine: the method-specific code comes first
    assert [c["code"] for c in obs["m:qtc_ms"]["code"]["coding"][:2]] == ["76634-5", "8636-3"]
    # every global measurement is exported, with its method
    for mname, m in det["measurements"].items():
        if not mname.startswith(("amp.", "terminal_qrs.", "qrs_shape.")):  # per lead
            assert obs[m["id"]]["method"]["text"] == m["method"]


@pytest.mark.parametrize("shape", ["deterministic", "llm"])
def test_snomed_codes_equal_the_statements_and_cite_their_evidence(shape):
    report = deterministic("cinc") if shape == "deterministic" else llm_shaped("cinc")
    bundle = report_to_fhir(report, "r1", issued=ISSUED)
    obs = by_evidence(bundle)
    url_of = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    (dr,) = resources(bundle, "DiagnosticReport")
    stmts = report["statements"]
    assert stmts, "the example should state something"
    assert [cc["coding"][0]["code"] for cc in dr["conclusionCode"]] == [s["snomed"] for s in stmts]
    assert all(cc["coding"][0]["system"] == SNOMED for cc in dr["conclusionCode"])
    for s in stmts:
        o = obs[s["id"]]
        assert o["code"]["coding"] == [{"system": SNOMED, "code": s["snomed"],
                                        "display": s["label"]}]
        assert o["valueBoolean"] is True
        notes = " ".join(n["text"] for n in o["note"])
        assert s["criterion"] in notes and all(e in notes for e in s["evidence_ids"])
        cited = [e for e in s["evidence_ids"] if e.startswith("m:")]
        assert cited
        targets = {d["identifier"]["value"]: d["reference"] for d in o["derivedFrom"]}
        assert set(targets) == set(cited)
        for eid, ref in targets.items():
            assert url_of[obs[eid]["id"]] == ref


def test_null_measurement_becomes_data_absent_with_its_reason():
    report = deterministic("cinc")
    report["measurements"]["qrs_ms"].update(value=None, reason="no QRS boundaries in 6 leads")
    bundle = report_to_fhir(report, "r1", issued=ISSUED)
    check_r4_structure(bundle)
    o = by_evidence(bundle)["m:qrs_ms"]
    assert "valueQuantity" not in o
    assert o["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert o["dataAbsentReason"]["text"] == "no QRS boundaries in 6 leads"
    assert any("no QRS boundaries in 6 leads" in n["text"] for n in o["note"])
    assert "8633-0" in [c["code"] for c in o["code"]["coding"]]


@pytest.mark.parametrize("shape", ["deterministic", "llm"])
def test_abstention_shows_in_the_conclusion(shape):
    det = _deterministic(json.loads(_abstaining()))
    assert det["quality"]["abstain"] and det["statements"][0]["id"] == "s:poor_quality"
    if shape == "llm":
        report = {k: det[k] for k in ("record", "evidence", "statements", "notes")}
        report["interpretation"] = {"findings": [], "summary": "The recording cannot be read.",
                                    "comparison_with_prior": None, "limitations": []}
    else:
        report = det
    bundle = report_to_fhir(report, "r-poor", issued=ISSUED)
    check_r4_structure(bundle)
    (dr,) = resources(bundle, "DiagnosticReport")
    assert dr["conclusion"].startswith("Poor quality: cannot interpret (")
    assert det["quality"]["abstain_reason"] in dr["conclusion"]
    # the poor-quality statement has no SNOMED code: text only, never an empty coding
    assert dr["conclusionCode"] == [{"text": "Poor quality: cannot interpret"}]
    assert "coding" not in by_evidence(bundle)["s:poor_quality"]["code"]


def test_export_is_stable_and_ids_follow_the_report_id():
    report = deterministic("ludb")
    a = report_to_fhir(copy.deepcopy(report), "r1", issued=ISSUED)
    assert report_to_fhir(report, "r1", issued=ISSUED) == a
    b = report_to_fhir(report, "r2", issued=ISSUED)
    assert not {e["fullUrl"] for e in a["entry"]} & {e["fullUrl"] for e in b["entry"]}


def test_json_string_round_trips_through_the_model():
    from fhir.resources.R4B.bundle import Bundle

    report = llm_shaped("ludb", summary="Sinus rhythm — no acute change.")
    text = report_to_fhir_json(report, "r1", issued=ISSUED)
    assert "—" in text  # UTF-8 kept
    parsed = Bundle.model_validate_json(text)
    assert parsed.model_dump(mode="json") == json.loads(text)
    assert parsed.entry[0].resource.conclusion == "Sinus rhythm — no acute change."


def test_issued_defaults_to_an_aware_now_and_accepts_naive_times():
    from datetime import datetime

    (dr,) = resources(report_to_fhir(deterministic("cinc"), "r1"), "DiagnosticReport")
    assert datetime.fromisoformat(dr["issued"].replace("Z", "+00:00")).tzinfo is not None
    bundle = report_to_fhir(deterministic("cinc"), "r1", issued=datetime(2026, 1, 2, 3, 4, 5))
    assert bundle["timestamp"] in ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05+00:00")


def test_unknown_shape_is_rejected_with_the_report_id():
    with pytest.raises(ValueError, match="'r9'"):
        report_to_fhir({"statements": []}, "r9")


def test_loinc_table():
    assert loinc_codes("qtc_ms", "Bazett QT / RR^(1/2)")[0][0] == "76635-2"
    assert loinc_codes("qtc_ms", "")[-1] == ("8636-3", "Q-T interval corrected")
    assert loinc_codes("sokolow_lyon_mv") == []


def test_the_schema_check_catches_invalid_bundles():
    bundle = report_to_fhir(deterministic("cinc"), "r1", issued=ISSUED)
    assert schema_errors(bundle) == []
    for path, bad in ((("entry", 1, "resource", "status"), "bogus"),
                      (("entry", 1, "resource", "valueQuantity", "value"), "57"),
                      (("entry", 0, "resource", "unknownField"), 1)):
        broken = copy.deepcopy(bundle)
        node = broken
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = bad
        assert schema_errors(broken), path
