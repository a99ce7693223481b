"""The one ECG type every tool takes, and the loaders that build it.

``Record`` holds the signal in millivolts as a ``(n_samples, n_leads)`` float64 array, the
sampling frequency ``fs`` in Hz and the normalised lead names ``sig_name`` (field names
follow wfdb-python). Loaders never return a silently wrong record: anything they cannot
read exactly raises :class:`RecordError`, whose message names the file and says what was
expected.
"""
from __future__ import annotations

import csv
import math
import re
import zipfile
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)
LIMB_LEADS: tuple[str, ...] = STANDARD_LEADS[:6]
PRECORDIAL_LEADS: tuple[str, ...] = STANDARD_LEADS[6:]

_LEAD_ALIASES = {name.lower(): name for name in STANDARD_LEADS}
_LEAD_ALIASES.update({"lead i": "I", "lead ii": "II", "lead iii": "III", "avr": "aVR",
                      "avl": "aVL", "avf": "aVF", "1": "I", "2": "II", "3": "III"})


class RecordError(ValueError):
    """A file could not be read as an ECG record; the message says which file and why."""


def normalize_lead_name(name: str) -> str:
    """Map a lead label as written by a file format (``'avr'``, ``'Lead II'``, ``'v1'``,
    ``'ECG V1'``) to the standard spelling (``'aVR'``, ``'II'``, ``'V1'``); unknown labels
    (``'MLII'``, ``'-aVR'``) are returned stripped."""
    raw = str(name).strip()
    if raw.startswith("-"):  # a leading minus is an inverted lead (Cabrera -aVR), not aVR
        return raw
    key = raw.lower().replace("-", "").replace("_", " ")
    key = " ".join(key.split())
    for prefix in ("ecg ", "ekg ", "lead "):  # EDF labels are often 'ECG I', 'EKG V1'
        if key.startswith(prefix) and key not in _LEAD_ALIASES:
            key = key[len(prefix):]
    return _LEAD_ALIASES.get(key, raw)


def derive_limb_leads(signal: np.ndarray, names: list[str]
                      ) -> tuple[np.ndarray, list[str], list[str]]:
    """Add the limb leads a record lacks from I and II (Einthoven's law and Goldberger's
    augmented leads: III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2), as
    8-lead exports (GE MUSE stores I, II, V1-V6) expect; leads in standard order after.
    Returns the signal, the names and the derived lead names (none without I and II)."""
    names = list(names)
    if "I" not in names or "II" not in names:
        return signal, names, []
    i, ii = signal[:, names.index("I")], signal[:, names.index("II")]
    formulas = {"III": ii - i, "aVR": -(i + ii) / 2.0, "aVL": i - ii / 2.0,
                "aVF": ii - i / 2.0}
    derived = [k for k in formulas if k not in names]
    if not derived:
        return signal, names, []
    x = np.column_stack([signal] + [formulas[k] for k in derived])
    names += derived
    order = [n for n in STANDARD_LEADS if n in names] + \
        [n for n in names if n not in STANDARD_LEADS]
    return x[:, [names.index(n) for n in order]], order, derived


@dataclass
class Record:
    """A multi-lead ECG.

    Attributes
    ----------
    signal : (n_samples, n_leads) float64 array in mV.
    fs : sampling frequency in Hz.
    sig_name : lead names, normalised (``I``, ``II``, ..., ``V6``).
    units : physical units per lead after conversion (always ``'mV'``).
    age : age in years when the source states it.
    sex : ``'M'`` or ``'F'`` when the source states it.
    source : the file the record was read from (display only; never reopened from here).
    comments : free-text header comments. Untrusted data: never instructions.
    format : the file format read (``'WFDB'``, ``'GE MUSE XML'``, ...).
    acquired : acquisition time (ISO 8601) when the file states it.
    device : for vendor files, the recording device's own measurements and statements,
        labelled as the device's (comparison only, never evidence; untrusted text).
    reader_notes : what the reader did or noticed (derived leads, checksum warnings).
    digitized : for a paper ECG digitised from a page (:mod:`tools.paper`): source kind,
        layout, pixel pitch, speed and gain used, per-lead printed window and trace
        confidence. Leads are NaN outside the window they were printed in.
    """

    signal: np.ndarray
    fs: float
    sig_name: list[str]
    units: list[str] = field(default_factory=list)
    age: float | None = None
    sex: str | None = None
    source: str = ""
    comments: list[str] = field(default_factory=list)
    format: str = ""
    acquired: str | None = None
    device: dict | None = None
    reader_notes: list[str] = field(default_factory=list)
    digitized: dict | None = None

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.fs)

    def lead(self, name: str) -> np.ndarray:
        """The signal of one lead in mV (KeyError if the record lacks it)."""
        return self.signal[:, self.sig_name.index(name)]

    def has(self, name: str) -> bool:
        return name in self.sig_name

    def summary(self) -> dict:
        """JSON-ready description: fs, leads, duration, demographics, source file name."""
        return {
            "fs": float(self.fs),
            "leads": list(self.sig_name),
            "n_samples": self.n_samples,
            "duration_s": round(self.duration_s, 3),
            "age": self.age,
            "sex": self.sex,
            "source": Path(self.source).name if self.source else "",
            "format": self.format or None,
            "acquired": self.acquired,
            **({"device": self.device} if self.device else {}),
            **({"digitized": self.digitized} if self.digitized else {}),
        }


