"""tools.quality on real LUDB / CinC 2021 records and on synthetic corruptions of their leads.

The records live in ../shared/data (see its README); a missing data set is an error here,
never a skip. Corruptions follow the brief: zeros (missing), constant plus tiny noise (flat),
clipping at +-0.3 mV, a 0.3 Hz 1.5 mV sinusoid (baseline wander), heavy white / EMG-band
noise, 50 Hz mains, and an LA/RA swap by recomputing the limb leads.
"""
from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import wfdb
from scipy import signal

from tools.quality import LeadQuality, RecordQuality, assess_quality
from tools.record import LIMB_LEADS, STANDARD_LEADS, Record, normalize_lead_name

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LUDB = DATA / "ludb" / "data"
CINC = DATA / "cinc2021"
FS = 500.0

# Real leads the corruptions are applied to: (record, lead) with a clean QRS of 0.6-2 mV.
CORRUPTION_CASES = [("cinc2021/E07500", "V5"), ("ludb/1", "II"), ("cinc2021/HR06000", "V3")]
# Metric that must accompany each issue code.
ISSUE_METRIC = {"flat_line": "flat_run_s", "clipping": "clip_fraction",
                "baseline_wander": "baseline_excursion_mv",
                "high_frequency_noise": "hf_noise_ratio", "powerline": "powerline_ratio",
                "low_amplitude": "qrs_amplitude_mv", "non_finite_samples": "non_finite_fraction"}


def _record_paths() -> list[Path]:
    for folder in (LUDB, CINC):
        assert folder.is_dir(), (f"test data folder {str(folder)!r} is missing; these tests "
                                 "need ../shared/data (LUDB and CinC 2021 records)")
    paths = sorted(LUDB.glob("*.hea")) + sorted(CINC.glob("*.hea"))
    assert len(paths) >= 150, f"expected 100 LUDB + 50 CinC headers, found {len(paths)}"
    return paths


@lru_cache(maxsize=None)
def load(name: str) -> Record:
    """Load ``'ludb/1'`` or ``'cinc2021/E07500'`` as a Record (mV, normalised lead names)."""
    folder = LUDB if name.startswith("ludb/") else CINC
    base = folder / name.split("/", 1)[1]
    assert base.with_suffix(".hea").exists(), f"test record {str(base)!r} is missing"
    rec = wfdb.rdrecord(str(base))
    return Record(signal=np.asarray(rec.p_signal, dtype=float), fs=float(rec.fs),
                  sig_name=[normalize_lead_name(n) for n in rec.sig_name],
                  units=["mV"] * rec.n_sig, source=str(base))


def _name(path: Path) -> str:
    return ("ludb/" if path.parent == LUDB else "cinc2021/") + path.stem


def with_lead(rec: Record, lead: str, values: np.ndarray) -> Record:
    sig = rec.signal.copy()
    sig[:, rec.sig_name.index(lead)] = values
    return Record(signal=sig, fs=rec.fs, sig_name=list(rec.sig_name))


def swap_la_ra(rec: Record) -> Record:
    """Recompute the limb leads as recorded with LA and RA cables swapped."""
    get = rec.lead
    sig = rec.signal.copy()
    for lead, values in {"I": -get("I"), "II": get("III"), "III": get("II"),
                         "aVR": get("aVL"), "aVL": get("aVR"), "aVF": get("aVF")}.items():
        sig[:, rec.sig_name.index(lead)] = values
    return Record(signal=sig, fs=rec.fs, sig_name=list(rec.sig_name))


def assert_issue(q: LeadQuality, code: str) -> None:
    assert code in q.issues, f"{q.lead}: expected {code!r}, got {q.issues} {q.metrics}"
    if code in ISSUE_METRIC:
        assert ISSUE_METRIC[code] in q.metrics
    assert q.usable == (q.grade in ("good", "acceptable"))


# --- clean real data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus() -> dict[str, RecordQuality]:
    return {_name(p): assess_quality(load(_name(p))) for p in _record_paths()}


@pytest.mark.integration
def test_clean_records_are_mostly_good_and_never_abstain(corpus):
    grades = [lq.grade for q in corpus.values() for lq in q.leads.values()]
    assert grades.count("good") / len(grades) > 0.95  # calibration: 1,752 of 1,800
    assert not [n for n, q in corpus.items() if q.abstain]
    for name, q in corpus.items():
        assert sum(lq.grade == "good" for lq in q.leads.values()) >= 6, name


@pytest.mark.integration
def test_clean_records_are_not_suspected_of_reversal(corpus):
    suspected = [n for n, q in corpus.items() if q.limb_lead_reversal.suspected]
    assert suspected == []


@pytest.mark.integration
def test_zero_leads_in_cinc_are_reported_missing(corpus):
    # JS20004 and JS20008 ship V2, V4 and V6 as all-zero channels.
    for name in ("cinc2021/JS20004", "cinc2021/JS20008"):
        q = corpus[name]
        assert [n for n, lq in q.leads.items() if lq.grade == "missing"] == ["V2", "V4", "V6"]
        assert q.excluded_leads == ["V2", "V4", "V6"] and not q.abstain


