"""The standard 12-lead paper page, with evidence highlights.

:func:`render_ecg_page` draws what a clinician expects from an electrocardiograph printout:
25 mm/s, 10 mm/mV on 1-mm / 5-mm grid paper, a 1-mV calibration pulse at the start of each
row, the 3x4 layout (I, aVR, V1, V4 / II, aVL, V2, V5 / III, aVF, V3, V6; each column 2.5 s
of the simultaneous signal) and a 10-s lead II rhythm strip (AHA/ACCF/HRS recommendations
for the standardization of the ECG, Kligfield et al., Circulation 115:1306, 2007), a header
with the engine's key measurements and statements (each with its evidence id) and a footer
with speed, gain, filter and source. Evidence ids given in ``highlight`` are shaded over the
time spans and leads they rest on, so a reader can check a finding against the tracing.

The page is laid out in millimetres on one matplotlib axes (Agg, no pyplot state); the grid
is two LineCollections and all traces one LineCollection, so text dominates the cost
(~0.2 CPU-s per 150-dpi PNG; see ``benchmarks/render_bench.py``). matplotlib and SciPy are
imported on the first render, not at import time.
"""
from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from tools.record import STANDARD_LEADS, Record
from tools.registry import tool

SPEED_MM_S = 25.0  # paper speed
GAIN_MM_MV = 10.0  # amplitude gain
COLUMN_S = 2.5     # seconds per column of the 3x4 layout
STRIP_S = 10.0     # seconds on the page (rhythm strip length)
LAYOUT: tuple[tuple[str, ...], ...] = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"),
                                       ("III", "aVF", "V3", "V6"))
RHYTHM_LEAD = "II"
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# Display band-pass (Hz). 0.05-150 Hz is the diagnostic bandwidth of the AHA recommendations
# (Kligfield 2007, part I); 0.5-40 Hz is the common "monitoring" print filter, cleaner on
# noisy records but it rounds QRS peaks and may distort ST. The engine measures the signal
# as recorded whichever is drawn.
DisplayFilter = Literal["0.05-150 Hz", "0.5-40 Hz", "none"]
DISPLAY_FILTERS: dict[str, tuple[float | None, float | None]] = {
    "0.05-150 Hz": (0.05, 150.0), "0.5-40 Hz": (0.5, 40.0), "none": (None, None)}
assert set(DISPLAY_FILTERS) == set(get_args(DisplayFilter))

# Page geometry in mm, y downwards from the top edge (A4 landscape).
_PAGE_W, _PAGE_H = 297.0, 210.0
_GX0, _GX1, _GY0, _GY1 = 16.0, 281.0, 46.0, 196.0  # grid paper rectangle
_ROW_MM = 35.0  # baseline to baseline
_TOP_MM = 25.0  # paper above the first baseline (2.5 mV: tall R waves)
_ABOVE_MM = 20.0  # a row's band (for shading) reaches 2 mV above and 1.5 mV below its baseline
_T0_X = _GX0 + 10.0  # x of t = 0; the 10 mm before it hold the calibration pulse
_MINOR, _MAJOR, _PAPER = "#f8d3d3", "#eb9a9a", "#fffbfb"
_HL_COLORS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#bcbd22")


@dataclass(frozen=True)
class Panel:
    """One lead's strip on the page: times ``t0..t1`` (s) drawn on the row ``row``."""

    lead: str
    t0: float
    t1: float
    row: int

    @property
    def base(self) -> float:
        return _base(self.row)


@dataclass
class HighlightBox:
    """A shaded evidence span in output pixels (origin top left) and in record time (s)."""

    id: str
    lead: str
    t0_s: float
    t1_s: float
    box_px: tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass
class RenderResult:
    """What :func:`render_ecg_page` drew and where."""

    path: str
    format: str
    width_px: int
    height_px: int
    seconds: float  # seconds of signal on the page
    highlighted: list[str] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)
    leads_shown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    boxes: list[HighlightBox] = field(default_factory=list)
    render_s: float = 0.0