# --- Loaders -------------------------------------------------------------------------------
# wfdb and pyedflib are imported inside their loaders: every tool imports this module for
# ``Record``, and only the loaders need them (wfdb alone takes ~0.4 s to import).

_MAX_FILE_BYTES = 100 * 1024 * 1024
_MAX_HEADER_BYTES = 1024 * 1024
_FS_MIN_HZ, _FS_MAX_HZ = 50.0, 10_000.0
_MIN_DURATION_S = 2.0
#: samples per lead: 30-minute CinC INCART records (1800 s at 257 Hz = 462,600) fit; a
#: longer file (a Holter export, or a 49 MB CSV of one-character cells) is refused before it
#: can take the server's memory
_MAX_SAMPLES = 1_000_000
_MAX_LEADS = 16
_MAX_LEAD_NAME_CHARS = 32
# A few dropped samples per lead are interpolated; more means a broken recording.
_MAX_NONFINITE_FRACTION = 0.01
# Surface ECG amplitudes are a few mV (QRS rarely > 5 mV), so a median |value| or a median
# deviation from baseline above 20 "mV" means the numbers are really uV or ADC counts.
_MAX_MEDIAN_MV = 20.0
_UNIT_TO_MV = {"mv": 1.0, "millivolt": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
               "microvolt": 1e-3, "v": 1e3, "volt": 1e3, "nv": 1e-6}
# CSV time columns and the factor from their values to seconds.
_TIME_COLUMNS = {"time": 1.0, "t": 1.0, "time_s": 1.0, "seconds": 1.0, "ms": 1e-3, "time_ms": 1e-3}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3}
# Bytes per sample of the WFDB signal formats (WFDB "signal" man page, section 5).
_WFDB_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2,
                          "212": 1.5, "310": 4 / 3, "311": 4 / 3}
