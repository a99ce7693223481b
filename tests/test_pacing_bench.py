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
