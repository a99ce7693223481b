"""The grounding verifier against hand-written drafts on a real record (LUDB 1: sinus
bradycardia, HR 45 bpm, QRS 93 ms, PR 140 ms)."""
import copy

import pytest

from assistant.fallback import fallback_interpretation
from assistant.schemas import Finding, Interpretation
from assistant.verifier import verify
from tools.engine import analyze
from tools.record import load_record

from tests.test_engine import CINC, LUDB1


@pytest.fixture(scope="module")
def report():
    return analyze(load_record(LUDB1)).to_dict()


def _draft(*findings, summary="Sinus bradycardia."):
    return Interpretation(findings=[Finding(text=t, evidence_ids=ids) for t, ids in findings],
                          summary=summary)


def _v(report, draft):
    problems, _, _ = verify(draft, report)
    return problems


def _val(report, name):
    return report["measurements"][name]["value"]


def test_correct_draft_passes(report):
    hr, qrs = _val(report, "hr_bpm"), _val(report, "qrs_ms")
    d = _draft((f"Sinus bradycardia at {hr:.0f} bpm.", ["s:sb", "m:hr_bpm"]),
               (f"QRS duration {qrs:.0f} ms is normal.", ["m:qrs_ms"]))
    assert _v(report, d) == []


def test_small_llm_misreading_is_caught(report):
    # The failure that motivated the verifier: a 1.5B model called HR 112 / QRS 150 normal.
    d = _draft(("Normal sinus rhythm, HR 112 bpm, QRS 150 ms.", ["m:hr_bpm", "m:qrs_ms"]),
               summary="Normal ECG.")
    problems = " | ".join(_v(report, d))
    assert "112 bpm" in problems
    assert "150 ms" in problems
    assert "normal ECG" in problems  # sinus bradycardia is abnormal


def test_number_without_unit_after_measurement_name_is_checked(report):
    d = _draft(("QRS 150, within normal limits for width.", ["m:qrs_ms"]))
    assert any("QRS 150" in p for p in _v(report, d))


def test_unknown_evidence_id_fails(report):
    d = _draft(("Sinus bradycardia.", ["s:sb", "m:does_not_exist"]))
    assert any("unknown evidence" in p for p in _v(report, d))


def test_lead_not_in_cited_evidence_fails(report):
    d = _draft(("Heart rate measured; T waves in V2 look fine.", ["m:hr_bpm"]))
    assert _v(report, d) == []  # hr_bpm rests on all usable leads
    amp = "m:amp.V1.r_mv"
    d = _draft(("R wave in V5 is tall.", [amp]))
    assert any("lead V5" in p for p in _v(report, d))


def test_assert_and_deny_against_statements(report):
    assert any("asserts atrial fibrillation" in p
               for p in _v(report, _draft(("Atrial fibrillation.", ["m:hr_bpm"]))))
    assert _v(report, _draft(("No atrial fibrillation.", ["s:sb"]))) == []
    assert any("denies sinus bradycardia" in p
               for p in _v(report, _draft(("There is no sinus bradycardia.", ["s:sb"]))))


def test_null_measurement_cannot_be_cited():
    d = analyze(load_record(CINC)).to_dict()
    d["measurements"]["pr_ms"]["value"] = None
    d["measurements"]["pr_ms"]["reason"] = "no P wave"
    problems = verify(_draft(("PR interval.", ["m:pr_ms"]), summary="x"), d)[0]
    assert any("not measurable" in p for p in problems)


def test_summary_numbers_are_checked(report):
    d = _draft(("Sinus bradycardia.", ["s:sb", "m:hr_bpm"]), summary="Rate 99 bpm.")
    assert any(p.startswith("summary") for p in _v(report, d))


def test_fallback_always_passes(report):
    assert _v(report, fallback_interpretation(report)) == []


