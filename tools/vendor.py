"""Hospital ECG files: GE MUSE XML, Philips Sierra XML (XLI), DICOM 12-lead waveform and HL7
aECG, read through ``ecgdatakit`` into the one :class:`~tools.record.Record` (SCP-ECG is
recognised and refused: no verifiable sample, see ``FORMATS``).

Why ecgdatakit (Apache-2.0): one maintained library reads all five formats and, in the probe
recorded in ../shared/design/STACK.md and in this project's tests, its signals agree with
independent readers (``sierraecg`` for Philips XLI, ``pydicom`` for DICOM). Its formats are
detected from the file's content, so a MUSE export named ``.txt`` is read as MUSE.

What is kept from a vendor file: the rhythm waveform (never the median beat), the sampling
rate, age and sex (age computed from the birth date and acquisition date where only those
are given; the dates themselves are dropped), the acquisition time, the format and device
make/model, and the device's own measurements and statements as a separate ``device`` block
for comparison. Patient names, ids and birth dates are read by the library and discarded
here: they never reach a Record, a log, a prompt or an export.
"""
from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import numpy as np

#: ecgdatakit format name -> the name this project reports; only formats with a verified
#: reader are accepted (others are refused by name, not read on trust)
FORMATS = {
    "GE MUSE XML": "GE MUSE XML",
    "Philips Sierra XML": "Philips Sierra XML",
    "DICOM Waveform": "DICOM 12-lead waveform",
    "HL7 aECG": "HL7 aECG",
}
# SCP-ECG is detected but refused: no SCP-ECG file with a waveform the reader decodes could
# be found or written here to verify it (biosig-tools 2.5 writes v2 files without samples
# and v3 files with section-12 rhythm data, which ecgdatakit 2.0 does not decode)
_DEVICE_MEASUREMENTS = (("heart_rate", "hr_bpm"), ("pr_interval", "pr_ms"),
                        ("qrs_duration", "qrs_ms"), ("qt_interval", "qt_ms"),
                        ("qtc_bazett", "qtc_bazett_ms"), ("qtc_fridericia", "qtc_fridericia_ms"),
                        ("p_axis", "p_axis_deg"), ("qrs_axis", "qrs_axis_deg"),
                        ("t_axis", "t_axis_deg"))


def detect(path: Path) -> str | None:
    """The ecgdatakit format name recognised from the file's content, or None."""
    from ecgdatakit.parsing.parser import FileParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = FileParser.detect_format(path)
    return None if found is None else str(found["name"])


def load_vendor(path: Path, fs, units) -> "Record":  # noqa: F821 (tools.record imports us)
    """Read a vendor ECG file; every failure is a RecordError naming the file and the cause."""
    from ecgdatakit.exceptions import ECGDataKitError
    from ecgdatakit.parsing.parser import FileParser

    from tools.record import RecordError, _build, _lead_names, _resolve_fs, derive_limb_leads

    where = repr(str(path))
    name = detect(path)
    if name is None:
        raise RecordError(f"{where}: not a recognised ECG file (looked for WFDB, CSV, NumPy, "
                          f"EDF/BDF by extension and for {', '.join(FORMATS.values())} by "
                          "content)")
    if name not in FORMATS:
        raise RecordError(f"{where}: recognised as {name}, which is not accepted: no verified "
                          f"reader (accepted vendor formats: {', '.join(FORMATS.values())})")
    fmt = FORMATS[name]
    if name == "DICOM Waveform":
        _check_dicom_is_ecg(path)
    if units not in (None, "mV"):
        raise RecordError(f"{where}: a {fmt} file states its own units; units= must be omitted")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rec = FileParser.parse(path, auto_scale=True, units="mV")
        except ImportError as exc:
            raise RecordError(f"{where}: reading {fmt} needs a package that is not installed "
                              f"({exc})") from exc
        except (ECGDataKitError, ValueError, OSError) as exc:
            raise RecordError(f"{where}: {fmt} file could not be decoded "
                              f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
                              ) from exc
    leads = [lead for lead in rec.leads if len(lead.samples)]
    if not leads:
        what = (f"only median beats ({len(rec.median_beats)} leads), no rhythm waveform"
                if rec.median_beats else "no waveform")
        raise RecordError(f"{where}: the {fmt} file holds {what}; a rhythm waveform of at least "
                          "2 s is needed")
    raw = [lead.label for lead in leads if lead.is_raw or (lead.units or "").lower() != "mv"]
    if raw:
        raise RecordError(f"{where}: {fmt} leads {raw} carry no voltage scale (sensitivity or "
                          "unit missing); refusing to guess millivolts")
    rates = {int(lead.sampling_rate) for lead in leads}
    if len(rates) != 1:
        raise RecordError(f"{where}: {fmt} leads are sampled at different rates {sorted(rates)}"
                          " Hz; expected one rate for all leads")
    fs_hz = _resolve_fs(path, fs, rates.pop())
    n = min(len(lead.samples) for lead in leads)
    messages = list(dict.fromkeys(" ".join(str(w.message).split())[:160] for w in caught))
    notes = [f"reader: {fmt}: {m}" for m in messages[:3]]
    if len(messages) > 3:
        notes.append(f"reader: {fmt}: {len(messages) - 3} more warnings of the same kind")
    if max(len(lead.samples) for lead in leads) - n > 0.02 * fs_hz:
        notes.append(f"reader: {fmt} leads differ in length; all cut to the shortest "
                     f"({n / fs_hz:.2f} s)")
    names = [lead.label for lead in leads]
    sig = np.stack([np.asarray(lead.samples[:n], dtype=np.float64) for lead in leads], axis=1)
    names = _lead_names(path, names, len(names))
    sig, names, derived = derive_limb_leads(sig, names)
    if derived:
        notes.append(f"reader: {', '.join(derived)} derived from I and II (Einthoven, "
                     f"Goldberger): the {fmt} file stores {len(leads)} leads")
    age, sex = _demographics(rec)
    record = _build(path, sig, fs_hz, names, 1.0, age=age, sex=sex)
    record.format = fmt
    record.acquired = rec.recording.date.isoformat() if rec.recording.date else None
    record.device = _device_block(rec, fmt)
    record.reader_notes = notes
    return record


