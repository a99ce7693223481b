"""The AF benchmark's rebuilt rhythm (benchmarks.af_bench): its RR series is irregularly
irregular, and its f waves are fibrillation to the engine's flutter search, where a sawtooth
at a flutter rate is flutter."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from benchmarks.af_bench import RR_RANGE, SECONDS, af_onsets, f_waves
from tools.rhythm import _flutter_rate

FS = 500.0
LEADS = ["II", "III", "aVF", "V1"]


def _beats(onsets_ms):
    out = []
    for t in onsets_ms:
        on = int(t * FS / 1000.0)
        out.append(SimpleNamespace(qrs_on=on, qrs_off=on + 45, r_time=on + 20))
    return out


def test_af_onsets_are_irregularly_irregular_within_their_range():
    on = af_onsets(750.0, np.random.default_rng(3))
    rr = np.diff(on) / 750.0
    assert on[-1] < SECONDS * 1000.0 <= on[-1] + 750.0 * RR_RANGE[1]
    assert rr.min() >= RR_RANGE[0] and rr.max() <= RR_RANGE[1]
    assert rr.std() / rr.mean() > 0.15       # far beyond the 0.08 regularity limit


def test_f_waves_are_not_flutter_but_a_sawtooth_is():
    n = int(SECONDS * FS)
    beats = _beats(af_onsets(750.0, np.random.default_rng(0)))
    called = [_flutter_rate(f_waves(n, FS, LEADS, np.random.default_rng(seed)), FS, LEADS,
                            beats)[0] for seed in range(10)]
    assert sum(c is not None for c in called) <= 1
    t = np.arange(n) / FS
    saw = 0.1 * (2.0 * ((5.0 * t) % 1.0) - 1.0)               # 300 /min flutter waves
    rate, _ = _flutter_rate(np.tile(saw[:, None], (1, len(LEADS))), FS, LEADS, beats)
    assert rate is not None and abs(rate - 300.0) < 20.0


def test_summaries_report_the_rebuilt_qrs_against_the_source_complex():
    # the rebuilt record's QRS minus the source complex's own width, median over records;
    # a record without a measured QRS is left out, not counted as 0
    from benchmarks.af_bench import summarise
    from benchmarks.wct_bench import qrs_minus_source

    def rec(src, qrs):
        return {"record": "x", "source": "LUDB", "source_qrs_ms": src,
                "rows": [{"scenario": "control", "ids": ["s:sr"], "qrs_ms": qrs}]}

    s = summarise([rec(94, 110.0), rec(100, 104.0), rec(90, None)], ("control",))
    assert s["control"]["qrs_minus_source_ms"] == 10.0
    rows = [({"source_qrs_ms": 90}, {"qrs_ms": 122.0}), ({"source_qrs_ms": 100}, {"qrs_ms": None})]
    assert qrs_minus_source(rows) == 32.0 and qrs_minus_source([]) is None
