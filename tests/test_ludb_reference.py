"""The LUDB reference rule (MEASUREMENT.md), the annotation parser and the scoring helpers."""
from __future__ import annotations

from pathlib import Path

import pytest

from evals import ludb, scoring

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LEADS = list(ludb.LUDB_LEADS.values())


@pytest.fixture(scope="module")
def ludb_dir() -> Path:
    d = DATA / "ludb"
    if not (d / "data" / "1.hea").is_file() or not (d / "ludb.csv").is_file():
        pytest.fail(f"LUDB data missing under {str(d)!r}: the shared data folder must sit "
                    f"beside the checkout (../shared/data)")
    return d


def synthetic(peaks=(1.0, 2.0, 3.0), leads=LEADS, qrs_spread=0.002, outlier=None,
              p=(-0.22, -0.12), t=(0.10, 0.35), p_leads=None, t_leads=None):
    """12-lead annotation set: lead i has QRS onset peak-0.05-i*spread, offset
    peak+0.05+i*spread; P and T at fixed offsets from the peak. ``outlier``: (lead, onset
    shift) applied to that lead's QRS onset."""
    waves = {}
    for i, lead in enumerate(leads):
        qrs = []
        for pk in peaks:
            on, off = pk - 0.05 - i * qrs_spread, pk + 0.05 + i * qrs_spread
            if outlier and outlier[0] == lead:
                on += outlier[1]
            qrs.append((on, pk, off))
        waves[lead] = {
            "QRS": qrs,
            "P": [(pk + p[0], pk + (p[0] + p[1]) / 2, pk + p[1]) for pk in peaks]
            if p_leads is None or lead in p_leads else [],
            "T": [(pk + t[0], pk + (t[0] + t[1]) / 2, pk + t[1]) for pk in peaks]
            if t_leads is None or lead in t_leads else [],
        }
    return waves


# --- trim rule -------------------------------------------------------------------------------
def test_trim2_takes_third_earliest_onset_and_third_latest_offset():
    ref = ludb.reference_intervals(synthetic(), trim=2)
    # leads 0..11: onsets peak-0.05-0.002i; 3rd earliest is i=9 -> 0.068 s before the peak
    assert ref["n_beats"] == 3
    assert ref["qrs_ms"] == pytest.approx(136.0)
    assert ref["pr_ms"] == pytest.approx(220.0 - 68.0)
    assert ref["qt_ms"] == pytest.approx(68.0 + 350.0)
    ref0 = ludb.reference_intervals(synthetic(), trim=0)
    assert ref0["qrs_ms"] == pytest.approx(144.0)


def test_outlier_lead_ignored_with_trim2_and_picked_with_trim0():
    # P offset 160 ms before the peak so that it precedes even the outlier's QRS onset
    waves = synthetic(qrs_spread=0.0, outlier=("V1", -0.100), p=(-0.22, -0.16))
    assert ludb.reference_intervals(waves, trim=2)["qrs_ms"] == pytest.approx(100.0)
    assert ludb.reference_intervals(waves, trim=0)["qrs_ms"] == pytest.approx(200.0)
    assert ludb.reference_intervals(waves, trim=0)["pr_ms"] == pytest.approx(70.0)
    assert ludb.reference_intervals(waves, trim=2)["pr_ms"] == pytest.approx(170.0)


def test_invalid_trim_is_rejected():
    with pytest.raises(ValueError, match="trim"):
        ludb.reference_intervals(synthetic(), trim=6)


# --- six-lead requirement ----------------------------------------------------------------------
def test_beat_needs_six_leads():
    assert ludb.reference_intervals(synthetic(leads=LEADS[:6]))["n_beats"] == 3
    five = ludb.reference_intervals(synthetic(leads=LEADS[:5]))
    assert five["n_beats"] == 0
    assert five["qrs_ms"] is None and five["pr_ms"] is None and five["qt_ms"] is None


