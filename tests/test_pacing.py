"""Pacemaker spikes under muscle noise: the joint (all-lead) step detector beside openecg's.

Muscle noise (benchmarks.noise_bench 'emg', 0.025 mV RMS at 20-150 Hz) hides the spikes
from openecg's per-lead detector on every paced LUDB record; one stimulus seen at the same
sample by a limb lead and >= 2 precordial leads is found through it. The non-paced controls
include LUDB 17 and 39, whose fragmented QRS (jagged slopes, kinks seen in all six limb
leads) were taken for spikes before the quiet-baseline and limb-plus-precordial rules."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.noise_bench import with_noise
from tools.engine import analyze
from tools.record import load_record
from tools.pacing import coherent_spikes

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def _load(rel: str):
    path = SHARED / rel
    if not path.with_suffix(".hea").exists():
        pytest.fail(f"{str(path)!r} missing: ../shared/data must sit beside the checkout")
    return load_record(path.with_suffix(".hea"))


def _with_emg(rec):
    """The record with noise_bench's muscle noise, as that benchmark adds it."""
    return with_noise(rec, Path(rec.source).stem, "emg")


def _steps(n: int, fs: float, at: list[int], leads: list[str], seed: int = 0) -> np.ndarray:
    """Muscle-like noise with a pacing-like stimulus (a 0.4 mV one-sample step decaying
    over ~6 ms) at ``at`` in ``leads``."""
    rng = np.random.default_rng(seed)
    x = 0.02 * rng.normal(size=(n, len(LEADS)))
    pulse = 0.4 * np.exp(-np.arange(8) / 2.0)
    for k in at:
        for lead in leads:
            x[k:k + 8, LEADS.index(lead)] += pulse
    return x


def test_a_stimulus_counts_only_when_limb_and_precordial_leads_see_it_together():
    fs, at = 500.0, [500, 1000, 1500, 2000]
    everywhere = coherent_spikes(_steps(2500, fs, at, LEADS), fs, LEADS)
    assert everywhere.tolist() == at
    # six limb leads are two recorded signals: a kink in all of them is one observation
    assert coherent_spikes(_steps(2500, fs, at, LEADS[:6]), fs, LEADS).size == 0
    assert coherent_spikes(_steps(2500, fs, at, ["I", "V1"]), fs, LEADS).size == 0
    assert coherent_spikes(_steps(2500, fs, at, ["I", "V1", "V2"]), fs, LEADS).tolist() == at
    # without precordial leads the joint detector says nothing (openecg's still runs)
    assert coherent_spikes(_steps(2500, fs, at, LEADS)[:, :6], fs, LEADS[:6]).size == 0


def test_a_slope_is_not_a_step():
    fs = 500.0
    t = np.arange(2500) / fs
    # a 1.5 mV 'R wave' rising over 20 ms every second, identical in every lead
    x = np.zeros((2500, len(LEADS)))
    for c in (0.5, 1.5, 2.5, 3.5):
        x += 1.5 * np.clip(1 - np.abs(t - c) / 0.020, 0, None)[:, None]
    x += 0.002 * np.random.default_rng(1).normal(size=x.shape)
    assert coherent_spikes(x, fs, LEADS).size == 0


@pytest.mark.integration
@pytest.mark.parametrize("rid", ["95", "111"])
def test_paced_ludb_records_stay_paced_under_muscle_noise(rid):
    rec = _load(f"ludb/data/{rid}")
    clean, noisy = analyze(rec), analyze(_with_emg(rec))
    assert "s:paced" in {s.id for s in clean.statements}
    d = noisy.measurements["pacing_spikes"].details
    assert d["openecg"] < 3, d  # why the joint detector exists
    assert d["joint_steps"] >= 3, d
    assert "s:paced" in {s.id for s in noisy.statements}


@pytest.mark.integration
@pytest.mark.parametrize("rel", ["ludb/data/17", "ludb/data/39", "cinc2021/E07500"])
def test_fragmented_or_plain_qrs_is_not_paced_clean_or_noisy(rel):
    rec = _load(rel)
    for a in (analyze(rec), analyze(_with_emg(rec))):
        d = a.measurements["pacing_spikes"].details
        assert d["joint_steps"] < 3, d
        assert "s:paced" not in {s.id for s in a.statements}


def test_sinus_p_waves_that_a_ventricular_pacemaker_does_not_track_are_complete_block():
    # LUDB 111 (labelled sinus rhythm, third-degree AV block, ventricular pacing): P waves
    # at about 76 /min march through the paced rhythm at 60 /min, mostly on the paced QRS-T
    # where the delineator finds none; cancelling the median paced beat leaves them
    a = analyze(_load("ludb/data/111"))
    ids = {s.id for s in a.statements}
    assert {"s:paced", "s:avb3"} <= ids
    unlocked = a.measurements["unlocked_p_waves"]
    assert unlocked.details["av_dissociation"] is True
    assert unlocked.details["atrial_rate_bpm"] == pytest.approx(76, abs=6)
    avb3 = next(s for s in a.statements if s.id == "s:avb3")
    assert "ventricular pacing" in avb3.label and "m:unlocked_p_waves" in avb3.evidence_ids
    for e in avb3.evidence_ids:
        assert e[2:] in a.measurements, e