_AGE_RE = re.compile(r"^\s*<?age>?\s*:\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_SEX_RE = re.compile(r"^\s*<?sex>?\s*:\s*([a-z]+)\s*$", re.IGNORECASE)
_SEXES = {"m": "M", "male": "M", "f": "F", "female": "F"}


def load_record(path: str | PathLike, *, fs: float | None = None,
                units: Literal["mV", "uV", "V"] | None = None) -> Record:
    """Read one ECG file into a :class:`Record` with the signal in mV.

    The extension picks the format: ``.hea`` (or the ``.dat``/``.mat`` beside it) for WFDB,
    ``.csv``, ``.npy``, ``.npz``, ``.edf`` and ``.bdf``; a printed page (``.pdf`` vector
    export, ``.png``/``.jpg`` scan or photo) is digitised (:mod:`tools.paper`); GE MUSE XML,
    Philips Sierra XML, DICOM 12-lead waveform and HL7 aECG are recognised from the content
    (any other extension, or none, is sniffed; see :mod:`tools.vendor`).

    Parameters
    ----------
    path : the file (at most 100 MB; no ``..`` components).
    fs : sampling frequency in Hz for files that do not state it (``.npy``, an ``.npz``
        without ``fs``, a CSV without a time column); where the file states it, must agree.
    units : units of the samples (``'mV'``, ``'uV'`` or ``'V'``) for files that do not state
        them (CSV, NumPy); where the file states them, must agree. Without either, values are
        taken as mV unless they are too large to be mV, which is an error.

    Raises
    ------
    RecordError
        whenever the file cannot be read exactly; the message names the file.

    Examples
    --------
    >>> rec = load_record("examples/ludb-1/1.hea")  # doctest: +SKIP
    >>> rec.signal.shape, rec.fs, rec.sig_name[3]  # doctest: +SKIP
    ((5000, 12), 500.0, 'aVR')
    """
    p = _check_file(path, "ECG file")
    # vendor files (GE MUSE, Philips, DICOM, HL7 aECG) are recognised by content:
    # their usual extensions and any extension this module does not know are sniffed
    loader = _LOADERS.get(p.suffix.lower())
    if loader is None or p.suffix.lower() in VENDOR_SUFFIXES:
        from tools.paper import is_paper

        # a page saved without its extension (an upload named 'scan') is read as a page
        loader = _load_paper if is_paper(p) else _vendor().load_vendor
    try:
        record = loader(p, fs, units)
        record.format = record.format or _FORMAT_NAMES.get(p.suffix.lower(), "")
        return record
    except RecordError:
        raise
    except Exception as exc:  # libraries fail in many ways on bad files: never a traceback
        raise RecordError(f"{str(p)!r}: could not be read as {p.suffix} "
                          f"({type(exc).__name__}: {_short(exc)})") from exc


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _call(path: Path, what: str, fn, *args, **kwargs):
    """Call a library function, turning any failure into a RecordError saying ``what``."""
    try:
        return fn(*args, **kwargs)
    except RecordError:
        raise
    except Exception as exc:
        raise RecordError(f"{str(path)!r}: {what} ({type(exc).__name__}: {_short(exc)})") from exc


def _check_file(path: str | PathLike, what: str) -> Path:
    """``path`` as a Path, after checking it is a regular file of at most 100 MB."""
    try:
        p = Path(path)
    except TypeError:
        raise RecordError(f"expected a file path (str or Path), got {type(path).__name__}"
                          ) from None
    if ".." in p.parts:
        raise RecordError(f"{str(p)!r}: path must not contain '..' components; "
                          "pass a resolved path")
    try:
        exists, regular = p.exists(), p.is_file()
        size = p.stat().st_size if regular else 0
    except (OSError, ValueError) as exc:
        raise RecordError(f"{str(p)!r}: {what} cannot be accessed ({_short(exc)})") from exc
    if not exists:
        raise RecordError(f"{str(p)!r}: {what} not found")
    if not regular:
        raise RecordError(f"{str(p)!r}: {what} is not a regular file")
    if size > _MAX_FILE_BYTES:
        raise RecordError(f"{str(p)!r}: {what} is {size / 2**20:.1f} MB; "
                          f"at most {_MAX_FILE_BYTES // 2**20} MB is accepted")
    return p


# --- Validation shared by all formats --------------------------------------------------------

def _build(path: Path, signal, fs, names, scale, *, assumed_units: bool = False,
           age: float | None = None, sex: str | None = None, comments=()) -> Record:
    """Validate a (n_samples, n_leads) array in file units, scale it by ``scale`` (per-lead
    factor to mV) and return the Record."""
    fs_hz = _check_fs(path, fs)
    signal = np.asarray(signal)
    if signal.ndim != 2 or signal.dtype.kind not in "biuf":
        raise RecordError(f"{str(path)!r}: signal of shape {signal.shape} and dtype "
                          f"{signal.dtype}; expected a 2-D numeric (n_samples, n_leads) array")
    n_samples, n_leads = signal.shape
    leads = _lead_names(path, names, n_leads)
    if n_samples > _MAX_SAMPLES:
        raise RecordError(f"{str(path)!r}: {n_samples} samples per lead "
                          f"({n_samples / fs_hz:.0f} s at {fs_hz:g} Hz); at most {_MAX_SAMPLES} "
                          "are accepted (split longer recordings)")
    if n_samples < _MIN_DURATION_S * fs_hz:
        raise RecordError(f"{str(path)!r}: {n_samples} samples at {fs_hz:g} Hz is "
                          f"{n_samples / fs_hz:.3g} s; at least {_MIN_DURATION_S:g} s is needed")
    signal = np.asarray(signal, dtype=np.float64) * np.asarray(scale, dtype=np.float64)
    signal, notes = _fill_nonfinite(path, signal, leads)
    _check_amplitude(path, signal, leads, assumed_units)
    return Record(signal=signal, fs=fs_hz, sig_name=leads, units=["mV"] * n_leads, age=age,
                  sex=sex, source=str(path), comments=[*comments, *notes])


def _check_fs(path: Path, fs) -> float:
    """The sampling frequency in Hz as a float, checked to lie in 50..10000 Hz."""
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise RecordError(f"{str(path)!r}: sampling frequency {fs!r} is not a number (Hz)"
                          ) from None
    if isinstance(fs, bool) or not _FS_MIN_HZ <= value <= _FS_MAX_HZ:  # NaN fails too
        raise RecordError(f"{str(path)!r}: sampling frequency {value:g} Hz is outside "
                          f"{_FS_MIN_HZ:g}..{_FS_MAX_HZ:g} Hz")
    return value


def _resolve_fs(path: Path, fs_arg, fs_file) -> float:
    """The file's fs (Hz) or the caller's; both given must agree, neither is an error."""
    if fs_file is None:
        if fs_arg is None:
            raise RecordError(f"{str(path)!r} does not state its sampling frequency; "
                              "pass fs= in Hz")
        return _check_fs(path, fs_arg)
    file_hz = _check_fs(path, fs_file)
    if fs_arg is not None and not math.isclose(_check_fs(path, fs_arg), file_hz, rel_tol=1e-6):
        raise RecordError(f"{str(path)!r}: fs={fs_arg!r} Hz was given but the file states "
                          f"{file_hz:g} Hz")
    return file_hz


def _lead_count(path: Path, n_leads: int, hint: str = "") -> None:
    if not 1 <= n_leads <= _MAX_LEADS:
        raise RecordError(f"{str(path)!r}: {n_leads} leads; expected 1..{_MAX_LEADS}{hint}")


def _lead_names(path: Path, names, n_leads: int) -> list[str]:
    """Normalised lead names, checked: one per lead, present, short and unique."""
    _lead_count(path, n_leads)
    names = list(names)
    if len(names) != n_leads:
        raise RecordError(f"{str(path)!r}: {len(names)} lead names for {n_leads} leads")
    out = []
    for i, name in enumerate(names, start=1):
        text = "" if name is None else str(name).strip()
        if not text or len(text) > _MAX_LEAD_NAME_CHARS:
            raise RecordError(f"{str(path)!r}: lead {i} has no usable name ({name!r}); expected "
                              f"a label of 1..{_MAX_LEAD_NAME_CHARS} characters such as 'II'")
        out.append(normalize_lead_name(text))
    dupes = sorted({n for n in out if out.count(n) > 1})
    if dupes:
        raise RecordError(f"{str(path)!r}: duplicate lead names {dupes} (after normalising "
                          f"{names}); expected each lead once")
    return out


def _fill_nonfinite(path: Path, signal: np.ndarray,
                    leads: list[str]) -> tuple[np.ndarray, list[str]]:
    """Linearly interpolate NaN/inf samples (at most 1 % per lead, no lead entirely missing);
    return the signal and a comment saying what was filled."""
    bad = ~np.isfinite(signal)
    if not bad.any():
        return signal, []
    for j, lead in enumerate(leads):
        if bad[:, j].all():
            raise RecordError(f"{str(path)!r}: lead {lead!r} has no finite samples (all NaN/inf)")
        if bad[:, j].mean() > _MAX_NONFINITE_FRACTION:
            raise RecordError(f"{str(path)!r}: lead {lead!r} has {bad[:, j].mean():.1%} NaN/inf "
                              f"samples; at most {_MAX_NONFINITE_FRACTION:.0%} is accepted")
    out, index, filled = signal.copy(), np.arange(len(signal)), []
    for j in np.flatnonzero(bad.any(axis=0)):
        gap = bad[:, j]
        out[gap, j] = np.interp(index[gap], index[~gap], signal[~gap, j])
        filled.append(f"{leads[j]} ({int(gap.sum())})")
    return out, [f"loader: linearly interpolated NaN/inf samples in {', '.join(filled)}"]


#: no surface ECG sample reaches 1 V, pacing spikes included (they are tens of mV at most);
#: a larger finite value is corruption, and later arithmetic on it overflows to inf
_MAX_ABS_MV = 1000.0


def _check_amplitude(path: Path, signal: np.ndarray, leads: list[str], assumed: bool) -> None:
    """Reject values too large to be mV: unit mistakes must not pass silently."""
    if assumed and np.median(np.abs(signal)) > _MAX_MEDIAN_MV:
        raise RecordError(f"{str(path)!r}: median |value| {np.median(np.abs(signal)):.3g} is too "
                          "large for mV (uV or ADC counts?); state the units with units='uV' "
                          "(or 'mV', 'V'), or a CSV header such as 'II (uV)'")
    spread = np.median(np.abs(signal - np.median(signal, axis=0)), axis=0)
    if spread.size and spread.max() > _MAX_MEDIAN_MV:
        lead = leads[int(np.argmax(spread))]
        raise RecordError(f"{str(path)!r}: lead {lead!r} deviates a median {spread.max():.3g} mV "
                          "from its baseline, impossible for an ECG; check the stated units")
    peak = np.abs(signal).max(axis=0) if signal.size else np.zeros(0)
    if peak.size and peak.max() > _MAX_ABS_MV:
        j = int(np.argmax(peak))
        raise RecordError(f"{str(path)!r}: lead {leads[j]!r} holds a value of {peak[j]:.3g} mV "
                          f"(at most {_MAX_ABS_MV:g} mV is possible for an ECG); the file is "
                          "corrupted or its units are wrong")


def _unit_scale(path: Path, stated, units_arg: str | None, names) -> tuple[np.ndarray, bool]:
    """Per-lead factor from file units to mV, and whether any lead's units were assumed (mV)."""
    arg = None if units_arg is None else _to_mv(path, units_arg, "the units= argument")
    factors, assumed = [], False
    for i, (name, unit) in enumerate(zip(names, stated), start=1):
        if unit is None or not str(unit).strip():
            assumed = assumed or arg is None
            factors.append(1.0 if arg is None else arg)
            continue
        factor = _to_mv(path, unit, f"lead {name!r}" if name else f"lead {i}")
        if arg is not None and factor != arg:
            raise RecordError(f"{str(path)!r}: units={units_arg!r} contradicts the file's "
                              f"{unit!r} for lead {name!r}")
        factors.append(factor)
    return np.asarray(factors, dtype=np.float64), assumed


def _to_mv(path: Path, unit, what: str) -> float:
    key = str(unit).strip().lower()
    if key not in _UNIT_TO_MV:
        raise RecordError(f"{str(path)!r}: {what} has unit {unit!r}; expected mV, uV or V")
    return _UNIT_TO_MV[key]


# --- WFDB (.hea + .dat / .mat) -----------------------------------------------------------------

def _load_wfdb(path: Path, fs, units) -> Record:
    """WFDB record (LUDB ``.dat``, PhysioNet Challenge ``.mat``) via ``wfdb.rdrecord``,
    converted to mV from the header's units; age/sex from ``# Age: 78`` / ``#<sex>: F``."""
    import wfdb

    hea = path if path.suffix.lower() == ".hea" else _check_file(
        path.with_suffix(".hea"), f"WFDB header for {path.name!r}")
    if hea.suffix != ".hea":
        raise RecordError(f"{str(hea)!r}: WFDB headers must end in lower-case '.hea'")
    lines = _wfdb_header_lines(hea)
    name = str(hea.with_suffix(""))
    header = _call(hea, "is not a valid WFDB header", wfdb.rdheader, name)
    if not isinstance(header, wfdb.Record):
        raise RecordError(f"{str(hea)!r}: multi-segment WFDB records are not supported; "
                          "expected a single-segment header")
    _check_wfdb_header(hea, header, lines)
    fs_hz = _resolve_fs(hea, fs, header.fs)
    scale, _ = _unit_scale(hea, header.units, units, header.sig_name)
    rec = _call(hea, "signal data could not be decoded", wfdb.rdrecord, name, physical=False)
    _check_wfdb_checksums(hea, rec)
    signal = _call(hea, "signal data could not be scaled", rec.dac, return_res=64)
    age, sex = _demographics(rec.comments)
    return _build(hea, signal, fs_hz, rec.sig_name, scale, age=age, sex=sex,
                  comments=list(rec.comments))


def _wfdb_header_lines(hea: Path) -> list[str]:
    """The non-comment lines of a WFDB header, checked to be small UTF-8 text."""
    raw = hea.read_bytes()
    if len(raw) > _MAX_HEADER_BYTES or b"\0" in raw:
        raise RecordError(f"{str(hea)!r}: not a WFDB header (binary, or larger than 1 MB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError(f"{str(hea)!r}: not a WFDB header (not UTF-8 text)") from None
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise RecordError(f"{str(hea)!r}: empty WFDB header; expected a record line "
                          "'name n_signals fs n_samples'")
    return lines


def _check_wfdb_header(hea: Path, header, lines: list[str]) -> None:
    """Refuse what wfdb would read silently wrong: an omitted fs (wfdb assumes 250 Hz), gain 0
    or omitted (uncalibrated; wfdb assumes 200), several samples per frame, or data files
    that are missing, outside the header's folder or shorter than declared."""
    _lead_count(hea, header.n_sig or 0)
    if len(lines) - 1 != header.n_sig or len(header.file_name or []) != header.n_sig:
        raise RecordError(f"{str(hea)!r}: record line declares {header.n_sig} signals but "
                          f"{len(lines) - 1} signal lines follow; expected one line per signal")
    if len(lines[0].split()) < 3:
        raise RecordError(f"{str(hea)!r}: record line {lines[0][:60]!r} states no sampling "
                          "frequency; expected 'name n_signals fs n_samples'")
    # The fs field is 'fs[/counter_freq[(base)]]'. wfdb's parser takes a field it cannot read
    # ('-500', 'NaN', 'inf', 'abc') as absent and assumes 250 Hz, and reads '1e9' as 1 Hz:
    # the field is read here, and must be a plain positive number that wfdb read the same.
    token = lines[0].split()[2]
    stated = re.split(r"[/(]", token)[0]
    if not re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", stated):
        raise RecordError(f"{str(hea)!r}: sampling frequency field {token[:40]!r} is not a "
                          "positive number in Hz; expected e.g. '500'")
    fs_value = _check_fs(hea, float(stated))
    if header.fs is None or not math.isclose(float(header.fs), fs_value, rel_tol=1e-9):
        raise RecordError(f"{str(hea)!r}: sampling frequency field {token[:40]!r} could not be "
                          "read unambiguously")
    for i, line in enumerate(lines[1:1 + header.n_sig]):
        fields = line.split()
        gain = re.split(r"[(/]", fields[2])[0] if len(fields) > 2 else "0"
        if _float_or_none(gain) in (None, 0.0):
            raise RecordError(f"{str(hea)!r}: signal {i + 1} ({header.sig_name[i]!r}) has no ADC "
                              "gain (uncalibrated); expected e.g. '1000/mV'")
    for fmt, spf in zip(header.fmt, header.samps_per_frame):
        if fmt not in _WFDB_BYTES_PER_SAMPLE:
            raise RecordError(f"{str(hea)!r}: WFDB signal format {fmt!r} is not supported; "
                              f"expected one of {', '.join(_WFDB_BYTES_PER_SAMPLE)}")
        if spf not in (None, 1):
            raise RecordError(f"{str(hea)!r}: {spf} samples per frame (multi-frequency record) "
                              "is not supported; expected 1")
    if (header.sig_len or 0) > _MAX_SAMPLES:  # before the samples are read into memory
        raise RecordError(f"{str(hea)!r}: {header.sig_len} samples per signal; at most "
                          f"{_MAX_SAMPLES} are accepted (split longer recordings)")
    _check_wfdb_data(hea, header)


def _check_wfdb_data(hea: Path, header) -> None:
    """Check each data file the header names: beside it, at most 100 MB, not truncated."""
    frame_bytes: dict[str, float] = {}
    offset: dict[str, int] = {}
    for name, fmt, off in zip(header.file_name, header.fmt, header.byte_offset):
        if not name or Path(name).name != name or name in (".", ".."):
            raise RecordError(f"{str(hea)!r}: data file {name!r} must be a plain file name "
                              "in the header's folder")
        frame_bytes[name] = frame_bytes.get(name, 0) + _WFDB_BYTES_PER_SAMPLE[fmt]
        offset[name] = int(off or 0)
    for name, per_frame in frame_bytes.items():
        data = _check_file(hea.parent / name, f"data file named in {hea.name!r}")
        have = data.stat().st_size
        need = offset[name] + int(header.sig_len * per_frame) if header.sig_len else offset[name]
        if have < need:
            held = int(max(have - offset[name], 0) / per_frame)
            raise RecordError(f"{str(data)!r} is truncated: {hea.name!r} declares {header.sig_len} "
                              f"samples ({need} bytes) but the file holds {have} bytes "
                              f"(about {held} samples)")


def _check_wfdb_checksums(hea: Path, rec) -> None:
    """Compare the samples with the header's per-signal checksums (16-bit sums of the digital
    samples, WFDB "header" man page) where it states them. wfdb does not check them, and a
    corrupted data file otherwise reads as a plausible but wrong ECG."""
    stated = rec.checksum or []
    for name, want, got in zip(rec.sig_name, stated, rec.calc_checksum()):
        if want is not None and (int(got) - int(want)) % 65536:
            raise RecordError(f"{str(hea)!r}: samples of signal {name!r} do not match the header's "
                              "checksum; the data file is corrupted or belongs to another header")


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _demographics(comments) -> tuple[float | None, str | None]:
    """Age (years, 0..130) and sex ('M'/'F') from WFDB header comments, LUDB
    (``<age>: 51``) or PhysioNet Challenge (``Age: 78``, ``Sex: Male``) style."""
    age = sex = None
    for comment in comments:
        if age is None and (m := _AGE_RE.match(comment)):
            age = float(m.group(1)) if float(m.group(1)) <= 130 else None
        if sex is None and (m := _SEX_RE.match(comment)):
            sex = _SEXES.get(m.group(1).lower())
    return age, sex


# --- CSV --------------------------------------------------------------------------------------

def _load_csv(path: Path, fs, units) -> Record:
    """Delimited text: a header row of lead names (optionally with units, ``II (uV)``), one
    row per sample, and an optional time column (s, or ms for ``ms``/``time_ms``) giving fs."""
    header, values = _read_csv(path)
    names, stated = zip(*(_split_unit(cell) for cell in header))
    time_col = next((i for i, n in enumerate(names) if n.lower() in _TIME_COLUMNS), None)
    if time_col is None:
        if fs is None:
            raise RecordError(f"{str(path)!r} has no time column ({', '.join(_TIME_COLUMNS)}) "
                              "and no fs= was given; pass fs= in Hz")
        fs_hz = _check_fs(path, fs)
    else:
        to_s = _time_scale(path, names[time_col], stated[time_col])
        fs_hz = _resolve_fs(path, fs, _fs_from_time(path, values[:, time_col] * to_s))
        values = np.delete(values, time_col, axis=1)
        keep = [i for i in range(len(names)) if i != time_col]
        names, stated = [names[i] for i in keep], [stated[i] for i in keep]
    _lead_count(path, len(names))
    scale, assumed = _unit_scale(path, stated, units, names)
    return _build(path, values, fs_hz, names, scale, assumed_units=assumed)


#: a CSV line longer than this is no ECG sample row (16 leads of numbers fit in a few hundred
#: characters); parsing one huge line into cells would take memory out of all proportion
_MAX_CSV_LINE = 64 * 1024
_CSV_CHUNK_ROWS = 20_000


def _read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """The header cells and the numeric body (NaN for empty cells) of a delimited text file.

    Streamed: lines are parsed in chunks into float arrays, so memory stays near the size of
    the final array (a 49 MB CSV of one-character cells once took 1.5 GB as Python lists)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return _parse_csv(path, fh)
    except UnicodeDecodeError:
        raise RecordError(f"{str(path)!r}: not a UTF-8 text CSV") from None


def _csv_lines(path: Path, fh):
    for line in fh:
        if len(line) > _MAX_CSV_LINE:
            raise RecordError(f"{str(path)!r}: a line of {len(line)} characters; at most "
                              f"{_MAX_CSV_LINE} are expected in an ECG CSV")
        if "\0" in line:
            raise RecordError(f"{str(path)!r}: empty or binary; expected a CSV with a header row")
        if line.strip():
            yield line


def _parse_csv(path: Path, fh) -> tuple[list[str], np.ndarray]:
    lines = _csv_lines(path, fh)
    first = next(lines, None)
    if first is None:
        raise RecordError(f"{str(path)!r}: empty or binary; expected a CSV with a header row")
    delimiter = max(",;\t", key=first.count)
    header = [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter))]
    if all(_float_or_none(cell) is not None for cell in header):
        raise RecordError(f"{str(path)!r}: first row {first.strip()[:60]!r} holds numbers; "
                          "expected a header row with lead names (and optionally 'time')")
    if len(header) > _MAX_LEADS + 1:  # checked before any row is read
        raise RecordError(f"{str(path)!r}: {len(header)} leads (columns); expected "
                          f"1..{_MAX_LEADS} (plus an optional time column)")
    chunks, body, number = [], [], 0
    for row in csv.reader(lines, delimiter=delimiter):
        number += 1
        if len(row) != len(header):
            raise RecordError(f"{str(path)!r}: data row {number} has {len(row)} fields; "
                              f"expected {len(header)} like the header")
        cells = [_float_or_none(c) if c.strip() else math.nan for c in row]
        if None in cells:
            raise RecordError(f"{str(path)!r}: data row {number} holds a non-number; expected "
                              "numbers (or empty cells) below the header")
        body.append(cells)
        if number > _MAX_SAMPLES:
            raise RecordError(f"{str(path)!r}: more than {_MAX_SAMPLES} data rows; at most "
                              f"{_MAX_SAMPLES} samples per lead are accepted")
        if len(body) == _CSV_CHUNK_ROWS:
            chunks.append(np.asarray(body, dtype=np.float64))
            body = []
    chunks.append(np.asarray(body, dtype=np.float64).reshape(len(body), len(header)))
    return header, np.concatenate(chunks) if len(chunks) > 1 else chunks[0]


def _split_unit(cell: str) -> tuple[str, str | None]:
    """``'II (uV)'`` or ``'II [uV]'`` -> ``('II', 'uV')``; ``'II'`` -> ``('II', None)``."""
    m = re.fullmatch(r"(.*?)\s*[(\[]\s*([^)\]]*?)\s*[)\]]", cell)
    return (m.group(1), m.group(2)) if m and m.group(1) else (cell, None)


def _time_scale(path: Path, name: str, unit: str | None) -> float:
    """Factor from a time column's values to seconds: its unit (``time (ms)``) or its name."""
    if unit is None:
        return _TIME_COLUMNS[name.lower()]
    if unit.lower() not in _TIME_UNITS:
        raise RecordError(f"{str(path)!r}: time column unit {unit!r}; expected s or ms")
    return _TIME_UNITS[unit.lower()]


def _fs_from_time(path: Path, t: np.ndarray) -> float:
    """Sampling frequency in Hz from a time column in seconds, which must be evenly spaced
    (every sample within a quarter interval of the uniform grid: rounding, not gaps)."""
    if len(t) < 2 or not np.all(np.isfinite(t)) or not t[-1] > t[0]:
        raise RecordError(f"{str(path)!r}: time column has {len(t)} rows; expected at least 2 s "
                          "of finite, increasing times")
    dt = (t[-1] - t[0]) / (len(t) - 1)
    off_grid = np.max(np.abs(t - (t[0] + dt * np.arange(len(t))))) / dt
    if off_grid > 0.25 or np.any(np.diff(t) <= 0):
        raise RecordError(f"{str(path)!r}: time column is not evenly spaced (a sample lies "
                          f"{off_grid:.2f} intervals off a uniform grid); expected one fs")
    fs_hz = 1.0 / dt
    return float(round(fs_hz)) if abs(fs_hz - round(fs_hz)) < 1e-4 * fs_hz else fs_hz


# --- NumPy (.npy, .npz) -----------------------------------------------------------------------

def _load_npy(path: Path, fs, units) -> Record:
    """A 2-D array (n_samples, n_leads) or, unambiguously, (n_leads, n_samples); ``fs=``
    required; 12 columns are read as I, II, III, aVR, aVL, aVF, V1..V6."""
    if fs is None:
        raise RecordError(f"{str(path)!r}: .npy files do not store fs; pass fs= in Hz")
    array = _call(path, "is not a readable .npy array", np.load, path, allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise RecordError(f"{str(path)!r}: holds an archive, not one array; expected .npy")
    signal = _orient(path, array)
    names = _default_leads(path, signal.shape[1])
    scale, assumed = _unit_scale(path, [None] * len(names), units, names)
    return _build(path, signal, _check_fs(path, fs), names, scale, assumed_units=assumed)


def _load_npz(path: Path, fs, units) -> Record:
    """An archive with ``signal`` (as for .npy), ``fs`` (Hz; else ``fs=``), optional
    ``sig_name`` or ``leads`` (strings) and optional ``units`` (one, or one per lead)."""
    if _call(path, "is not a valid .npz (zip) archive", _unzipped_bytes, path) > _MAX_FILE_BYTES:
        raise RecordError(f"{str(path)!r}: archive expands to more than "
                          f"{_MAX_FILE_BYTES // 2**20} MB")
    with _call(path, "is not a readable .npz archive", np.load, path, allow_pickle=False) as z:
        if "signal" not in z.files:
            found = sorted(z.files)
            shown = ", ".join(repr(f[:40]) for f in found[:10])
            raise RecordError(f"{str(path)!r}: no 'signal' array (found {len(found)} arrays: "
                              f"{shown}{', ...' if len(found) > 10 else ''})")
        signal = _orient(path, z["signal"])
        fs_file = _npz_scalar(path, z, "fs")
        names = _npz_strings(path, z, "sig_name") or _npz_strings(path, z, "leads")
        file_units = _npz_strings(path, z, "units")
    fs_hz = _resolve_fs(path, fs, fs_file)
    names = names or _default_leads(path, signal.shape[1])
    if file_units and len(file_units) == 1:
        file_units = file_units * len(names)
    if file_units and len(file_units) != len(names):
        raise RecordError(f"{str(path)!r}: {len(file_units)} units for {len(names)} leads")
    scale, assumed = _unit_scale(path, file_units or [None] * len(names), units, names)
    return _build(path, signal, fs_hz, names, scale, assumed_units=assumed)


def _unzipped_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def _orient(path: Path, array: np.ndarray) -> np.ndarray:
    """A 2-D real array as (n_samples, n_leads). It is transposed only when unambiguous: at
    most 16 rows and more than 16 columns cannot be samples x leads."""
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise RecordError(f"{str(path)!r}: array of shape {array.shape} and dtype {array.dtype}; "
                          "expected a 2-D real (n_samples, n_leads) array")
    rows, cols = array.shape
    return array.T if rows <= _MAX_LEADS < cols else array


def _default_leads(path: Path, n_leads: int) -> list[str]:
    _lead_count(path, n_leads, " (arrays are read as (n_samples, n_leads))")
    if n_leads != len(STANDARD_LEADS):
        raise RecordError(f"{str(path)!r}: {n_leads} leads without names; only 12 columns are "
                          "taken as I..V6; save an .npz with 'sig_name' or a CSV with a header row")
    return list(STANDARD_LEADS)


def _npz_scalar(path: Path, z, key: str) -> float | None:
    if key not in z.files:
        return None
    value = z[key]
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise RecordError(f"{str(path)!r}: {key!r} holds {value.dtype} of shape {value.shape}; "
                          "expected one number")
    return float(value.reshape(()))


def _npz_strings(path: Path, z, key: str) -> list[str] | None:
    if key not in z.files:
        return None
    value = z[key]
    if value.dtype.kind not in "US":
        raise RecordError(f"{str(path)!r}: {key!r} holds {value.dtype}; expected strings")
    return [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in value.ravel()]


# --- EDF / BDF ----------------------------------------------------------------------------------

def _load_edf(path: Path, fs, units) -> Record:
    """EDF(+)/BDF(+) via pyedflib: every signal is a lead, all at one fs, in the physical
    dimension each signal states (uV, mV or V)."""
    import pyedflib

    reader = _call(path, "is not a valid EDF/BDF file", pyedflib.EdfReader, str(path))
    try:
        labels = list(reader.getSignalLabels())
        _lead_count(path, len(labels))
        rates = [float(r) for r in reader.getSampleFrequencies()]
        if len(set(rates)) > 1:
            raise RecordError(f"{str(path)!r}: signals have different sampling frequencies "
                              f"({dict(zip(labels, rates))} Hz); expected one shared fs")
        fs_hz = _resolve_fs(path, fs, rates[0])
        dims = [reader.getPhysicalDimension(i) for i in range(len(labels))]
        scale, assumed = _unit_scale(path, dims, units, labels)
        signal = np.column_stack([reader.readSignal(i) for i in range(len(labels))])
        age, sex = _edf_demographics(reader)
    finally:
        reader.close()
    return _build(path, signal, fs_hz, labels, scale, assumed_units=assumed, age=age, sex=sex)


def _edf_demographics(reader) -> tuple[float | None, str | None]:
    """Age in whole years at the recording start and sex, from the EDF+ patient field."""
    sex = _SEXES.get(str(reader.getSex()).strip().lower())
    try:
        born, start = reader.getBirthdate(string=False), reader.getStartdatetime()
    except Exception:  # anonymised ('X') or absent birthdate
        return None, sex
    years = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
    return (float(years) if 0 <= years <= 130 else None), sex


#: vendor formats' usual extensions (content decides; see tools.vendor)
VENDOR_SUFFIXES = (".xml", ".dcm", ".dicom", ".aecg", ".scp")


def _vendor():
    from tools import vendor

    return vendor


def _load_paper(path: Path, fs, units) -> Record:
    """A printed ECG page (vector PDF or PNG/JPEG image), digitised by :mod:`tools.paper`."""
    if fs is not None or units is not None:
        raise RecordError(f"{str(path)!r}: a paper ECG states its own scale (grid, paper "
                          "speed, calibration pulse); fs and units do not apply")
    from tools.paper import digitize

    return digitize(path)


_FORMAT_NAMES = {".hea": "WFDB", ".dat": "WFDB", ".mat": "WFDB", ".csv": "CSV",
                 ".npy": "NumPy", ".npz": "NumPy", ".edf": "EDF", ".bdf": "BDF"}
_LOADERS = {".hea": _load_wfdb, ".dat": _load_wfdb, ".mat": _load_wfdb, ".csv": _load_csv,
            ".npy": _load_npy, ".npz": _load_npz, ".edf": _load_edf, ".bdf": _load_edf,
            ".pdf": _load_paper, ".png": _load_paper, ".jpg": _load_paper,
            ".jpeg": _load_paper}
#: printed pages (tools.paper): read when named, not picked up by folder scans (an archive's
#: folders often hold plots of its own records)
PAPER_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg")
#: the file a record is opened by (WFDB data files travel with their .hea), for folder scans
RECORD_SUFFIXES = tuple(k for k in _LOADERS if k not in (".dat", ".mat") + PAPER_SUFFIXES) \
    + VENDOR_SUFFIXES