def test_p_and_t_need_six_waves():
    waves = synthetic(p_leads=LEADS[:5], t_leads=LEADS[:5])
    ref = ludb.reference_intervals(waves)
    assert ref["pr_ms"] is None and ref["qt_ms"] is None and ref["qrs_ms"] is not None
    ref6 = ludb.reference_intervals(synthetic(p_leads=LEADS[:6], t_leads=LEADS[:6]))
    assert ref6["pr_ms"] is not None and ref6["qt_ms"] is not None


def test_beats_cluster_by_120_ms_gap():
    # half the leads put the peak 120 ms later: still one beat; 122 ms: two beats of 6 leads
    for gap, n in ((0.120, 1), (0.122, 2), (0.3, 2)):
        waves = {lead: {"QRS": [(0.95 + (gap if i % 2 else 0), 1.0 + (gap if i % 2 else 0),
                                 1.05 + (gap if i % 2 else 0))], "P": [], "T": []}
                 for i, lead in enumerate(LEADS)}
        assert ludb.reference_intervals(waves)["n_beats"] == n


# --- P and T windows ---------------------------------------------------------------------------
def _single_beat(p_off, t_on):
    """One beat, QRS onset 1.0 s and offset 1.1 s in every lead, one P/T wave per lead."""
    return {lead: {"QRS": [(1.0, 1.05, 1.1)], "P": [(p_off - 0.08, p_off - 0.04, p_off)],
                   "T": [(t_on, t_on + 0.1, t_on + 0.2)]} for lead in LEADS}


@pytest.mark.parametrize("p_off,ok", [(1.02, True), (1.022, False), (0.6, False), (0.602, True)])
def test_p_window_is_open_left_closed_right(p_off, ok):
    # P offset must lie in (QRS onset - 400 ms, QRS onset + 20 ms]
    assert (ludb.reference_intervals(_single_beat(p_off, 1.2))["pr_ms"] is not None) is ok


@pytest.mark.parametrize("t_on,ok", [(1.08, True), (1.078, False), (1.698, True), (1.7, False)])
def test_t_window_is_closed_left_open_right(t_on, ok):
    # T onset must lie in [QRS offset - 20 ms, QRS offset + 600 ms)
    assert (ludb.reference_intervals(_single_beat(0.9, t_on))["qt_ms"] is not None) is ok


# --- annotation parsing ------------------------------------------------------------------------
def test_parse_annotation_regular_and_irregular():
    w = ludb.parse_annotation(["(", "p", ")", "(", "N", ")", "(", "t", ")"],
                              [100, 110, 120, 150, 160, 175, 250, 300, 350], 500.0)
    assert w["P"] == [(0.2, 0.22, 0.24)]
    assert w["QRS"] == [(0.3, 0.32, 0.35)]
    assert w["T"] == [(0.5, 0.6, 0.7)]
    # LUDB record 7: peak one sample before its onset ('N ( )'), and a peak without '('
    w = ludb.parse_annotation(["N", "(", ")", "N", ")"], [500, 501, 520, 1000, 1020], 500.0)
    assert w["QRS"] == [(1.002, 1.0, 1.04), (None, 2.0, 2.04)]


def test_read_waves_record_1(ludb_dir):
    waves = ludb.read_waves(ludb_dir / "data" / "1")
    assert list(waves) == LEADS
    assert all(set(v) == {"P", "QRS", "T"} for v in waves.values())
    assert len(waves["II"]["QRS"]) >= 6
    on, pk, off = waves["II"]["QRS"][0]
    assert on < pk < off


# --- reference on real records -----------------------------------------------------------------
def test_reference_record_1_is_plausible(ludb_dir):
    ref = ludb.reference_intervals(ludb.read_waves(ludb_dir / "data" / "1"))
    assert 120 <= ref["pr_ms"] <= 220
    assert 70 <= ref["qrs_ms"] <= 120
    assert 350 <= ref["qt_ms"] <= 550
    assert ref["n_beats"] >= 6 and len(ref["beats"]) == ref["n_beats"]


