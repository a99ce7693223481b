"""The atrial-pacing benchmark adds its stimuli as its docstring says (benchmarks.pacing_bench)."""
from types import SimpleNamespace

import numpy as np

from benchmarks.pacing_bench import PULSE, with_atrial_stimuli

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def _analysis(p_onsets):
    from tools.record import Record

    rec = Record(signal=np.zeros((2000, 12)), fs=500.0, sig_name=list(LEADS))
    beats = [SimpleNamespace(p_on=p) for p in p_onsets]
    return SimpleNamespace(record=rec, beats=beats)


def test_stimuli_sit_10_ms_before_each_p_onset_and_obey_einthoven():
    out = with_atrial_stimuli(_analysis([300, None, 1100]), 2.0)
    x = np.asarray(out.signal)
    lead = {name: x[:, k] for k, name in enumerate(LEADS)}
    assert np.flatnonzero(lead["II"] > 0).tolist() == [295, 1095]  # 10 ms at 500 Hz
    assert lead["II"][295] == 2.0 and lead["II"][296] == 2.0 * PULSE[1]
    np.testing.assert_allclose(lead["III"], lead["II"] - lead["I"])
    np.testing.assert_allclose(lead["aVF"], lead["II"] - lead["I"] / 2)
    np.testing.assert_allclose(lead["aVR"], -(lead["I"] + lead["II"]) / 2)
    assert (x[:, 6:] != 0).any(axis=0).all()  # every precordial lead sees it


def test_no_p_onset_no_record():
    assert with_atrial_stimuli(_analysis([None, None]), 0.5) is None


def test_stimuli_follow_p_waves_moved_earlier():
    # with the P waves moved 40 ms earlier (the first-degree block check), each stimulus
    # sits 10 ms before the moved P onset, on the record passed in
    a = _analysis([300, 1100])
    moved = with_atrial_stimuli(a, 1.0)  # any record of the same shape
    out = with_atrial_stimuli(a, 2.0, record=moved, earlier_ms=40.0)
    ii = np.asarray(out.signal)[:, LEADS.index("II")]
    assert ii[275] == 2.0 and ii[1075] == 2.0       # 300 - 25 samples at 500 Hz
    assert ii[295] == 1.0 and ii[1095] == 1.0       # the passed record's own stimuli stay


def test_long_pr_summary_counts_only_expected_long_pr():
    from benchmarks.pacing_bench import _long_pr_summary

    def rec(expected, paced, unpaced, ids, row_ids):
        return {"ids": ids, "rows": [{"ids": row_ids}],
                "long_pr": {"expected_pr_ms": expected, "avb1_paced": paced,
                            "avb1_unpaced": unpaced, "atrial_paced": True}}
    s = _long_pr_summary([rec(230, True, True, ["s:sr"], ["s:paced"]),
                          rec(240, False, True, ["s:sr"], ["s:paced", "s:avb1"]),
                          rec(200, True, True, ["s:sr", "s:avb1"], ["s:paced", "s:avb1"])])
    assert s["n_long"] == 2 and s["avb1_paced"] == 0.5 and s["avb1_unpaced"] == 1.0
    assert s["n_unshifted"] == 2 and s["avb1_false"] == 0.5


def test_ventricular_stimuli_before_each_qrs_and_atrial_ones_one_av_delay_earlier():
    from benchmarks.pacing_bench import with_ventricular_stimuli
    from tools.record import Record

    rec = Record(signal=np.zeros((2000, 12)), fs=500.0, sig_name=list(LEADS))
    # PRs of 150, 170 and 160 ms (75, 85, 80 samples); a ventricular beat has no P
    beats = [SimpleNamespace(p_on=225, qrs_on=300, kind="normal"),
             SimpleNamespace(p_on=915, qrs_on=1000, kind="normal"),
             SimpleNamespace(p_on=None, qrs_on=1400, kind="ventricular"),
             SimpleNamespace(p_on=1620, qrs_on=1700, kind="normal")]
    a = SimpleNamespace(record=rec, beats=beats)
    ii = np.asarray(with_ventricular_stimuli(a, 1.0, False).signal)[:, LEADS.index("II")]
    assert np.flatnonzero(ii > 0).tolist() == [295, 995, 1695]   # 10 ms before each QRS
    ii = np.asarray(with_ventricular_stimuli(a, 1.0, True).signal)[:, LEADS.index("II")]
    # the atrial stimuli one AV delay (the median PR, 80 samples) before the ventricular
    assert np.flatnonzero(ii > 0).tolist() == [215, 295, 915, 995, 1615, 1695]


def test_mode_summary_counts_the_names():
    from benchmarks.pacing_bench import _mode_summary

    v, d = "Ventricular paced rhythm", "AV sequential (dual-chamber) paced rhythm"
    s = _mode_summary([{"mode": {"ventricular": v, "dual": d}},
                       {"mode": {"ventricular": d, "dual": v + " with narrow QRS"}},
                       {"mode": None}])
    assert s["n"] == 2 and s["ventricular_named"] == 0.5 and s["dual_named"] == 0.5
    assert s["ventricular_called_dual"] == 1