def output_format(out_path: str | PathLike) -> str:
    """``'png'``, ``'svg'`` or ``'pdf'`` from the suffix of ``out_path``; ValueError otherwise
    or when the folder does not exist."""
    p = Path(out_path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"{str(p)!r}: unsupported output suffix {p.suffix!r}; expected one "
                         f"of {', '.join(FORMATS)}")
    if ".." in p.parts:
        raise ValueError(f"{str(p)!r}: output path must not contain '..' components")
    if not p.parent.is_dir():
        raise ValueError(f"{str(p)!r}: folder {str(p.parent)!r} does not exist")
    return fmt


def render_ecg_page(record: Record, report: dict | None, out_path: str | PathLike, *,
                    highlight: list[str] | tuple[str, ...] = (), dpi: int = 150,
                    display_filter: DisplayFilter = "0.05-150 Hz") -> RenderResult:
    """Draw ``record`` as a standard 12-lead page and write it to ``out_path``.

    Parameters
    ----------
    record : the ECG (signal in mV).
    report : ``tools.engine.analyze(record).to_dict()`` for the header and the highlights;
        None draws the tracing alone (every highlight id is then unknown).
    out_path : ``.png``, ``.svg`` or ``.pdf`` file in an existing folder.
    highlight : evidence ids (``'m:qrs_ms'``, ``'s:rbbb'``, ``'q:lead.V1'``) to shade;
        ids the report does not hold are returned in ``unknown_ids``.
    dpi : PNG resolution (50..600); 150 gives 1753 x 1240 px (A4 landscape).
    display_filter : one of :data:`DISPLAY_FILTERS` (zero-phase Butterworth band-pass applied
        to the drawn traces only); named in the footer.

    Returns
    -------
    RenderResult : size, seconds shown, leads shown, highlighted and unknown ids, page notes
        and the pixel box of every shaded span.

    Examples
    --------
    >>> from tools.record import load_record  # doctest: +SKIP
    >>> rec = load_record("examples/ludb-1/1.hea")  # doctest: +SKIP
    >>> render_ecg_page(rec, None, "/tmp/1.png", highlight=["m:qrs_ms"]).width_px  # doctest: +SKIP
    1753
    """
    t_start = time.perf_counter()
    fmt = output_format(out_path)
    if display_filter not in DISPLAY_FILTERS:
        raise ValueError(f"display_filter {display_filter!r}: expected one of "
                         f"{', '.join(DISPLAY_FILTERS)}")
    if not 50 <= dpi <= 600:
        raise ValueError(f"dpi {dpi!r}: expected 50..600 (150 gives 1753 x 1240 px)")
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    report = report or {}
    panels, shown, notes, seconds = _plan(record)
    fig = Figure(figsize=(_PAGE_W / 25.4, _PAGE_H / 25.4), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, _PAGE_W)
    ax.set_ylim(_PAGE_H, 0)
    ax.set_axis_off()
    paper = _draw_grid(ax)
    signal, filter_text = _display_signal(record, seconds, display_filter)
    clipped = _draw_traces(ax, record, signal, panels, paper)
    if clipped:
        notes.append("signal beyond the paper edge is clipped, marked with red triangles: "
                     + ", ".join(clipped))
    _draw_labels(ax, panels, shown, report)
    spans, unknown, empty = _resolve_highlights(list(highlight), report, shown, seconds)
    notes += [f"{eid}: cites no time span on this page; nothing shaded" for eid in empty]
    boxes = _draw_highlights(ax, panels, spans, dpi)
    _draw_header(ax, record, report, notes, spans)
    _draw_footer(ax, record, report, filter_text)
    if fmt == "png":
        fig.savefig(out_path, format=fmt, dpi=dpi, facecolor="white")
    else:  # text stays text (searchable, small) in SVG and PDF
        with rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(out_path, format=fmt, dpi=dpi, facecolor="white")
    w, h = fig.canvas.get_width_height()  # the PNG's pixels; nominal for SVG and PDF
    return RenderResult(str(out_path), fmt, w, h, round(seconds, 3), list(spans), unknown,
                        shown, notes, boxes, time.perf_counter() - t_start)


