"""Write a :class:`~tools.record.Record` as a DICOM 12-lead ECG waveform or an HL7 aECG file.

Used to hand an ECG to hospital systems and to check the vendor readers on the shared WFDB
records (written here, read back through :mod:`tools.vendor`, they must measure like the
original). Only the signal, sampling rate, age, sex and acquisition time are written; no
patient identity (the DICOM PatientName/PatientID are left empty, the aECG subject id is a
placeholder).

* DICOM: 12-Lead ECG Waveform Storage (SOP class 1.2.840.10008.5.1.4.1.1.9.1.1, DICOM PS3.3
  A.34.3), one RHYTHM multiplex group, 16-bit signed samples, channel sensitivity in uV
  (UCUM) with baseline 0, lead codes from the MDC/SCPECG code scheme (PS3.16 CID 3001).
* HL7 aECG: HL7 v3 AnnotatedECG (ANSI/HL7 V3 ECG, R1-2004), one rhythm series, one
  ``SLIST_PQ`` sequence per lead in uV (origin 0, scale = the quantisation step) and a
  ``GLIST_TS`` time base; lead codes ``MDC_ECG_LEAD_*`` (ISO/IEEE 11073-10101).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from tools.record import Record, RecordError

#: PS3.16 CID 3001 (ECG leads), MDC code values of the 12 standard leads
DICOM_LEAD_CODES = {"I": "2:1", "II": "2:2", "V1": "2:3", "V2": "2:4", "V3": "2:5",
                    "V4": "2:6", "V5": "2:7", "V6": "2:8", "III": "2:61", "aVR": "2:62",
                    "aVL": "2:63", "aVF": "2:64"}
AECG_LEAD_CODES = {"I": "MDC_ECG_LEAD_I", "II": "MDC_ECG_LEAD_II", "III": "MDC_ECG_LEAD_III",
                   "aVR": "MDC_ECG_LEAD_AVR", "aVL": "MDC_ECG_LEAD_AVL",
                   "aVF": "MDC_ECG_LEAD_AVF", **{f"V{i}": f"MDC_ECG_LEAD_V{i}"
                                                 for i in range(1, 7)}}
ECG_12_LEAD_SOP = "1.2.840.10008.5.1.4.1.1.9.1.1"


def _quantise(record: Record) -> tuple[np.ndarray, float]:
    """Integer samples and the step in uV: 1 uV, or coarser when 16 bits would clip."""
    uv = np.asarray(record.signal, dtype=np.float64) * 1000.0
    step = max(1.0, float(np.ceil(np.abs(uv).max() / 32000.0))) if uv.size else 1.0
    return np.round(uv / step).astype(np.int16), step


def _leads(record: Record, codes: dict) -> None:
    unknown = [n for n in record.sig_name if n not in codes]
    if unknown:
        raise RecordError(f"{record.source!r}: leads {unknown} have no standard code; only the "
                          "12 standard leads can be written")


def write_dicom(record: Record, path: str | Path) -> Path:
    """Write ``record`` as a DICOM 12-lead ECG waveform object; returns the path."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    _leads(record, DICOM_LEAD_CODES)
    data, step = _quantise(record)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ECG_12_LEAD_SOP
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = ECG_12_LEAD_SOP, meta.MediaStorageSOPInstanceUID
    ds.Modality = "ECG"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "", ""
    ds.PatientSex = {"M": "M", "F": "F"}.get(record.sex or "", "O")
    if record.age is not None:
        ds.PatientAge = f"{int(record.age):03d}Y"
    when = _when(record)
    ds.AcquisitionDateTime = when.strftime("%Y%m%d%H%M%S")
    ds.ContentDate, ds.ContentTime = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    ds.Manufacturer = "ecg-assistant (tools.writers)"
    group = Dataset()
    group.MultiplexGroupTimeOffset = 0.0
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = data.shape[1]
    group.NumberOfWaveformSamples = data.shape[0]
    group.SamplingFrequency = float(record.fs)
    group.MultiplexGroupLabel = "RHYTHM"
    channels = []
    for name in record.sig_name:
        ch, src, unit = Dataset(), Dataset(), Dataset()
        src.CodeValue, src.CodingSchemeDesignator = DICOM_LEAD_CODES[name], "MDC"
        src.CodeMeaning = f"Lead {name}"
        unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "uV", "UCUM", "microvolt"
        ch.ChannelSourceSequence = Sequence([src])
        ch.ChannelSensitivity = f"{step:g}"
        ch.ChannelSensitivityUnitsSequence = Sequence([unit])
        ch.ChannelSensitivityCorrectionFactor = "1"
        ch.ChannelBaseline = "0"
        ch.ChannelSampleSkew = "0"
        ch.WaveformBitsStored = 16
        channels.append(ch)
    group.ChannelDefinitionSequence = Sequence(channels)
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    group.WaveformData = data.astype("<i2").tobytes()  # samples interleaved by channel
    ds.WaveformSequence = Sequence([group])
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out


