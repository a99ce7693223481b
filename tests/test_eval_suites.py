"""The evaluation suites (``ecg-assistant eval ...``) on a few real records from
../shared/data, and the PTB-XL / ECG-QA readers on small fixture trees written here.

Each suite is run through the real CLI (``assistant.cli.main``); the LLM, where used, is
the scripted fake server of tests/fake_openai.py."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from statistics import median

import pytest

from assistant.cli import main
from evals.ludb import default_data_dir, read_waves, reference_intervals

DATA = default_data_dir()
LUDB = DATA / "ludb"
CINC = DATA / "cinc2021"
LUDB_RECORDS = ("1", "3", "5")


def _copy_ludb(dst: Path, names=LUDB_RECORDS) -> Path:
    """A LUDB-layout folder (data/ + ludb.csv) with a few records."""
    (dst / "data").mkdir(parents=True)
    for name in names:
        for f in (LUDB / "data").glob(f"{name}.*"):
            shutil.copy(f, dst / "data" / f.name)
    shutil.copy(LUDB / "ludb.csv", dst / "ludb.csv")
    return dst


@pytest.fixture(scope="module")
def ludb_dir(tmp_path_factory):
    return _copy_ludb(tmp_path_factory.mktemp("ludb"))


@pytest.fixture(scope="module")
def measured(ludb_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_meas")
    rc = main(["eval", "measurements", "--data", str(ludb_dir), "--out", str(out)])
    assert rc == 0
    return out


def test_measurements_suite_writes_summary_csv_plots_and_report(measured):
    s = json.loads((measured / "summary.json").read_text())
    for k in ("pr_ms", "qrs_ms", "qt_ms"):
        for field in ("n", "missing", "mean_error_ms", "sd_error_ms", "median_abs_error_ms",
                      "within_tolerance", "tolerance_ms"):
            assert field in s[k]
        assert s[k]["n"] + s[k]["missing"] == s["reference"][k]["n"]
        assert 0.0 <= s[k]["within_tolerance"] <= 1.0
        # neurokit2 baseline side by side
        assert s["baseline_neurokit2"][k]["n"] >= 1
    assert s["qrs_ms"]["n"] == 3
    assert s["tolerances"]["qt_ms"]["per_record_ms"] == 25.0
    assert s["axis_category"]["left_below_-30deg"]["n"] >= 1
    assert s["axis_category"]["reference_boundaries_left_below_0deg"]["n"] >= 1
    # the engine's axis against the axis on the cardiologists' own QRS boundaries
    assert s["axis_vs_reference_boundaries"]["n"] == 3
    assert s["axis_vs_reference_boundaries"]["median_abs_error_deg"] < 15
    with open(measured / "records.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["record"] for r in rows] == list(LUDB_RECORDS)
    assert "engine.qrs_ms" in rows[0] and "baseline.qrs_ms" in rows[0]
    for png in ("measurements_bland_altman.png", "measurements_error_hist.png"):
        data = (measured / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    md = (measured / "report.md").read_text()
    assert "qrs_ms" in md and "measurements_bland_altman.png" in md


def test_measurements_qrs_error_matches_independent_scoring_of_measure_cli(
        measured, ludb_dir, capsys):
    """The held-out check: score `ecg-assistant measure --json` against the MEASUREMENT.md
    reference independently of the suite; the suite's median |error| must agree (3 ms)."""
    capsys.readouterr()
    paths = [str(ludb_dir / "data" / f"{n}.hea") for n in LUDB_RECORDS]
    assert main(["measure", *paths, "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    errors = []
    for path, d in zip(paths, lines):
        ref = reference_intervals(read_waves(Path(path).with_suffix("")))["qrs_ms"]
        errors.append(abs(d["measurements"]["qrs_ms"]["value"] - ref))
    s = json.loads((measured / "summary.json").read_text())
    assert abs(s["qrs_ms"]["median_abs_error_ms"] - median(errors)) <= 3.0


def test_measurements_resume_does_not_recompute(measured, ludb_dir, monkeypatch, capsys):
    import evals.records

    def boom(*a, **k):
        raise AssertionError("recomputed a record that was already in records.jsonl")

    monkeypatch.setattr(evals.records, "engine_dict", boom)
    before = json.loads((measured / "summary.json").read_text())
    capsys.readouterr()
    assert main(["eval", "measurements", "--data", str(ludb_dir), "--out", str(measured)]) == 0
    assert "resuming: 3 of 3" in capsys.readouterr().err
    after = json.loads((measured / "summary.json").read_text())
    assert after["qrs_ms"] == before["qrs_ms"]


def test_results_of_other_engine_code_are_not_reused(measured, ludb_dir, capsys):
    # a results folder made by other engine sources (here: its recorded build changed) is
    # not silently mixed with this engine's results on resume: the run stops and says why
    cfg = measured / "config.json"
    saved = cfg.read_text()
    try:
        old = json.loads(saved)
        cfg.write_text(json.dumps({**old, "engine_build": "000000000000"}))
        capsys.readouterr()
        rc = main(["eval", "measurements", "--data", str(ludb_dir), "--out", str(measured)])
        err = capsys.readouterr().err
        assert rc == 2
        assert "other engine code" in err and "--no-resume" in err
    finally:
        cfg.write_text(saved)


def test_measurements_wrong_layout_says_what_was_expected(tmp_path, capsys):
    rc = main(["eval", "measurements", "--data", str(CINC), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(CINC) in err and "ludb.csv" in err and ".v6" in err


def test_measurements_on_records_named_otherwise_without_baseline(tmp_path, monkeypatch):
    """Nothing assumes our odd record numbers: an 'even half' named differently works, and
    --data may be a relative path with '..' (the loader refuses those unresolved)."""
    src = _copy_ludb(tmp_path / "src", names=("7",))
    dst = tmp_path / "even" / "data"
    dst.mkdir(parents=True)
    for f in (src / "data").glob("7.*"):
        shutil.copy(f, dst / f.name.replace("7.", "8.", 1))
    hea = dst / "8.hea"
    hea.write_text(hea.read_text().replace("7.dat", "8.dat").replace("7 12", "8 12", 1))
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path / "src")
    assert main(["eval", "measurements", "--data", "../even", "--out", str(out),
                 "--no-baseline"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["n_records"] == 1 and "baseline_neurokit2" not in s
    assert s["qrs_ms"]["n"] == 1 and not s["failures"]
    assert s["axis_category"] is None  # no ludb.csv: reported, not guessed
    assert "subsets" not in s  # record 8 is not one of our held-out list


# ---------------------------------------------------------------------------------------
# statements
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cinc_dir(tmp_path_factory):
    """Four CinC records: two PTB-XL-derived (HR*), two others."""
    dst = tmp_path_factory.mktemp("cinc")
    heads = sorted(CINC.glob("HR*.hea"))[:2] + sorted(CINC.glob("E*.hea"))[:2]
    for h in heads:
        shutil.copy(h, dst / h.name)
        shutil.copy(h.with_suffix(".mat"), dst / h.with_suffix(".mat").name)
    return dst


def test_statements_suite_on_cinc(cinc_dir, tmp_path):
    from evals.labels import parse_header, to_classes

    out = tmp_path / "st"
    assert main(["eval", "statements", "--data", str(cinc_dir), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["format"] == "cinc" and s["n_records"] == 4
    truth = [to_classes(parse_header(h).dx) for h in sorted(cinc_dir.glob("*.hea"))]
    for key, v in s["classes"].items():
        assert v["support"] == sum(key in t for t in truth)
        assert v["tp"] + v["fn"] == v["support"]
    assert (out / "statements_confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "Macro F1" in (out / "report.md").read_text()
    # the stated confidences against the labels: every judged statement in one bin, per
    # source the same statements
    cal = s["calibration"]
    assert cal["records"] == 4 and cal["n"] == sum(b["n"] for b in cal["bins"]) > 0
    assert cal["correct"] == sum(b["correct"] for b in cal["bins"])
    assert cal["precision"] == pytest.approx(cal["correct"] / cal["n"])
    assert sum(v["calibration"]["n"] for v in s["per_source"].values()) == cal["n"]
    rows = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert all(0 <= st["confidence"] <= 1 for r in rows for st in r["statements"])
    assert "expected calibration error" in (out / "report.md").read_text()
    # each class's mean confidence is that of its statements
    sr = [st["confidence"] for r in rows for st in r["statements"] if st["id"] == "s:sr"]
    assert sr  # HR06000 and HR06001 are sinus rhythm
    assert cal["class_mean_confidence"]["sr"] == pytest.approx(sum(sr) / len(sr))
    assert "mean confidence" in (out / "report.md").read_text()


def test_statements_suite_on_the_ray_runner_gives_the_same_rows(cinc_dir, tmp_path):
    # issue 15: the evaluation suites run on the same runners as `batch`
    import ray  # noqa: F401 - the [scale] extra; the dev extra installs it, so CI runs this

    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(["eval", "statements", "--data", str(cinc_dir), "--out", str(local),
                 "--limit", "2"]) == 0
    assert main(["eval", "statements", "--data", str(cinc_dir), "--out", str(remote),
                 "--limit", "2", "--jobs", "2", "--runner", "ray"]) == 0

    def rows(out):
        return sorted(({k: v for k, v in json.loads(x).items() if k != "seconds"}
                       for x in (out / "records.jsonl").read_text().splitlines()),
                      key=lambda r: r["key"])

    assert rows(local) == rows(remote) and len(rows(local)) == 2
    assert json.loads((remote / "summary.json").read_text())["classes"] == \
        json.loads((local / "summary.json").read_text())["classes"]


def test_statements_suite_on_ludb_layout(ludb_dir, tmp_path):
    out = tmp_path / "st_ludb"
    assert main(["eval", "statements", "--data", str(ludb_dir), "--out", str(out),
                 "--format", "ludb", "--limit", "2"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["format"] == "ludb" and s["n_records"] == 2
    assert "lqt" not in s["classes"]  # LUDB cannot judge prolonged QT: not scored
    assert s["classes"]["sr"]["support"] + s["classes"]["sb"]["support"] >= 1
    # the no-millivolt macro F1 is the mean F1 of the supported classes of its list, and
    # leaves out every voltage class (LUDB as shared is amplitude-normalised)
    nm = s["macro_no_mv"]
    assert nm["classes"] and not set(nm["classes"]) & {"lvh", "rvh", "stemi", "ischemia"}
    f1 = [s["classes"][k]["f1"] for k in nm["classes"]]
    assert nm["macro_f1"] == pytest.approx(sum(f1) / len(f1))
    assert "need no millivolts" in (out / "report.md").read_text()


def _write_ptbxl(root: Path, sources: list[Path], scp: list[str], axis: list[str]) -> Path:
    """A PTB-XL-like tree: records500/00000/<id>_hr.{hea,dat} (re-written with wfdb from
    real records) and ptbxl_database.csv with the columns the reader uses."""
    import wfdb

    from tools.record import load_record

    rows = []
    for i, (src, codes, ax) in enumerate(zip(sources, scp, axis), 1):
        rec = load_record(src)
        d = root / "records500" / "00000"
        d.mkdir(parents=True, exist_ok=True)
        name = f"{i:05d}_hr"
        wfdb.wrsamp(name, fs=rec.fs, units=["mV"] * len(rec.sig_name), sig_name=rec.sig_name,
                    p_signal=rec.signal, fmt=["16"] * len(rec.sig_name), adc_gain=
                    [1000.0] * len(rec.sig_name), baseline=[0] * len(rec.sig_name),
                    write_dir=str(d))
        rows.append({"ecg_id": i, "patient_id": 100 + i, "age": 60, "sex": 0,
                     "scp_codes": codes, "heart_axis": ax,
                     "filename_lr": f"records100/00000/{i:05d}_lr",
                     "filename_hr": f"records500/00000/{name}"})
    with open(root / "ptbxl_database.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


@pytest.fixture(scope="module")
def ptbxl_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ptbxl")
    hr = sorted(CINC.glob("HR*.hea"))[:2]
    return _write_ptbxl(root, hr, ["{'NORM': 100.0, 'SR': 0.0}",
                                   "{'IRBBB': 100.0, 'SBRAD': 0.0, 'NDT': 50.0}"],
                        ["MID", "ALAD"])


def test_ptbxl_reader_maps_scp_codes_and_resolves_files(ptbxl_dir):
    from evals import datasets
    from evals.labels import to_classes

    fmt, recs = datasets.read_records(ptbxl_dir)
    assert fmt == "ptbxl" and [r.ecg_id for r in recs] == [1, 2]
    assert recs[0].path == ptbxl_dir / "records500/00000/00001_hr.hea"
    assert to_classes(recs[0].truth) == {"sr"}
    # NDT (non-diagnostic T abnormalities) -> T wave abnormal, the flat/low T class
    assert to_classes(recs[1].truth) == {"irbbb", "sb", "lad", "tab"}
    assert "164934002" in recs[1].truth
    assert datasets.parse_scp_codes("{'AFIB': 100.0}") == {"AFIB": 100.0}
    with pytest.raises(ValueError):
        datasets.parse_scp_codes("AFIB")


def test_statements_suite_on_ptbxl_fixture(ptbxl_dir, tmp_path):
    out = tmp_path / "st_ptbxl"
    assert main(["eval", "statements", "--data", str(ptbxl_dir), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["format"] == "ptbxl" and s["n_records"] == 2
    assert s["classes"]["irbbb"]["support"] == 1 and s["classes"]["sr"]["support"] == 1
    rows = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert all(r["error"] is None and r["predicted"] for r in rows)


def test_statements_wrong_layout(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["eval", "statements", "--data", str(tmp_path / "empty"), "--out",
               str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "ptbxl_database.csv" in err and "# Dx:" in err


# ---------------------------------------------------------------------------------------
# qa
# ---------------------------------------------------------------------------------------
def test_qa_questions_follow_the_labels():
    from evals.datasets import LabelledRecord
    from evals.suites.qa import normalise, questions_for

    rec = LabelledRecord("x", Path("x.hea"), frozenset({"164889003", "164934002"}))
    qs = {q["class"]: q for q in questions_for(rec, "cinc")}
    assert qs["af"]["expected"] == ["yes"] and qs["rbbb"]["expected"] == ["no"]
    assert qs["rhythm"]["question"] == "Which rhythm is this?"
    assert qs["rhythm"]["expected"] == ["af"]
    # 'T wave abnormal' is only a broader code for T-wave inversion: no question about it
    assert "tinv" not in qs
    assert normalise("Cannot tell from this recording: ...", "yes/no") is None
    assert normalise("No: criteria not met.", "yes/no") == "no"
    assert normalise("The rhythm is sinus bradycardia at 52 bpm.", "which") == "sb"


def test_qa_suite_no_llm_on_cinc(cinc_dir, tmp_path, monkeypatch):
    from evals.labels import CLASS_BY_KEY, parse_header

    monkeypatch.setenv("ECG_ASSISTANT_HOME", str(tmp_path / "home"))
    out = tmp_path / "qa"
    assert main(["eval", "qa", "--data", str(cinc_dir), "--out", str(out), "--limit",
                 "2"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["n_records"] == 2 and "no LLM" in s["llm"]
    yn = s["by_type"]["yes/no"]
    assert yn["n"] >= 20 and yn["correct"] + yn["abstained"] <= yn["n"]
    assert s["by_type"]["which"]["n"] >= 1
    rows = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    # the expected answers are the labels: check one against the header directly
    first = sorted(cinc_dir.glob("*.hea"))[0]
    truth = parse_header(first).dx
    af = next(q for q in rows[0]["qa"] if q["class"] == "af")
    assert af["expected"] == (["yes"] if CLASS_BY_KEY["af"].codes & truth else ["no"])
    # scoring is exact match on the normalised answer
    for q in rows[0]["qa"] + rows[1]["qa"]:
        assert q["correct"] == (q["normalised"] is not None and [q["normalised"]] ==
                                q["expected"])
    assert (out / "qa_accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_ecgqa_reader_and_qa_suite_over_ptbxl(ptbxl_dir, tmp_path, monkeypatch):
    from evals.ecgqa import read_ecgqa

    monkeypatch.setenv("ECG_ASSISTANT_HOME", str(tmp_path / "home"))
    items = [
        {"template_id": 1, "question_id": 0, "sample_id": 0, "question_type": "single-verify",
         "attribute_type": "scp_code", "question": "Is there evidence of incomplete right "
         "bundle branch block on this ECG?", "answer": ["yes"], "ecg_id": [2],
         "attribute": ["incomplete right bundle branch block"]},
        {"template_id": 1, "question_id": 1, "sample_id": 1, "question_type": "single-verify",
         "attribute_type": "scp_code", "question": "Is there evidence of atrial "
         "fibrillation on this ECG?", "answer": ["no"], "ecg_id": [1],
         "attribute": ["atrial fibrillation"]},
        {"template_id": 30, "question_id": 2, "sample_id": 2,
         "question_type": "comparison_consecutive-verify", "attribute_type": "scp_code",
         "question": "Was sinus rhythm present in both ECGs?", "answer": ["yes"],
         "ecg_id": [1, 2], "attribute": None},
        {"template_id": 5, "question_id": 3, "sample_id": 3, "question_type": "single-query",
         "attribute_type": "heart_axis", "question": "What is the heart axis of this ECG?",
         "answer": ["normal heart axis"], "ecg_id": [999], "attribute": ["normal"]},
    ]
    qa_dir = tmp_path / "ecgqa" / "template"
    qa_dir.mkdir(parents=True)
    (qa_dir / "test.json").write_text(json.dumps(items))
    got, skipped = read_ecgqa(tmp_path / "ecgqa", {1, 2})
    assert [(q.ecg_id, q.answer) for q in got] == [(2, ("yes",)), (1, ("no",))]
    assert skipped == {"comparison": 1, "ecg_not_in_data": 1}
    out = tmp_path / "qa_ptbxl"
    assert main(["eval", "qa", "--data", str(ptbxl_dir), "--out", str(out), "--ecgqa",
                 str(tmp_path / "ecgqa")]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["by_type"]["single-verify"]["n"] == 2
    assert s["ecgqa_skipped"] == {"comparison": 1, "ecg_not_in_data": 1}
    rows = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    af = next(q for r in rows for q in r["qa"] if q.get("source") == "ecg-qa"
              and q["expected"] == ["no"])
    assert af["normalised"] in ("yes", "no", None)  # the engine's own decision, scored


def test_qa_ecgqa_bad_file_is_a_layout_error(ptbxl_dir, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"question": "?"}))
    rc = main(["eval", "qa", "--data", str(ptbxl_dir), "--out", str(tmp_path / "o"),
               "--ecgqa", str(bad)])
    assert rc == 2 and "expected a list of objects" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# grounding
# ---------------------------------------------------------------------------------------
_PLAN = {"tool_call": ("plan", {"knowledge_queries": [], "use_priors": False,
                                "use_similar": False})}
_BAD = json.dumps({"impression": [
    {"text": "Heart rate 212 bpm.", "evidence_ids": ["m:hr_bpm"]},
    {"text": "QRS duration normal.", "evidence_ids": ["m:qrs_ms"], "knowledge_ids": ["k:sr"]},
    {"text": "See the rhythm strip.", "evidence_ids": ["m:nope"]}]})
_GOOD = json.dumps({"impression": [{"text": "QRS duration measured.",
                                    "evidence_ids": ["m:qrs_ms"], "knowledge_ids": ["k:sr"]}]})


def _fake_step(req):
    """Plan by tool call; a first draft with a wrong number and an unknown id; a repair
    that passes."""
    if req.get("tools"):
        return _PLAN
    return {"content": _GOOD if len(req["messages"]) > 2 else _BAD}


def test_grounding_suite_with_fake_llm(cinc_dir, tmp_path, monkeypatch):
    from tests.fake_openai import FakeOpenAI

    monkeypatch.setenv("ECG_ASSISTANT_HOME", str(tmp_path / "home"))
    out = tmp_path / "gr"
    with FakeOpenAI([_fake_step] * 40) as fake:
        monkeypatch.setenv("ECG_ASSISTANT_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("ECG_ASSISTANT_LLM_MODEL", "fake")
        assert main(["eval", "grounding", "--data", str(cinc_dir), "--out", str(out),
                     "--limit", "2", "--injection", "1"]) == 0
        sent = json.dumps(fake.requests)
    s = json.loads((out / "summary.json").read_text())
    assert s["verifier_outcomes"] == {"first": 0.0, "repaired": 1.0, "fallback": 0.0}
    # first drafts: 2 of 3 impression sentences cite valid ids, 1 of 3 a knowledge passage,
    # and one number (212 bpm) is wrong; the findings (code) are all valid
    assert s["first_draft"]["impression_valid_share"] == pytest.approx(2 / 3)
    assert s["first_draft"]["impression_knowledge_share"] == pytest.approx(1 / 3)
    assert 0 < s["first_draft"]["number_match_share"] < 1.0
    assert s["first_draft"]["valid_citation_share"] < 1.0
    assert s["first_draft"]["verifier_ok"] == 0.0
    assert s["final"]["impression_knowledge_share"] == 1.0
    assert s["final"]["verifier_ok"] == 1.0 and s["final"]["valid_citation_share"] == 1.0
    assert s["fallback_baseline"]["valid_citation_share"] == 1.0
    assert s["fallback_baseline"]["number_match_share"] == 1.0
    inj = s["injection"]
    assert inj["cases"] == 1 and inj["statements_changed"] == 0
    assert inj["injection_sent_to_llm"] == 0 and "Ignore previous" not in sent
    assert inj["any_injected_claim"] == 0
    assert (out / "grounding.png").read_bytes()[:4] == b"\x89PNG"


def test_grounding_without_llm_says_so_and_scores_the_baseline(cinc_dir, tmp_path,
                                                               monkeypatch, capsys):
    monkeypatch.setenv("ECG_ASSISTANT_HOME", str(tmp_path / "home"))
    out = tmp_path / "gr0"
    assert main(["eval", "grounding", "--data", str(cinc_dir), "--out", str(out),
                 "--limit", "1", "--no-llm"]) == 0
    assert "deterministic fallback baseline only" in capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert "first_draft" not in s and s["fallback_baseline"]["verifier_ok"] == 1.0


@pytest.mark.parametrize("theta", [-60.0, 10.0, 75.0, 120.0])
def test_reference_axis_recovers_a_known_frontal_dipole(tmp_path, theta):
    # the axis measured on reference QRS boundaries (evals.ludb_eval.reference_axis) from a
    # synthetic heart vector whose limb-lead projections follow the hexaxial system; its x and
    # y components peak 16 ms apart (a loop, as in a real QRS: a vector of fixed direction
    # would leave the lead gains undetermined); the leads are stored with unequal gains, as
    # LUDB stores them, and restored by Einthoven
    import numpy as np
    import wfdb

    from evals.ludb_eval import reference_axis

    fs, n = 500, 5000
    t = np.arange(n) / fs
    def wave(shift):
        return sum(np.exp(-0.5 * ((t - c - shift) / 0.015) ** 2) for c in np.arange(0.5, 10))

    qrs = wave(0.0)
    hx, hy = np.cos(np.radians(theta)) * wave(-0.008), np.sin(np.radians(theta)) * wave(0.008)
    lead_i, lead_ii = hx, 0.5 * hx + np.sqrt(3) / 2 * hy
    limb = {"I": lead_i, "II": lead_ii, "III": lead_ii - lead_i,
            "aVR": -(lead_i + lead_ii) / 2, "aVL": lead_i - lead_ii / 2,
            "aVF": lead_ii - lead_i / 2}
    names = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    gains = [1.0, 0.7, 1.3, 0.9, 1.6, 0.8] + [1.0] * 6
    sig = np.stack([limb[k] * g for k, g in zip(names[:6], gains)]
                   + [0.3 * qrs * (k + 1) for k in range(6)], axis=1)
    wfdb.wrsamp("syn", fs=fs, units=["mV"] * 12, sig_name=names, p_signal=sig,
                fmt=["16"] * 12, write_dir=str(tmp_path))
    beats = [{"qrs_on_s": c - 0.05, "qrs_off_s": c + 0.05} for c in np.arange(0.5, 10, 1.0)]
    got = reference_axis(tmp_path / "syn", beats)
    assert got is not None and abs((got - theta + 180) % 360 - 180) < 3