def test_quoted_criterion_threshold_is_allowed_but_not_as_a_measurement(report):
    ok = _draft(("Sinus bradycardia: heart rate below 60 bpm.", ["s:sb", "m:hr_bpm"]))
    assert _v(report, ok) == []
    bad = _draft(("Sinus bradycardia, heart rate 60 bpm.", ["s:sb", "m:hr_bpm"]))
    assert any("60 bpm" in p for p in _v(report, bad))


def test_comparisons_are_checked_against_the_measurement(report):
    qrs = _val(report, "qrs_ms")
    assert _v(report, _draft(("QRS duration below 120 ms.", ["m:qrs_ms"]))) == []
    assert any("not true" in p for p in
               _v(report, _draft(("QRS above 120 ms.", ["m:qrs_ms"]))))
    assert qrs < 120
    assert _v(report, _draft(("Rate under the threshold of 60 bpm.", ["s:sb", "m:hr_bpm"]))) == []


def test_named_measurement_must_match_its_own_value(report):
    pr, qrs = _val(report, "pr_ms"), _val(report, "qrs_ms")
    ok = _draft((f"PR {pr:.0f} ms and QRS {qrs:.0f} ms.", ["m:pr_ms", "m:qrs_ms"]),
                summary=f"Sinus bradycardia; QRS interval of {qrs:.0f} ms.")
    assert _v(report, ok) == []
    swapped = _draft((f"PR {qrs:.0f} ms and QRS {pr:.0f} ms.", ["m:pr_ms", "m:qrs_ms"]))
    assert len(_v(report, swapped)) == 2


def _with_statement(report, sid, label):
    rep = dict(report)
    rep["statements"] = list(report["statements"]) + [{
        "id": sid, "label": label, "snomed": "", "criterion": "test", "source": "test",
        "evidence_ids": ["m:hr_bpm"], "confidence": 0.8, "leads": [], "knowledge_id": None}]
    return rep


def test_rhythm_and_conduction_claims_need_their_statements(report):
    # LUDB 1 states none of these: each claim must be caught
    for text in ("Ventricular tachycardia.", "Wide-complex tachycardia.", "Mobitz II block.",
                 "Complete heart block.", "Junctional rhythm.", "Nonspecific IVCD.",
                 "Left atrial enlargement.", "Incomplete LBBB.", "Supraventricular tachycardia."):
        assert any("asserts" in p for p in
                   _v(report, _draft((text, ["m:hr_bpm"])))), text


def test_a_stated_wct_cannot_be_called_normal_or_denied_as_vt(report):
    rep = _with_statement(report, "s:wct", "Wide-complex tachycardia: ventricular "
                                           "tachycardia not excluded")
    assert "normal ECG" in " ".join(_v(rep, _draft(("Normal ECG.", ["m:hr_bpm"]))))
    assert any("denies ventricular tachycardia" in p for p in
               _v(rep, _draft(("No ventricular tachycardia.", ["s:wct"]))))
    assert _v(rep, _draft(("Wide-complex tachycardia: ventricular tachycardia not excluded.",
                           ["s:wct"]))) == []


def test_flutter_conduction_ratio_is_not_an_av_block_claim(report):
    rep = _with_statement(report, "s:afl", "Atrial flutter with 2:1 AV conduction")
    problems = _v(rep, _draft(("Atrial flutter with 2:1 AV conduction.", ["s:afl"])))
    assert not any("AV block" in p for p in problems)


