"""Paper ECGs (tools/paper.py): pages printed by this project's renderer and by an
independent one (ecg_plot), as vector PDF and as images, digitised and compared with the
recorded signal they were printed from."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.record import RecordError, load_record

ROOT = Path(__file__).resolve().parents[1]
E07500 = ROOT / "examples" / "cinc-E07500" / "E07500.hea"


@pytest.fixture(scope="module")
def original():
    return load_record(E07500)


def _corr(rec, ref, lead: str, max_lag: int = 10) -> float:
    """Best correlation of a digitised lead with the original over its printed window,
    allowing a common shift of a few samples (the page's line width and origin)."""
    x = rec.lead(lead)
    ok = np.flatnonzero(np.isfinite(x))
    ok = ok[(ok >= max_lag) & (ok < min(len(x), ref.n_samples) - max_lag)]
    y = ref.lead(lead)
    return max(float(np.corrcoef(x[ok], y[ok + lag])[0, 1]) for lag in range(-max_lag, max_lag + 1))


def _pages(tmp: Path, original):
    from evals.digitization import render_page

    return {name: render_page(original, tmp / f"{name}", name) for name in
            ("ours-3x4.pdf", "ours-3x4.png", "ecg_plot-6x2.pdf", "ecg_plot-6x2.png",
             "ecg_plot-3x4.pdf")}


@pytest.fixture(scope="module")
def pages(tmp_path_factory, original):
    return _pages(tmp_path_factory.mktemp("pages"), original)


def test_vector_pdf_of_our_page_recovers_every_lead_in_its_window(pages, original):
    rec = load_record(pages["ours-3x4.pdf"])
    assert rec.sig_name == list(original.sig_name)
    d = rec.digitized
    assert d["source"] == "vector PDF" and "labels read" in d["layout"]
    assert d["windows_s"]["aVR"] == pytest.approx([2.5, 5.0], abs=0.01)
    assert d["windows_s"]["II"] == pytest.approx([0.0, 10.0], abs=0.01)  # the rhythm strip
    assert np.isnan(rec.lead("aVR")[:1000]).all()  # not printed there: missing, not invented
    for lead in rec.sig_name:
        assert _corr(rec, original, lead) > 0.99, lead
    assert "digitised" in rec.reader_notes[0] and rec.format.startswith("paper ECG")


@pytest.mark.parametrize("page", ["ecg_plot-6x2.pdf", "ecg_plot-3x4.pdf"])
def test_vector_pdf_from_another_renderer(pages, original, page):
    rec = load_record(pages[page])
    assert sorted(rec.sig_name) == sorted(original.sig_name)
    for lead in rec.sig_name:
        assert _corr(rec, original, lead) > 0.99, lead
    if "6x2" in page:  # ecg_plot prints both columns from t = 0: found from the beats
        assert rec.digitized["simultaneous_columns"] is True
        assert rec.digitized["windows_s"]["V1"][0] == 0.0
    else:
        assert rec.digitized["simultaneous_columns"] is False
        assert rec.digitized["windows_s"]["V1"][0] == pytest.approx(5.0, abs=0.01)


@pytest.mark.parametrize("page", ["ours-3x4.png", "ecg_plot-6x2.png"])
def test_raster_pages_digitise(pages, original, page):
    rec = load_record(pages[page])
    assert sorted(rec.sig_name) == sorted(original.sig_name)
    d = rec.digitized
    assert d["source"] == "raster image"
    assert d["pixels_per_mm"] == pytest.approx(150 / 25.4, rel=0.01)  # the 150-dpi render
    corr = [_corr(rec, original, lead) for lead in rec.sig_name]
    assert np.median(corr) > 0.95, corr
    assert "labels not read" in " ".join(rec.reader_notes)


def test_full_length_page_measures_like_the_recording(pages, original):
    from tools.engine import analyze

    ref = analyze(original).to_dict()
    for page in ("ecg_plot-6x2.pdf", "ecg_plot-6x2.png"):
        got = analyze(load_record(pages[page])).to_dict()
        m, r = got["measurements"], ref["measurements"]
        assert abs(m["hr_bpm"]["value"] - r["hr_bpm"]["value"]) <= 1.0, page
        assert abs(m["qrs_ms"]["value"] - r["qrs_ms"]["value"]) <= 12.0, page
        assert {s["id"] for s in got["statements"]} == {s["id"] for s in ref["statements"]}


def test_rotated_photo_like_page_is_deskewed(pages, original, tmp_path):
    from PIL import Image

    with Image.open(pages["ecg_plot-6x2.png"]) as im:
        im.convert("RGB").rotate(2.0, resample=Image.BICUBIC, expand=True,
                                 fillcolor="white").save(tmp_path / "rot.png")
    rec = load_record(tmp_path / "rot.png")
    assert any("deskewed" in n for n in rec.reader_notes)
    corr = [_corr(rec, original, lead, 20) for lead in rec.sig_name]
    assert np.median(corr) > 0.9, corr


def test_pages_without_an_ecg_are_refused_with_the_reason(tmp_path):
    from PIL import Image

    Image.new("RGB", (800, 600), "white").save(tmp_path / "blank.png")
    with pytest.raises(RecordError, match="no ECG grid found"):
        load_record(tmp_path / "blank.png")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6))
    fig.text(0.1, 0.5, "a letter, not an ECG")
    fig.savefig(tmp_path / "letter.pdf")
    with pytest.raises(RecordError, match="no ECG trace found"):
        load_record(tmp_path / "letter.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    with pytest.raises(RecordError, match="broken.pdf"):
        load_record(tmp_path / "broken.pdf")
    with pytest.raises(RecordError, match="do not apply"):
        load_record(tmp_path / "letter.pdf", fs=500)


def _as_3x4(record):
    """The recording as a 3x4 page prints it: each lead in its 2.5-s column, II in full."""
    from dataclasses import replace

    from tools.render import LAYOUT

    x = record.signal[: int(10 * record.fs)].copy()
    for row in LAYOUT:
        for c, lead in enumerate(row):
            if lead == "II":
                continue
            j = record.sig_name.index(lead)
            a, b = int(c * 2.5 * record.fs), int((c + 1) * 2.5 * record.fs)
            x[:a, j] = np.nan
            x[b:, j] = np.nan
    return replace(record, signal=x, digitized={"source": "test"})


def test_a_page_printed_lead_by_lead_is_measured_where_each_lead_was_printed(original):
    from tools.engine import analyze, printed_windows

    part = _as_3x4(original)
    assert set(printed_windows(part)) == set(original.sig_name) - {"II"}
    full, got = analyze(original).to_dict(), analyze(part).to_dict()
    m, r = got["measurements"], full["measurements"]
    assert abs(m["hr_bpm"]["value"] - r["hr_bpm"]["value"]) <= 1.0
    for k in ("pr_ms", "qt_ms"):
        assert abs(m[k]["value"] - r[k]["value"]) <= 20, k
    # amplitudes of a lead come from the beats printed in it (V4: 7.5-10 s)
    assert m["amp.V4.r_mv"]["value"] == pytest.approx(r["amp.V4.r_mv"]["value"], rel=0.15)
    assert {s["id"] for s in got["statements"]} == {s["id"] for s in full["statements"]}
    notes = " ".join(got["notes"])
    assert "printed lead by lead" in notes and "II" in notes
    assert got["quality"]["usable_leads"] == full["quality"]["usable_leads"]


def test_a_digitised_3x4_page_gives_the_recordings_rhythm_and_rate(pages, original):
    from tools.engine import analyze

    ref = analyze(original).to_dict()
    for page in ("ours-3x4.pdf", "ours-3x4.png", "ecg_plot-3x4.pdf"):
        got = analyze(load_record(pages[page])).to_dict()
        assert abs(got["measurements"]["hr_bpm"]["value"]
                   - ref["measurements"]["hr_bpm"]["value"]) <= 3.0, page
        rhythm = {"s:sr", "s:sb", "s:st", "s:af"}
        assert {s["id"] for s in got["statements"]} & rhythm == \
            {s["id"] for s in ref["statements"]} & rhythm, page


def test_api_takes_a_page_and_says_it_was_digitised(pages, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.config import get_settings

    settings = get_settings(home=str(tmp_path / "home"), llm_base_url="", api_key="")
    client = TestClient(create_app(settings, llm_factory=lambda s: (None, "no LLM (test)")))
    # a scan uploaded without its extension is recognised from its first bytes
    r = client.post("/v1/reports", files=[("files", ("scan", pages["ours-3x4.png"].read_bytes()))])
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["record"]["digitized"]["source"] == "raster image"
    assert rep["measurements"]["hr_bpm"]["value"] is not None
    assert any("digitised from a raster image" in n for n in rep["notes"])
    dr = next(e["resource"] for e in client.get(f"/v1/reports/{rep['id']}/fhir").json()["entry"]
              if e["resource"]["resourceType"] == "DiagnosticReport")
    assert "digitised from a paper ECG (raster image, 3x4 + 1 rhythm)" in dr["conclusion"]


def test_hostile_pages_are_refused_naming_the_file(tmp_path, pages):
    from PIL import Image

    Image.new("1", (10_000, 5_000)).save(tmp_path / "huge.png")  # 50 Mpx, a few kB
    with pytest.raises(RecordError, match="huge.png.*Mpx"):
        load_record(tmp_path / "huge.png")
    data = pages["ours-3x4.png"].read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 3])
    with pytest.raises(RecordError, match="cut.png"):
        load_record(tmp_path / "cut.png")
    (tmp_path / "fake.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    with pytest.raises(RecordError, match="fake.jpg"):
        load_record(tmp_path / "fake.jpg")


def test_a_pdf_drawing_each_sample_step_as_its_own_line_is_read(original, tmp_path):
    """Some exporters draw a trace as thousands of two-point segments: they are chained."""
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(297 / 25.4, 210 / 25.4))
    FigureCanvasPdf(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 297)
    ax.set_ylim(210, 0)
    ax.axis("off")
    grid = [((x, 20), (x, 200)) for x in np.arange(10, 290, 1.0)] + \
        [((10, y), (289, y)) for y in np.arange(20, 201, 1.0)]
    ax.add_collection(LineCollection(grid, colors="#f4c0c0", linewidths=0.2))
    n = int(10 * original.fs)
    t = np.arange(n) / original.fs
    for row, lead in enumerate(("I", "II", "V2")):
        y = 50 + 55 * row - 10 * original.lead(lead)[:n]
        x = 20 + 25 * t
        pts = np.column_stack([x, y])
        ax.add_collection(LineCollection(np.stack([pts[:-1], pts[1:]], axis=1), colors="k",
                                         linewidths=0.5))
        ax.text(20, 50 + 55 * row - 20, lead)
    fig.savefig(tmp_path / "segments.pdf")
    rec = load_record(tmp_path / "segments.pdf")
    assert rec.sig_name == ["I", "II", "V2"]
    for lead in rec.sig_name:
        assert _corr(rec, original, lead) > 0.99, lead


def test_intervals_of_a_digitised_page_carry_the_pages_uncertainty(pages):
    from tools.engine import analyze

    png = analyze(load_record(pages["ours-3x4.png"])).to_dict()["measurements"]
    pdf = analyze(load_record(pages["ecg_plot-6x2.pdf"])).to_dict()["measurements"]
    assert png["qrs_ms"]["details"]["digitisation_uncertainty_ms"] == 12.0  # lead by lead
    assert png["pr_ms"]["details"]["digitisation"].startswith("digitised raster image")
    assert pdf["qrs_ms"]["details"]["digitisation_uncertainty_ms"] == 2.0  # full leads
    assert "digitisation" not in pdf["amp.V1.r_mv"]["details"]  # intervals only (ms)