# --- Layout ---------------------------------------------------------------------------------

def _plan(record: Record) -> tuple[list[Panel], list[str], list[str], float]:
    """Panels of the 3x4 layout and the rhythm strip; leads shown; page notes; seconds."""
    notes: list[str] = []
    duration = record.duration_s
    seconds = min(duration, STRIP_S)
    if duration > STRIP_S + 1e-6:
        notes.append(f"showing the first {STRIP_S:.0f} s of {duration:.1f} s")
    elif duration < STRIP_S - 1e-6:
        notes.append(f"record is {duration:.1f} s long (< {STRIP_S:.0f} s): all of it is shown")
    slots = {lead: (r, c) for r, row in enumerate(LAYOUT) for c, lead in enumerate(row)}
    placed = {lead: rc for lead, rc in slots.items() if record.has(lead)}
    # Leads outside the standard twelve (e.g. 'MLII') take the empty slots, in record order.
    free = [rc for lead, rc in slots.items() if lead not in placed]
    extra = [n for n in record.sig_name if n not in STANDARD_LEADS]
    for name, rc in zip(extra, free):
        placed[name] = rc
    if len(extra) > len(free):
        notes.append("not shown (no free slot): " + ", ".join(extra[len(free):]))
    n_std = sum(record.has(lead) for lead in STANDARD_LEADS)
    if n_std < 12:
        missing = [lead for lead in STANDARD_LEADS if not record.has(lead)]
        plus = f" (+ {', '.join(extra)})" if extra else ""
        notes.append(f"{n_std} of 12 leads{plus}: {', '.join(missing)} not recorded "
                     "(blank slots)")
    panels = []
    for lead, (r, c) in placed.items():
        t0 = c * COLUMN_S
        if t0 < seconds:
            panels.append(Panel(lead, t0, min(t0 + COLUMN_S, seconds), r))
    # Lead II, else a lead II variant such as the Holter 'MLII', else the first lead.
    variants = [n for n in extra if "II" in n.upper() and "III" not in n.upper()]
    rhythm = RHYTHM_LEAD if RHYTHM_LEAD in placed else next(
        iter(variants + [n for n in record.sig_name if n in placed]), None)
    if rhythm is not None:
        panels.append(Panel(rhythm, 0.0, seconds, len(LAYOUT)))
        if rhythm != RHYTHM_LEAD:
            notes.append(f"rhythm strip shows {rhythm} (no lead II)")
    order = [lead for lead in (*STANDARD_LEADS, *extra) if lead in placed]
    return panels, order, notes, seconds


def _base(row: int) -> float:
    return _GY0 + _TOP_MM + row * _ROW_MM


def _display_signal(record: Record, seconds: float, name: str) -> tuple[np.ndarray, str]:
    """The signal to draw (first ``seconds`` plus 1 s of context for the filter edges) and
    the footer's description of the filter applied."""
    from scipy.signal import butter, sosfiltfilt

    fs = float(record.fs)
    x = record.signal[: min(record.n_samples, int(round((seconds + 1.0) * fs)))]
    lo, hi = DISPLAY_FILTERS[name]
    if lo is None or not np.isfinite(x).all() or len(x) < 3 * fs:
        why = "" if lo is None else " (record too short or has gaps)"
        return x, f"filter: none{why}"
    hi = hi if hi is not None and hi < 0.45 * fs else None
    sos = butter(2, [lo, hi] if hi else lo, btype="bandpass" if hi else "highpass",
                 fs=fs, output="sos")
    desc = f"filter: {lo:g}-{hi:g} Hz" if hi else f"filter: {lo:g} Hz high-pass"
    return sosfiltfilt(sos, x, axis=0), desc


def _x(t: float | np.ndarray) -> float | np.ndarray:
    return _T0_X + np.asarray(t) * SPEED_MM_S