@pytest.mark.integration
def test_metrics_are_finite_and_the_result_is_json(corpus):
    for name, q in corpus.items():
        for lq in q.leads.values():
            assert all(np.isfinite(v) for v in lq.metrics.values()), (name, lq.lead)
            for code in lq.issues:
                assert code in ISSUE_METRIC or code == "missing"
        assert RecordQuality.model_validate(json.loads(q.model_dump_json())) == q


@pytest.mark.integration
def test_einthoven_holds_in_cinc_and_fails_in_rescaled_ludb(corpus):
    cinc = [q for n, q in corpus.items() if n.startswith("cinc2021/")]
    assert all("einthoven_inconsistent" not in q.issues for q in cinc)
    assert max(q.metrics["einthoven_residual_ratio"] for q in cinc) < 0.02
    # This LUDB copy stores every lead rescaled to 1 mV peak-to-peak, so II != I + III.
    assert "einthoven_inconsistent" in corpus["ludb/1"].issues


# --- synthetic corruption of real leads ---------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_zeroed_lead_is_missing(name, lead):
    rec = load(name)
    q = assess_quality(with_lead(rec, lead, np.zeros(rec.n_samples)))
    assert q.leads[lead].grade == "missing" and q.leads[lead].issues == ["missing"]
    assert lead in q.excluded_leads and lead not in q.usable_leads


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_constant_plus_tiny_noise_is_flat(name, lead):
    rec = load(name)
    rng = np.random.default_rng(1)
    q = assess_quality(with_lead(rec, lead, 0.3 + rng.normal(0, 0.002, rec.n_samples)))
    assert_issue(q.leads[lead], "flat_line")
    assert q.leads[lead].grade == "poor" and q.leads[lead].metrics["ptp_mv"] < 0.05


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_lead_flat_for_3_s_while_others_beat(name, lead):
    rec = load(name)
    y = rec.lead(lead).copy()
    y[2000:3500] = y[2000]
    q = assess_quality(with_lead(rec, lead, y))
    assert_issue(q.leads[lead], "flat_line")
    assert q.leads[lead].metrics["flat_run_s"] == pytest.approx(3.0, abs=0.1)


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_clipping_at_0_3_mv(name, lead):
    rec = load(name)
    y = rec.lead(lead) - np.median(rec.lead(lead))
    q = assess_quality(with_lead(rec, lead, np.clip(y, -0.3, 0.3)))
    assert_issue(q.leads[lead], "clipping")
    assert q.leads[lead].metrics["clip_plateaus"] >= 3
    assert q.leads[lead].grade == "poor"


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_baseline_wander_0_3_hz_1_5_mv(name, lead):
    rec = load(name)
    t = np.arange(rec.n_samples) / rec.fs
    q = assess_quality(with_lead(rec, lead, rec.lead(lead) + 1.5 * np.sin(2 * np.pi * 0.3 * t)))
    assert_issue(q.leads[lead], "baseline_wander")
    assert q.leads[lead].metrics["baseline_excursion_mv"] > 2.0
    assert q.leads[lead].grade == "acceptable"  # removable by high-pass filtering


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_heavy_white_noise_is_poor(name, lead):
    rec = load(name)
    rng = np.random.default_rng(2)
    q = assess_quality(with_lead(rec, lead, rec.lead(lead) + rng.normal(0, 0.3, rec.n_samples)))
    assert_issue(q.leads[lead], "high_frequency_noise")
    assert q.leads[lead].grade == "poor" and lead in q.excluded_leads


@pytest.mark.integration
@pytest.mark.parametrize("name,lead", CORRUPTION_CASES)
def test_emg_band_noise_is_flagged(name, lead):
    rec = load(name)
    rng = np.random.default_rng(3)
    sos = signal.butter(4, [20, 150], "bandpass", fs=rec.fs, output="sos")
    emg = signal.sosfilt(sos, rng.normal(0, 1, rec.n_samples))
    emg *= 0.1 / emg.std()  # 0.1 mV RMS muscle noise
    q = assess_quality(with_lead(rec, lead, rec.lead(lead) + emg))
    assert_issue(q.leads[lead], "high_frequency_noise")


@pytest.mark.integration
def test_mains_hum_is_powerline_not_emg():
    rec = load("cinc2021/E07500")
    t = np.arange(rec.n_samples) / rec.fs
    q = assess_quality(with_lead(rec, "V5", rec.lead("V5") + 0.5 * np.sin(2 * np.pi * 50 * t)))
    lq = q.leads["V5"]
    assert_issue(lq, "powerline")
    assert lq.metrics["powerline_hz"] == 50.0
    assert lq.metrics["powerline_mv"] == pytest.approx(0.5, rel=0.1)
    assert "high_frequency_noise" not in lq.issues


