"""``ecg-assistant batch``: one parquet row per record, the same values as ``measure``,
resumable, errors as rows; the local and the Ray runner give identical output."""
from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from assistant.cli import main
from tests.test_engine import CINC, LUDB1
from tools.engine import analyze
from tools.record import load_record


@pytest.fixture
def archive(tmp_path):
    """Two real records in nested folders, and one broken file."""
    a, b = tmp_path / "in" / "a", tmp_path / "in" / "b" / "deeper"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    for src, dst in ((LUDB1, a), (CINC, b)):
        for f in src.parent.glob(src.stem + ".*"):
            shutil.copy(f, dst / f.name)
    (a / "broken.csv").write_text("not,an\necg,file\n")
    return tmp_path


def _table(path):
    return {r["path"].rsplit("/", 1)[-1]: r for r in pq.read_table(path).to_pylist()}


def test_batch_rows_equal_measure_and_errors_are_rows(archive, capsys):
    out = archive / "res.parquet"
    assert main(["batch", str(archive / "in"), "--out", str(out), "--jobs", "2"]) == 1
    rows = _table(out)
    assert set(rows) == {"1.hea", "E07500.hea", "broken.csv"}
    assert rows["broken.csv"]["error"] and rows["broken.csv"]["hr_bpm"] is None
    for name, src in (("1.hea", LUDB1), ("E07500.hea", CINC)):
        r = rows[name]
        d = analyze(load_record(src)).to_dict()
        assert r["error"] is None
        for m in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg"):
            assert r[m] == d["measurements"][m]["value"], (name, m)
        assert r["statements"] == [s["label"] for s in d["statements"]]
        assert r["snomed"] == [s["snomed"] for s in d["statements"] if s["snomed"]]
        assert json.loads(r["report"])["measurements"]["qrs_ms"]["value"] == r["qrs_ms"]
    err = capsys.readouterr().err
    assert "3/3" in err and "1 errors" in err and "records/s" in err


def test_batch_resumes_where_it_stopped(archive):
    out = archive / "res.parquet"
    parts = archive / "res.parquet.parts.jsonl"
    main(["batch", str(archive / "in"), "--out", str(out)])
    lines = parts.read_text().splitlines()
    assert len(lines) == 3
    # as if killed after the first record (the last line cut in half)
    parts.write_text(lines[0] + "\n" + lines[1][:50])
    main(["batch", str(archive / "in"), "--out", str(out)])
    assert len(_table(out)) == 3 and len(parts.read_text().splitlines()) == 3


def test_ray_runner_gives_identical_rows(archive):
    import ray  # noqa: F401 - the [scale] extra; the dev extra installs it, so CI runs this
    local, remote = archive / "local.parquet", archive / "ray.parquet"
    main(["batch", str(archive / "in"), "--out", str(local), "--jobs", "1"])
    main(["batch", str(archive / "in"), "--out", str(remote), "--jobs", "2",
          "--runner", "ray"])
    a, b = _table(local), _table(remote)
    assert set(a) == set(b)
    for name in a:
        ra, rb = dict(a[name]), dict(b[name])
        ta, tb = json.loads(ra.pop("report") or "{}"), json.loads(rb.pop("report") or "{}")
        ta.pop("timings", None), tb.pop("timings", None)
        assert ra == rb and ta == tb, name