def _draw_grid(ax):
    """Paper background, 1-mm minor and 5-mm major lines as two LineCollections."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    paper = Rectangle((_GX0, _GY0), _GX1 - _GX0, _GY1 - _GY0, facecolor=_PAPER,
                      edgecolor=_MAJOR, linewidth=0.8, zorder=0)
    ax.add_patch(paper)
    xs = np.arange(_GX0, _GX1 + 0.01, 1.0)
    ys = np.arange(_GY0, _GY1 + 0.01, 1.0)
    for major, color, lw in ((False, _MINOR, 0.3), (True, _MAJOR, 0.55)):
        sel_x = xs[(np.round(xs - _GX0) % 5 == 0) == major]
        sel_y = ys[(np.round(ys - _GY0) % 5 == 0) == major]
        segs = [((x, _GY0), (x, _GY1)) for x in sel_x] + [((_GX0, y), (_GX1, y)) for y in sel_y]
        ax.add_collection(LineCollection(segs, colors=color, linewidths=lw, zorder=0.5,
                                         antialiaseds=False))
    return paper


def _draw_traces(ax, record: Record, signal: np.ndarray, panels: list[Panel],
                 paper) -> list[str]:
    """Traces, calibration pulses and column separators; returns the leads clipped at the
    paper edge. Tall complexes overlap the neighbouring rows as on an electrocardiograph;
    only the paper edge clips, and each clipped run gets a red triangle."""
    from matplotlib.collections import LineCollection

    fs = float(record.fs)
    segs, marks_up, marks_down, clipped = [], [], [], []
    for p in panels:
        i0, i1 = int(round(p.t0 * fs)), min(len(signal), int(round(p.t1 * fs)) + 1)
        v = signal[i0:i1, record.sig_name.index(p.lead)]
        finite = np.isfinite(v)
        if finite.sum() < 2:
            continue
        # A constant offset per strip (the median) is removed so the trace sits on its
        # baseline; morphology, ST level relative to PR and amplitudes are unchanged.
        y = p.base - (v - np.median(v[finite])) * GAIN_MM_MV
        x = _x(np.arange(i0, i0 + len(v)) / fs)
        segs.append(np.column_stack([x, y])[finite])
        for mask, edge, out in ((y < _GY0, _GY0, marks_up), (y > _GY1, _GY1, marks_down)):
            starts = np.flatnonzero(mask & ~np.r_[False, mask[:-1]])
            out += [(x[s], edge) for s in starts]
            if len(starts) and p.lead not in clipped:
                clipped.append(p.lead)
    for row in range(len(LAYOUT) + 1):
        b = _base(row)
        x0 = _GX0 + 2.0  # 1 mV x 200 ms pulse (10 mm x 5 mm)
        segs.append(np.array([(x0, b), (x0 + 2, b), (x0 + 2, b - 10), (x0 + 7, b - 10),
                              (x0 + 7, b), (x0 + 8, b)]))
    for p in panels:
        if p.t0 > 0:  # separator tick where a column starts
            segs.append(np.array([(_x(p.t0), p.base - 3.0), (_x(p.t0), p.base + 3.0)]))
    lc = LineCollection(segs, colors="black", linewidths=0.8, zorder=3, capstyle="round",
                        joinstyle="round")
    # A path (not a Rectangle) clip: a Rectangle becomes a clip box, which Agg ignores when
    # the inverted y axis (mm from the top) gives it a negative height.
    lc.set_clip_path(paper.get_path(), paper.get_transform())
    ax.add_collection(lc)
    for pts, marker in ((marks_up, "^"), (marks_down, "v")):
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, linestyle="none", marker=marker, markersize=4, color="#c00000",
                    zorder=4, clip_on=False)
    return clipped


def _draw_labels(ax, panels: list[Panel], shown: list[str], report: dict) -> None:
    """Lead names at each strip's start; blank slots named in grey; leads the engine excluded
    for quality flagged next to their name."""
    excluded = set((report.get("quality") or {}).get("excluded_leads") or [])
    for p in panels:
        x, y = _x(p.t0) + 1.2, p.base - 12.0
        ax.text(x, y, p.lead, fontsize=10, fontweight="bold", va="baseline", zorder=5)
        if p.lead in excluded:
            ax.text(x + 2.2 * len(p.lead) + 1.5, y, "poor quality: not measured", fontsize=6,
                    color="#b35900", va="baseline", zorder=5)
    taken = {(p.row, p.t0) for p in panels}
    for r, row in enumerate(LAYOUT):
        for c, lead in enumerate(row):
            if lead not in shown and (r, c * COLUMN_S) not in taken:
                ax.text(_x(c * COLUMN_S) + 1.2, _base(r) - 12.0,
                        f"{lead}  not recorded", fontsize=8, color="#999999", va="baseline",
                        fontstyle="italic", zorder=5)


# --- Evidence highlights --------------------------------------------------------------------

def _wave(name: str) -> str:
    """Which part of a beat a measurement rests on (by its name)."""
    if name.endswith("st60_mv"):
        return "ST"
    if name.endswith(".t_mv") or name.startswith("t_"):
        return "T"
    if name.startswith("qt"):
        return "QT"
    if name.startswith("pr"):
        return "PR"
    if name.startswith(("p_", "atrial_")):
        return "P"
    if name.startswith(("n_", "beat")):
        return "beat"
    return "QRS"  # intervals, amplitudes, axes of the QRS and the rhythm (beats counted)


def _beat_span(b: dict, wave: str) -> tuple[float, float] | None:
    on, off = b.get("qrs_on_s"), b.get("qrs_off_s")
    p_on, t_off = b.get("p_on_s"), b.get("t_off_s")
    if on is None or off is None:
        return None
    span = {"QRS": (on, off), "QT": (on, t_off), "PR": (p_on, on), "P": (p_on, on),
            "T": (off, t_off), "ST": (off, off + 0.08),
            "beat": (p_on if p_on is not None else on, t_off if t_off is not None else off)}
    a, z = span[wave]
    return None if a is None or z is None or z <= a else (float(a), float(z))


def _lead_waves(report: dict, lead: str, wave: str, span: tuple[float, float]):
    """The lead's own delineated P or T waves inside ``span`` (finer than the global span)."""
    waves = ((report.get("delineation") or {}).get(lead) or {}).get(wave) or []
    lo, hi = span[0] - 0.04, span[1] + 0.04
    return [(float(on), float(off)) for on, _, off in waves
            if on is not None and off is not None and lo <= on and off <= hi]


