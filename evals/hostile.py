"""Generated hostile uploads for every format the loaders accept (issue 17's probe, kept).

:func:`seeds` builds valid files of each format from a bundled record (WFDB .hea+.mat, CSV,
NPY, NPZ, EDF, DICOM, HL7 aECG, GE MUSE and Philips XML fixtures, a vector PDF page and a
PNG page); :func:`generate` yields ``n`` deterministic hostile variants (``seed``): byte
flips, truncation, inserted and repeated bytes, header fields replaced by hostile values
(negative, NaN, inf, huge, empty, text), very long lines, a file under another format's
extension or under no extension, empty and random files, NumPy archives with many members
or object arrays, and each seed unchanged. :func:`check` loads one input as the API would
and classifies the outcome: ``accepted`` (a valid record), ``refused`` (RecordError naming
the file), or ``crash`` (any other exception, or an accepted record that is not finite and
well-formed).

Used by ``benchmarks/fuzz_bench.py`` (10,000 inputs, also through the HTTP API) and a quick
subset in ``tests/test_fuzz.py``.
"""
from __future__ import annotations

import io
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cinc-E07500" / "E07500.hea"
FIXTURES = ROOT / "tests" / "fixtures" / "vendor"
HOSTILE_NUMBERS = [b"-500", b"0", b"NaN", b"nan", b"inf", b"-inf", b"1e308", b"1e-308",
                   b"99999999999999999999", b"-1", b"abc", b"", b"500/0", b"0x1F4",
                   b"\xff\xfe", b"1" * 400]


@dataclass
class Upload:
    """One generated input: the files of one upload and what was done to them."""

    files: dict[str, bytes]
    kind: str  # seed format
    how: str  # mutation


def seeds(workdir: Path) -> dict[str, dict[str, bytes]]:
    """Valid files of every accepted format, from the bundled CinC record E07500."""
    from tools.record import load_record
    from tools.writers import write_aecg, write_dicom

    rec = load_record(EXAMPLE)
    out: dict[str, dict[str, bytes]] = {
        "wfdb": {"E07500.hea": EXAMPLE.read_bytes(),
                 "E07500.mat": EXAMPLE.with_suffix(".mat").read_bytes()}}
    buf = io.StringIO()
    buf.write("time," + ",".join(rec.sig_name) + "\n")
    for i in range(0, 2500):
        buf.write(f"{i / rec.fs:.4f}," + ",".join(f"{v:.4f}" for v in rec.signal[i]) + "\n")
    out["csv"] = {"rec.csv": buf.getvalue().encode()}
    b = io.BytesIO()
    np.save(b, rec.signal[:2500].astype(np.float32))
    out["npy"] = {"rec.npy": b.getvalue()}
    b = io.BytesIO()
    np.savez(b, signal=rec.signal[:2500], fs=np.array(rec.fs), sig_name=np.array(rec.sig_name))
    out["npz"] = {"rec.npz": b.getvalue()}
    workdir.mkdir(parents=True, exist_ok=True)
    out["edf"] = {"rec.edf": _edf_bytes(rec, workdir / "rec.edf")}
    out["dicom"] = {"rec.dcm": write_dicom(rec, workdir / "rec.dcm").read_bytes()}
    out["aecg"] = {"rec.xml": write_aecg(rec, workdir / "rec.xml").read_bytes()}
    for name in ("muse_synthetic.xml", "philips_129DYPRG.xml"):
        if (FIXTURES / name).exists():
            out[name.split("_")[0]] = {name: (FIXTURES / name).read_bytes()}
    from tools.render import render_ecg_page

    render_ecg_page(rec, None, workdir / "page.pdf", display_filter="none")
    render_ecg_page(rec, None, workdir / "page.png", dpi=100, display_filter="none")
    out["pdf"] = {"page.pdf": (workdir / "page.pdf").read_bytes()}
    out["png"] = {"page.png": (workdir / "page.png").read_bytes()}
    return out


def _edf_bytes(rec, path: Path) -> bytes:
    import pyedflib

    n = len(rec.sig_name)
    with pyedflib.EdfWriter(str(path), n, file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders([{"label": name, "dimension": "mV", "sample_frequency": rec.fs,
                             "physical_max": 10.0, "physical_min": -10.0,
                             "digital_max": 32767, "digital_min": -32768}
                            for name in rec.sig_name])
        w.writeSamples([np.clip(rec.signal[:, j], -10, 10) for j in range(n)])
    return path.read_bytes()


# page and image seeds take about a second each to digitise: a small share of the inputs
_WEIGHTS = {"wfdb": 6, "csv": 5, "npy": 3, "npz": 4, "edf": 3, "dicom": 3, "aecg": 3,
            "muse": 2, "philips": 2, "pdf": 1, "png": 1}


def generate(seed_files: dict[str, dict[str, bytes]], n: int, seed: int = 0):
    """``n`` hostile uploads (deterministic for ``seed``)."""
    rng = random.Random(seed)
    kinds = [k for k in seed_files]
    weights = [_WEIGHTS.get(k, 1) for k in kinds]
    for i in range(n):
        if i < len(kinds):  # every seed once, unchanged (they must be accepted)
            yield Upload(dict(seed_files[kinds[i]]), kinds[i], "seed")
            continue
        kind = rng.choices(kinds, weights)[0]
        files = dict(seed_files[kind])
        how = rng.choice(_MUTATIONS)
        name = rng.choice(sorted(files))
        yield Upload(how(rng, files, name), kind, how.__name__.lstrip("_"))


def _flip(rng, files, name):
    data = bytearray(files[name])
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return {**files, name: bytes(data)}


def _truncate(rng, files, name):
    data = files[name]
    return {**files, name: data[: rng.randrange(len(data) + 1)]}


def _insert(rng, files, name):
    data = files[name]
    at = rng.randrange(len(data) + 1)
    blob = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    return {**files, name: data[:at] + blob + data[at:]}


def _repeat(rng, files, name):
    data = files[name]
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, 4000))
    return {**files, name: data[:b] + data[a:b] * rng.randint(2, 50) + data[b:]}


