"""The ST-elevation benchmark adds its elevation as its docstring says (benchmarks.stemi_bench)."""
from types import SimpleNamespace

import numpy as np

from benchmarks.stemi_bench import territory_gains, with_st_elevation

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def test_limb_gains_obey_einthoven_and_goldberger():
    for terr in ("inferior", "lateral", "anterior"):
        g = dict(zip(LEADS, territory_gains(terr, LEADS)))
        assert abs(g["III"] - (g["II"] - g["I"])) < 1e-9
        assert abs(g["aVF"] - (g["II"] - g["I"] / 2)) < 1e-9
        assert abs(g["aVR"] + (g["I"] + g["II"]) / 2) < 1e-9
        assert abs(g["aVL"] - (g["I"] - g["II"] / 2)) < 1e-9
    inferior = dict(zip(LEADS, territory_gains("inferior", LEADS)))
    assert inferior["aVF"] == 1.0 and inferior["aVL"] < 0 and inferior["V2"] == 0.0
    anterior = dict(zip(LEADS, territory_gains("anterior", LEADS)))
    assert anterior["V3"] == 1.0 and anterior["V1"] == 0.5 and anterior["II"] == 0.0


def test_elevation_is_full_at_the_j_point_and_spares_the_qrs_start():
    from tools.record import Record

    rec = Record(signal=np.zeros((2000, 12)), fs=500.0, sig_name=list(LEADS))
    beat = SimpleNamespace(qrs_on=460, qrs_off=500, t_off=None, p_on=None)
    out = np.asarray(with_st_elevation(SimpleNamespace(record=rec, beats=[beat]),
                                       "inferior", 0.3).signal)
    avf = out[:, LEADS.index("aVF")]
    assert avf[460] == 0.0 and 0.0 < avf[490] < 0.3    # QRS start untouched, rising in its end
    assert abs(avf[500] - 0.3) < 1e-9                  # full at the J point (500 Hz samples)
    assert abs(avf[599] - 0.3) < 1e-9                  # ... for 200 ms
    assert avf[620] == 0.0                             # and gone 40 ms later
    assert (out[:, LEADS.index("V3")] == 0.0).all()    # inferior: no precordial change


def test_elevation_ends_by_the_t_end_and_before_the_next_p_wave():
    from tools.record import Record

    rec = Record(signal=np.zeros((2000, 12)), fs=500.0, sig_name=list(LEADS))
    first = SimpleNamespace(qrs_on=460, qrs_off=500, t_off=580, p_on=None)
    second = SimpleNamespace(qrs_on=700, qrs_off=740, t_off=None, p_on=620)
    out = np.asarray(with_st_elevation(SimpleNamespace(record=rec, beats=[first, second]),
                                       "lateral", 0.2).signal)
    i_lead = out[:, LEADS.index("I")]
    assert abs(i_lead[540] - 0.2) < 1e-9 and i_lead[580:600].max() == 0.0   # ends by T end
    third = SimpleNamespace(qrs_on=700, qrs_off=740, t_off=None, p_on=570)
    out = np.asarray(with_st_elevation(SimpleNamespace(record=rec, beats=[first, third]),
                                       "lateral", 0.2).signal)
    assert out[550:700, LEADS.index("I")].max() == 0.0       # 40 ms before the next P wave