#: DICOM waveform SOP classes that hold an ECG (PS3.4 B.5: 12-lead, general, ambulatory)
_ECG_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.9.1.1": "12-lead ECG",
                    "1.2.840.10008.5.1.4.1.1.9.1.2": "general ECG",
                    "1.2.840.10008.5.1.4.1.1.9.1.3": "ambulatory ECG"}


def _check_dicom_is_ecg(path: Path) -> None:
    """A DICOM file must be an ECG waveform object (its SOP class), not an image or another
    waveform (audio, haemodynamic)."""
    import pydicom

    from tools.record import RecordError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True,
                             specific_tags=["SOPClassUID", "Modality"])
    except Exception as exc:  # pydicom raises many kinds on damaged files
        raise RecordError(f"{str(path)!r}: DICOM file could not be read ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:160]})") from exc
    sop = str(getattr(ds, "SOPClassUID", "") or "")
    if sop and sop not in _ECG_SOP_CLASSES:
        from pydicom.uid import UID

        raise RecordError(f"{str(path)!r}: a DICOM object but not an ECG waveform (SOP class "
                          f"{UID(sop).name or sop}, modality {getattr(ds, 'Modality', '?')}); "
                          "expected 12-lead, general or ambulatory ECG waveform storage")


def _demographics(rec) -> tuple[float | None, str | None]:
    """Age in years and sex from the file; age from birth and acquisition dates when the
    file gives no age (neither date is kept)."""
    p = rec.patient
    sex = {"m": "M", "male": "M", "f": "F", "female": "F"}.get((p.sex or "").strip().lower())
    age = float(p.age) if p.age is not None and 0 <= p.age <= 130 else None
    if age is None and isinstance(p.birth_date, datetime) and rec.recording.date:
        years = (rec.recording.date - p.birth_date).days / 365.25
        age = float(int(years)) if 0 <= years <= 130 else None
    return age, sex


def _device_block(rec, fmt: str) -> dict:
    """The device's own measurements and statements, labelled as the device's: shown for
    comparison, never used as evidence (the statement text is untrusted data)."""
    meas = {}
    for attr, key in _DEVICE_MEASUREMENTS:
        v = getattr(rec.measurements, attr, None)
        if isinstance(v, (int, float)) and np.isfinite(v):
            meas[key] = float(v)
    statements = []
    for text, reason in (rec.interpretation.statements or [])[:40]:
        line = " ".join(str(text).split())[:200]
        if reason:
            line += f" ({' '.join(str(reason).split())[:120]})"
        if line:
            statements.append(line)
    dev = rec.recording.device
    return {"source": f"{fmt} file: the recording device's own analysis, not this "
                      "assistant's; shown for comparison only",
            "manufacturer": (dev.manufacturer or "")[:80], "model": (dev.model or "")[:80],
            "measurements": meas, "statements": statements}