def write_aecg(record: Record, path: str | Path) -> Path:
    """Write ``record`` as an HL7 aECG (AnnotatedECG) XML file; returns the path."""
    _leads(record, AECG_LEAD_CODES)
    data, step = _quantise(record)
    when = _when(record)
    t0 = when.strftime("%Y%m%d%H%M%S")
    t1 = datetime.fromtimestamp(when.timestamp() + record.duration_s).strftime("%Y%m%d%H%M%S")
    sex = {"M": "M", "F": "F"}.get(record.sex or "", "UN")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<AnnotatedECG xmlns="urn:hl7-org:v3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        f'<id root="{uuid.uuid4()}"/>',
        '<code code="93000" codeSystem="2.16.840.1.113883.6.12" codeSystemName="CPT-4"/>',
        f'<effectiveTime><low value="{t0}"/><high value="{t1}"/></effectiveTime>',
        '<componentOf><timepointEvent><componentOf><subjectAssignment><subject><trialSubject>',
        '<id extension="anonymous"/>',
        f'<subjectDemographicPerson><administrativeGenderCode code="{sex}" '
        'codeSystem="2.16.840.1.113883.5.1"/></subjectDemographicPerson>',
        '</trialSubject></subject></subjectAssignment></componentOf></timepointEvent>'
        '</componentOf>',
    ]
    if record.age is not None:
        parts.append('<controlVariable><relatedObservation><code code="21612-7" '
                     'codeSystem="2.16.840.1.113883.6.1" displayName="AGE"/>'
                     f'<value xsi:type="PQ" value="{int(record.age)}" unit="a"/>'
                     '</relatedObservation></controlVariable>')
    parts += [
        '<component><series>',
        '<code code="RHYTHM" codeSystem="2.16.840.1.113883.5.4"/>',
        f'<effectiveTime><low value="{t0}"/><high value="{t1}"/></effectiveTime>',
        '<component><sequenceSet>',
        '<component><sequence><code code="TIME_ABSOLUTE" codeSystem="2.16.840.1.113883.5.4"/>'
        f'<value xsi:type="GLIST_TS"><head value="{t0}.000"/>'
        f'<increment value="{1.0 / record.fs:.9g}" unit="s"/></value></sequence></component>',
    ]
    for j, name in enumerate(record.sig_name):
        digits = " ".join(map(str, data[:, j].tolist()))
        parts.append(
            f'<component><sequence><code code={quoteattr(AECG_LEAD_CODES[name])} '
            'codeSystem="2.16.840.1.113883.6.24" codeSystemName="MDC"/>'
            f'<value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/>'
            f'<scale value="{step:g}" unit="uV"/><digits>{digits}</digits></value>'
            '</sequence></component>')
    parts += ['</sequenceSet></component>', '</series></component>', '</AnnotatedECG>']
    out = Path(path)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def _when(record: Record) -> datetime:
    if record.acquired:
        try:
            return datetime.fromisoformat(record.acquired).replace(tzinfo=None)
        except ValueError:
            pass
    return datetime(2000, 1, 1)  # a file without a stated time: a fixed, obviously dummy one


WRITERS = {"dicom": (write_dicom, ".dcm"), "aecg": (write_aecg, ".xml")}