def _measurement_spans(m: dict, report: dict, leads: list[str]) -> list[tuple[str, float, float]]:
    beats = {b.get("index"): b for b in report.get("beats") or []}
    wave = _wave(str(m.get("name") or m.get("id", "")[2:]))
    out = []
    for i in m.get("beats") or []:
        span = _beat_span(beats.get(i) or {}, wave)
        if span is None:
            continue
        for lead in leads:
            fine = _lead_waves(report, lead, wave, span) if wave in ("P", "T") else []
            out += [(lead, a, z) for a, z in (fine or [span])]
    if not out and m.get("window_s"):
        a, z = m["window_s"]
        out = [(lead, float(a), float(z)) for lead in leads]
    return out


def _resolve_highlights(ids: list[str], report: dict, shown: list[str], seconds: float):
    """``{id: [(lead, t0_s, t1_s), ...]}`` of the spans on the page, the unknown ids, and the
    known ids that cite nothing on the page."""
    from tools.evidence import evidence_index

    index = evidence_index(report) if report else {}
    spans: dict[str, list[tuple[str, float, float]]] = {}
    unknown, empty = [], []
    for eid in dict.fromkeys(ids):  # de-duplicated, order kept
        entry = index.get(eid)
        if entry is None:
            unknown.append(eid)
            continue
        out = []
        if eid.startswith("q:lead."):
            out = [(eid[7:], 0.0, seconds)]
        elif eid.startswith("s:"):
            s_leads = [ld for ld in entry.get("leads") or [] if ld in shown]
            for cited in entry.get("evidence_ids") or []:
                m = index.get(cited)
                if cited.startswith("m:") and m:
                    leads = s_leads or [ld for ld in m.get("leads") or [] if ld in shown] or shown
                    out += _measurement_spans(m, report, leads)
        elif eid.startswith("m:"):
            leads = [ld for ld in entry.get("leads") or [] if ld in shown] or shown
            out = _measurement_spans(entry, report, leads)
        out = sorted({(ld, a, min(z, seconds)) for ld, a, z in out if ld in shown and a < seconds})
        if out:
            spans[eid] = out
        else:
            empty.append(eid)
    return spans, unknown, empty


