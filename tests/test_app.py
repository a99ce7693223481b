"""The Gradio app's handlers, called as the browser would call them (the browser itself is
driven in tests/test_browser.py). app.py is loaded by path: nothing imports app.py."""
import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import ui_logic
from assistant.config import get_settings
from assistant.service import ReportService
from tests.test_engine import CINC, LUDB1

app = SimpleNamespace(**runpy.run_path(str(Path(__file__).resolve().parents[1] / "app.py"),
                                        run_name="ecg_app"))


class _Select:  # what gradio passes for a click on a table row
    def __init__(self, row):
        self.index = [row, 0]


@pytest.fixture
def service(tmp_path):
    return ReportService(get_settings(home=str(tmp_path), llm_base_url="", api_key=""),
                         llm_factory=lambda s: (None, "LLM unavailable (test)"))


@pytest.fixture
def h(service):
    return app.handlers(service)


@pytest.fixture
def analysed(h):
    out = h.on_analyse([], "cinc-E07500")
    page, measurements, statements, quality, _, status, rid = out
    assert page.endswith(".png") and "Analysed" in status and len(rid) == 32
    return SimpleNamespace(page=page, statements=statements, rid=rid,
                           measurements=measurements, quality=quality)


def test_builds(service):
    assert app.build(service) is not None


def test_analyse_an_example_shows_cited_statements(analysed):
    sb = [row for row in analysed.statements if row[0] == "Sinus bradycardia"]
    assert sb and "m:hr_bpm" in sb[0][4] and sb[0][5] == "s:sb"
    assert any(row[0] == "qrs_ms" and row[3] == "m:qrs_ms" for row in analysed.measurements)
    assert len(analysed.quality) == 12


def test_clicking_a_statement_highlights_its_evidence(h, analysed):
    row = next(i for i, r in enumerate(analysed.statements) if r[5] == "s:sb")
    page, status = h.on_select(analysed.rid, _Select(row))
    assert page.endswith(".png") and Path(page).read_bytes() != Path(analysed.page).read_bytes()
    assert "s:sb" in status and "m:hr_bpm" in status


def test_chat_answers_cite_evidence(h, analysed):
    steps = list(h.on_ask(analysed.rid, "Is there bradycardia?", []))
    # the deterministic answer at once, then the final (here: no LLM, so deterministic) one
    assert len(steps) == 2 and "LLM is wording it" in steps[0][0][-1]["content"]
    history, box = steps[-1]
    assert box == "" and history[-1]["content"].startswith("Yes")
    assert "m:hr_bpm" in history[-1]["content"] and len(history) == 2
    assert "deterministic answer: LLM unavailable (test)" in history[-1]["content"]


def test_downloads_json_fhir_pdf(h, analysed):
    js, fhir, pdf = h.on_downloads(analysed.rid)
    assert json.loads(Path(js).read_text())["id"] == analysed.rid
    assert json.loads(Path(fhir).read_text())["resourceType"] == "Bundle"
    assert Path(pdf).read_bytes()[:5] == b"%PDF-"


def test_compare_with_a_prior(h, analysed):
    rows, status = h.on_compare(analysed.rid, [str(LUDB1), *[str(p) for p in sorted(
        LUDB1.parent.glob("1.*")) if p.suffix in (".dat",)]], None)
    assert status == "Compared with the prior."
    assert any(r[1] == "c:hr_bpm.change" for r in rows)


def test_llm_interpretation_shows_progress_then_findings(h, analysed):
    steps = list(h.on_interpret(analysed.rid))
    assert steps[-1][0].startswith("Report") and "Summary" in steps[-1][1]
    assert "(written by code" in steps[-1][0]  # says who wrote it (no LLM in this test)
    assert all(s[0].startswith(("LLM working", "Report")) for s in steps)


def test_errors_are_messages_not_exceptions(h, tmp_path):
    bad = tmp_path / "junk.hea"
    bad.write_bytes(b"\x00\x01 not a header")
    out = h.on_analyse([str(bad)], None)
    assert out[5].startswith("**Error:**") and "junk.hea" in out[5]
    evil = tmp_path / "a b.hea"
    evil.write_text("x")
    assert "not allowed" in h.on_analyse([str(evil)], None)[5]
    assert h.on_analyse([], None)[5].startswith("**Error:** upload a record")
    assert list(h.on_ask("", "anything", []))[-1][0][-1]["content"] == "Analyse an ECG first."
    assert h.on_compare("", [], None)[1] == "Analyse an ECG first."


def test_example_files_are_read_under_plain_names():
    files = ui_logic.read_files(None, "cinc-E07500")
    assert set(files) == {"E07500.hea", "E07500.mat"}
    assert ui_logic.read_files([str(CINC)])["E07500.hea"] == CINC.read_bytes()
