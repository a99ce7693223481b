"""Atrial-event helpers: the sliding P-template correlation against its brute-force
definition, and the AV-relationship rules on hand-made event trains."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tools.atrial import _template_match, av_relationship
from tools.beats import GlobalBeat

FS = 500.0


def _beat(i, qrs_on, p_on=None):
    return GlobalBeat(index=i, qrs_on=qrs_on, qrs_off=qrs_on + 45, r_time=qrs_on + 20,
                      leads=[], p_on=p_on, p_off=None if p_on is None else p_on + 50)


def test_template_correlation_equals_the_windowed_definition():
    rng = np.random.default_rng(0)
    sig = rng.normal(size=(3000, 3)).cumsum(axis=0) * 0.01 + 1.0
    beats = [_beat(i, 300 + 400 * i, 200 + 400 * i) for i in range(6)]
    corr, gain, length, m = _template_match(sig, FS, beats)
    t = np.arange(length, dtype=float)
    basis = np.stack([np.ones(length), t - t.mean()])
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)

    def detrend(x):
        return x - np.einsum("...l,kl->...k", x, basis) @ basis

    tmpl = detrend(np.median(np.stack([sig[b.p_on - m:b.p_on - m + length] for b in beats]),
                             axis=0).T)
    win = detrend(sliding_window_view(sig, length, axis=0))
    ref = np.einsum("slk,lk->s", win, tmpl) / (
        np.sqrt(np.einsum("slk,slk->s", win, win)) * np.linalg.norm(tmpl) + 1e-12)
    assert corr.shape == ref.shape
    assert np.max(np.abs(corr - ref)) < 1e-9


def _events(onsets):
    return [(int(o), int(o) + 25, int(o) + 50) for o in onsets]


def test_two_to_one_block_and_third_degree_and_normal():
    pp = 400  # 75 /min atrial
    p = np.arange(100, 5000, pp)
    # 1:1 conduction, PR 160 ms: no pattern
    beats = [_beat(i, int(o) + 80) for i, o in enumerate(p)]
    assert av_relationship(_events(p), beats, FS)["pattern"] is None
    # every other P conducted: 2:1
    beats = [_beat(i, int(o) + 80) for i, o in enumerate(p[::2])]
    out = av_relationship(_events(p), beats, FS)
    assert out["pattern"] == "2:1" and len(out["blocked"]) >= 2
    # ventricles regular at 40 /min, unrelated to the P waves: third degree
    q = np.arange(250, 5000, 750)
    beats = [_beat(i, int(o)) for i, o in enumerate(q)]
    out = av_relationship(_events(p), beats, FS)
    assert out["pattern"] == "third" and out["dissociation"]


def test_majority_breaks_no_tie_by_chance():
    # the beat class and the Mobitz type were chosen by max(set(...)), whose tie-break
    # follows the hash seed: a PVC in one run, none in the next (Chapman JS20000)
    from tools.beats import majority

    assert majority(["ventricular"] * 6 + ["normal"] * 6, tie="unknown") == "unknown"
    assert majority(["normal"] * 7 + ["ventricular"] * 5, tie="unknown") == "normal"
    assert majority(["I", "II"], tie=None) is None and majority([], tie=None) is None
    assert majority(["II", "II", "I"]) == "II"