def _draw_highlights(ax, panels: list[Panel], spans: dict, dpi: int) -> list[HighlightBox]:
    """Shade each id's spans in its colour over the full row height, and label the first
    span of each strip with the id."""
    from matplotlib.collections import PolyCollection

    px = dpi / 25.4
    boxes = []
    for k, (eid, items) in enumerate(spans.items()):
        color = _HL_COLORS[k % len(_HL_COLORS)]
        verts = []
        for p in panels:
            top, bottom = p.base - _ABOVE_MM, p.base - _ABOVE_MM + _ROW_MM
            first = True
            for lead, a, z in items:
                a, z = max(a, p.t0), min(z, p.t1)
                if lead != p.lead or z <= a:
                    continue
                x0, x1 = float(_x(a)), float(_x(z))
                verts.append([(x0, top), (x1, top), (x1, bottom), (x0, bottom)])
                boxes.append(HighlightBox(eid, lead, a, z, (int(x0 * px), int(top * px),
                                                            int(np.ceil(x1 * px)),
                                                            int(np.ceil(bottom * px)))))
                if first:
                    ax.text(x0 + 0.3, bottom - 1.0 - 2.6 * (k % 4), eid, fontsize=5.5,
                            color=color, fontweight="bold", zorder=6)
                    first = False
        ax.add_collection(PolyCollection(verts, facecolors=color, edgecolors=color,
                                         linewidths=0.4, alpha=0.28, zorder=2))
    return boxes


# --- Header and footer ----------------------------------------------------------------------

def _fmt(m: dict | None, digits: int = 0) -> str:
    v = (m or {}).get("value")
    return "—" if v is None else f"{v:.{digits}f}"


def _header_rows(ms: dict) -> list[tuple[str, str, str]]:
    g = ms.get
    qtc = g("qtc_ms") or {}
    qtc_name = "QTcF" if str(qtc.get("method", "")).startswith("Fridericia") else "QTc"
    return [
        ("Vent. rate", f"{_fmt(g('hr_bpm'))} bpm", "m:hr_bpm"),
        ("PR", f"{_fmt(g('pr_ms'))} ms", "m:pr_ms"),
        ("QRS", f"{_fmt(g('qrs_ms'))} ms", "m:qrs_ms"),
        (f"QT / {qtc_name}", f"{_fmt(g('qt_ms'))} / {_fmt(qtc)} ms", "m:qt_ms  m:qtc_ms"),
        ("P-R-T axes", f"{_fmt(g('p_axis_deg'))}  {_fmt(g('qrs_axis_deg'))}  "
                       f"{_fmt(g('t_axis_deg'))} °", "m:p_axis_deg  m:qrs_axis_deg  m:t_axis_deg"),
    ]


