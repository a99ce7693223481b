"""CinC 2021 header parsing, SNOMED class mapping and scores; LUDB diagnosis rows."""
from __future__ import annotations

from pathlib import Path

import pytest

from evals import labels as L
from evals import ludb

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def cinc_dir() -> Path:
    d = DATA / "cinc2021"
    if not (d / "E07500.hea").is_file() or not (d / "dx_mapping_scored.csv").is_file():
        pytest.fail(f"CinC 2021 data missing under {str(d)!r}: the shared data folder must "
                    f"sit beside the checkout (../shared/data)")
    return d


@pytest.fixture(scope="module")
def ludb_labels() -> dict:
    path = DATA / "ludb" / "ludb.csv"
    if not path.is_file():
        pytest.fail(f"LUDB diagnoses missing: {str(path)!r}")
    return ludb.read_labels(path)


# --- CinC headers and mapping ------------------------------------------------------------------
def test_parse_real_header(cinc_dir):
    h = L.parse_header(cinc_dir / "E07500.hea")
    assert h.record == "E07500"
    assert h.dx == {"67741000119109", "426177001"}
    assert h.age == 78 and h.sex == "M"
    assert L.parse_header(cinc_dir / "E07500").dx == h.dx  # extension optional


def test_all_headers_parse_and_all_codes_are_mapped(cinc_dir):
    mapping = L.read_dx_mapping(cinc_dir)
    headers = [L.parse_header(p) for p in sorted(cinc_dir.glob("*.hea"))]
    assert len(headers) == 50
    assert all(h.dx and h.sex in ("M", "F") for h in headers)
    assert {c for h in headers for c in h.dx} <= set(mapping)
    assert mapping["713427006"]["abbreviation"] == "CRBBB" and mapping["713427006"]["scored"]
    assert mapping["251139008"]["scored"] is False  # suspect arm leads reversed


def test_class_codes_exist_in_mapping(cinc_dir):
    import re

    mapping = L.read_dx_mapping(cinc_dir)
    for c in L.CLASSES:
        tokens = c.codes | c.also_accept
        snomed = {t for t in tokens if t.isdigit()}
        # every SNOMED code is one the Challenge mapping knows; the other tokens are engine
        # statement ids (s:...) or LUDB wordings without a SNOMED code (ludb:...)
        assert snomed <= set(mapping), c.key
        assert all(re.fullmatch(r"(s|ludb):[a-z0-9_]+", t) for t in tokens - snomed), c.key
        assert c.snomed in mapping or c.snomed.startswith("ludb:"), c.key


def test_header_without_dx_fails_loudly(tmp_path):
    p = tmp_path / "X1.hea"
    p.write_text("X1 12 500 5000\n# Age: 50\n")
    with pytest.raises(ValueError, match="X1.hea"):
        L.parse_header(p)


def test_nan_age_and_sex_spelling(tmp_path):
    p = tmp_path / "X2.hea"
    p.write_text("X2 12 500 5000\n# Age: NaN\n# Sex: female\n# Dx: 426783006\n")
    h = L.parse_header(p)
    assert h.age is None and h.sex == "F" and h.dx == {"426783006"}


# --- class mapping and scores ------------------------------------------------------------------
def test_equivalent_codes_map_to_one_class():
    assert L.to_classes({"713427006"}) == L.to_classes({"59118001"}) == {"rbbb"}
    assert L.to_classes({"733534002"}) == {"lbbb"}
    assert L.to_classes({"17338001"}) == {"pvc"}
    assert L.to_classes({63593006}) == {"pac"}
    assert L.to_classes({"164934002"}) == {"tab"}  # T wave abnormal: not T-wave inversion
    assert L.CLASS_BY_KEY["rbbb"].snomed == "59118001"


def test_scores_with_also_accept_and_macro():
    truth = {"a": {"426177001"}, "b": {"164934002"}, "c": {"713427006", "427084000"},
             "d": {"426783006"}}
    pred = {"a": {"426177001", "59931005"}, "b": {"59931005"}, "c": {"59118001"},
            "d": {"427084000"}}
    s = L.score_classes(pred, truth)
    assert (s["sb"]["tp"], s["sb"]["fp"], s["sb"]["fn"]) == (1, 0, 0)
    # T inversion on 'a' is a false positive; on 'b' (T wave abnormal) it is ignored
    assert (s["tinv"]["fp"], s["tinv"]["ignored"], s["tinv"]["support"]) == (1, 1, 0)
    assert s["tinv"]["recall"] is None and s["tinv"]["f1"] is None
    assert s["rbbb"]["f1"] == 1.0
    assert (s["stach"]["tp"], s["stach"]["fp"], s["stach"]["fn"]) == (0, 1, 1)
    assert s["stach"]["f1"] == 0.0
    m = L.macro_f1(s, ("sb", "rbbb", "stach", "af"))
    assert m["macro_f1"] == pytest.approx(2 / 3)
    assert m["left_out_no_support"] == ["af"]
    assert m["macro_f1_strict"] == m["macro_f1"]  # no AF stated: nothing to add
    m = L.macro_f1(s, ("sb", "rbbb", "stach", "tinv"))
    assert m["strict_classes"] == ["sb", "rbbb", "stach", "tinv"]
    assert m["macro_f1_strict"] == pytest.approx(2 / 4)