def test_reference_af_record_has_no_pr(ludb_dir):
    labels = ludb.read_labels(ludb_dir / "ludb.csv")
    af = [r for r, lab in labels.items() if lab.rhythm == "af" and not lab.paced]
    ref = ludb.reference_intervals(ludb.read_waves(ludb_dir / "data" / str(af[0])))
    assert ref["pr_ms"] is None and ref["qrs_ms"] is not None


def test_reference_distribution_over_our_half(ludb_dir):
    refs = [ludb.reference_intervals(ludb.read_waves(ludb_dir / "data" / str(r)))
            for r in ludb.record_ids(ludb_dir)]
    assert len(refs) == 100
    qrs = sorted(r["qrs_ms"] for r in refs if r["qrs_ms"] is not None)
    assert len(qrs) == 100 and 95 <= qrs[50] <= 112
    assert sum(r["pr_ms"] is None for r in refs) <= 15  # AF, flutter, paced


# --- scoring helpers ---------------------------------------------------------------------------
def test_match_boundaries_one_to_one_closest_first():
    assert scoring.match_boundaries([0.1, 0.5, 1.0], [0.12, 0.9]) == [(0, 0), (2, 1)]
    assert scoring.match_boundaries([1.0, 1.05], [1.04]) == [(1, 0)]
    assert scoring.match_boundaries([1.0], [1.2]) == []


def test_boundary_counts_ignore_predictions_outside_annotated_span():
    ref = {"QRS": [(2.0, 2.05, 2.1), (3.0, 3.05, 3.1)], "P": [], "T": []}
    pred = {"QRS": [(0.5, None, 0.6), (2.01, None, 2.12), (3.2, None, 3.3), (8.0, None, 8.1)]}
    c = scoring.boundary_counts(pred, ref)["QRS_on"]
    # 0.5 and 8.0 lie outside [2.0 - 0.15, 3.1 + 0.15]: ignored; 3.2 inside, 200 ms from 3.0:
    # a false positive (and 3.0 a miss)
    assert (c["tp"], c["fn"], c["fp"]) == (1, 1, 1)
    assert c["errors_ms"] == [pytest.approx(10.0)]


def test_boundary_scores_pool_and_summarise():
    ref = {1: {"II": {"QRS": [(1.0, 1.05, 1.1)], "P": [], "T": []}}}
    s = scoring.boundary_scores({1: {"II": {"QRS": [[1.004, None, 1.09]]}}}, ref)
    assert s["QRS_on"]["sensitivity"] == 1.0 and s["QRS_on"]["ppv"] == 1.0
    assert s["QRS_off"]["mean_error_ms"] == pytest.approx(-10.0)
    assert scoring.boundary_scores({}, ref)["QRS_on"]["sensitivity"] == 0.0


def test_interval_errors_counts_missing_and_extra():
    refs = {1: {"pr_ms": 150.0, "qrs_ms": 100.0, "qt_ms": 400.0},
            2: {"pr_ms": None, "qrs_ms": 90.0, "qt_ms": 380.0},
            3: {"pr_ms": 160.0, "qrs_ms": 110.0, "qt_ms": 420.0}}
    pred = {1: {"pr_ms": 155.0, "qrs_ms": 104.0, "qt_ms": 430.0},
            2: {"pr_ms": 120.0, "qrs_ms": 86.0, "qt_ms": float("nan")},
            3: {"pr_ms": None, "qrs_ms": 110.0, "qt_ms": 420.0}}
    e = scoring.interval_errors(pred, refs)
    assert (e["pr_ms"]["n"], e["pr_ms"]["missing"], e["pr_ms"]["extra"]) == (1, 1, 1)
    assert e["qrs_ms"]["mean_error_ms"] == pytest.approx(0.0)
    assert e["qrs_ms"]["within_tol"] == 1.0
    assert e["qt_ms"]["missing"] == 1 and e["qt_ms"]["within_tol"] == 0.5
    rep = scoring.interval_report(pred, refs, held_out=[2])
    assert rep["held_out"]["qrs_ms"]["n"] == 1 and rep["rest"]["qrs_ms"]["n"] == 2
