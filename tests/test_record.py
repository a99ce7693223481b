"""Tests for the ECG loaders in tools.record, on real LUDB and PhysioNet Challenge 2021 records
(../shared/data beside the repo) and on broken copies of them."""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.record import STANDARD_LEADS, Record, RecordError, load_record, normalize_lead_name

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LUDB_1 = DATA / "ludb" / "data" / "1.hea"
CINC_E07500 = DATA / "cinc2021" / "E07500.hea"


def _require(path: Path) -> Path:
    # Missing shared data is a broken checkout, not a reason to skip: fail loudly.
    assert path.is_file(), f"shared test data missing: {path} (expected ../shared beside the repo)"
    return path


@pytest.fixture(scope="module")
def ludb() -> Record:
    return load_record(_require(LUDB_1))


def copy_record(hea: Path, dest: Path, data: bool = True) -> Path:
    """Copy a WFDB header (and its data file) into ``dest``, writable; return the new header."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(hea, dest / hea.name)
    if data:
        for ext in (".dat", ".mat"):
            if hea.with_suffix(ext).exists():
                shutil.copyfile(hea.with_suffix(ext), dest / hea.with_suffix(ext).name)
    return dest / hea.name


def expect_error(path: Path, *fragments: str, **kwargs) -> str:
    """Assert load_record raises RecordError naming the file (and saying ``fragments``)."""
    with pytest.raises(RecordError) as info:
        load_record(path, **kwargs)
    message = str(info.value)
    assert path.name in message, message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


def write_csv(path: Path, signal: np.ndarray, names, *, time_s: np.ndarray | None = None,
              fmt: str = "%.6f") -> Path:
    columns = signal if time_s is None else np.column_stack([time_s, signal])
    header = ",".join(names if time_s is None else ["time", *names])
    np.savetxt(path, columns, delimiter=",", header=header, comments="", fmt=fmt)
    return path


def write_edf(path: Path, rec: Record, *, rates=None, file_type=pyedflib.FILETYPE_EDFPLUS) -> Path:
    """Write ``rec`` as EDF+/BDF+ in uV with labels like 'ECG I' (pyedflib writer)."""
    digital = 8388607 if file_type == pyedflib.FILETYPE_BDFPLUS else 32767
    rates = rates or [rec.fs] * len(rec.sig_name)
    headers = [{"label": f"ECG {name}", "dimension": "uV", "sample_frequency": rate,
                "physical_max": 5000.0, "physical_min": -5000.0, "digital_max": digital,
                "digital_min": -digital, "transducer": "", "prefilter": ""}
               for name, rate in zip(rec.sig_name, rates)]
    writer = pyedflib.EdfWriter(str(path), len(headers), file_type=file_type)
    try:
        writer.setSignalHeaders(headers)
        writer.setStartdatetime(dt.datetime(2020, 1, 1, 10, 0, 0))
        writer.setBirthdate(dt.date(1969, 6, 30))
        writer.setSex(0)  # pyedflib: 0 female, 1 male
        signals = [np.ascontiguousarray(rec.signal[: int(len(rec.signal) * r / rec.fs), i] * 1000)
                   for i, r in enumerate(rates)]
        writer.writeSamples(signals)
    finally:
        writer.close()
    return path


# --- Real records ------------------------------------------------------------------------------

def test_ludb_record(ludb):
    assert ludb.signal.shape == (5000, 12)
    assert ludb.signal.dtype == np.float64
    assert ludb.fs == 500
    assert ludb.sig_name == list(STANDARD_LEADS)
    assert ludb.units == ["mV"] * 12
    assert ludb.age == 51 and ludb.sex == "F"
    peak_mv = np.abs(ludb.signal).max(axis=0)
    assert np.all(peak_mv < 5) and np.all(peak_mv > 0.05)  # plausible mV, not uV or V
    # Einthoven (I + III = II) confirms the lead order; LUDB leads were filtered separately,
    # so the identity holds only approximately there.
    assert np.corrcoef(ludb.lead("I") + ludb.lead("III"), ludb.lead("II"))[0, 1] > 0.9


def test_ludb_dat_path_finds_header(ludb):
    rec = load_record(_require(LUDB_1).with_suffix(".dat"))
    assert np.array_equal(rec.signal, ludb.signal)


def test_cinc_mat_record():
    rec = load_record(_require(CINC_E07500))
    assert rec.signal.shape == (5000, 12) and rec.fs == 500
    assert rec.sig_name == list(STANDARD_LEADS)
    assert rec.age == 78 and rec.sex == "M"
    assert 0.05 < np.abs(rec.signal).max() < 10
    assert np.allclose(rec.lead("I") + rec.lead("III"), rec.lead("II"), atol=0.002)  # 1 uV steps
    via_mat = load_record(CINC_E07500.with_suffix(".mat"))
    assert np.array_equal(via_mat.signal, rec.signal)


def test_all_shared_records_load():
    headers = sorted(DATA.glob("*/*.hea")) + sorted(DATA.glob("ludb/data/*.hea"))
    assert len(headers) >= 100
    for hea in headers:
        rec = load_record(hea)
        assert rec.signal.shape[1] == 12 and rec.sex in ("M", "F"), hea


@pytest.mark.parametrize("unit, factor", [("uV", 1e-3), ("V", 1e3)])
def test_wfdb_header_units_converted_to_mv(tmp_path, ludb, unit, factor):
    hea = copy_record(LUDB_1, tmp_path)
    lines = hea.read_text().splitlines()
    for i in range(1, 13):  # gain in adu per unit: adu/mV * (mV per unit)
        fields = lines[i].split()
        gain = float(fields[2].split("(")[0])
        baseline = fields[2][fields[2].index("("):].replace("/mV", "/" + unit)
        fields[2] = f"{gain * factor!r}{baseline}"
        lines[i] = " ".join(fields)
    hea.write_text("\n".join(lines) + "\n")
    rec = load_record(hea)
    assert np.allclose(rec.signal, ludb.signal, rtol=1e-9, atol=1e-12)


# --- Round trips -------------------------------------------------------------------------------

def test_csv_round_trip_with_time_column(tmp_path, ludb):
    time_s = np.arange(ludb.n_samples) / ludb.fs
    path = write_csv(tmp_path / "rec.csv", ludb.signal, ludb.sig_name, time_s=time_s)
    rec = load_record(path)
    assert rec.fs == 500 and rec.sig_name == ludb.sig_name
    assert np.allclose(rec.signal, ludb.signal, atol=1e-6)


def test_csv_round_trip_with_fs_argument_and_ms_column(tmp_path, ludb):
    path = write_csv(tmp_path / "plain.csv", ludb.signal, ludb.sig_name)
    assert np.allclose(load_record(path, fs=500).signal, ludb.signal, atol=1e-6)
    ms = np.column_stack([np.arange(ludb.n_samples) * 2.0, ludb.signal])
    path = tmp_path / "ms.csv"
    np.savetxt(path, ms, delimiter=";", header=";".join(["ms", *ludb.sig_name]), comments="")
    assert load_record(path).fs == 500


def test_csv_units_from_header_or_argument(tmp_path, ludb):
    names = [f"{n} (uV)" for n in ludb.sig_name]
    path = write_csv(tmp_path / "uv.csv", ludb.signal * 1000, names, fmt="%.3f")
    assert np.allclose(load_record(path, fs=500).signal, ludb.signal, atol=1e-6)
    path = write_csv(tmp_path / "uv2.csv", ludb.signal * 1000, ludb.sig_name, fmt="%.3f")
    assert np.allclose(load_record(path, fs=500, units="uV").signal, ludb.signal, atol=1e-6)


def test_npy_round_trip_both_orientations(tmp_path, ludb):
    np.save(tmp_path / "rows.npy", ludb.signal)
    np.save(tmp_path / "cols.npy", ludb.signal.T)
    for name in ("rows.npy", "cols.npy"):
        rec = load_record(tmp_path / name, fs=500)
        assert rec.sig_name == list(STANDARD_LEADS)
        assert np.array_equal(rec.signal, ludb.signal)


def test_npz_round_trip_with_names_and_units(tmp_path, ludb):
    path = tmp_path / "rec.npz"
    raw_names = np.array("i ii iii avr avl avf v1 v2 v3 v4 v5 v6".split())
    np.savez_compressed(path, signal=ludb.signal.T * 1000, fs=500.0, sig_name=raw_names, units="uV")
    rec = load_record(path)
    assert rec.fs == 500 and rec.sig_name == list(STANDARD_LEADS)
    assert np.allclose(rec.signal, ludb.signal, atol=1e-9)


@pytest.mark.parametrize("suffix, file_type", [(".edf", pyedflib.FILETYPE_EDFPLUS),
                                               (".bdf", pyedflib.FILETYPE_BDFPLUS)])
def test_edf_bdf_round_trip(tmp_path, ludb, suffix, file_type):
    path = write_edf(tmp_path / f"rec{suffix}", ludb, file_type=file_type)
    rec = load_record(path)
    assert rec.fs == 500 and rec.sig_name == list(STANDARD_LEADS)
    assert rec.sex == "F" and rec.age == 50
    step_mv = 10.0 / (2 * (8388607 if suffix == ".bdf" else 32767))  # 10 mV span / codes
    assert np.allclose(rec.signal, ludb.signal, atol=step_mv)


def test_small_nan_gaps_are_interpolated(tmp_path, ludb):
    signal = ludb.signal.copy()
    signal[100:110, 3] = np.nan
    np.save(tmp_path / "gaps.npy", signal)
    rec = load_record(tmp_path / "gaps.npy", fs=500)
    assert np.all(np.isfinite(rec.signal))
    assert any("aVR" in c and "interpolated" in c for c in rec.comments)
    assert np.array_equal(rec.signal[:100], ludb.signal[:100])


@pytest.mark.parametrize("label, expected", [
    ("ECG I", "I"), ("EKG V1", "V1"), ("Lead II", "II"), ("avr", "aVR"), ("ECG aVF", "aVF"),
    ("ecg_v6", "V6"), ("MLII", "MLII"), ("-aVR", "-aVR"), ("Resp", "Resp"),
])
def test_normalize_lead_name(label, expected):
    assert normalize_lead_name(label) == expected


# --- Bad inputs: every failure is a RecordError naming the file -------------------------------

def test_path_with_dotdot(tmp_path, ludb):
    (tmp_path / "sub").mkdir()
    write_csv(tmp_path / "x.csv", ludb.signal, ludb.sig_name)
    expect_error(tmp_path / "sub" / ".." / "x.csv", "..", fs=500)


def test_missing_file_and_directory(tmp_path):
    expect_error(tmp_path / "nope.hea", "not found")
    (tmp_path / "dir.hea").mkdir()
    expect_error(tmp_path / "dir.hea", "not a regular file")


def test_too_large(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(101 * 1024 * 1024)  # sparse: costs no disk
    expect_error(path, "MB")


def test_unknown_extension_and_bad_path_type(tmp_path):
    (tmp_path / "rec.xyz").write_text("I,II\n1,2\n")
    expect_error(tmp_path / "rec.xyz", "extension")
    with pytest.raises(RecordError):
        load_record(123)


def test_missing_data_file(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path, data=False)
    message = expect_error(hea, "not found")
    assert "1.dat" in message


def test_data_file_without_header(tmp_path):
    shutil.copyfile(_require(LUDB_1).with_suffix(".dat"), tmp_path / "1.dat")
    expect_error(tmp_path / "1.dat", "header")


@pytest.mark.parametrize("source", [LUDB_1, CINC_E07500])
def test_truncated_data_file(tmp_path, source):
    hea = copy_record(_require(source), tmp_path)
    data = next(p for p in tmp_path.iterdir() if p.suffix in (".dat", ".mat"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    message = expect_error(hea, "truncated")
    assert data.name in message


def test_corrupted_data_fails_checksum(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path)
    dat = tmp_path / "1.dat"
    raw = bytearray(dat.read_bytes())
    raw[2 * 12 * 1000 + 2] ^= 0x40  # sample 1000 of lead II: still a plausible value
    dat.write_bytes(bytes(raw))
    message = expect_error(hea, "checksum")
    assert "'ii'" in message


def test_header_signal_lines_must_match_count(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path)
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    expect_error(hea, "11 signal lines")


def test_data_file_outside_header_folder(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path / "rec")
    hea.write_text(hea.read_text().replace("1.dat", "../1.dat"))
    expect_error(hea)


@pytest.mark.parametrize("content", [
    b"Patient: John\nRhythm looks fine, see attached.\n",
    b"",
    b"\x00\x01\x02garbage\xff\xfe" * 20,
    b"# only a comment\n",
])
def test_garbage_header(tmp_path, content):
    (tmp_path / "bad.hea").write_bytes(content)
    expect_error(tmp_path / "bad.hea")


@pytest.mark.parametrize("record_line, fragment", [
    ("1 12 20 5000", "outside"), ("1 12 20000 5000", "outside"), ("1 12", "no sampling frequency"),
    # wfdb reads an fs field it cannot parse as absent and assumes 250 Hz (LUDB 1 then read as
    # 20 s at 250 Hz: 'LBBB', heart rate 22.7): each must be refused, naming the field
    ("1 12 -500 5000", "'-500' is not a positive number"),
    ("1 12 NaN 5000", "'NaN' is not a positive number"),
    ("1 12 inf 5000", "'inf' is not a positive number"),
    ("1 12 abc 5000", "'abc' is not a positive number"),
    ("1 12 1e9 5000", "'1e9' is not a positive number"),
])
def test_header_fs_checked(tmp_path, record_line, fragment):
    hea = copy_record(_require(LUDB_1), tmp_path)
    hea.write_text(hea.read_text().replace("1 12 500 5000", record_line))
    expect_error(hea, fragment)


def test_header_fs_with_counter_frequency_is_read(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path)
    hea.write_text(hea.read_text().replace("1 12 500 5000", "1 12 500/1000 5000"))
    assert load_record(hea).fs == 500.0


def test_fs_argument_must_agree_with_header():
    expect_error(_require(LUDB_1), "250", fs=250)
    assert load_record(LUDB_1, fs=500).fs == 500


def test_uncalibrated_gain(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path)
    hea.write_text(hea.read_text().replace("1716(6)/mV", "0(6)/mV"))
    expect_error(hea, "gain")


def test_header_declaring_too_many_samples(tmp_path):
    hea = copy_record(_require(LUDB_1), tmp_path)
    # more than the data file holds (within the accepted length): truncated
    hea.write_text(hea.read_text().replace("1 12 500 5000", "1 12 500 900000"))
    expect_error(hea, "truncated")
    # beyond the accepted length: refused before the data file is even opened
    hea.write_text(hea.read_text().replace("1 12 500 900000", "1 12 500 5000000000"))
    expect_error(hea, "at most 1000000")


def test_hundred_leads(tmp_path, ludb):
    np.save(tmp_path / "wide.npy", np.zeros((5000, 100)))
    expect_error(tmp_path / "wide.npy", "100 leads", fs=500)
    names = [f"L{i}" for i in range(100)]
    wide = write_csv(tmp_path / "wide.csv", np.zeros((1000, 100)), names)
    expect_error(wide, "100 leads", fs=500)
    lines = ["1 100 500 5000"] + ["1.dat 16 200/mV 16 0 0 0 0 L%d" % i for i in range(100)]
    (tmp_path / "1.hea").write_text("\n".join(lines) + "\n")
    shutil.copyfile(_require(LUDB_1).with_suffix(".dat"), tmp_path / "1.dat")
    expect_error(tmp_path / "1.hea", "100 leads")


def test_one_sample(tmp_path, ludb):
    np.save(tmp_path / "one.npy", ludb.signal[:1])
    expect_error(tmp_path / "one.npy", "2 s", fs=500)
    expect_error(write_csv(tmp_path / "one.csv", ludb.signal[:1], ludb.sig_name), "2 s", fs=500)
    time_s = np.arange(1) / 500
    expect_error(write_csv(tmp_path / "onet.csv", ludb.signal[:1], ludb.sig_name, time_s=time_s))


@pytest.mark.parametrize("names", [["I", "I"], ["avr", "aVR"]])
def test_duplicate_lead_names(tmp_path, ludb, names):
    path = write_csv(tmp_path / "dup.csv", ludb.signal[:, :2], names)
    expect_error(path, "duplicate", fs=500)


def test_lead_entirely_nan(tmp_path, ludb):
    signal = ludb.signal.copy()
    signal[:, 7] = np.nan
    path = write_csv(tmp_path / "nan.csv", signal, ludb.sig_name)
    expect_error(path, "'V2'", fs=500)


def test_too_many_nan_samples(tmp_path, ludb):
    signal = ludb.signal.copy()
    signal[::20, 2] = np.inf
    np.save(tmp_path / "holes.npy", signal)
    expect_error(tmp_path / "holes.npy", "'III'", fs=500)


def test_csv_needs_fs_or_time_column(tmp_path, ludb):
    path = write_csv(tmp_path / "nofs.csv", ludb.signal, ludb.sig_name)
    expect_error(path, "fs=")
    expect_error(path, "outside", fs=10)


def test_csv_microvolts_without_units(tmp_path, ludb):
    path = write_csv(tmp_path / "uv.csv", ludb.signal * 1000, ludb.sig_name, fmt="%.1f")
    expect_error(path, "units", fs=500)
    path = write_csv(tmp_path / "uvh.csv", ludb.signal * 1000, [f"{n} (uV)" for n in ludb.sig_name])
    expect_error(path, "contradicts", fs=500, units="mV")


def test_csv_uneven_time(tmp_path, ludb):
    time_s = np.arange(ludb.n_samples) / ludb.fs
    time_s[2500:] += 0.01  # five missing samples
    expect_error(write_csv(tmp_path / "gap.csv", ludb.signal, ludb.sig_name, time_s=time_s),
                 "evenly spaced")


def test_csv_malformed(tmp_path):
    (tmp_path / "nohdr.csv").write_text("1,2,3\n4,5,6\n")
    expect_error(tmp_path / "nohdr.csv", "header", fs=500)
    (tmp_path / "text.csv").write_text("I,II\n1,abc\n")
    expect_error(tmp_path / "text.csv", "non-number", fs=500)
    (tmp_path / "ragged.csv").write_text("I,II\n1,2\n3\n")
    expect_error(tmp_path / "ragged.csv", "fields", fs=500)


def test_npy_needs_fs_and_names(tmp_path, ludb):
    np.save(tmp_path / "twelve.npy", ludb.signal)
    expect_error(tmp_path / "twelve.npy", "fs=")
    np.save(tmp_path / "eight.npy", ludb.signal[:, :8])
    expect_error(tmp_path / "eight.npy", "names", fs=500)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    expect_error(tmp_path / "obj.npy", fs=500)


def test_npz_problems(tmp_path, ludb):
    np.savez(tmp_path / "nosig.npz", data=ludb.signal, fs=500)
    expect_error(tmp_path / "nosig.npz", "'signal'")
    np.savez(tmp_path / "badfs.npz", signal=ludb.signal, fs=5)
    expect_error(tmp_path / "badfs.npz", "outside")
    np.savez(tmp_path / "names.npz", signal=ludb.signal, fs=500, sig_name=np.array(["I", "II"]))
    expect_error(tmp_path / "names.npz", "lead names")


def test_edf_mixed_sampling_frequencies(tmp_path, ludb):
    rates = [500] * 11 + [250]
    path = write_edf(tmp_path / "mixed.edf", ludb, rates=rates)
    expect_error(path, "sampling frequencies")


@pytest.mark.parametrize("suffix", [".edf", ".bdf", ".npy", ".npz", ".mat", ".dat", ".csv"])
def test_random_bytes_per_format(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    expect_error(path, fs=500)


# --- Fuzzing: mutated real records either load validly or raise RecordError -------------------

SOURCES = [LUDB_1, CINC_E07500]
TOKEN = st.one_of(
    st.integers(-10, 10**10).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12),
)


def _mutate(data, hea: Path) -> None:
    """Apply one drawn corruption to a copied record (header and data file)."""
    dat = next(p for p in hea.parent.iterdir() if p.suffix in (".dat", ".mat"))
    op = data.draw(st.sampled_from(["truncate", "flip", "token", "fs", "delete", "random"]))
    target = data.draw(st.sampled_from([hea, dat]))
    raw = bytearray(target.read_bytes())
    if op == "truncate":
        target.write_bytes(raw[: data.draw(st.integers(0, len(raw)))])
    elif op == "flip":
        for pos in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=20)):
            raw[pos] ^= data.draw(st.integers(1, 255))
        target.write_bytes(bytes(raw))
    elif op == "random":
        target.write_bytes(data.draw(st.binary(max_size=2000)))
    else:
        lines = hea.read_text().splitlines()
        if op == "delete":
            for i in sorted(set(data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=4))),
                            reverse=True):
                del lines[i]
        else:
            row = 0 if op == "fs" else data.draw(st.integers(0, len(lines) - 1))
            fields = lines[row].split()
            col = 2 if op == "fs" else data.draw(st.integers(0, max(len(fields) - 1, 0)))
            fields[col:col + 1] = [data.draw(TOKEN)]
            lines[row] = " ".join(fields)
        hea.write_text("\n".join(lines) + "\n")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_records_load_or_raise_record_error(data):
    source = data.draw(st.sampled_from(SOURCES))
    with tempfile.TemporaryDirectory() as tmp:
        hea = copy_record(_require(source), Path(tmp))
        _mutate(data, hea)
        path = data.draw(st.sampled_from([hea, next(p for p in Path(tmp).iterdir()
                                                    if p.suffix in (".dat", ".mat"))]))
        try:
            rec = load_record(path)
        except RecordError as exc:
            assert path.name in str(exc) or hea.name in str(exc), str(exc)
            return
        assert isinstance(rec, Record)
        assert rec.signal.dtype == np.float64 and rec.signal.ndim == 2
        assert np.all(np.isfinite(rec.signal))
        assert rec.signal.shape[1] == len(rec.sig_name) == len(rec.units)
        assert len(set(rec.sig_name)) == len(rec.sig_name)
        assert 50 <= rec.fs <= 10_000 and rec.duration_s >= 2


def test_overlong_records_are_refused_before_they_take_memory(tmp_path):
    import resource

    from tools import record as R

    # a CSV of 1,000,001 rows of one-character cells (the probe's 49 MB file took 1.5 GB)
    csv_path = tmp_path / "long.csv"
    with open(csv_path, "w") as fh:
        fh.write("I,II,III\n")
        fh.write("1,1,1\n" * (R._MAX_SAMPLES + 1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expect_error(csv_path, "at most 1000000", fs=500)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300, grown_mb
    # a WFDB header declaring more samples than accepted is refused before reading them
    hea = copy_record(_require(LUDB_1), tmp_path)
    hea.write_text(hea.read_text().replace("1 12 500 5000", "1 12 500 2000000"))
    expect_error(hea, "at most 1000000")


def test_a_single_huge_csv_line_is_refused(tmp_path):
    p = tmp_path / "wide_line.csv"
    p.write_text("I,II\n" + "1," * 100_000 + "1\n")
    expect_error(p, "characters", fs=500)