def _draw_header(ax, record: Record, report: dict, notes: list[str], spans: dict) -> None:
    src = Path(record.source).name if record.source else "(no file)"
    n = sum(record.has(lead) for lead in STANDARD_LEADS)
    title = "12-lead ECG" if n == 12 else f"ECG, {len(record.sig_name)} leads"
    ax.text(_GX0, 11, f"{title}   {src}", fontsize=12, fontweight="bold", va="baseline")
    who = ", ".join(x for x in (f"{record.age:.0f} y" if record.age is not None else "",
                                {"M": "male", "F": "female"}.get(record.sex or "", "")) if x)
    info = f"{who + '   ' if who else ''}{record.fs:g} Hz   {record.duration_s:.1f} s recorded"
    ax.text(_GX1, 11, info, fontsize=8.5, ha="right", va="baseline")
    ms = report.get("measurements") or {}
    y = 18.5
    if not ms:
        ax.text(_GX0, y, "no analysis: measurements not shown", fontsize=8.5, color="#666666")
    for label, value, ids in (_header_rows(ms) if ms else []):
        ax.text(_GX0, y, label, fontsize=8.5, va="baseline")
        ax.text(_GX0 + 22, y, value, fontsize=8.5, fontweight="bold", va="baseline")
        ax.text(_GX0 + 48, y, ids, fontsize=5.5, color="#777777", va="baseline")
        y += 4.4
    _draw_statements(ax, report, 112.0)
    engine_notes = [f"engine: {n}" for n in report.get("notes") or []]
    _draw_notes(ax, notes + engine_notes, 205.0)
    if spans:
        _draw_legend(ax, report, list(spans))


def _draw_legend(ax, report: dict, ids: list[str]) -> None:
    """One line above the paper: a colour swatch, the id and what it is, per shaded id."""
    from tools.evidence import evidence_index

    index = evidence_index(report)
    y = _GY0 - 2.0
    x = _text_run(ax, _GX0, y, [("Shaded evidence:  ", {"fontsize": 7})])
    for k, eid in enumerate(ids):
        e = index.get(eid) or {}
        v = e.get("value")
        what = e.get("label") or ("" if v is None else f"{v:g} {e.get('unit', '')}")
        what = textwrap.shorten(str(what), 40, placeholder="…")
        if x + 1.5 * (len(eid) + len(what) + 4) > _GX1:
            _text_run(ax, x, y, [(f"+ {len(ids) - k} more", {"fontsize": 7})])
            break
        color = _HL_COLORS[k % len(_HL_COLORS)]
        x = _text_run(ax, x, y, [(f"■ {eid} ", {"fontsize": 7, "color": color,
                                                "fontweight": "bold"}),
                                 (what + "    ", {"fontsize": 7})])


def _text_run(ax, x: float, y: float, parts: list[tuple[str, dict]]) -> float:
    """Draw text pieces left to right from ``x`` (mm) on one baseline; returns the end x."""
    renderer = ax.figure.canvas.get_renderer()
    px_per_mm = ax.figure.dpi / 25.4
    for text, kw in parts:
        t = ax.text(x, y, text, va="baseline", **kw)
        x += t.get_window_extent(renderer).width / px_per_mm
    return x