@pytest.mark.integration
def test_low_amplitude_and_non_finite_samples():
    rec = load("cinc2021/E07500")
    y = rec.lead("V5").copy()
    y[100:200] = np.nan
    q = assess_quality(with_lead(with_lead(rec, "V3", rec.lead("V3") * 0.03), "V5", y))
    assert_issue(q.leads["V3"], "low_amplitude")
    assert q.leads["V3"].usable
    assert_issue(q.leads["V5"], "non_finite_samples")
    assert q.leads["V5"].metrics["non_finite_fraction"] == pytest.approx(0.02)


@pytest.mark.integration
def test_corrupting_one_lead_leaves_the_others_alone():
    rec = load("cinc2021/E07500")
    rng = np.random.default_rng(4)
    q = assess_quality(with_lead(rec, "V5", rng.normal(0, 0.5, rec.n_samples)))
    assert q.leads["V5"].grade == "poor"
    assert all(q.leads[n].grade == "good" for n in STANDARD_LEADS if n != "V5")
    assert not q.abstain


# --- limb-lead reversal and consistency -----------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("name", ["cinc2021/E07500", "cinc2021/HR06000", "ludb/1", "ludb/3"])
def test_la_ra_swap_is_suspected(name):
    rec = load(name)
    assert not assess_quality(rec).limb_lead_reversal.suspected
    rev = assess_quality(swap_la_ra(rec)).limb_lead_reversal
    assert rev.suspected and rev.kind == "LA/RA" and rev.confidence >= 0.5, rev
    assert "dextrocardia" in rev.evidence


@pytest.mark.integration
def test_la_ra_swap_sensitivity_over_the_corpus(corpus):
    hits = [assess_quality(swap_la_ra(load(n))).limb_lead_reversal.suspected for n in corpus]
    # calibration: 139 of 150; misses are paced rhythms, right axis deviation and AF.
    assert sum(hits) / len(hits) >= 0.85


@pytest.mark.integration
def test_la_ra_swap_keeps_einthoven_but_a_foreign_lead_breaks_it():
    rec = load("cinc2021/E07500")
    assert "einthoven_inconsistent" not in assess_quality(swap_la_ra(rec)).issues
    q = assess_quality(with_lead(rec, "III", rec.lead("V2")))
    assert "einthoven_inconsistent" in q.issues
    assert q.metrics["einthoven_residual_ratio"] > 0.1


# --- abstention -----------------------------------------------------------------------------
def _zero(rec: Record, names: list[str]) -> Record:
    for n in names:
        rec = with_lead(rec, n, np.zeros(rec.n_samples))
    return rec


@pytest.mark.integration
def test_abstains_when_8_leads_are_zeroed():
    zeroed = ["I", "II", "III", "aVR", "V1", "V2", "V3", "V4"]
    q = assess_quality(_zero(load("cinc2021/E07500"), zeroed))
    assert q.abstain
    assert q.usable_leads == ["aVL", "aVF", "V5", "V6"]
    for n in zeroed + ["aVL", "aVF"]:
        assert n in q.abstain_reason


@pytest.mark.integration
def test_abstention_boundaries():
    rec = load("cinc2021/E07500")
    assert not assess_quality(_zero(rec, ["I", "II", "III", "V1", "V2", "V3"])).abstain
    assert assess_quality(_zero(rec, ["I", "II", "III", "aVR"])).abstain  # 2 limb leads
    assert assess_quality(_zero(rec, list(LIMB_LEADS[:3]) + ["V1", "V2", "V3", "V4"])).abstain


@pytest.mark.integration
def test_eight_lead_record_names_the_absent_leads():
    rec = load("cinc2021/E07500")
    keep = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    sub = Record(signal=np.stack([rec.lead(n) for n in keep], axis=1), fs=rec.fs, sig_name=keep)
    q = assess_quality(sub)
    assert q.leads["aVF"].grade == "missing" and q.leads["aVF"].metrics == {"absent": 1.0}
    assert q.abstain and "derived from I and II" in q.abstain_reason


def test_all_zero_record_abstains_without_raising():
    q = assess_quality(Record(np.zeros((5000, 12)), FS, list(STANDARD_LEADS)))
    assert q.abstain and q.usable_leads == []
    assert all(lq.grade == "missing" for lq in q.leads.values())
    assert not q.limb_lead_reversal.suspected


def test_malformed_record_raises_naming_the_shape():
    with pytest.raises(ValueError, match=r"\(5000, 11\)"):
        assess_quality(Record(np.zeros((5000, 11)), FS, list(STANDARD_LEADS)))


@pytest.mark.integration
def test_runtime_of_a_10_s_12_lead_record():
    rec = load("cinc2021/E07500")
    assess_quality(rec)
    times = []
    for _ in range(7):
        t = time.perf_counter()
        assess_quality(rec)
        times.append(time.perf_counter() - t)
    # Typically ~15 ms; the bound only catches a gross regression on a busy machine.
    assert np.median(times) < 0.15