def _numbers(rng, files, name):
    """Replace numbers in a text header (WFDB, CSV, XML) by hostile values."""
    data = files[name]
    nums = list(re.finditer(rb"-?\d+(\.\d+)?(e-?\d+)?", data[:200_000]))
    if not nums:
        return _flip(rng, files, name)
    for m in sorted(rng.sample(nums, min(len(nums), rng.randint(1, 4))),
                    key=lambda m: -m.start()):
        data = data[:m.start()] + rng.choice(HOSTILE_NUMBERS) + data[m.end():]
    return {**files, name: data}


def _long_line(rng, files, name):
    data = files[name]
    at = rng.randrange(len(data) + 1)
    return {**files, name: data[:at] + b"9," * rng.randint(10_000, 200_000) + data[at:]}


def _rename(rng, files, name):
    """The file under another format's extension, or none."""
    ext = rng.choice([".hea", ".csv", ".npy", ".npz", ".edf", ".xml", ".dcm", ".pdf",
                      ".png", ".jpg", ".txt", ""])
    out = {k: v for k, v in files.items() if k != name}
    out[Path(name).stem + ext] = files[name]
    return out


def _empty(rng, files, name):
    return {**files, name: b""}


def _random(rng, files, name):
    return {**files, name: bytes(rng.randrange(256) for _ in range(rng.randint(1, 5000)))}


def _drop_partner(rng, files, name):
    """A WFDB header without its data file, or the data without the header."""
    if len(files) < 2:
        return _truncate(rng, files, name)
    return {name: files[name]}


def _npz_members(rng, files, name):
    b = io.BytesIO()
    k = rng.choice([2, 50, 2000])
    arrays = {f"a{i}": np.zeros(rng.randint(0, 3)) for i in range(k)}
    if rng.random() < 0.5:
        arrays["signal"] = np.array([object()] * 3, dtype=object)
    np.savez(b, **arrays)
    return {"rec.npz": b.getvalue()}


_MUTATIONS = [_flip, _flip, _truncate, _truncate, _insert, _repeat, _numbers, _numbers,
              _numbers, _long_line, _rename, _empty, _random, _drop_partner, _npz_members]


def check(upload: Upload) -> tuple[str, str]:
    """Load ``upload`` as the API does (files in a private folder, the primary file loaded):
    ('accepted' | 'refused' | 'crash', detail)."""
    from fastapi import HTTPException

    from assistant.uploads import primary as api_primary
    from tools.record import Record, RecordError, load_record

    try:  # the API's own rule for which file of an upload is the record
        primary = api_primary(sorted(upload.files))
    except HTTPException as exc:
        return "refused", f"400: {exc.detail}"[:200]
    with tempfile.TemporaryDirectory(prefix="ecg-fuzz-") as tmp:
        for n, data in upload.files.items():
            (Path(tmp) / n).write_bytes(data)
        try:  # a bare .npy states no rate: the API's ?fs= gives it
            rec = load_record(Path(tmp) / primary,
                              fs=500.0 if primary.lower().endswith(".npy") else None)
        except RecordError as exc:
            msg = str(exc)
            if Path(primary).name not in msg and Path(primary).stem not in msg:
                return "crash", f"refusal does not name the file: {msg[:200]}"
            return "refused", msg[:200]
        except Exception as exc:  # noqa: BLE001 - the point: anything else is a crash
            return "crash", f"{type(exc).__name__}: {str(exc)[:200]}"
    if not isinstance(rec, Record) or rec.signal.ndim != 2 or \
            rec.signal.shape[1] != len(rec.sig_name):
        return "crash", "accepted a malformed record"
    finite = np.isfinite(rec.signal)
    if not rec.digitized and not finite.all():
        return "crash", "accepted non-finite samples"
    if finite.any() and np.nanmax(np.abs(rec.signal)) > 1000.0:
        return "crash", "accepted samples beyond 1000 mV"
    return "accepted", f"{rec.format}, {len(rec.sig_name)} leads, {rec.duration_s:.1f} s"