@pytest.mark.parametrize("rel", ["ludb/data/45", "ludb/data/93", "ludb/data/95"])
def test_paced_rhythms_without_dissociated_p_waves_are_not_av_block(rel):
    # the other paced records: atrial and ventricular pacing (45), and atrial fibrillation
    # with ventricular pacing (93, 95): no AV block is claimed
    a = analyze(_load(rel))
    ids = {s.id for s in a.statements}
    assert "s:paced" in ids
    assert not ids & {"s:avb2", "s:avb3"}


def _atrially_paced(rec):
    """The analysis of ``rec`` and ``rec`` with an atrial stimulus of 0.5 mV 10 ms before
    each P onset, as benchmarks.pacing_bench adds it (the QRS stays the record's own)."""
    from benchmarks.pacing_bench import with_atrial_stimuli

    a = analyze(rec)
    return a, with_atrial_stimuli(a, 0.5)


def test_atrial_pacing_with_a_narrow_qrs_keeps_the_st_t_criteria():
    # CinC E07501: sinus tachycardia, narrow QRS, lateral T inversion (its ST depression in
    # V6 and I is no UDMI pair). Before, any paced rhythm set every QRS and ST-T criterion
    # aside, as is right only for a ventricular-paced (wide) QRS: an atrially paced
    # patient's ST-T changes went unsaid.
    plain, paced_rec = _atrially_paced(_load("cinc2021/E07501"))
    plain_ids = {s.id for s in plain.statements}
    st_t = {i for i in plain_ids if i.startswith(("s:std_", "s:ste_")) or i == "s:tinv"}
    assert "s:tinv" in st_t and "s:paced" not in plain_ids
    b = analyze(paced_rec)
    by_id = {s.id: s for s in b.statements}
    assert "s:paced" in by_id, "the stimuli before the P waves are not found"
    assert by_id["s:paced"].label == "Atrial paced rhythm"
    assert st_t <= set(by_id)
    assert not any("criteria not applied" in n for n in b.notes)


def test_ventricular_pacing_still_sets_the_qrs_criteria_aside():
    a = analyze(_load("ludb/data/111"))
    by_id = {s.id: s for s in a.statements}
    assert by_id["s:paced"].label == "Ventricular paced rhythm"
    assert not {"s:lbbb", "s:rbbb", "s:ivcd", "s:lad", "s:rad", "s:tinv"} & set(by_id)
    assert any("paced rhythm: conduction, axis, voltage and ST-T criteria not applied" in n
               for n in a.notes)


@pytest.mark.parametrize("name, kept", [("JS20006", {"s:ivcd", "s:pvc"}),
                                        ("E07509", {"s:rbbb"})])
def test_atrial_stimuli_are_blanked_before_delineation(name, kept):
    # The learned delineator was trained without pacemakers: an atrial stimulus moved its P
    # onsets and broke the P waves (Chapman JS20006, sinus tachycardia with PVCs, read
    # "ventricular tachycardia" with stimuli added). Blanked, the record reads as before,
    # paced from the atria, its conduction (IVCD; Georgia E07509's RBBB) still stated.
    plain, paced_rec = _atrially_paced(_load(f"cinc2021/{name}"))
    assert kept <= {s.id for s in plain.statements}
    b = analyze(paced_rec)
    by_id = {s.id: s for s in b.statements}
    assert by_id.get("s:paced") and by_id["s:paced"].label == "Atrial paced rhythm"
    assert not {"s:vt", "s:wct", "s:af", "s:afl"} & set(by_id)
    assert kept <= set(by_id)
    assert any("stimuli outside the QRS complexes blanked" in n for n in b.notes)
    assert b.measurements["pacing_spikes"].details["before_qrs_onset"] < 3


def test_first_degree_block_is_judged_under_atrial_pacing():
    # An atrially paced beat is conducted, so a PR > 200 ms is first-degree AV block there
    # too (before, it was judged in sinus and ectopic atrial rhythm only). Georgia E07500,
    # sinus bradycardia with PR 148 ms: paced as it is, no block; its P waves moved 80 ms
    # earlier (benchmarks.long_pr_bench) and paced 10 ms before them, PR about 228 ms.
    from benchmarks.long_pr_bench import move_p_earlier
    from benchmarks.pacing_bench import with_atrial_stimuli

    a = analyze(_load("cinc2021/E07500"))
    for shift, block in ((0.0, False), (80.0, True)):
        moved = move_p_earlier(a.record, a, shift) if shift else None
        b = analyze(with_atrial_stimuli(a, 0.5, moved, shift))
        by_id = {s.id: s for s in b.statements}
        assert by_id["s:paced"].label == "Atrial paced rhythm"
        assert ("s:avb1" in by_id) is block, (shift, b.measurements["pr_ms"].value)
        if block:
            assert b.measurements["pr_ms"].value > 200
            assert "atrial paced rhythm" in by_id["s:avb1"].criterion


