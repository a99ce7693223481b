"""``eval measurements`` on PTB-XL against a PTB-XL+ machine reference, and the PTB-XL+
feature reader, on a fixture tree written here: three real CinC 2021 records re-written as
PTB-XL WFDB records (tests/test_eval_suites.py's helper), ``ptbxl_database.csv`` and
``features/12sl_features.csv`` with ``ecg_id`` mid-table (as in the real file) and
reference values chosen here."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from statistics import mean, median, stdev

import pytest

from assistant.cli import main
from evals import ptbxl_plus
from tests.test_eval_suites import CINC, _write_ptbxl

SOURCES = ("E07500", "E07501", "E07502")
#: the 12SL reference per ecg_id: '' and 'nan' are the missing cells of a real file
REF_12SL = {
    1: {"HR__Global": "57", "PR_Int_Global": "150", "QRS_Dur_Global": "96",
        "QT_Int_Global": "440", "R_AxisFrontal_Global": "30"},
    2: {"HR__Global": "120", "PR_Int_Global": "", "QRS_Dur_Global": "104",
        "QT_Int_Global": "340", "R_AxisFrontal_Global": "-170"},  # axis error wraps
    3: {"HR__Global": "nan", "PR_Int_Global": "130", "QRS_Dur_Global": "110",
        "QT_Int_Global": "nan", "R_AxisFrontal_Global": "20"},
    77: {"HR__Global": "60", "PR_Int_Global": "160", "QRS_Dur_Global": "90",
         "QT_Int_Global": "400", "R_AxisFrontal_Global": "0"},  # not in ptbxl_database.csv
}
KEYS = {"hr_bpm": "HR__Global", "pr_ms": "PR_Int_Global", "qrs_ms": "QRS_Dur_Global",
        "qt_ms": "QT_Int_Global", "qrs_axis_deg": "R_AxisFrontal_Global"}
TOL = {"pr_ms": 10.0, "qrs_ms": 10.0, "qt_ms": 25.0}


def _write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _write_12sl(plus: Path, refs=REF_12SL) -> Path:
    """12sl_features.csv with ecg_id between feature columns (column 145 of 783 in 1.0.1)."""
    rows = []
    for ecg_id, v in refs.items():
        rows.append({"P_Amp_I": "0.1", "QRS_Dur_Global": v["QRS_Dur_Global"],
                     "QRS_Area_aVF": "3.5", "ecg_id": str(ecg_id),
                     "P_On_Global": "200", "HR__Global": v["HR__Global"],
                     "PR_Int_Global": v["PR_Int_Global"], "QT_Int_Global": v["QT_Int_Global"],
                     "QT_IntBazett_Global": "430",
                     "R_AxisFrontal_Global": v["R_AxisFrontal_Global"]})
    return _write_csv(plus / "features" / "12sl_features.csv", rows)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("ptbxl_plus")
    data = _write_ptbxl(root / "ptbxl", [CINC / f"{s}.hea" for s in SOURCES],
                        ["{'SR': 0.0}"] * 3, ["MID"] * 3)
    plus = root / "ptbxl_plus"
    _write_12sl(plus)
    return data, plus


@pytest.fixture(scope="module")
def suite_out(tree, tmp_path_factory):
    data, plus = tree
    out = tmp_path_factory.mktemp("meas_ptbxl")
    assert main(["eval", "measurements", "--data", str(data), "--out", str(out),
                 "--ptbxl-plus", str(plus), "--reference", "12sl"]) == 0
    return out


def _measure_json(paths, capsys) -> list[dict]:
    """What `ecg-assistant measure PATH... --json` prints, one engine dict per record."""
    capsys.readouterr()
    assert main(["measure", *map(str, paths), "--json"]) == 0
    return [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]


def _ref(ecg_id: int, key: str) -> float | None:
    v = float(REF_12SL[ecg_id][KEYS[key]] or "nan")
    return None if v != v else v


def test_summary_errors_equal_measure_cli_minus_fixture_reference(tree, suite_out, capsys):
    data, _ = tree
    paths = [data / f"records500/00000/{i:05d}_hr.hea" for i in (1, 2, 3)]
    engine = {i: d["measurements"] for i, d in zip((1, 2, 3), _measure_json(paths, capsys))}
    s = json.loads((suite_out / "summary.json").read_text())
    assert s["n_records"] == 3 and s["reference_source"] == "12sl" and not s["failures"]
    for key in ("pr_ms", "qrs_ms", "qt_ms"):
        errs, extra = [], 0
        for i in (1, 2, 3):
            pred = engine[i][key]["value"]
            assert pred is not None  # these three records have all intervals measured
            ref = _ref(i, key)
            if ref is None:
                extra += 1
            else:
                errs.append(pred - ref)
        got = s[key]
        assert got["n"] == len(errs) and got["missing"] == 0 and got["extra"] == extra
        assert got["mean_error_ms"] == pytest.approx(mean(errs))
        assert got["sd_error_ms"] == pytest.approx(stdev(errs))
        assert got["median_abs_error_ms"] == pytest.approx(median(abs(e) for e in errs))
        assert got["within_tolerance"] == pytest.approx(
            sum(abs(e) <= TOL[key] for e in errs) / len(errs))
        assert set(got) >= {"tolerance_ms", "iec_style"}
    # an empty PR cell (record 2) and a NaN QT cell (record 3): not scored, counted
    assert s["pr_ms"]["n"] == 2 and s["reference"]["pr_ms"] == {
        "median_ms": 140.0, "n": 2, "missing": 1}
    assert s["qt_ms"]["n"] == 2 and s["reference"]["qt_ms"]["missing"] == 1
    assert s["qrs_ms"]["n"] == 3 and s["reference"]["qrs_ms"]["missing"] == 0
    # HR (bpm) and QRS axis (deg, the difference wrapped into -180..180)
    hr = [engine[i]["hr_bpm"]["value"] - _ref(i, "hr_bpm") for i in (1, 2)]
    assert s["hr_bpm"]["n"] == 2 and s["hr_bpm"]["extra"] == 1
    assert s["hr_bpm"]["mean_error_bpm"] == pytest.approx(mean(hr))
    assert s["hr_bpm"]["median_abs_error_bpm"] == pytest.approx(median(abs(e) for e in hr))
    ax = []
    for i in (1, 2, 3):
        e = engine[i]["qrs_axis_deg"]["value"] - _ref(i, "qrs_axis_deg")
        ax.append(e - 360.0 * round(e / 360.0))
    assert abs(ax[1]) < 180 < abs(engine[2]["qrs_axis_deg"]["value"] + 170)  # it did wrap
    assert s["qrs_axis_deg"]["n"] == 3
    assert s["qrs_axis_deg"]["mean_error_deg"] == pytest.approx(mean(ax))
    assert s["qrs_axis_deg"]["sd_error_deg"] == pytest.approx(stdev(ax))
    assert s["qrs_axis_deg"]["median_abs_error_deg"] == pytest.approx(
        median(abs(e) for e in ax))


def test_baseline_plots_report_and_records(suite_out):
    s = json.loads((suite_out / "summary.json").read_text())
    rows = [json.loads(x) for x in (suite_out / "records.jsonl").read_text().splitlines()]
    assert [r["record"] for r in rows] == [1, 2, 3]  # ecg_id 77 is not in the PTB-XL folder
    # neurokit2 alone, scored against the same reference
    base = [r["baseline"]["qrs_ms"] - float(REF_12SL[r["record"]]["QRS_Dur_Global"])
            for r in rows if r["baseline"]["qrs_ms"] is not None]
    assert base and s["baseline_neurokit2"]["qrs_ms"]["n"] == len(base)
    assert s["baseline_neurokit2"]["qrs_ms"]["median_abs_error_ms"] == pytest.approx(
        median(abs(e) for e in base))
    assert "axis_category" not in s and "subsets" not in s  # LUDB-only parts
    assert "not cardiologists" in s["reference_rule"]
    md = (suite_out / "report.md").read_text()
    assert "# Measurements: 3 PTB-XL records" in md
    assert "another machine algorithm" in md and "not cardiologists" in md
    assert "12sl_features.csv" in md and "hr_bpm" in md and "qrs_axis_deg" in md
    for png in ("measurements_bland_altman.png", "measurements_error_hist.png"):
        assert (suite_out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(suite_out / "records.csv", newline="") as fh:
        flat = list(csv.DictReader(fh))
    assert "ref.qrs_ms" in flat[0] and "engine.qrs_ms" in flat[0] and "baseline.qrs_ms" in flat[0]


def test_resume_skips_finished_records(tree, suite_out, monkeypatch, capsys):
    import evals.records

    def boom(*a, **k):
        raise AssertionError("recomputed a record already in records.jsonl")

    data, plus = tree
    before = json.loads((suite_out / "summary.json").read_text())
    monkeypatch.setattr(evals.records, "engine_dict", boom)
    capsys.readouterr()
    assert main(["eval", "measurements", "--data", str(data), "--out", str(suite_out),
                 "--ptbxl-plus", str(plus)]) == 0  # --reference defaults to 12sl
    assert "resuming: 3 of 3" in capsys.readouterr().err
    assert json.loads((suite_out / "summary.json").read_text())["qrs_ms"] == before["qrs_ms"]
    # another reference into the same folder is refused, not mixed
    (plus / "features" / "unig_features.csv").write_text("ecg_id,QRS_Dur_Global\n1,90\n")
    assert main(["eval", "measurements", "--data", str(data), "--out", str(suite_out),
                 "--ptbxl-plus", str(plus), "--reference", "unig"]) == 2
    assert "other options" in capsys.readouterr().err


def test_unig_reference_with_limit_and_jobs(tree, tmp_path):
    data, _ = tree
    plus = tmp_path / "plus"
    _write_csv(plus / "features" / "unig_features.csv", [
        {"ecg_id": "1", "HR__Global": "60", "PR_Int_Global": "150", "QRS_Dur_Global": "95",
         "QT_Int_Global": "440", "QRS_AxisFront_Global": "30", "QRS_AxisIndet_Global": "0"},
        {"ecg_id": "2", "HR__Global": "118", "PR_Int_Global": "125", "QRS_Dur_Global": "100",
         "QT_Int_Global": "330", "QRS_AxisFront_Global": "0", "QRS_AxisIndet_Global": "1"}])
    out = tmp_path / "out"
    assert main(["eval", "measurements", "--data", str(data), "--out", str(out),
                 "--ptbxl-plus", str(plus), "--reference", "unig", "--limit", "2",
                 "--jobs", "2", "--no-baseline"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["n_records"] == 2 and s["reference_source"] == "unig"
    assert "baseline_neurokit2" not in s and s["qrs_ms"]["n"] == 2
    assert s["qrs_axis_deg"]["n"] == 1  # Uni-G's indeterminate axis is not a reference
    assert "University of Glasgow" in s["reference_rule"]


def test_ptbxl_folder_without_ptbxl_plus_says_what_is_needed(tree, tmp_path, capsys):
    data, _ = tree
    rc = main(["eval", "measurements", "--data", str(data), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "--ptbxl-plus" in err and "features/12sl_features.csv" in err
    assert "PTB-XL" in err and str(data) in err
    # and a PTB-XL+ folder without the chosen file names the paths it tried
    rc = main(["eval", "measurements", "--data", str(data), "--out", str(tmp_path / "o2"),
               "--ptbxl-plus", str(tmp_path), "--reference", "ecgdeli"])
    err = capsys.readouterr().err
    assert rc == 2 and "ecgdeli_features.csv" in err and str(tmp_path) in err
    # the PTB-XL+ options on a non-PTB-XL folder are refused, not ignored
    (tmp_path / "ludbish").mkdir()
    rc = main(["eval", "measurements", "--data", str(tmp_path / "ludbish"), "--out",
               str(tmp_path / "o3"), "--ptbxl-plus", str(tmp_path)])
    assert rc == 2 and "ptbxl_database.csv" in capsys.readouterr().err


def test_reader_values_and_tolerance(tree, tmp_path):
    _, plus = tree
    got = ptbxl_plus.read_features(plus, "12sl")  # the folder holding features/
    assert set(got) == {1, 2, 3, 77}
    assert got[1] == {"hr_bpm": 57.0, "pr_ms": 150.0, "qrs_ms": 96.0, "qt_ms": 440.0,
                      "qrs_axis_deg": 30.0}
    assert got[2]["pr_ms"] is None and got[3]["qt_ms"] is None and got[3]["hr_bpm"] is None
    assert ptbxl_plus.read_features(plus / "features" / "12sl_features.csv", "12sl") == got
    # ECGdeli: HR from the mean RR when no HR column; no axis column -> None
    deli = _write_csv(tmp_path / "features" / "ecgdeli_features.csv", [
        {"RR_Mean_Global": "800", "ecg_id": "5", "PR_Int_Global": "160",
         "QRS_Dur_Global": "88", "QT_IntFramingham_Global": "410"}])
    d = ptbxl_plus.read_features(tmp_path, "ecgdeli")[5]
    assert d == {"hr_bpm": 75.0, "pr_ms": 160.0, "qrs_ms": 88.0, "qt_ms": None,
                 "qrs_axis_deg": None}
    assert deli.exists()


def test_reader_errors_name_the_file_and_what_was_expected(tmp_path):
    no_id = _write_csv(tmp_path / "a" / "12sl_features.csv",
                       [{"QRS_Dur_Global": "90", "PR_Int_Global": "150"}])
    with pytest.raises(ptbxl_plus.FeatureFileError, match="no 'ecg_id' column") as e:
        ptbxl_plus.read_features(no_id, "12sl")
    assert str(no_id) in str(e.value)
    with pytest.raises(ValueError, match=r"unknown PTB-XL\+ source 'marquette'"):
        ptbxl_plus.read_features(no_id, "marquette")
    with pytest.raises(ptbxl_plus.FeatureFileError, match="unig_features.csv") as e:
        ptbxl_plus.read_features(tmp_path / "nowhere", "unig")
    assert str(tmp_path / "nowhere" / "features") in str(e.value)
    no_cols = _write_csv(tmp_path / "b.csv", [{"ecg_id": "1", "P_Amp_I": "0.1"}])
    with pytest.raises(ptbxl_plus.FeatureFileError, match="none of the interval columns"):
        ptbxl_plus.read_features(no_cols, "unig")
