"""Hospital ECG files (tools/vendor.py) and the DICOM / aECG writers (tools/writers.py).

Real files written by others (tests/fixtures/vendor, ATTRIBUTION.md): a de-identified GE MUSE
export, a synthetic MUSE file, a Philips Sierra XML file with XLI-compressed waveforms,
pydicom's Mortara 12-lead DICOM, and an HL7 aECG and an SCP-ECG written by Debian's
biosig-tools from a shared CinC record.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tools.engine import analyze
from tools.record import RecordError, load_record

from tests.test_engine import CINC as E07500
from tests.test_engine import LUDB1

FIX = Path(__file__).parent / "fixtures" / "vendor"


def _dicom_sample() -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("waveform_ecg.dcm"))


REAL = {
    "muse_guangxi_sinus.xml": ("GE MUSE XML", 500.0, "M", 11.0, "2024-01-01T10:35:17"),
    "muse_synthetic.xml": ("GE MUSE XML", 500.0, "M", 45.0, "2025-08-17T09:15:11"),
    "philips_129DYPRG.xml": ("Philips Sierra XML", 500.0, "M", 50.0, "2011-12-01T07:27:34"),
    "waveform_ecg.dcm": ("DICOM 12-lead waveform", 1000.0, "F", 42.0, "2013-01-25T10:59:19"),
}


def _path(name: str) -> Path:
    return _dicom_sample() if name == "waveform_ecg.dcm" else FIX / name


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_vendor_files_read_as_12_leads_with_demographics_and_measure(name):
    fmt, fs, sex, age, acquired = REAL[name]
    rec = load_record(_path(name))
    assert (rec.format, rec.fs, rec.sex, rec.age, rec.acquired) == (fmt, fs, sex, age, acquired)
    assert rec.sig_name == ["I", "II", "III", "aVR", "aVL", "aVF",
                            "V1", "V2", "V3", "V4", "V5", "V6"]
    assert rec.duration_s >= 9.9 and np.isfinite(rec.signal).all()
    # millivolts: QRS-sized peak-to-peak amplitudes, not counts or volts
    ptp = np.ptp(rec.signal, axis=0)
    assert 0.2 < np.median(ptp) < 5.0
    a = analyze(rec).to_dict()
    hr = a["measurements"]["hr_bpm"]["value"]
    assert 35 <= hr <= 150
    dev = a["record"]["device"]
    assert "not this assistant's" in dev["source"] and dev["statements"]
    if dev["measurements"].get("hr_bpm"):  # the device's own rate agrees with ours
        assert abs(dev["measurements"]["hr_bpm"] - hr) <= 3


def test_muse_limb_leads_are_derived_and_noted():
    rec = load_record(FIX / "muse_guangxi_sinus.xml")
    i, ii = rec.lead("I"), rec.lead("II")
    assert np.allclose(rec.lead("III"), ii - i) and np.allclose(rec.lead("aVR"), -(i + ii) / 2)
    assert any("derived from I and II" in n and "8 leads" in n for n in rec.reader_notes)
    notes = analyze(rec).to_dict()["notes"]
    assert any("derived from I and II" in n for n in notes)


def test_philips_xli_decodes_like_an_independent_reader():
    sierraecg = pytest.importorskip("sierraecg")  # dev extra: the reference decoder
    ref = sierraecg.read_file(str(FIX / "philips_129DYPRG.xml"))
    rec = load_record(FIX / "philips_129DYPRG.xml")
    for lead in ref.leads[:12]:
        # Philips XLI stores 5 uV per count
        assert np.array_equal(np.round(rec.lead(lead.label) * 200.0).astype(int),
                              np.asarray(lead.samples, dtype=int)), lead.label


def test_checksum_warnings_become_reader_notes():
    rec = load_record(FIX / "muse_synthetic.xml")
    assert any("CRC32" in n for n in rec.reader_notes)
    assert len(rec.reader_notes) <= 5  # summarised, not one line per lead


def test_patient_identity_never_leaves_the_reader():
    for name in REAL:
        rec = load_record(_path(name))
        text = json.dumps(analyze(rec).to_dict(), default=str)
        for secret in ("Anonymous", "SYNTH0001", "Synthetic", "1112010721168bdc",
                       "1980", "1900-01-01", "01-01-1980"):
            assert secret not in text, (name, secret)


def test_format_is_detected_from_content_not_extension(tmp_path):
    for ext in (".txt", ""):
        dst = tmp_path / f"export{ext}"
        shutil.copy(FIX / "muse_guangxi_sinus.xml", dst)
        assert load_record(dst).format == "GE MUSE XML"
    dst = tmp_path / "ecg.xml"
    shutil.copy(_dicom_sample(), dst)  # a DICOM file misnamed .xml
    assert load_record(dst).format == "DICOM 12-lead waveform"


def test_errors_name_the_file_and_the_problem(tmp_path):
    # a MUSE file whose rhythm waveform was removed (median beats only)
    text = (FIX / "muse_guangxi_sinus.xml").read_text(encoding="utf-8")
    start = text.rindex("<Waveform>", 0, text.index("<WaveformType>Rhythm"))
    end = text.index("</Waveform>", start) + len("</Waveform>")
    bad = tmp_path / "median_only.xml"
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(RecordError, match=r"(?i)median_only\.xml.*no rhythm waveform"):
        load_record(bad)
    # a DICOM object that is not an ECG waveform
    from pydicom.data import get_testdata_file

    ct = tmp_path / "ct.dcm"
    shutil.copy(get_testdata_file("CT_small.dcm"), ct)
    with pytest.raises(RecordError, match=r"ct\.dcm.*not an ECG waveform \(SOP class CT Image Storage"):
        load_record(ct)
    # SCP-ECG is recognised but refused by name (no verified reader)
    with pytest.raises(RecordError, match=r"recognised as SCP-ECG.*not accepted"):
        load_record(FIX / "biosig_scp3_E07500.scp")
    # a truncated Philips file
    cut = tmp_path / "cut.xml"
    raw = (FIX / "philips_129DYPRG.xml").read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RecordError, match=r"cut\.xml.*Philips Sierra XML"):
        load_record(cut)
    # an XML file that is no ECG at all
    other = tmp_path / "notes.xml"
    other.write_text("<?xml version='1.0'?><notes><n>hello</n></notes>", encoding="utf-8")
    with pytest.raises(RecordError, match=r"notes\.xml.*not a recognised ECG file"):
        load_record(other)


def test_aecg_written_by_another_program_reads_like_the_wfdb_original():
    ref, rec = load_record(E07500), load_record(FIX / "biosig_aecg_E07500.xml")
    assert rec.format == "HL7 aECG" and rec.sig_name == ref.sig_name and rec.fs == ref.fs
    # biosig wrote microvolt integers
    assert np.abs(rec.signal - ref.signal).max() <= 0.0011
    _same_measurements(analyze(ref).to_dict(), analyze(rec).to_dict())


def _same_measurements(a: dict, b: dict) -> None:
    ma, mb = a["measurements"], b["measurements"]
    assert abs(ma["hr_bpm"]["value"] - mb["hr_bpm"]["value"]) <= 2
    assert abs(ma["qrs_ms"]["value"] - mb["qrs_ms"]["value"]) <= 6
    assert sorted(s["id"] for s in a["statements"]) == sorted(s["id"] for s in b["statements"])


@pytest.mark.parametrize("kind", ["dicom", "aecg"])
def test_written_dicom_and_aecg_measure_like_the_wfdb_original(tmp_path, kind):
    from tools.writers import WRITERS

    write, ext = WRITERS[kind]
    for src in (LUDB1, E07500):
        ref = load_record(src)
        out = write(ref, tmp_path / f"{src.stem}{ext}")
        rec = load_record(out)
        assert rec.sig_name == ref.sig_name and rec.fs == ref.fs
        assert (rec.age, rec.sex) == (ref.age, ref.sex)
        assert np.abs(rec.signal - ref.signal).max() <= 0.0006  # 1 uV quantisation
        _same_measurements(analyze(ref).to_dict(), analyze(rec).to_dict())


def test_written_dicom_reads_the_same_in_pydicom(tmp_path):
    import pydicom

    from tools.writers import write_dicom

    ref = load_record(E07500)
    ds = pydicom.dcmread(write_dicom(ref, tmp_path / "e.dcm"))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.9.1.1" and ds.PatientName == ""
    w = ds.WaveformSequence[0]
    sens = np.array([float(c.ChannelSensitivity) for c in w.ChannelDefinitionSequence])
    raw = ds.waveform_array(0)  # pydicom's own decoding, independent of ecgdatakit
    assert raw.shape == ref.signal.shape
    assert np.abs(raw * sens / 1000.0 - ref.signal).max() <= 0.0006


def test_convert_cli_writes_files_and_labels_that_the_eval_layout_reads(tmp_path):
    from assistant.cli import main
    from evals import datasets
    from evals.labels import parse_header

    out = tmp_path / "dicom"
    assert main(["convert", str(E07500), "--to", "dicom", "--out", str(out)]) == 0
    assert (out / "E07500.dcm").is_file()
    fmt, recs = datasets.read_records(out)
    assert fmt == "files" and [r.key for r in recs] == ["E07500"]
    assert recs[0].truth == parse_header(E07500).dx
    # a second run does not overwrite silently
    assert main(["convert", str(E07500), "--to", "dicom", "--out", str(out)]) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "labels.csv").write_text("file,dx\n../E07500.dcm,426783006\n", encoding="utf-8")
    with pytest.raises(Exception, match="plain file name"):
        datasets.read_records(bad)