def test_atrial_and_ventricular_stimuli_at_one_av_delay_are_dual_chamber_pacing():
    # LUDB 45 (atrial and ventricular pacing): the atrial stimuli, rounded by the recorder's
    # filter, are no one-sample steps, but they are the sharpest deflection 80-300 ms before
    # each ventricular stimulus, always the same AV delay (about 185 ms). LUDB 93, 95, 111
    # pace the ventricles only.
    a = analyze(_load("ludb/data/45"))
    paced = next(s for s in a.statements if s.id == "s:paced")
    assert paced.label == "AV sequential (dual-chamber) paced rhythm"
    delay = a.measurements["paced_av_delay_ms"]
    assert delay.value == pytest.approx(185, abs=10)
    assert "m:paced_av_delay_ms" in paced.evidence_ids and "185 ms" in paced.criterion
    assert not any("atrial rhythm underneath" in n for n in a.notes)  # the atria are paced
    for rel in ("ludb/data/93", "ludb/data/95", "ludb/data/111"):
        b = analyze(_load(rel))
        assert next(s for s in b.statements if s.id == "s:paced").label == \
            "Ventricular paced rhythm", rel
        assert b.measurements["paced_av_delay_ms"].value is None
        # 93 and 95 are atrial fibrillation under the pacing: not named, and said so
        assert any("atrial rhythm underneath" in n for n in b.notes), rel


def _with_atrial_stimuli_before_ventricular(a, delays_ms):
    """``a``'s record with a stimulus (one-sample step and recharge, 0.3 x each lead's range)
    ``delays_ms[i]`` before the i-th paced complex's (first) ventricular stimulus found by
    the joint detector."""
    from benchmarks.pacing_bench import PULSE
    from tools.pacing import _paces, coherent_spikes, lead_spans

    rec = a.record
    x = np.array(rec.signal, float)
    span = lead_spans(x)
    v = [t for t in coherent_spikes(x, rec.fs, list(rec.sig_name))
         if _paces(t, a.beats, rec.fs) == "V"]
    v = [t for i, t in enumerate(v) if i == 0 or t - v[i - 1] > 0.040 * rec.fs]  # per beat
    for t, d in zip(v, delays_ms):
        k = int(t - d * rec.fs / 1000.0)
        x[k:k + PULSE.size] += 0.3 * PULSE[:, None] * span[None, :]
    return replace(rec, signal=x)


def test_added_atrial_stimuli_make_dual_chamber_pacing_only_at_one_av_delay():
    # LUDB 111 paces the ventricles (complete AV block): atrial stimuli added 160 ms before
    # each ventricular one read as AV sequential pacing; at delays scattered over 90-290 ms
    # (no programmed AV delay) they do not
    a = analyze(_load("ludb/data/111"))
    fixed = analyze(_with_atrial_stimuli_before_ventricular(a, [160.0] * 40))
    paced = next(s for s in fixed.statements if s.id == "s:paced")
    assert paced.label == "AV sequential (dual-chamber) paced rhythm"
    assert fixed.measurements["paced_av_delay_ms"].value == pytest.approx(160, abs=6)
    rng = np.random.default_rng(7)
    scattered = analyze(_with_atrial_stimuli_before_ventricular(a, rng.uniform(90, 290, 40)))
    assert scattered.measurements["paced_av_delay_ms"].value is None
    assert next(s for s in scattered.statements if s.id == "s:paced").label == \
        "Ventricular paced rhythm"


def test_atrial_stimuli_are_found_with_a_lead_printed_only_in_part():
    # a paper page's lead exists only where it was printed (NaN elsewhere): it is left out
    # of the joint slope instead of blanking it
    from types import SimpleNamespace

    from tools.pacing import atrial_stimuli

    x = np.random.default_rng(0).normal(0, 0.01, (5000, 12))
    x[:2500, 3] = np.nan
    beats = [SimpleNamespace(qrs_on=t, qrs_off=t + 50) for t in range(400, 5000, 500)]
    v = [b.qrs_on - 5 for b in beats]
    for t in v:
        x[t - 90:, :] += 1.0                 # an atrial step 180 ms before each ventricular
        x[t:, :] += 3.0
    n_a, n_v, delay, sd = atrial_stimuli(x, 500.0, beats, v)
    assert (n_a, n_v) == (10, 10) and delay == pytest.approx(180, abs=4) and sd < 2
    # the same steps at scattered delays are not one AV delay (the caller asks SD <= 10 ms)
    from tools.pacing import AV_DELAY_SD_MS

    y = np.random.default_rng(1).normal(0, 0.01, (5000, 12))
    for t, d in zip(v, np.random.default_rng(2).uniform(45, 145, len(v)).astype(int)):
        y[t - d:, :] += 1.0
        y[t:, :] += 3.0
    assert atrial_stimuli(y, 500.0, beats, v)[3] > 3 * AV_DELAY_SD_MS
