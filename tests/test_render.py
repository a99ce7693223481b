"""The 12-lead page renderer: formats, size, content, evidence highlights, reduced records."""
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from tools.engine import analyze
from tools.record import Record, load_record
from tools.registry import TOOLS
from tools.render import RenderOutput, render_ecg_page

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"ludb-1": ROOT / "examples" / "ludb-1" / "1.hea",
            "E07500": ROOT / "examples" / "cinc-E07500" / "E07500.hea"}


@pytest.fixture(scope="module")
def analysed():
    """{name: (record, report)} for the bundled examples (analysed once)."""
    out = {}
    for name, path in EXAMPLES.items():
        rec = load_record(path)
        out[name] = (rec, analyze(rec).to_dict())
    return out


def _rgb(path: Path) -> np.ndarray:
    return imread(str(path))[..., :3]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_examples_render_in_every_format(analysed, tmp_path, name, suffix):
    rec, report = analysed[name]
    out = tmp_path / f"{name}{suffix}"
    res = render_ecg_page(rec, report, out)
    assert out.is_file() and out.stat().st_size > 10_000
    assert res.format == suffix[1:]
    assert res.width_px >= 1500 and res.height_px >= 800
    assert res.leads_shown == list(rec.sig_name)
    assert res.seconds == pytest.approx(10.0)
    head = out.read_bytes()[:200]
    if suffix == ".pdf":
        assert head.startswith(b"%PDF")
    elif suffix == ".svg":
        text = out.read_text(encoding="utf-8")
        assert "<svg" in text
        for label in ("aVR", "V6", "25 mm/s", "10 mm/mV", rec.source.split("/")[-1]):
            assert label in text  # text is kept as text in SVG
    else:
        img = _rgb(out)
        assert img.shape[1] >= 1500 and img.shape[0] >= 800
        assert (img.shape[1], img.shape[0]) == (res.width_px, res.height_px)
        dark = (img.max(axis=2) < 0.3).mean()  # black traces and text
        pink = ((img[..., 0] > 0.85) & (img[..., 1] < 0.85)).mean()  # grid paper
        assert 0.005 < dark < 0.2
        assert pink > 0.02


def test_highlight_known_and_unknown_ids(analysed, tmp_path):
    rec, report = analysed["ludb-1"]
    res = render_ecg_page(rec, report, tmp_path / "hl.png",
                          highlight=["m:qrs_ms", "s:sb", "m:no_such_thing", "s:nope"])
    assert res.highlighted == ["m:qrs_ms", "s:sb"]
    assert res.unknown_ids == ["m:no_such_thing", "s:nope"]
    # m:qrs_ms cites every lead: each of the 13 strips gets shaded beats.
    assert {b.lead for b in res.boxes if b.id == "m:qrs_ms"} == set(rec.sig_name)


def test_highlighted_region_differs_from_plain_render(analysed, tmp_path):
    rec, report = analysed["ludb-1"]
    plain = render_ecg_page(rec, report, tmp_path / "plain.png")
    lit = render_ecg_page(rec, report, tmp_path / "lit.png", highlight=["m:amp.V1.r_mv"])
    a, b = _rgb(tmp_path / "plain.png"), _rgb(tmp_path / "lit.png")
    assert plain.boxes == [] and lit.boxes
    assert {box.lead for box in lit.boxes} == {"V1"}  # the amplitude cites V1 only
    for box in lit.boxes:
        x0, y0, x1, y1 = box.box_px
        inside = np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean()
        assert inside > 0.02, box
    # The rhythm strip (bottom row, lead II) is untouched by a V1-only highlight.
    top = max(box.box_px[3] for box in lit.boxes) + 5
    assert np.array_equal(a[top:], b[top:])


def test_six_lead_record_renders_with_note(analysed, tmp_path):
    rec, _ = analysed["E07500"]
    six = Record(signal=rec.signal[:, :6].copy(), fs=rec.fs, sig_name=rec.sig_name[:6],
                 source="six-lead.hea")
    res = render_ecg_page(six, analyze(six).to_dict(), tmp_path / "six.png",
                          highlight=["m:qrs_ms", "m:amp.V1.r_mv"])
    assert res.leads_shown == ["I", "II", "III", "aVR", "aVL", "aVF"]
    assert any("6 of 12 leads" in n for n in res.notes)
    assert "m:qrs_ms" in res.highlighted
    assert "m:amp.V1.r_mv" in res.unknown_ids  # V1 was never measured
    assert _rgb(tmp_path / "six.png").shape[1] >= 1500


def test_short_and_long_records_say_what_is_shown(analysed, tmp_path):
    rec, _ = analysed["ludb-1"]
    short = Record(signal=rec.signal[:3000].copy(), fs=rec.fs, sig_name=list(rec.sig_name))
    res = render_ecg_page(short, None, tmp_path / "short.png")
    assert res.seconds == pytest.approx(6.0)
    assert any("6.0 s long" in n for n in res.notes)
    long_ = Record(signal=np.vstack([rec.signal] * 2), fs=rec.fs, sig_name=list(rec.sig_name))
    res = render_ecg_page(long_, None, tmp_path / "long.png", highlight=["m:qrs_ms"])
    assert res.seconds == pytest.approx(10.0)
    assert any("first 10 s of 20.0 s" in n for n in res.notes)
    assert res.unknown_ids == ["m:qrs_ms"]  # no report: nothing to cite


def test_tall_complexes_are_marked_where_clipped(analysed, tmp_path):
    rec, _ = analysed["E07500"]
    tall = Record(signal=rec.signal * 4.0, fs=rec.fs, sig_name=list(rec.sig_name))
    res = render_ecg_page(tall, None, tmp_path / "tall.png")
    assert any("clipped" in n for n in res.notes)


@pytest.mark.parametrize("bad", ["page.jpg", "page", "page.PNG.txt"])
def test_bad_suffix_is_a_clear_error(analysed, tmp_path, bad):
    rec, _ = analysed["ludb-1"]
    with pytest.raises(ValueError, match=r"unsupported output suffix.*\.png, \.svg, \.pdf"):
        render_ecg_page(rec, None, tmp_path / bad)
    assert not (tmp_path / bad).exists()


def test_missing_output_folder_is_a_clear_error(analysed, tmp_path):
    rec, _ = analysed["ludb-1"]
    with pytest.raises(ValueError, match="does not exist"):
        render_ecg_page(rec, None, tmp_path / "nowhere" / "page.png")


def test_render_ecg_tool_declaration(tmp_path):
    spec = TOOLS["render_ecg"]
    assert set(spec.input_model.model_fields) == {"path", "out", "highlight", "fs"}
    out = tmp_path / "tool.png"
    res = spec({"path": str(EXAMPLES["ludb-1"]), "out": str(out),
                "highlight": ["m:qrs_ms", "m:bogus"]})
    assert isinstance(res, RenderOutput)
    assert out.is_file() and res.path == str(out) and res.format == "png"
    assert res.highlighted == ["m:qrs_ms"] and res.unknown_ids == ["m:bogus"]
    assert res.width_px >= 1500 and res.height_px >= 800 and res.seconds == pytest.approx(10)
    assert len(res.leads_shown) == 12
    with pytest.raises(ValueError, match="unsupported output suffix"):
        spec({"path": str(EXAMPLES["ludb-1"]), "out": str(tmp_path / "x.gif")})
