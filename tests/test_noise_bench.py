"""The noise benchmark adds what its docstring says it adds (benchmarks.noise_bench)."""
import numpy as np
import pytest

from benchmarks.noise_bench import noise, summarise


def test_noise_levels_match_their_definitions():
    fs, n = 500.0, 5000
    mains = noise("mains", n, 12, fs, seed=1)
    assert np.abs(mains).max() == pytest.approx(0.05, rel=0.01)
    spec = np.abs(np.fft.rfft(mains[:, 0]))
    assert np.fft.rfftfreq(n, 1 / fs)[spec.argmax()] == pytest.approx(50.0, abs=0.1)
    emg = noise("emg", n, 12, fs, seed=1)
    assert emg.std(axis=0) == pytest.approx(np.full(12, 0.025), rel=0.01)
    wander = noise("wander", n, 12, fs, seed=1)
    assert 0.3 <= np.ptp(wander, axis=0).min() and np.ptp(wander, axis=0).max() <= 0.61
    both = noise("all", n, 12, fs, seed=1)[:, 0]  # its own draws, the same three kinds
    line = 2 * np.abs(np.fft.rfft(both))[int(50.0 * n / fs)] / n
    assert line == pytest.approx(0.05, rel=0.1)
    assert 0.3 <= np.ptp(both) <= 0.9


def test_summary_counts_what_changed_and_flags_dangerous_statements():
    clean = {"ids": ["s:sr"], "abstain": False, "pr_ms": 150.0, "qrs_ms": 90.0, "qt_ms": 400.0}
    rows = [{"clean": clean, "mains": dict(clean)},
            {"clean": clean, "mains": {**clean, "ids": ["s:af"], "pr_ms": None}},
            {"clean": clean, "mains": {**clean, "abstain": True}}]
    s = summarise(rows, "mains")
    assert s["abstained"] == 1 and s["same_statements"] == 0.5 and s["same_rhythm"] == 0.5
    assert s["dangerous_appeared"] == {"s:af": 1} and s["lost"] == {"s:sr": 1}
