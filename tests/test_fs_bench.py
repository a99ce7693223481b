"""The sampling-rate benchmark resamples as its docstring says (benchmarks.fs_bench)."""
import numpy as np
import pytest

from benchmarks.fs_bench import resampled, source_of


def test_resampled_keeps_duration_and_a_sine_within_the_band():
    fs, t = 500.0, np.arange(5000) / 500.0
    x = np.stack([np.sin(2 * np.pi * 5.0 * t), 2.0 * np.sin(2 * np.pi * 10.0 * t + 1)], axis=1)
    for rate in (250.0, 257.0, 1000.0):
        y = resampled(x, fs, rate)
        assert y.shape[0] == pytest.approx(10.0 * rate, abs=1)
        ty = np.arange(y.shape[0]) / rate
        ref = np.sin(2 * np.pi * 5.0 * ty)
        inner = slice(int(0.5 * rate), int(9.5 * rate))  # away from the filter's edges
        assert np.abs(y[inner, 0] - ref[inner]).max() < 0.02


def test_a_per_lead_normalised_file_stays_normalised():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 12)).cumsum(axis=0)
    x = (x - x.min(axis=0)) / np.ptp(x, axis=0)  # every lead spans exactly 1
    y = resampled(x, 500.0, 257.0)
    assert np.ptp(y, axis=0) == pytest.approx(np.ones(12))
    raw = resampled(x * np.arange(1, 13), 500.0, 257.0)  # a physical recording is not rescaled
    assert np.ptp(raw, axis=0)[-1] > 5


def test_sources_named_as_in_the_other_benchmarks():
    assert [source_of(n) for n in ("HR06000", "E07500", "JS20000", "101")] == \
        ["PTB-XL", "Georgia", "Chapman/Ningbo", "LUDB"]


def test_wide_qrs_below_500_hz_says_pacing_is_not_excluded():
    from dataclasses import replace
    from pathlib import Path

    from tools.engine import analyze
    from tools.record import load_record

    ludb = Path(__file__).resolve().parents[2] / "shared" / "data" / "ludb" / "data"
    paced = load_record(ludb / "45.hea")  # paced, QRS about 250 ms; its spikes go at 250 Hz
    native = analyze(paced)
    assert "s:paced" in {s.id for s in native.statements}
    assert not any("pacemaker spikes may not survive" in n for n in native.notes)
    # at 257 Hz its stimuli survive as one-sample steps, at 250 Hz (decimated, anti-aliased)
    # as two-sample steps, that the joint detector finds (tools.pacing.coherent_spikes), and
    # no note is needed
    for rate in (250.0, 257.0):
        low = analyze(replace(paced, signal=resampled(paced.signal, paced.fs, rate), fs=rate))
        assert low.measurements["pacing_spikes"].details["joint_steps"] >= 3
        assert "s:paced" in {s.id for s in low.statements}
        assert not any("pacemaker spikes may not survive" in n for n in low.notes)
    # a wide QRS without pacing (CinC E07509, RBBB 151 ms) at 250 Hz carries the note
    cinc = Path(__file__).resolve().parents[2] / "shared" / "data" / "cinc2021"
    wide = load_record(cinc / "E07509.hea")
    low = analyze(replace(wide, signal=resampled(wide.signal, wide.fs, 250.0), fs=250.0))
    assert "s:paced" not in {s.id for s in low.statements}
    assert any("250 Hz" in n and "paced rhythm is not excluded" in n for n in low.notes)
    narrow = load_record(ludb / "1.hea")  # sinus, narrow QRS: no such note at 250 Hz
    low_n = analyze(replace(narrow, signal=resampled(narrow.signal, narrow.fs, 250.0), fs=250.0))
    assert not any("pacemaker spikes may not survive" in n for n in low_n.notes)
