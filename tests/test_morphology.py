"""QRS-shape features on drawn complexes: the parser behind the AHA 2009 part III
conduction criteria (tools.conduction) and the WCT discriminators (tools.wide)."""
from __future__ import annotations

import numpy as np
import pytest

from tools.conduction import lbbb_pattern, lead_shape, rbbb_pattern
from tools.wide import _avr, _rs, vt_arguments

FS = 500.0


def bumps(*parts: tuple[float, float, float], n_ms: float = 140.0) -> np.ndarray:
    """A QRS made of Gaussian waves (amplitude mV, centre ms, width ms)."""
    t = np.arange(int(n_ms * FS / 1000.0)) * 1000.0 / FS
    return sum(a * np.exp(-0.5 * ((t - c) / w) ** 2) for a, c, w in parts)


def test_rsr_prime_in_v1_and_wide_s_in_lateral_leads_is_rbbb():
    v1 = bumps((0.3, 15, 6), (-0.6, 45, 10), (1.0, 95, 16))        # rSR'
    lateral = bumps((1.0, 30, 10), (-0.5, 90, 20))                 # R then broad S
    sh = {"V1": lead_shape(v1, FS), "I": lead_shape(lateral, FS), "V6": lead_shape(lateral, FS)}
    assert sh["V1"]["lobes"] == "+-+"
    assert sh["V1"]["r_peak_time_ms"] == pytest.approx(95, abs=4)
    assert sh["I"]["s_ms"] > 40
    met, why = rbbb_pattern(sh)
    assert met and any("rsR'" in w for w in why)
    assert not lbbb_pattern(sh, complete=True)[0]


def test_narrow_s_in_lead_i_is_not_rbbb():
    v1 = bumps((0.3, 15, 6), (-0.6, 45, 10), (1.0, 95, 16))
    i_lead = bumps((1.0, 40, 12), (-0.2, 75, 5))                   # short S, longer R
    sh = {"V1": lead_shape(v1, FS), "I": lead_shape(i_lead, FS),
          "V6": lead_shape(i_lead, FS)}
    assert not rbbb_pattern(sh)[0]


def test_qs_in_v1_and_late_broad_r_without_q_is_lbbb():
    v1 = bumps((-1.2, 60, 25))                                     # QS
    lateral = bumps((1.2, 80, 25))                                 # broad R, peak at 80 ms
    sh = {lead: lead_shape(lateral, FS) for lead in ("I", "V5", "V6")}
    sh["V1"] = lead_shape(v1, FS)
    assert sh["V1"]["lobes"] == "-"
    met, _ = lbbb_pattern(sh, complete=True)
    assert met
    sh["V6"] = lead_shape(bumps((-0.4, 10, 4), (1.2, 80, 25)), FS)  # a q wave in V6
    assert sh["V6"]["q"]
    assert not lbbb_pattern(sh, complete=True)[0]


def test_brugada_rs_interval_and_vereckei_avr():
    rs = bumps((0.8, 40, 15), (-0.8, 115, 15), n_ms=160)           # RS, S nadir at 115 ms
    present, interval, pol = _rs(rs, FS)
    assert present and interval == pytest.approx(115, abs=4) and pol == 0
    upright = bumps((1.0, 60, 20), n_ms=160)
    assert _rs(upright, FS) == (False, None, 1)
    avr_r = bumps((0.6, 20, 8), (-0.3, 80, 20), n_ms=160)          # initial R in aVR
    f = _avr(avr_r, FS)
    assert f["initial_r"] and f["initial_wave_ms"] is not None
    qs = bumps((-1.0, 60, 20), n_ms=160)                           # QS: no separate q wave
    assert _avr(qs, FS)["initial_wave_ms"] is None
    args = vt_arguments({"rs_absent": True, "avr_initial_r": True, "northwest_axis": True,
                         "concordance": "negative", "avr_vi_vt": 0.5, "rs_max_ms": None},
                        av_dissociation=True)
    assert len(args) == 6
    assert vt_arguments({"concordance": "none", "avr_vi_vt": 1.5}, None) == []


def test_fast_af_with_a_bizarre_wide_qrs_is_an_irregular_wct():
    from tools.arrhythmia import ventricular_statements
    from tools.statements import Features

    wide_m = {"hr_bpm": 140.0, "qrs_ms": 150.0, "qrs_combined_ms": 145.0, "rr_cv": 0.2}
    bizarre = {lead: lead_shape(bumps((0.8, 70, 30)), FS) for lead in ("I", "V1", "V5", "V6")}
    f = Features(m=wide_m, amp={}, terminal={}, usable=[], shapes=bizarre)
    out = ventricular_statements(f, {"s:af"})
    assert [s.id for s in out] == ["s:wct"] and "pre-excited" in out[0].label
    # the same rhythm with a typical RBBB shape is AF with RBBB, not a WCT flag
    rbbb = {"V1": lead_shape(bumps((0.3, 15, 6), (-0.6, 45, 10), (1.0, 95, 16)), FS)}
    rbbb |= {lead: lead_shape(bumps((1.0, 30, 10), (-0.5, 90, 20)), FS) for lead in ("I", "V6")}
    f = Features(m=wide_m, amp={}, terminal={}, usable=[], shapes=rbbb)
    assert ventricular_statements(f, {"s:af"}) == []
    # and a narrow fast AF is no WCT
    f = Features(m=wide_m | {"qrs_ms": 100.0}, amp={}, terminal={}, usable=[], shapes=bizarre)
    assert ventricular_statements(f, {"s:af"}) == []


def test_coved_right_precordial_st_elevation_is_brugada_type_1():
    from tools.statements import Features, brugada_statements

    def f(v1):
        base = {"q_mv": 0.0, "r_mv": 0.3, "s_mv": -0.8, "st60_mv": 0.0, "t_mv": 0.2,
                "st_j_mv": 0.0}
        return Features(m={"qrs_ms": 100.0}, amp={"V1": base | v1, "V2": dict(base)},
                        terminal={}, usable=["V1", "V2"])

    out = brugada_statements(f({"st_j_mv": 0.35, "st60_mv": 0.22, "t_mv": -0.2}))
    assert [s.id for s in out] == ["s:brugada"] and out[0].leads == ["V1"]
    assert "m:amp.V1.st_j_mv" in out[0].evidence_ids
    # saddleback (ST rising to an upright T) and a small elevation are not type 1
    assert brugada_statements(f({"st_j_mv": 0.35, "st60_mv": 0.4, "t_mv": 0.3})) == []
    assert brugada_statements(f({"st_j_mv": 0.12, "st60_mv": 0.05, "t_mv": -0.2})) == []
    # normalised amplitudes: no voltage criterion
    g = f({"st_j_mv": 0.35, "st60_mv": 0.22, "t_mv": -0.2})
    g.amplitude_normalised = True
    assert brugada_statements(g) == []
