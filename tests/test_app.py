"""The Gradio app's wiring, called as the browser would call it (no browser here).

app.py is loaded by path (nothing imports app.py, HOUSE_STYLE.md); the Chromium end-to-end
test belongs to issue 6."""
import runpy
from pathlib import Path
from types import SimpleNamespace

from assistant import ui_logic
from tests.test_engine import CINC

app = SimpleNamespace(**runpy.run_path(str(Path(__file__).resolve().parents[1] / "app.py"),
                                        run_name="ecg_app"))


def test_builds_and_analyses_an_example():
    assert app.build() is not None
    out = app._on_analyse([], "cinc-E07500")
    page, measurements, statements, quality, status, state, _ = out
    assert page.endswith(".png") and "Analysed" in status
    assert any(row[0] == "Sinus bradycardia" for row in statements)
    history, _ = app._on_ask(state, "Is there bradycardia?", [])
    assert history[-1]["content"].startswith("Yes")
    assert app._on_highlight(state, statements[0][5]).endswith(".png")


def test_errors_are_messages_not_exceptions(tmp_path):
    bad = tmp_path / "junk.hea"
    bad.write_bytes(b"\x00\x01 not a header")
    out = app._on_analyse([str(bad)], None)
    assert out[4].startswith("**Error:**") and "junk.hea" in out[4]
    evil = tmp_path / "a b.hea"
    evil.write_text("x")
    assert "not allowed" in app._on_analyse([str(evil)], None)[4]
    assert app._on_ask({}, "anything", [])[0][-1]["content"] == "Analyse an ECG first."


def test_upload_of_header_and_data_is_staged_under_plain_names():
    path = ui_logic.stage_upload([str(CINC), str(CINC.with_suffix(".mat"))])
    assert path.endswith("E07500.hea")
