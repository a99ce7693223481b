"""Load time per file per format: ``load_record`` on WFDB, CSV, EDF, DICOM, HL7 aECG, GE MUSE
XML and Philips Sierra XML (XLI-compressed) files.

The WFDB record (CinC E07500, 10 s, 12 leads, 500 Hz) is also written as CSV, EDF+, DICOM
and aECG (tools.writers; pyedflib for EDF) so that those rows time the same signal; the MUSE,
Philips and Mortara DICOM rows are the real third-party samples (tests/fixtures/vendor, and
pydicom's test data). The peer for the vendor rows is the library underneath
(``ecgdatakit.FileParser.parse``), timed in the same run: the ratio shows what validation,
lead derivation and the Record cost on top. Each file is loaded once untimed (imports,
caches), then ``--repeat`` times; the median is reported.

Run: ``python -m benchmarks.format_bench [--repeat 20]``; writes
``benchmarks/results/format_bench.json``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from statistics import median

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]


def _files(tmp: Path) -> list[tuple[str, Path]]:
    import numpy as np
    import pyedflib
    from pydicom.data import get_testdata_file

    from tools.record import load_record
    from tools.writers import write_aecg, write_dicom

    wfdb = ROOT / "examples" / "cinc-E07500" / "E07500.hea"
    rec = load_record(wfdb)
    csv = tmp / "E07500.csv"
    header = "time (s)," + ",".join(f"{n} (mV)" for n in rec.sig_name)
    t = np.arange(rec.n_samples) / rec.fs
    np.savetxt(csv, np.column_stack([t, rec.signal]), delimiter=",", header=header,
               comments="", fmt="%.4f")
    edf = tmp / "E07500.edf"
    w = pyedflib.EdfWriter(str(edf), len(rec.sig_name), file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([{"label": n, "dimension": "uV", "sample_frequency": rec.fs,
                         "physical_max": 32767, "physical_min": -32768,
                         "digital_max": 32767, "digital_min": -32768} for n in rec.sig_name])
    w.writeSamples([rec.signal[:, j] * 1000.0 for j in range(len(rec.sig_name))])
    w.close()
    fx = ROOT / "tests" / "fixtures" / "vendor"
    return [("WFDB (E07500)", wfdb), ("CSV (E07500)", csv), ("EDF+ (E07500)", edf),
            ("DICOM (E07500, written)", write_dicom(rec, tmp / "E07500.dcm")),
            ("HL7 aECG (E07500, written)", write_aecg(rec, tmp / "E07500.xml")),
            ("HL7 aECG (E07500, biosig)", fx / "biosig_aecg_E07500.xml"),
            ("DICOM (Mortara, pydicom data)", Path(get_testdata_file("waveform_ecg.dcm"))),
            ("GE MUSE XML (Guangxi)", fx / "muse_guangxi_sinus.xml"),
            ("Philips Sierra XML (XLI)", fx / "philips_129DYPRG.xml")]


def _time(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return median(ts)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args(argv)
    from ecgdatakit.parsing.parser import FileParser

    from tools.record import load_record

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp))
        for i, (name, path) in enumerate(files, 1):
            rec = load_record(path)
            t_ours = _time(lambda: load_record(path), args.repeat)
            t_lib = None
            if rec.format not in ("WFDB", "CSV", "EDF", "BDF", "NumPy"):
                def lib(p=path):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        FileParser.parse(p)
                t_lib = _time(lib, args.repeat)
            rows.append({"file": name, "format": rec.format, "bytes": path.stat().st_size,
                         "leads": len(rec.sig_name), "seconds_of_ecg": rec.duration_s,
                         "load_ms": t_ours * 1000.0,
                         "ecgdatakit_ms": None if t_lib is None else t_lib * 1000.0,
                         "ratio_to_ecgdatakit": None if t_lib is None else t_ours / t_lib})
            common.progress("format", i, len(files), name)
    print(common.table(["file", "format", "kB", "leads", "load_ms", "ecgdatakit_ms", "ratio"],
                       [[r["file"], r["format"], r["bytes"] / 1024, r["leads"], r["load_ms"],
                         r["ecgdatakit_ms"], r["ratio_to_ecgdatakit"]] for r in rows], 1))
    out = {"repeat": args.repeat, "rows": rows}
    print(f"wrote {common.write_json('format_bench', out)}")
    return out


if __name__ == "__main__":
    main()
