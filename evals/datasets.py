"""Labelled record sets for the statement, QA and grounding suites, as SNOMED CT codes.

Three layouts, detected from the folder (:func:`detect_format`) or named:

- ``cinc``: PhysioNet/CinC 2021 (Reyna et al., CinC 2021): ``DIR/*.hea`` (+ ``.mat``) with
  ``# Dx:`` SNOMED codes (:func:`evals.labels.parse_header`).
- ``ptbxl``: PTB-XL (Wagner et al., Sci Data 7:154, 2020) and PTB-XL+:
  ``DIR/ptbxl_database.csv`` with ``ecg_id``, ``scp_codes`` (a Python dict literal,
  ``{'NORM': 100.0, 'SR': 0.0}``), ``heart_axis`` and ``filename_hr`` / ``filename_lr``
  (WFDB record paths relative to DIR, without extension; 500 Hz preferred).
- ``ludb``: LUDB: ``DIR/ludb.csv`` and ``DIR/data/<N>.hea`` (:func:`evals.ludb.read_labels`).
- ``files``: ECG files of any readable format (DICOM, GE MUSE / Philips XML, HL7 aECG, EDF,
  ...) listed in ``DIR/labels.csv`` with columns ``file`` and ``dx`` (SNOMED CT codes,
  comma-separated), as ``ecg-assistant convert`` writes it.

Each record becomes a :class:`LabelledRecord` whose ``truth`` holds SNOMED codes, so one
scorer (:func:`evals.labels.score_classes`) serves all three.
"""
from __future__ import annotations

import ast
import csv
from dataclasses import dataclass, field
from pathlib import Path

from evals import labels as L
from evals.suites.common import LayoutError

FORMATS = ("cinc", "ptbxl", "ludb", "files")

#: PTB-XL SCP-ECG statement -> SNOMED CT code of the class it belongs to (evals.labels).
#: Codes follow the PhysioNet/CinC 2021 mapping of PTB-XL labels (dx_mapping_*.csv); NDT
#: ('non-diagnostic T abnormalities') and NST_ ('non-specific ST changes') map to the broad
#: codes that are only ``also_accept`` for T-wave inversion / ST classes.
SCP_TO_SNOMED: dict[str, str] = {
    "SR": "426783006", "SBRAD": "426177001", "STACH": "427084000", "SARRH": "427393009",
    "AFIB": "164889003", "AFLT": "164890007", "1AVB": "270492004", "LPR": "164947007",
    "CRBBB": "59118001", "IRBBB": "713426002", "CLBBB": "164909002", "LAFB": "445118002",
    "LVH": "164873001", "LNGQT": "111975006", "WPW": "74390002", "LVOLT": "251146004",
    "PVC": "427172004", "PAC": "284470004", "PACE": "10370003", "STE_": "164931005",
    "STD_": "429622005", "INVT": "59931005", "NDT": "164934002", "NST_": "428750005",
}
#: PTB-XL ``heart_axis``: ALAD/ARAD are the abnormal deviations (AHA limits) and map to
#: LAD/RAD; LAD/RAD/AXL/AXR (PTB-XL's milder categories) are left unscored.
AXIS_TO_SNOMED = {"ALAD": "39732003", "ARAD": "47665007"}


@dataclass
class LabelledRecord:
    """One record with labels: ``key`` (unique name), ``path`` (the ``.hea``), ``truth``
    (SNOMED codes), ``ecg_id`` (PTB-XL id, for ECG-QA) and the raw labels."""

    key: str
    path: Path
    truth: frozenset[str]
    ecg_id: int | None = None
    raw: dict = field(default_factory=dict)


def detect_format(data: Path) -> str:
    """'ptbxl' | 'ludb' | 'cinc' from the files in ``data``; LayoutError otherwise."""
    data = Path(data)
    if not data.is_dir():
        raise LayoutError(f"--data {str(data)!r} is not a folder")
    if (data / "ptbxl_database.csv").exists():
        return "ptbxl"
    if (data / "ludb.csv").exists() and (data / "data").is_dir():
        return "ludb"
    if any(data.glob("*.hea")):
        return "cinc"
    if (data / "labels.csv").exists():
        return "files"
    found = sorted(p.name for p in data.iterdir())[:8]
    raise LayoutError(
        f"--data {str(data)!r}: no known layout; expected DIR/ptbxl_database.csv (PTB-XL), "
        f"DIR/ludb.csv with DIR/data/*.hea (LUDB), DIR/*.hea with '# Dx:' lines (CinC "
        f"2021) or DIR/labels.csv (file,dx) beside ECG files; found {found}")


def classes_for(fmt: str) -> tuple[str, ...]:
    """Statement class keys the format's labels can confirm or refute."""
    if fmt == "ludb":
        from evals.ludb_eval import LUDB_CLASSES
        return LUDB_CLASSES
    if fmt == "ptbxl":
        scp = set(SCP_TO_SNOMED.values()) | set(AXIS_TO_SNOMED.values())
        return tuple(c.key for c in L.CLASSES if c.snomed in scp)
    # LUDB-only classes (a wall-less ischaemia label) have no CinC counterpart to judge them
    return tuple(c.key for c in L.CLASSES if c.key not in ("stemi", "ischemia", "isch_scar",
                                                         "aberrant"))


