"""FHIR R4 export of a report: a ``collection`` Bundle of one DiagnosticReport and its
Observations, built with the pydantic models of ``fhir.resources`` (which validate).

``fhir.resources`` 8.x ships R5 (default), R4B and STU3, not R4 (4.0.1). Its ``R4B`` package is
used: for Bundle, DiagnosticReport and Observation the R4 (4.0.1) and R4B (4.3.0)
StructureDefinitions have the same elements, cardinalities, types and bindings (compared
element by element), so the JSON is R4 JSON. Only element paths common to both are used.

Mapping (each evidence id survives as an ``identifier``, system ``urn:ecg-assistant:evidence``):

- each global measurement (no per-lead ``amp.*`` / ``terminal_qrs.*``), and any per-lead one a
  statement cites, becomes an Observation: LOINC where one exists, always also the engine's own
  code (system ``urn:ecg-assistant:measurement``); ``valueQuantity`` in UCUM. A null value
  becomes an Observation with ``dataAbsentReason`` = unknown and the engine's reason as text and
  note (kept, not omitted: "not measurable" is a result, and statements may cite it).
- each statement becomes an Observation coded in SNOMED CT with ``valueBoolean`` true, a note
  (criterion, source, confidence, cited evidence) and ``derivedFrom`` the measurement
  Observations it cites; the DiagnosticReport lists the SNOMED codes in ``conclusionCode``.
- the DiagnosticReport (LOINC 11524-6) has ``result`` = all Observations and ``conclusion`` =
  the summary (and the verified LLM impression when present), else the statement labels; an
  abstaining record says so first.

No Patient: reports carry no patient identity, so ``subject`` is absent (0..1 in R4).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
EVIDENCE_SYSTEM = "urn:ecg-assistant:evidence"
MEASUREMENT_SYSTEM = "urn:ecg-assistant:measurement"
REPORT_SYSTEM = "urn:ecg-assistant:report"
_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# LOINC codes (class EKG.MEAS), display = LOINC long common name. Checked against:
# 8636-3, 76634-5 (Fridericia) and 76635-2 (Bazett): the LOINC descriptions reproduced at
#   autoicdapi.com/loinc/8636-3 and cismef.org LNC_CT_76634-5 ("use 8636-3 to report a QTc
#   without specifying a method; for Fridericia use 76634-5, for Bazett use 76635-2");
# 8625-6, 8633-0, 8634-8, 8626-4, 8632-2, 8638-9: an HL7 aECG mapping spec (PRInterval,
#   QRSDuration, QTInterval, PAxis, QRSAxis, TAxis) and an HL7 v2 feed ("8638-9^FRONTAL AXIS T");
# 76282-3 "Heart rate.beat-to-beat by EKG" (an FSH profile for ECG QTc observations) and
#   8867-4 "Heart rate" (the FHIR R4 vital-signs heart-rate code), given as a second coding;
# 11524-6 "EKG study" (DiagnosticReport.code in several FHIR exporters).
# Not mapped (engine code only): rr_ms, p_ms, RR variability, voltages, counts - no LOINC code
# was verified for them here.
_LOINC_CODES: dict[str, list[tuple[str, str]]] = {
    "hr_bpm": [("76282-3", "Heart rate.beat-to-beat by EKG"), ("8867-4", "Heart rate")],
    "pr_ms": [("8625-6", "P-R Interval")],
    "qrs_ms": [("8633-0", "QRS duration")],
    "qt_ms": [("8634-8", "Q-T interval")],
    "qtc_fridericia_ms": [("76634-5", "Q-T interval corrected based on Fridericia formula")],
    "qtc_bazett_ms": [("76635-2", "Q-T interval corrected based on Bazett formula")],
    "p_axis_deg": [("8626-4", "P wave axis")],
    "qrs_axis_deg": [("8632-2", "QRS axis")],
    "t_axis_deg": [("8638-9", "T wave axis")],
}
_QTC = ("8636-3", "Q-T interval corrected")
EKG_STUDY = ("11524-6", "EKG study")

# engine unit -> (UCUM code, human-readable unit)
_UCUM = {"ms": ("ms", "ms"), "bpm": ("/min", "beats/minute"), "/min": ("/min", "/min"),
         "deg": ("deg", "deg"), "mV": ("mV", "mV"), "mV*ms": ("mV.ms", "mV*ms"),
         "ratio": ("1", "ratio"), "count": ("1", "count"), "mm*s": ("mm.s", "mm*s")}
_PER_LEAD = ("amp.", "terminal_qrs.", "qrs_shape.")


def loinc_codes(name: str, method: str = "") -> list[tuple[str, str]]:
    """The LOINC (code, display) pairs of engine measurement ``name`` (``[]`` when none).

    ``qtc_ms`` is the engine's default QTc: the formula-specific code when its ``method``
    names the formula, then the method-less 8636-3.
    """
    if name == "qtc_ms":
        m = method.lower()
        specific = _LOINC_CODES["qtc_fridericia_ms"] if "fridericia" in m else \
            _LOINC_CODES["qtc_bazett_ms"] if "bazett" in m else []
        return [*specific, _QTC]
    return list(_LOINC_CODES.get(name, []))


def report_to_fhir(report: dict, report_id: str, *, issued: datetime | str | None = None) -> dict:
    """A FHIR R4 ``Bundle`` (type ``collection``) JSON dict of ``report``.

    ``report`` is either shape the API stores: the deterministic one (``measurements``,
    ``quality``, ``statements``, ``evidence``) or the LLM one (``evidence``, ``statements``,
    ``interpretation``; measurements and record quality are read from ``evidence``).
    ``issued`` (an aware datetime or ISO 8601 string) defaults to ``report["created"]`` when
    present, else now (UTC). Resource ids and ``urn:uuid:`` fullUrls are uuid5 of
    ``report_id`` and the evidence id, so the same report always exports the same ids.
    Raises ``ValueError`` naming ``report_id`` when ``report`` has neither shape.
    """
    from fhir.resources.R4B.bundle import Bundle

    measurements, statements, quality = _parts(report, report_id)
    when = _instant(issued if issued is not None else report.get("created"))
    base = uuid.uuid5(uuid.NAMESPACE_URL, f"{REPORT_SYSTEM}:{report_id}")
    urls = {eid: f"urn:uuid:{uuid.uuid5(base, eid)}" for eid in
            [m["id"] for m in measurements] + [s["id"] for s in statements]}
    cited = {e for s in statements for e in s.get("evidence_ids", [])}
    obs = [_measurement_obs(m, urls[m["id"]], when) for m in measurements
           if not m["name"].startswith(_PER_LEAD) or m["id"] in cited]
    exported = {o.identifier[0].value for o in obs}
    obs += [_statement_obs(s, urls, exported, when) for s in statements]
    dr_url = f"urn:uuid:{uuid.uuid5(base, 'diagnostic-report')}"
    dr = _diagnostic_report(report, report_id, statements, quality, obs, dr_url, when)
    bundle = Bundle(
        id=str(uuid.uuid5(base, "bundle")), type="collection", timestamp=when,
        identifier={"system": REPORT_SYSTEM, "value": report_id},
        entry=[{"fullUrl": dr_url, "resource": dr}] +
              [{"fullUrl": f"urn:uuid:{o.id}", "resource": o} for o in obs])
    return bundle.model_dump(mode="json")


def report_to_fhir_json(report: dict, report_id: str, **kw: Any) -> str:
    """:func:`report_to_fhir` as a JSON string (UTF-8 characters kept, 2-space indent)."""
    return json.dumps(report_to_fhir(report, report_id, **kw), ensure_ascii=False, indent=2)


# ---------------------------------------------------------------------------------- parts
def _parts(report: dict, report_id: str) -> tuple[list[dict], list[dict], dict]:
    """(measurements, statements, record quality) of either report shape."""
    if not isinstance(report, dict) or ("measurements" not in report
                                        and "evidence" not in report):
        raise ValueError(f"report {report_id!r}: expected a report dict with 'measurements' "
                         "(deterministic) or 'evidence' (LLM report)")
    evidence = report.get("evidence") or {}
    ms = report.get("measurements")
    measurements = list(ms.values()) if isinstance(ms, dict) else \
        [e for k, e in evidence.items() if k.startswith("m:") and isinstance(e, dict)]
    quality = report.get("quality") or evidence.get("q:record") or {}
    return measurements, list(report.get("statements") or []), quality


def _instant(value: datetime | str | None) -> str:
    """An ISO 8601 instant with a timezone (FHIR ``instant`` requires one); naive = UTC."""
    if value is None:
        value = datetime.now(timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat(timespec="seconds")


def _evidence_identifier(eid: str) -> dict:
    return {"system": EVIDENCE_SYSTEM, "value": eid}


_CATEGORY = [{"coding": [{"system": _OBS_CATEGORY, "code": "procedure",
                          "display": "Procedure"}]}]


# ------------------------------------------------------------------------- observations
def _measurement_obs(m: dict, url: str, when: str):
    """One measurement -> Observation (value in UCUM, or dataAbsentReason with the reason)."""
    from fhir.resources.R4B.observation import Observation

    name, unit, value = m["name"], m.get("unit") or "", m.get("value")
    coding = [{"system": LOINC, "code": c, "display": d}
              for c, d in loinc_codes(name, m.get("method") or "")]
    coding.append({"system": MEASUREMENT_SYSTEM, "code": name})
    kw: dict[str, Any] = {}
    if value is None:
        reason = m.get("reason") or "not measurable"
        kw["dataAbsentReason"] = {"coding": [{"system": _ABSENT, "code": "unknown",
                                              "display": "Unknown"}], "text": reason}
    elif unit == "bool":  # the engine's 0/1 rule outputs (e.g. afib_rule)
        kw["valueBoolean"] = bool(value)
    else:
        q: dict[str, Any] = {"value": value}
        if unit in _UCUM:
            q.update(system=UCUM, code=_UCUM[unit][0], unit=_UCUM[unit][1])
        elif unit:
            q["unit"] = unit  # no UCUM code known: keep the unit as text only
        kw["valueQuantity"] = q
    return Observation(
        id=url.removeprefix("urn:uuid:"), status="final", category=_CATEGORY,
        code={"coding": coding, "text": name}, identifier=[_evidence_identifier(m["id"])],
        issued=when, method={"text": m["method"]} if m.get("method") else None,
        note=[{"text": t} for t in _measurement_notes(m)] or None, **kw)


def _measurement_notes(m: dict) -> list[str]:
    notes = []
    if m.get("value") is None and m.get("reason"):
        notes.append(f"not measured: {m['reason']}")
    if m.get("leads"):
        notes.append("leads: " + ", ".join(m["leads"]))
    if m.get("beats"):
        notes.append("beats: " + ", ".join(str(b) for b in m["beats"]))
    if m.get("window_s"):
        a, b = m["window_s"]
        notes.append(f"window: {a}-{b} s from record start")
    cross = (m.get("details") or {}).get("cross_check")
    if cross:
        notes.append("cross-check: " + json.dumps(cross, sort_keys=True, default=str))
    return notes


def _statement_obs(s: dict, urls: dict[str, str], exported: set[str], when: str):
    """One statement -> Observation coded in SNOMED CT, derived from its cited measurements."""
    from fhir.resources.R4B.observation import Observation

    code = {"text": s["label"]}
    if s.get("snomed"):
        code["coding"] = [{"system": SNOMED, "code": s["snomed"], "display": s["label"]}]
    ids = s.get("evidence_ids") or []
    note = [f"criterion: {s.get('criterion', '')}", f"source: {s.get('source', '')}",
            f"confidence: {s.get('confidence')}", "evidence: " + ", ".join(ids)]
    if s.get("leads"):
        note.append("leads: " + ", ".join(s["leads"]))
    derived = [{"reference": urls[e], "identifier": _evidence_identifier(e)}
               for e in ids if e in exported]
    return Observation(
        id=urls[s["id"]].removeprefix("urn:uuid:"), status="final", category=_CATEGORY,
        code=code, identifier=[_evidence_identifier(s["id"])], issued=when,
        valueBoolean=True, derivedFrom=derived or None, note=[{"text": t} for t in note])


# ---------------------------------------------------------------------- the report itself
def _conclusion(report: dict, statements: list[dict], quality: dict) -> str:
    it = report.get("interpretation") or {}
    summary = (it.get("summary") or "").strip()
    text = summary or "; ".join(s["label"] for s in statements) or "No diagnostic statement."
    impression = " ".join(f["text"].strip() for f in it.get("impression") or [])
    if impression:  # verified like the findings (assistant.verifier)
        text += f" Impression: {impression}"
    if quality.get("abstain"):
        head = "Poor quality: cannot interpret"
        reason = quality.get("abstain_reason")
        head += f" ({reason})." if reason else "."
        text = head if text.startswith("Poor quality") and not summary else f"{head} {text}"
    dig = (report.get("record") or {}).get("digitized")  # both report shapes carry 'record'
    if dig:
        text += (f" Signal digitised from a paper ECG ({dig.get('source')}, "
                 f"{dig.get('layout')}); measurements carry the page's resolution.")
    return text


def _diagnostic_report(report, report_id, statements, quality, obs, url, when):
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    codes = []
    for s in statements:
        cc = {"text": s["label"]}
        if s.get("snomed"):
            cc["coding"] = [{"system": SNOMED, "code": s["snomed"], "display": s["label"]}]
        codes.append(cc)
    return DiagnosticReport(
        id=url.removeprefix("urn:uuid:"), status="final",
        identifier=[{"system": REPORT_SYSTEM, "value": report_id}],
        category=[{"coding": [{"system": _V2_0074, "code": "EC",
                               "display": "Electrocardiac (e.g., EKG, EEC, Holter)"}]}],
        code={"coding": [{"system": LOINC, "code": EKG_STUDY[0], "display": EKG_STUDY[1]}],
              "text": "12-lead ECG report"},
        issued=when, result=[{"reference": f"urn:uuid:{o.id}"} for o in obs] or None,
        conclusion=_conclusion(report, statements, quality),
        conclusionCode=codes or None)