def _draw_statements(ax, report: dict, x: float) -> None:
    q = report.get("quality") or {}
    stmts = report.get("statements") or []
    ax.text(x, 18.5, "Computer interpretation (unconfirmed)", fontsize=8, fontweight="bold",
            va="baseline")
    y = 22.6
    if q.get("abstain"):
        why = f"abstained: {q.get('abstain_reason') or 'poor quality'}"
        for line in textwrap.wrap(why, 70)[:2]:
            ax.text(x, y, line, fontsize=7, color="#b35900", va="baseline")
            y += 3.2
        y += 0.8
    if report and not stmts and not q.get("abstain"):
        ax.text(x, y, "no statement", fontsize=8, va="baseline", color="#666666")
    room = max(1, int((_GY0 - 4.5 - y) // 3.6) + 1)  # lines left above the legend
    for i, s in enumerate(stmts):
        if i == room - 1 and len(stmts) > room:
            rest = ", ".join(str(t.get("id")) for t in stmts[i:])
            ax.text(x, y, textwrap.shorten(f"+ {len(stmts) - i} more: {rest}", 80,
                                           placeholder="…"), fontsize=7, va="baseline")
            break
        label = textwrap.shorten(str(s.get("label", "")), 46, placeholder="…")
        conf = s.get("confidence")
        tail = f"{s.get('id', '')}" + (f"  conf {conf:.2f}" if conf is not None else "")
        _text_run(ax, x, y, [(label + "  ", {"fontsize": 8}),
                             (tail, {"fontsize": 5.5, "color": "#777777"})])
        y += 3.6


def _draw_notes(ax, notes: list[str], x: float) -> None:
    if not notes:
        return
    ax.text(x, 18.5, "Notes", fontsize=8, fontweight="bold", va="baseline")
    lines = [ln for n in notes for ln in textwrap.wrap(n, 62, initial_indent="• ",
                                                         subsequent_indent="  ")]
    if len(lines) > 6:
        lines = lines[:5] + ["  … (more in the tool output)"]
    for i, ln in enumerate(lines):
        ax.text(x, 22.5 + 3.2 * i, ln, fontsize=6.3, color="#8a4500", va="baseline")


def _draw_footer(ax, record: Record, report: dict, filter_text: str) -> None:
    src = Path(record.source).name if record.source else "(no file)"
    engine = (report.get("engine") or {}).get("version")
    left = (f"{SPEED_MM_S:g} mm/s    {GAIN_MM_MV:g} mm/mV    {filter_text}    "
            f"{record.fs:g} Hz    source: {textwrap.shorten(src, 40, placeholder='…')}")
    ax.text(_GX0, 202.5, left, fontsize=7.5, va="baseline")
    right = "computer-generated" + (f" (engine {engine})" if engine else "") + \
        "; to be over-read by a physician"
    ax.text(_GX1, 202.5, right, fontsize=6.5, color="#666666", ha="right", va="baseline")


# --- Tool declaration -----------------------------------------------------------------------

class RenderInput(BaseModel):
    path: str = Field(description="path of the ECG file (.hea, .csv, .npy, .npz, .edf)")
    out: str = Field(description="output image path; .png, .svg or .pdf (folder must exist)")
    highlight: list[str] = Field(default_factory=list,
                                 description="evidence ids to shade, e.g. 'm:qrs_ms', 's:rbbb'")
    fs: float | None = Field(default=None, description="sampling rate in Hz when the file "
                                                         "does not store it (CSV, .npy)")


class RenderOutput(BaseModel):
    path: str = Field(description="the file written")
    format: str = Field(description="'png', 'svg' or 'pdf'")
    width_px: int = Field(description="image width in pixels (nominal at 150 dpi for SVG/PDF)")
    height_px: int = Field(description="image height in pixels")
    seconds: float = Field(description="seconds of signal on the page (at most 10)")
    highlighted: list[str] = Field(description="evidence ids shaded on the page")
    unknown_ids: list[str] = Field(description="requested ids the analysis does not hold")
    leads_shown: list[str] = Field(description="leads drawn on the page")
    notes: list[str] = Field(description="what the page leaves out or marks (missing leads, "
                                          "truncation, clipping, ids with nothing to shade)")


@tool("render_ecg")
def render_ecg(args: RenderInput) -> RenderOutput:
    """Render an ECG file as the standard 12-lead paper page (25 mm/s, 10 mm/mV, 3x4 layout
    with a 10-s lead II rhythm strip, header with the measured intervals, axes and
    statements) to PNG, SVG or PDF, shading the time spans and leads of the given evidence
    ids so the reader can check each finding on the tracing."""
    from tools.engine import analyze
    from tools.record import load_record

    output_format(args.out)  # a bad suffix fails before the record is analysed
    record = load_record(args.path, fs=args.fs)
    notes = []
    try:
        report = analyze(record).to_dict()
    except Exception as exc:  # the tracing is still worth drawing without the header
        report = None
        notes.append(f"analysis failed ({type(exc).__name__}); header left empty")
    r = render_ecg_page(record, report, args.out, highlight=args.highlight)
    return RenderOutput(path=r.path, format=r.format, width_px=r.width_px,
                        height_px=r.height_px, seconds=r.seconds, highlighted=r.highlighted,
                        unknown_ids=r.unknown_ids, leads_shown=r.leads_shown,
                        notes=notes + r.notes)