def test_urgent_statement_heads_the_interpretation_even_when_the_draft_buries_or_drops_it():
    from assistant.fallback import urgent_first

    report = {"statements": [
        {"id": "s:stemi_eq", "label": "STEMI-equivalent pattern", "confidence": 0.8,
         "urgent": True, "knowledge_id": "k:stemi_equivalents"},
        {"id": "s:sr", "label": "Sinus rhythm", "confidence": 0.9, "urgent": False}]}
    buried = Interpretation(findings=[Finding(text="Sinus rhythm.", evidence_ids=["s:sr"]),
                                      Finding(text="STEMI-equivalent pattern.",
                                              evidence_ids=["s:stemi_eq"])],
                            summary="x", limitations=[])
    out = urgent_first(buried, report)
    assert [f.evidence_ids for f in out.findings] == [["s:stemi_eq"], ["s:sr"]]
    dropped = Interpretation(findings=[Finding(text="Sinus rhythm.", evidence_ids=["s:sr"])],
                             summary="x", limitations=[])
    out = urgent_first(dropped, report)
    assert out.findings[0].evidence_ids == ["s:stemi_eq"]
    assert out.findings[0].text.startswith("URGENT:") and len(out.findings) == 2
    # the added finding is phrased from the statement, so it passes the verifier
    problems, _, _ = verify(out, report | {"measurements": {}})
    assert problems == []


def test_the_impression_quotes_no_number_and_puts_an_urgent_statement_first(report):
    from assistant.schemas import Finding
    from assistant.verifier import has_number

    assert has_number("heart rate of 57 bpm") and has_number("confidence 0.74")
    assert not has_number("ST elevation in V2 and V3; atrial flutter with 2:1 conduction")
    base = _draft(("Sinus bradycardia.", ["s:sb"]))
    ok = base.model_copy(update={"impression": [Finding(text="Sinus bradycardia: review "
                                                        "rate-slowing drugs.",
                                                        evidence_ids=["s:sb"])]})
    assert _v(report, ok) == []
    numbered = ok.model_copy(update={"impression": [Finding(text="Sinus bradycardia at 57.",
                                                            evidence_ids=["s:sb"])]})
    assert any("without numbers" in p for p in _v(report, numbered))
    urgent = copy.deepcopy(report)
    next(s for s in urgent["statements"] if s["id"] == "s:sb")["urgent"] = True
    buried = ok.model_copy(update={"impression": [
        Finding(text="Signal quality is adequate.", evidence_ids=["q:record"]),
        Finding(text="Sinus bradycardia.", evidence_ids=["s:sb"])]})
    assert any("urgent statement (s:sb)" in p for p in _v(urgent, buried))
    assert _v(urgent, ok) == []


def test_a_quoted_q_wave_duration_is_checked_against_its_measurement():
    # LUDB 55 (cardiologists: septal and anterior scar): QS complexes in V1-V3
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "ludb" / "data" / "55.hea"
    if not path.exists():
        pytest.fail(f"{str(path)!r} missing: ../shared/data must sit beside the checkout")
    rep = analyze(load_record(path)).to_dict()
    q = [s for s in rep["statements"] if s["id"] == "s:q_anterior"]
    assert q and all(e[2:] in rep["measurements"] for e in q[0]["evidence_ids"] if e[:2] == "m:")
    v2 = rep["measurements"]["q_wave.V2"]["value"]
    ok = _draft((f"QS complex in V2 lasting {v2:.0f} ms: anterior infarction of undetermined "
                 "age possible.", ["s:q_anterior", "m:q_wave.V2"]), summary="Q waves.")
    assert _v(rep, ok) == []
    wrong = _draft((f"QS complex in V2 lasting {v2 + 30:.0f} ms.",
                    ["s:q_anterior", "m:q_wave.V2"]), summary="Q waves.")
    assert any(f"{v2 + 30:.0f} ms" in p for p in _v(rep, wrong))


def test_q_waves_infarction_and_right_atrial_abnormality_need_their_statements(report):
    # LUDB 1 states none of them: each claim is refused
    for text, concept in (("Pathological Q waves in the inferior leads.", "pathological Q waves"),
                          ("Old inferior myocardial infarction.", "myocardial infarction"),
                          ("Right atrial enlargement (P pulmonale).", "right atrial enlargement"),
                          ("Early repolarization pattern.", "early repolarisation")):
        problems = _v(report, _draft((text, ["s:sb"])))
        assert any(f"asserts {concept}" in p for p in problems), (text, problems)