def read_records(data: Path, fmt: str | None = None) -> tuple[str, list[LabelledRecord]]:
    """(format, records) of a labelled dataset folder (paths resolved: the record loader
    refuses '..' components)."""
    given, data = str(data), Path(data).resolve()  # messages name the path as typed
    fmt = fmt or detect_format(Path(given))
    reader = {"cinc": read_cinc, "ptbxl": read_ptbxl, "ludb": read_ludb,
              "files": read_files}[fmt]
    recs = reader(data)
    if not recs:
        raise LayoutError(f"--data {given!r}: no {fmt} records found")
    return fmt, recs


def read_cinc(data: Path) -> list[LabelledRecord]:
    """CinC 2021 headers in ``data``; a header without ``# Dx:`` is a layout error."""
    out = []
    for hea in sorted(Path(data).glob("*.hea")):
        try:
            h = L.parse_header(hea)
        except ValueError as exc:
            raise LayoutError(f"{exc}; expected CinC 2021 headers in {str(data)!r}") from None
        out.append(LabelledRecord(h.record, hea, frozenset(h.dx),
                                  raw={"age": h.age, "sex": h.sex}))
    return out


def read_files(data: Path) -> list[LabelledRecord]:
    """``data/labels.csv`` (``file``, ``dx``): ECG files of any format with SNOMED labels.
    File names must be plain names inside ``data`` (no folders, no '..')."""
    out = []
    with open(Path(data) / "labels.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "dx"} <= set(reader.fieldnames):
            raise LayoutError(f"{str(data)!r}/labels.csv: expected the columns 'file' and 'dx', "
                              f"found {reader.fieldnames}")
        for n, row in enumerate(reader, start=2):
            name = (row.get("file") or "").strip()
            if not name or Path(name).name != name or name.startswith("."):
                raise LayoutError(f"{str(data)!r}/labels.csv line {n}: file {name!r} must be "
                                  "a plain file name in that folder")
            dx = frozenset(c.strip() for c in (row.get("dx") or "").replace(";", ",").split(",")
                           if c.strip())
            out.append(LabelledRecord(Path(name).stem, Path(data) / name, dx))
    return out


def parse_scp_codes(text: str) -> dict[str, float]:
    """PTB-XL's ``scp_codes`` cell (a dict literal) -> ``{code: likelihood}``."""
    try:
        d = ast.literal_eval(text or "{}")
    except (ValueError, SyntaxError):
        raise ValueError(f"scp_codes {text!r} is not a dict literal") from None
    if not isinstance(d, dict):
        raise ValueError(f"scp_codes {text!r} is not a dict literal")
    return {str(k): float(v) for k, v in d.items()}


def read_ptbxl(data: Path, min_likelihood: float = 0.0) -> list[LabelledRecord]:
    """PTB-XL records listed in ``ptbxl_database.csv`` whose WFDB files exist.

    Every SCP statement with likelihood >= ``min_likelihood`` counts (PTB-XL gives rhythm
    and form statements likelihood 0, so the default keeps them, as the PTB-XL benchmark
    of Strodthoff et al., IEEE JBHI 25:1519, 2021, does)."""
    data = Path(data)
    db = data / "ptbxl_database.csv"
    with open(db, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    need = {"ecg_id", "scp_codes"}
    if not rows or not need <= set(rows[0]) or not ({"filename_hr", "filename_lr"}
                                                    & set(rows[0])):
        raise LayoutError(f"{str(db)!r} lacks the PTB-XL columns ecg_id, scp_codes and "
                          "filename_hr/filename_lr")
    out = []
    for row in rows:
        path = None
        for col in ("filename_hr", "filename_lr"):
            if row.get(col) and (data / (row[col] + ".hea")).exists():
                path = data / (row[col] + ".hea")
                break
        if path is None:
            continue  # the user's download may be partial (records100 only, a subset...)
        scp = parse_scp_codes(row["scp_codes"])
        codes = {SCP_TO_SNOMED[c] for c, lik in scp.items()
                 if c in SCP_TO_SNOMED and lik >= min_likelihood}
        axis = (row.get("heart_axis") or "").strip()
        if axis in AXIS_TO_SNOMED:
            codes.add(AXIS_TO_SNOMED[axis])
        ecg_id = int(float(row["ecg_id"]))
        out.append(LabelledRecord(str(ecg_id), path, frozenset(codes), ecg_id=ecg_id,
                                  raw={"scp_codes": scp, "heart_axis": axis}))
    if not out:
        raise LayoutError(f"{str(db)!r}: none of the filename_hr/filename_lr records exist "
                          f"under {str(data)!r} (expected e.g. records500/00000/00001_hr.hea)")
    return out


def read_ludb(data: Path) -> list[LabelledRecord]:
    """LUDB records in ``data/data`` with their ``ludb.csv`` diagnoses."""
    from evals.ludb import read_labels

    data = Path(data)
    labels = read_labels(data / "ludb.csv")
    out = []
    for hea in sorted((data / "data").glob("*.hea"),
                      key=lambda p: (not p.stem.isdigit(), int(p.stem) if p.stem.isdigit()
                                     else 0, p.stem)):
        lab = labels.get(int(hea.stem)) if hea.stem.isdigit() else None
        if lab is None:
            continue
        out.append(LabelledRecord(hea.stem, hea, frozenset(lab.snomed),
                                  raw={"rhythm": lab.rhythm, "axis": lab.axis}))
    return out
