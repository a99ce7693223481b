"""When the classic (ECGdeli) cross-check runs, and that it never changes what is stated."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.engine import analyze
from tools.record import load_record

ROOT = Path(__file__).resolve().parents[1]
LUDB1 = ROOT / "examples" / "ludb-1" / "1.hea"
CINC = ROOT.parent / "shared" / "data" / "cinc2021"


def _cc(a, name="qrs_ms") -> dict:
    return a.measurements[name].details["cross_check"]


def test_always_runs_it_and_off_never_does():
    rec = load_record(LUDB1)
    on, off = analyze(rec, cross_check="always"), analyze(rec, cross_check="off")
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        assert _cc(on, name)["value"] is not None and _cc(on, name)["run_because"]
        assert _cc(off, name)["value"] is None and _cc(off, name)["agrees"] is None
        assert "off" in _cc(off, name)["not_run"]
    # the second opinion changes no value and no statement, only its own details
    assert [s.id for s in on.statements] == [s.id for s in off.statements]
    for name in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg"):
        assert on.measurements[name].value == off.measurements[name].value


def test_auto_skips_a_narrow_sinus_record_and_says_why():
    a = analyze(load_record(LUDB1))  # QRS 93 ms, sinus, both QRS estimates agree
    cc = _cc(a)
    assert cc["value"] is None and "not needed" in cc["not_run"]
    assert not any("delineators disagree" in n for n in a.notes)


@pytest.mark.integration
def test_auto_runs_it_on_a_wide_qrs():
    path = CINC / "E07509.hea"  # right bundle branch block, QRS about 150 ms
    if not path.exists():
        pytest.fail(f"{str(path)!r} missing: ../shared/data must sit beside the checkout")
    rec = load_record(path)
    auto, always = analyze(rec), analyze(rec, cross_check="always")
    assert "QRS >= 120 ms" in _cc(auto)["run_because"]
    assert _cc(auto)["value"] == _cc(always)["value"] is not None
    assert [s.id for s in auto.statements] == [s.id for s in always.statements]
    assert [s.confidence for s in auto.statements] == [s.confidence for s in always.statements]


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="cross_check must be one of"):
        analyze(load_record(LUDB1), cross_check="sometimes")


def test_the_cli_option_sets_it_for_the_run(monkeypatch, capsys):
    import json

    from assistant.cli import main

    monkeypatch.setenv("ECG_ASSISTANT_CROSS_CHECK", "auto")  # restored after the test
    assert main(["measure", str(LUDB1), "--json", "--cross-check", "always"]) == 0
    d = json.loads(capsys.readouterr().out.splitlines()[0])
    cc = d["measurements"]["qt_ms"]["details"]["cross_check"]
    assert cc["value"] is not None and "always" in cc["run_because"][0]