def test_statement_outcomes_judge_only_what_the_labels_can():
    truth = {"426177001", "164934002"}            # sinus bradycardia, T wave abnormal
    stmts = [{"id": "s:sb", "snomed": "426177001", "confidence": 0.9},    # right
             {"id": "s:af", "snomed": "164889003", "confidence": 0.8},    # wrong
             {"id": "s:tinv", "snomed": "59931005", "confidence": 0.7},   # broader: not judged
             {"id": "s:lead_reversal", "snomed": "", "confidence": 0.6},  # no class: not judged
             {"id": "s:std_inferior", "snomed": "", "confidence": 0.5}]   # by id: ST depression
    out = L.statement_outcomes(stmts, truth)
    assert out == [(0.9, True), (0.8, False), (0.5, False)]
    # a class the dataset cannot judge is left out
    assert L.statement_outcomes(stmts, truth, [L.CLASS_BY_KEY["sb"]]) == [(0.9, True)]


def test_reliability_bins_ece_and_brier():
    r = L.reliability([(0.95, True), (0.95, False), (0.55, True), (0.3, False)])
    assert (r["n"], r["correct"], r["precision"]) == (4, 2, 0.5)
    assert [b["n"] for b in r["bins"]] == [1, 1, 0, 0, 0, 2]
    top = r["bins"][-1]
    assert (top["from"], top["to"], top["precision"]) == (0.9, 1.0, 0.5)
    assert top["mean_confidence"] == pytest.approx(0.95)
    # ECE: 1/4 |0 - 0.3| + 1/4 |1 - 0.55| + 2/4 |0.5 - 0.95|
    assert r["ece"] == pytest.approx(0.075 + 0.1125 + 0.225)
    assert r["brier"] == pytest.approx((0.05 ** 2 + 0.95 ** 2 + 0.45 ** 2 + 0.3 ** 2) / 4)
    # perfectly calibrated: every 0.5 statement right half the time
    half = L.reliability([(0.5, True), (0.5, False)])
    assert half["ece"] == pytest.approx(0.0) and half["brier"] == pytest.approx(0.25)
    assert L.reliability([])["ece"] is None


# --- LUDB rows ---------------------------------------------------------------------------------
def test_ludb_record_1(ludb_labels):
    lab = ludb_labels[1]
    assert lab.rhythm == "sinus" and lab.axis == "left" and not lab.paced
    assert lab.sex == "F" and lab.age == 51
    assert {"426177001", "39732003", "164873001"} <= lab.snomed


def test_ludb_categories(ludb_labels):
    assert len(ludb_labels) == 100
    rhythms = [lab.rhythm for lab in ludb_labels.values()]
    assert rhythms.count("af") == 8 and rhythms.count("flutter") == 2
    assert rhythms.count("sinus") == 90
    assert ludb_labels[127].rhythm == "sinus"      # sinus bradycardia + wandering pacemaker
    assert ludb_labels[109].rhythm == "af"         # AF with aberrant conduction
    axes = [lab.axis for lab in ludb_labels.values()]
    assert axes.count("normal") == 38 + 11 + 10    # normal + vertical + horizontal
    assert axes.count("left") == 35 and axes.count("right") == 2 and axes.count(None) == 4


def test_ludb_paced_and_conduction(ludb_labels):
    paced = sorted(r for r, lab in ludb_labels.items() if lab.paced)
    assert paced == [45, 93, 95, 111]
    assert ludb_labels[45].axis is None and "10370003" in ludb_labels[45].snomed
    conduction = [c for lab in ludb_labels.values() for c in lab.conduction]
    assert conduction.count("irbbb") == 14 and conduction.count("avb1") == 6
    assert conduction.count("rbbb") == 1 and conduction.count("lbbb") == 2
    assert conduction.count("lafb") == 7


# --- categories used by the LUDB benchmark -----------------------------------------------------
def test_rhythm_and_axis_categories():
    from benchmarks.ludb_bench import axis_category, rhythm_category

    assert rhythm_category({"426177001"}) == "sinus"
    assert rhythm_category({"426783006", "164889003"}) == "af"
    assert rhythm_category({"164890007"}) == "flutter"
    assert rhythm_category(set()) == "other"
    assert [axis_category(a) for a in (-30.0, -31.0, 90.0, 91.0, -120.0)] == [
        "normal", "left", "normal", "right", "extreme"]
    assert axis_category(-10.0) == "normal" and axis_category(-10.0, left_below_deg=0.0) == "left"
    assert axis_category(None, {"39732003"}) == "left" and axis_category(None, ()) is None


def test_ludb_scar_walls_scored_against_q_territories(ludb_labels):
    from evals.suites.statements import _scar_by_wall

    walls = {r: sorted(c for c in lab.snomed if c.startswith("ludb:scar@"))
             for r, lab in ludb_labels.items()}
    assert walls[55] == ["ludb:scar@anterior", "ludb:scar@septal"]
    assert walls[13] == ["ludb:scar@apical", "ludb:scar@inferior"]
    rows = [{"truth": ["ludb:scar", "ludb:scar@inferior"], "predicted": ["s:q_inferior"]},
            {"truth": ["ludb:scar", "ludb:scar@inferior"], "predicted": ["s:q_lateral"]},
            {"truth": ["ludb:scar", "ludb:scar@posterior"], "predicted": ["s:sr"]},
            {"truth": ["ludb:scar", "ludb:scar@septal"], "predicted": ["s:q_anterior"]}]
    got = _scar_by_wall(rows)
    assert got["inferior"] == {"records": 2, "found": 1, "other_territory": 1, "none": 0,
                               "territories": ["s:q_inferior"]}
    assert got["posterior"]["found"] == 0 and got["posterior"]["none"] == 1
    assert got["septal"]["found"] == 1 and "lateral" not in got
