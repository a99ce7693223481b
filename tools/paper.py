"""Paper ECGs: a printed 12-lead page (vector PDF, or a PNG/JPEG scan or photo) digitised
into a :class:`~tools.record.Record`, so it is measured, stated and cited like a recording.

Two front ends produce the same thing, the page's drawn traces as polylines in page
millimetres (x to the right, y down), its text labels and its calibration pulses:

- **Vector PDF** (what electrocardiographs and ECG management systems export): the trace
  paths, grid lines, lead labels and calibration pulse are read from the PDF drawing
  commands with pdfminer.six (MIT; it applies the page's transformation matrices), so the
  signal is recovered as drawn. PyMuPDF would do the same but is AGPL-licensed.
- **Raster image**: classic image processing (no learned model ships for this on PyPI).
  The grid pitch is the period of the grid-coloured pixels (1 mm minor squares); the page
  is deskewed by the angle that makes the grid lines sharpest; dark pixels are the trace,
  small dark blobs (text) are dropped; each row band is traced column by column, keeping
  the extreme of a vertical run at a peak (so R waves keep their height).

One layout step then turns traces into leads: rows by baseline, panels by gaps or labels,
lead names from the printed labels (vector) or the standard layout (raster, no OCR here),
time from the paper speed (25 mm/s unless the page states another) with panels of a row
consecutive in time (the standard multi-column formats: Kligfield et al., AHA/ACCF/HRS
recommendations part I, Circulation 115:1306, 2007) unless the beats show they were
printed simultaneously, and amplitude from the calibration pulse (1 mV; 10 mm/mV when none
is found). A lead is present only where it was printed: a 3x4 page gives each lead its
2.5-s window and NaN elsewhere; a lead that cannot be traced is missing, not invented.

The record carries ``digitized`` (source kind, layout, pixel pitch, speed and gain used,
per-lead window and trace confidence) and says so in its reader notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tools.record import STANDARD_LEADS, Record, RecordError, normalize_lead_name

OUT_FS = 500.0  # Hz of the digitised signal (the page's resolution is far coarser)
_PT_MM = 25.4 / 72.0
_STANDARD_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_MAX_PIXELS = 40_000_000  # a 600-dpi A4 scan is ~35 Mpx
_MAX_PDF_BYTES = 5 * 1024 * 1024  # a cart's page is 0.1-1 MB; pdfminer parses ~70 KB/s of junk
_MAX_PDF_CURVES = 200_000  # drawn paths on one page (a 3x4 page has about 1,000)
_MIN_TRACE_MM = 15.0  # shortest drawn run that is a lead's trace (0.6 s at 25 mm/s)
_MIN_CONFIDENCE = 0.8  # share of a panel's width where a trace was found
_MAX_TRACES = 200
_MAX_PAGE_S = 120.0  # one page: 10 s on a 3x4 sheet, up to a few minutes of rhythm strip


@dataclass
class Trace:
    """One drawn line in page mm (x right, y down), x increasing."""

    x: np.ndarray
    y: np.ndarray
    confidence: float = 1.0  # share of its x range where the line was found

    @property
    def x0(self) -> float:
        return float(self.x[0])

    @property
    def x1(self) -> float:
        return float(self.x[-1])

    @property
    def level(self) -> float:
        return float(np.median(self.y))


@dataclass
class Page:
    traces: list[Trace]
    labels: list[tuple[str, float, float]]  # (text, x, y) mm, y = the text's bottom
    pulses: list[tuple[float, float, float]]  # (x, y of its base, height) mm
    kind: str  # 'vector PDF' | 'raster image'
    pitch: float | None  # page units per mm found from the grid (None: no grid found)
    notes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    dpi: float | None = None


# --- Vector PDF ------------------------------------------------------------------------------

def _luminance(color) -> float | None:
    if color is None:
        return None
    if isinstance(color, (int, float)):
        return float(color)
    c = list(color)
    if len(c) == 1:
        return float(c[0])
    if len(c) == 3:
        return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    if len(c) == 4:  # CMYK
        return (1 - c[3]) * (1 - (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]))
    return None


def _grid_pitch(lines: list[tuple[float, float, float]]) -> float | None:
    """The minor grid pitch from parallel grid lines ``(position, start, end)``: the most
    common spacing between neighbours of one grid (lines of the same extent, in runs without
    a gap over 3 units; pages that print a grid per panel interleave otherwise), when at
    least 10 spacings share it."""
    groups: dict[tuple[float, float], list[float]] = {}
    for pos, a, b in lines:
        groups.setdefault((round(a, 1), round(b, 1)), []).append(pos)
    diffs = []
    for pos in groups.values():
        v = np.unique(np.round(np.asarray(pos, float), 3))
        d = np.diff(v)
        diffs.extend(d[(d > 1e-3) & (d <= 3.0)])
    if len(diffs) < 10:
        return None
    d = np.asarray(diffs)
    vals, counts = np.unique(np.round(d, 2), return_counts=True)
    if counts.max() < 10:
        return None
    best = vals[np.argmax(counts)]
    return float(np.median(d[np.abs(d - best) <= 0.02 + 0.02 * best]))


def read_pdf_page(path: Path) -> Page:
    """Traces, labels, pulses and grid pitch of the first page of ``path`` that has traces."""
    import logging

    # pdfminer logs every oddity of a damaged file at WARNING: the RecordError says enough
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        from pdfminer.high_level import extract_pages
        from pdfminer.layout import LTCurve, LTFigure, LTTextContainer
        from pdfminer.pdfparser import PDFSyntaxError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RecordError("reading PDF pages needs pdfminer.six") from exc

    def walk(container):
        for e in container:
            if isinstance(e, LTFigure):
                yield from walk(e)
            else:
                yield e

    size = path.stat().st_size
    if size > _MAX_PDF_BYTES:
        raise RecordError(f"{str(path)!r}: PDF of {size / 2**20:.1f} MB; an ECG page export is "
                          f"well under {_MAX_PDF_BYTES // 2**20} MB (a scanned page: send the "
                          "image)")
    # pdfminer's tokenizer is quadratic in a token's length: a 400-kB run without any
    # whitespace byte took 15 s to refuse. No PDF has one (compressed streams hold a
    # whitespace byte every few dozen bytes by chance)
    if re.search(rb"[^\x00\x09\x0a\x0c\x0d\x20]{65536}", path.read_bytes()):
        raise RecordError(f"{str(path)!r}: malformed PDF (a run of 64 kB without a separator)")
    try:
        pages = extract_pages(str(path), maxpages=20)
        for page in pages:
            height = page.bbox[3]
            curves, vert, horiz, labels, texts = [], [], [], [], []
            for k, e in enumerate(walk(page)):
                if k > _MAX_PDF_CURVES:
                    raise RecordError(f"{str(path)!r}: more than {_MAX_PDF_CURVES} drawn "
                                      "objects on one page: not an ECG page")
                if isinstance(e, LTTextContainer):
                    t = " ".join(e.get_text().split())
                    texts.append(t)
                    labels.append((t, e.bbox[0] * _PT_MM, (height - e.bbox[1]) * _PT_MM))
                elif isinstance(e, LTCurve) and e.stroke and len(e.pts) >= 2:
                    pts = np.asarray(e.pts, float)
                    xy = np.column_stack([pts[:, 0] * _PT_MM, (height - pts[:, 1]) * _PT_MM])
                    lum = _luminance(e.stroking_color)
                    if len(pts) == 2:
                        dx, dy = np.abs(np.diff(xy, axis=0))[0]
                        if dx < 1e-3 and dy > 5:
                            vert.append((xy[0, 0], *sorted(xy[:, 1])))
                        elif dy < 1e-3 and dx > 5:
                            horiz.append((xy[0, 1], *sorted(xy[:, 0])))
                    if lum is not None and lum < 0.5:
                        curves.append(xy)
            curves = _chain(curves)
            if not any(len(c) >= 8 for c in curves):
                continue
            pitch = _grid_pitch(vert) or _grid_pitch(horiz)
            traces, pulses = [], []
            for xy in curves:
                if len(xy) >= 8 and np.ptp(xy[:, 0]) >= 0.5 * _MIN_TRACE_MM:
                    traces.extend(_split_polyline(xy))
                    if len(traces) > _MAX_TRACES:
                        raise RecordError(f"{str(path)!r}: more than {_MAX_TRACES} separate "
                                          "traces: not an ECG page")
                elif 3 <= len(xy) <= 8:
                    p = _pulse_shape(xy)
                    if p:
                        pulses.append(p)
            return Page(traces, labels, pulses, "vector PDF", pitch, texts=texts)
    except PDFSyntaxError as exc:
        raise RecordError(f"{str(path)!r}: not a readable PDF ({exc})") from exc
    except RecordError:
        raise
    except Exception as exc:  # pdfminer fails in many ways on damaged files
        raise RecordError(f"{str(path)!r}: could not be read as a PDF "
                          f"({type(exc).__name__}: {str(exc)[:160]})") from exc
    raise RecordError(f"{str(path)!r}: no ECG trace found in the PDF (no drawn line of "
                      "8 or more points; a scanned PDF holds an image: export it as PNG)")


def _chain(curves: list[np.ndarray], tol_mm: float = 0.02) -> list[np.ndarray]:
    """Join paths drawn one after another end to start into one polyline: some exporters
    draw a trace as thousands of two-point segments."""
    out: list[list[np.ndarray]] = []
    for xy in curves:
        if out and np.abs(out[-1][-1][-1] - xy[0]).max() <= tol_mm:
            out[-1].append(xy[1:])
        else:
            out.append([xy])
        if len(out) > 50 * _MAX_TRACES:
            break  # not an ECG page; refused by the trace count
    return [np.vstack(parts) if len(parts) > 1 else parts[0] for parts in out]


def _split_polyline(xy: np.ndarray) -> list[Trace]:
    """A drawn path as traces with increasing x: split where it goes back to the left (a new
    panel drawn in the same path) and drop degenerate pieces."""
    out = []
    back = np.flatnonzero(np.diff(xy[:, 0]) < -0.5) + 1
    for seg in np.split(xy, back):
        if len(seg) < 2 or np.ptp(seg[:, 0]) < _MIN_TRACE_MM * 0.5:
            continue
        # equal x (vertical strokes) are kept in drawing order; x must not decrease
        x = np.maximum.accumulate(seg[:, 0])
        out.append(Trace(x, seg[:, 1].copy()))
    return out


def _pulse_shape(xy: np.ndarray) -> tuple[float, float, float] | None:
    """(x, base y, height) when a short path is a rectangular calibration pulse: up, across
    3-12 mm, down again (the standard 1 mV x 200 ms pulse is 10 mm x 5 mm)."""
    w, h = np.ptp(xy[:, 0]), np.ptp(xy[:, 1])
    if not (2.0 <= w <= 14.0 and 3.0 <= h <= 25.0):
        return None
    base = float(np.max(xy[:, 1]))
    top = float(np.min(xy[:, 1]))
    at_top = xy[np.abs(xy[:, 1] - top) < 0.2]
    if len(at_top) < 2 or np.ptp(at_top[:, 0]) < 2.0:
        return None
    return float(xy[0, 0]), base, base - top


# --- Raster image ----------------------------------------------------------------------------

def _autocorr(profile: np.ndarray) -> np.ndarray:
    p = profile - profile.mean()
    n = len(p)
    f = np.fft.rfft(p, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / ac[0] if ac[0] > 0 else ac


def _peak_near(ac: np.ndarray, lag: float, half: int = 2) -> tuple[float, float]:
    """(refined lag, value) of the autocorrelation's local maximum near ``lag``."""
    lo, hi = max(1, int(round(lag)) - half), min(len(ac) - 1, int(round(lag)) + half + 1)
    if hi <= lo:
        return lag, -1.0
    k = lo + int(np.argmax(ac[lo:hi]))
    if 1 <= k < len(ac) - 1:
        a, b, c = ac[k - 1], ac[k], ac[k + 1]
        den = a - 2 * b + c
        if den < 0:
            return k + 0.5 * (a - c) / den, float(b)
    return float(k), float(ac[k])


def _grid_period(profile: np.ndarray, dpi: float | None) -> float | None:
    """Pixels per mm from a grid profile (the image's mean over rows or columns).

    The strongest period may be a multiple of the 1-mm pitch (lines that fall on whole
    pixels only every 10 mm print sharper), so the smallest sub-period that is itself a
    strong peak is taken. If that is 18 px or more it is the 5-mm square (the 1-mm lines
    too faint to see; 1 mm is 4-15 px in scans at 100-400 dpi and in phone photos of a
    page); a stated resolution other than the 72/96-dpi defaults decides instead. The
    pitch is then refined on the farthest 5-mm multiple that fits, to keep the time scale
    exact across a 250-mm row."""
    from scipy.ndimage import uniform_filter1d

    n = len(profile)
    if n < 64 or not np.any(profile - profile.mean()):
        return None
    # the grid's lines, without the page's large-scale envelope (paper vs margins, shading)
    prof = profile.astype(float) - uniform_filter1d(profile.astype(float), 151, mode="nearest")
    ac = _autocorr(prof)
    hi = min(150, n // 3)
    if hi <= 8:
        return None
    big = 3 + int(np.argmax(ac[3:hi]))
    if ac[big] < 0.15:
        return None
    small = float(big)
    for d in (10, 5, 4, 2):
        if big / d >= 3.0:
            lag, v = _peak_near(ac, big / d, 1)
            if v > 0.3 and abs(lag - big / d) <= 1.0:
                small = lag
                break
    cands = [small, small / 5.0]
    if dpi and round(dpi) not in (72, 96):
        px = dpi / 25.4
        mm = min(cands, key=lambda c: abs(np.log(c / px)))
    else:
        mm = small if small < 18.0 else small / 5.0
    if mm < 2.0:
        return None
    # least-squares slope through the refined peaks at 5, 10, 15 ... mm
    ks, lags = [], []
    # within 40 mm: pages that print a grid per panel restart its phase at each panel
    for k in range(1, max(1, min(int((n / 3) / (5 * mm)), 8)) + 1):
        lag, v = _peak_near(ac, 5 * k * mm, max(2, int(0.02 * 5 * k * mm)))
        if v > 0.1:
            ks.append(5 * k)
            lags.append(lag)
    if len(ks) >= 2:
        ks_a, lags_a = np.asarray(ks, float), np.asarray(lags, float)
        return float(ks_a @ lags_a / (ks_a @ ks_a))
    return mm


def read_image_page(path: Path, dpi_hint: float | None = None) -> Page:
    """Traces of a scanned or photographed page (PNG/JPEG), in mm from the grid pitch."""
    from PIL import Image, ImageOps
    from scipy import ndimage

    try:
        with Image.open(path) as im:
            if im.width * im.height > _MAX_PIXELS:
                raise RecordError(f"{str(path)!r}: image of {im.width}x{im.height} pixels is "
                                  f"larger than {_MAX_PIXELS // 1_000_000} Mpx")
            dpi = (im.info.get("dpi") or (None,))[0] or dpi_hint
            im = ImageOps.exif_transpose(im).convert("RGB")
            rgb = np.asarray(im, dtype=np.float32) / 255.0
    except RecordError:
        raise
    except Exception as exc:
        raise RecordError(f"{str(path)!r}: could not be read as an image "
                          f"({type(exc).__name__}: {str(exc)[:160]})") from exc
    notes: list[str] = []
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    # uneven lighting (photos): divide by a large-scale background estimate
    bg = ndimage.maximum_filter(ndimage.uniform_filter(lum, 15), size=61)
    bg = ndimage.uniform_filter(bg, 61)
    lum = np.clip(lum / np.maximum(bg, 0.2), 0, 1)
    # trace: dark; grid: lighter lines on the paper (any colour), as a continuous strength
    # (how much darker than the paper) so that sensor noise averages out in the profiles
    dark_thr = _otsu(lum[lum < 0.9]) if np.any(lum < 0.9) else 0.5
    dark_thr = float(np.clip(dark_thr, 0.25, 0.6))
    smooth = ndimage.gaussian_filter(lum, 0.7)
    grid = np.where(smooth > dark_thr + 0.05, 1.0 - smooth, 0.0).astype(np.float32)
    angle = _skew_angle(grid)
    if abs(angle) > 0.05:
        notes.append(f"page rotated by {angle:+.1f} deg: deskewed")
        lum = ndimage.rotate(lum, -angle, reshape=False, order=1, mode="constant", cval=1.0)
        grid = ndimage.rotate(grid, -angle, reshape=False, order=1, mode="constant", cval=0.0)
    pitch = None
    # the horizontal pitch (time) from the columns' profile, the vertical (amplitude) from
    # the rows': pages that print a grid per panel restart its vertical phase at every
    # panel, which a rotated scan smears; either stands in for the other when missing
    px_x, px_y = (_grid_period(grid.mean(axis=ax), dpi) for ax in (0, 1))
    px_x, px_y = px_x or px_y, px_y or px_x
    if px_x and abs(px_y / px_x - 1) > 0.05:
        px_y = px_x  # no ECG paper has oblong squares: the vertical estimate is wrong
    if px_x:
        pitch = float(px_x)
    elif dpi:
        notes.append(f"no grid found: scale from the image's {dpi:g} dpi (page printed at scale)")
    else:
        raise RecordError(f"{str(path)!r}: no ECG grid found and the image states no "
                          "resolution: cannot tell millimetres (give the page with its grid)")
    px_mm = pitch if pitch else float(dpi) / 25.4
    px_mm_y = float(px_y) if pitch else px_mm
    mask = lum < dark_thr
    # text and specks: components narrower and shorter than a few mm
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    keep = np.zeros(n + 1, bool)
    sl = ndimage.find_objects(lab)
    pulses = []
    for i, s in enumerate(sl, start=1):
        if s is None:
            continue
        h, w = (s[0].stop - s[0].start) / px_mm, (s[1].stop - s[1].start) / px_mm
        if w >= _MIN_TRACE_MM * 0.5 or h >= 8.0:
            keep[i] = True
        elif 3.0 <= w <= 14.0 and 4.0 <= h <= 25.0:
            p = _pulse_component(lab[s] == i, s, px_mm)
            if p:
                pulses.append(p)
    # a thin trace breaks into pieces at steep strokes: a small piece touching (within 2 px)
    # a kept one is trace, not text (labels stand millimetres away from the line)
    for _ in range(2):
        near = ndimage.binary_dilation(keep[lab], iterations=2)
        touching = np.unique(lab[near & (lab > 0) & ~keep[lab]])
        if touching.size == 0:
            break
        keep[touching] = True
    mask = keep[lab]
    traces = _trace_rows(mask, px_mm, px_mm_y)
    # calibration pulses: a rectangular run at the left end of a row (often joined to it)
    for t in traces:
        p = _pulse_at_start(t)
        if p:
            pulses.append(p)
    return Page(traces, [], pulses, "raster image", px_mm, notes=notes, dpi=dpi)


def _pulse_component(m: np.ndarray, s: tuple, px_mm: float):
    """(x, base y, height) mm when a separate small component is a calibration pulse: a flat
    top over at least 2 mm and two vertical edges reaching the bottom."""
    rows = np.where(m.any(axis=0), np.argmax(m, axis=0), -1)
    cols = rows >= 0
    if cols.sum() < 3:
        return None
    top = rows[cols].min()
    lw = max(1, int(round(np.median(m.sum(axis=0)[cols]))) if cols.any() else 1)
    flat = np.abs(rows - top) <= max(1, lw)
    if flat.sum() < 2.0 * px_mm:
        return None
    tall = m.sum(axis=0) >= 0.6 * m.shape[0]
    if tall.sum() < 2:
        return None
    h = (m.shape[0] - 1) / px_mm
    return s[1].start / px_mm, (s[0].stop - 1) / px_mm, h


def _otsu(v: np.ndarray) -> float:
    hist, edges = np.histogram(v, bins=64, range=(0.0, 1.0))
    w = np.cumsum(hist)
    m = np.cumsum(hist * (edges[:-1] + edges[1:]) / 2)
    wt, mt = w[-1], m[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w - m * wt) ** 2 / (w * (wt - w))
    between[~np.isfinite(between)] = 0
    return float(edges[int(np.argmax(between)) + 1])


def _skew_angle(grid: np.ndarray) -> float:
    """The rotation (deg, within +-6) that makes the grid's row profile sharpest."""
    from scipy import ndimage

    step = max(1, int(max(grid.shape) / 1200))
    g = grid[::step, ::step].astype(np.float32)
    if g.mean() < 0.005:
        return 0.0

    def sharp(a):
        r = ndimage.rotate(g, -a, reshape=False, order=0)
        prof = r.sum(axis=1)
        return float(np.var(np.diff(prof)))

    coarse = np.arange(-6.0, 6.01, 0.5)
    best = coarse[int(np.argmax([sharp(a) for a in coarse]))]
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    return float(fine[int(np.argmax([sharp(a) for a in fine]))])


def _trace_rows(mask: np.ndarray, px_mm: float, px_mm_y: float | None = None) -> list[Trace]:
    """Follow the trace of each row band column by column."""
    from scipy import ndimage
    from scipy.signal import find_peaks

    prof = ndimage.gaussian_filter1d(mask.sum(axis=1).astype(float), 1.5 * px_mm)
    if prof.max() <= 0:
        return []
    peaks, _ = find_peaks(prof, distance=max(1, int(12 * px_mm)), height=0.15 * prof.max())
    if peaks.size == 0:
        return []
    # each row is followed in a band reaching 80 % of the way to its neighbours' baselines:
    # a tall complex crosses the midline, and the nearest-run tracking keeps to its own line
    edges = np.concatenate([[0], peaks, [mask.shape[0] - 1]]).astype(float)
    lw = max(1.0, _line_width(mask))
    out = []
    for k, base in enumerate(peaks):
        lo = int(base - 0.8 * (base - edges[k])) if k else 0
        hi = int(base + 0.8 * (edges[k + 2] - base)) + 1 if k + 1 < len(peaks) else mask.shape[0]
        band = mask[lo:hi]
        ys = _follow(band, base - lo, lw)
        good = np.isfinite(ys)
        if good.sum() < _MIN_TRACE_MM * px_mm:
            continue
        # runs of found columns separated by gaps > 2 mm are separate pieces (panels printed
        # apart, ecg_plot 6 mm)
        idx = np.flatnonzero(good)
        cuts = np.flatnonzero(np.diff(idx) > 2 * px_mm) + 1
        for run in np.split(idx, cuts):
            if run.size < _MIN_TRACE_MM * px_mm * 0.5:
                continue
            span = np.arange(run[0], run[-1] + 1)
            found = np.isfinite(ys[span])
            y = np.interp(span, span[found], ys[span][found]) + lo
            out.append(Trace(span / px_mm, y / (px_mm_y or px_mm),
                             confidence=float(found.mean())))
    return out


def _line_width(mask: np.ndarray) -> float:
    """Typical vertical thickness of the drawn line (median dark run length)."""
    col = mask[:, :: max(1, mask.shape[1] // 200)]
    d = np.diff(np.vstack([np.zeros((1, col.shape[1]), bool), col,
                           np.zeros((1, col.shape[1]), bool)]).astype(np.int8), axis=0)
    starts = np.argwhere(d == 1)
    ends = np.argwhere(d == -1)
    if len(starts) == 0:
        return 1.0
    runs = ends[:, 0] - starts[:, 0]
    return float(np.median(runs))


def _follow(band: np.ndarray, start_y: float, lw: float) -> np.ndarray:
    """y per column (NaN where nothing is drawn): the dark run nearest the previous y; a run
    taller than the line that reaches beyond both neighbours is a peak (its far end)."""
    n_cols = band.shape[1]
    runs_per_col: list[list[tuple[int, int]]] = []
    for c in range(n_cols):
        rows = np.flatnonzero(band[:, c])
        if rows.size == 0:
            runs_per_col.append([])
            continue
        cuts = np.flatnonzero(np.diff(rows) > 1) + 1
        runs_per_col.append([(int(r[0]), int(r[-1])) for r in np.split(rows, cuts)])
    ys = np.full(n_cols, np.nan)
    chosen: list[tuple[int, int] | None] = [None] * n_cols
    prev = float(start_y)
    for c in range(n_cols):
        runs = runs_per_col[c]
        if not runs:
            continue
        r = min(runs, key=lambda ab: 0 if ab[0] <= prev <= ab[1] else
                min(abs(ab[0] - prev), abs(ab[1] - prev)))
        chosen[c] = r
        prev = (r[0] + r[1]) / 2.0
    for c in range(n_cols):
        r = chosen[c]
        if r is None:
            continue
        top, bot = r
        centre = (top + bot) / 2.0
        if bot - top <= 1.8 * lw:
            ys[c] = centre
            continue
        nb = [((q[0] + q[1]) / 2.0) for q in (chosen[c - 1] if c else None,
                                             chosen[c + 1] if c + 1 < n_cols else None) if q]
        if not nb:
            ys[c] = centre
            continue
        lo, hi = min(nb), max(nb)
        if top < lo - lw:
            ys[c] = top + lw / 2.0  # upward peak (y grows downwards)
        elif bot > hi + lw:
            ys[c] = bot - lw / 2.0
        else:
            ys[c] = centre
    return ys


def _pulse_at_start(t: Trace) -> tuple[float, float, float] | None:
    """A calibration pulse drawn at the start of a traced row: within its first 12 mm the
    line rises 4-22 mm and stays up for 2-12 mm."""
    sel = t.x <= t.x0 + 12.0
    if sel.sum() < 5:
        return None
    y = t.y[sel]
    base = float(np.median(y[: max(2, sel.sum() // 8)]))
    top = float(np.min(y))
    h = base - top
    if not 4.0 <= h <= 22.0:
        return None
    up = np.abs(y - top) < max(0.4, 0.05 * h)
    w = np.ptp(t.x[sel][up]) if up.any() else 0.0
    if not 2.0 <= w <= 12.0:
        return None
    # the pulse rises and falls as vertical edges (a tall R wave has sloped sides): the
    # line goes from near the base to near the top within 0.6 mm of x, and back
    x = t.x[sel]
    low, high = y > base - 0.2 * h, y < top + 0.2 * h
    first_high = int(np.argmax(high))
    last_high = len(high) - 1 - int(np.argmax(high[::-1]))
    before = np.flatnonzero(low[:first_high])
    after = np.flatnonzero(low[last_high:])
    if before.size == 0 or after.size == 0:
        return None
    if x[first_high] - x[before[-1]] > 0.6 or x[last_high + after[0]] - x[last_high] > 0.6:
        return None
    return float(t.x0), base, h


# --- Layout: traces -> leads -----------------------------------------------------------------

_SPEED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*mm\s*/\s*s\b", re.IGNORECASE)
_GAIN_RE = re.compile(r"(\d+(?:\.\d+)?)\s*mm\s*/\s*mv\b", re.IGNORECASE)


@dataclass
class _Panel:
    trace: Trace
    row: int
    lead: str | None = None
    t0: float = 0.0


_MAGIC = {b"%PDF": "pdf", b"\x89PNG": "image", b"\xff\xd8\xff": "image"}


def is_paper(path: Path) -> str | None:
    """'pdf' or 'image' when the file's first bytes say it is a PDF, PNG or JPEG."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def digitize(path, *, speed_mm_s: float | None = None, gain_mm_mv: float | None = None,
             dpi: float | None = None) -> Record:
    """Read a paper ECG (``.pdf`` vector page, ``.png``/``.jpg`` image) into a Record.

    Parameters
    ----------
    path : the page file.
    speed_mm_s, gain_mm_mv : paper speed and gain when known; otherwise the page's printed
        values (vector PDFs), the calibration pulse (gain), or the standard 25 mm/s and
        10 mm/mV, each said in the reader notes.
    dpi : scale for an image without a grid (else the file's own dpi, if any).
    """
    p = Path(path)
    if is_paper(p) == "pdf":
        page = read_pdf_page(p)
    else:
        page = read_image_page(p, dpi)
    return _page_to_record(page, p, speed_mm_s, gain_mm_mv)


def _page_to_record(page: Page, path: Path, speed: float | None, gain: float | None) -> Record:
    notes = list(page.notes)
    scale = 1.0  # page mm -> paper mm
    where = repr(str(path))
    if page.kind == "vector PDF":
        if page.pitch and not 0.2 <= page.pitch <= 5.0:
            raise RecordError(f"{where}: grid lines {page.pitch:.3g} mm apart: not an ECG "
                              "grid printed at 20-500 % of its size")
        if page.pitch:
            scale = 1.0 / page.pitch
        else:
            notes.append("no grid lines found: page taken as printed at scale")
    traces = [Trace(t.x * scale, t.y * scale, t.confidence) for t in page.traces]
    labels = [(s, x * scale, y * scale) for s, x, y in page.labels]
    pulses = [(x * scale, b * scale, h * scale) for x, b, h in page.pulses]
    text = " ".join(page.texts)
    if speed is None:
        m = _SPEED_RE.search(text)
        speed = float(m.group(1)) if m and 5 <= float(m.group(1)) <= 100 else None
        if speed is None:
            speed = 25.0
            notes.append("paper speed not stated on the page: 25 mm/s assumed")
    if speed is not None and not 5.0 <= speed <= 100.0:
        raise RecordError(f"{where}: paper speed {speed:g} mm/s is outside 5-100 mm/s")
    if gain is None:
        heights = [h for _, _, h in pulses if 2.0 <= h <= 40.0]
        if heights:
            gain = float(np.median(heights))  # the pulse is 1 mV
        else:
            m = _GAIN_RE.search(text)
            gain = float(m.group(1)) if m and 1 <= float(m.group(1)) <= 40 else 10.0
            if not m:
                notes.append("no calibration pulse found: 10 mm/mV assumed")
    # calibration pulses are not signal
    traces = [t for t in traces if not _is_pulse(t, pulses) and
              t.x1 - t.x0 >= _MIN_TRACE_MM * 0.5]
    if not traces:
        raise RecordError(f"{str(path)!r}: no ECG trace found on the page")
    if len(traces) > _MAX_TRACES:
        raise RecordError(f"{where}: {len(traces)} separate traces: not an ECG page (a 12-lead "
                          f"page has 12-16 panels; at most {_MAX_TRACES} are read)")
    panels = _panels(traces, labels, speed, cut_pulses=page.kind == "raster image")
    layout, by_lead = _assign(panels, labels, speed, notes)
    if not by_lead:
        raise RecordError(f"{str(path)!r}: traces found but no lead could be named "
                          "(no lead labels and no standard layout recognised)")
    simultaneous = _timing(by_lead, speed, gain)
    if simultaneous:
        notes.append("columns printed simultaneously (the same beats in every column)")
    duration = max(p.t0 + (p.trace.x1 - p.trace.x0) / speed for p in by_lead.values())
    if not 1.0 <= duration <= _MAX_PAGE_S:
        raise RecordError(f"{where}: the traces span {duration:.3g} s at {speed:g} mm/s; an ECG "
                          f"page holds 1-{_MAX_PAGE_S:.0f} s (is the grid or the scale wrong?)")
    n = int(round(duration * OUT_FS)) + 1
    sig = np.full((n, len(by_lead)), np.nan)
    names = [lead for lead in STANDARD_LEADS if lead in by_lead]
    windows, confidence, missing = {}, {}, []
    t_grid = np.arange(n) / OUT_FS
    for j, lead in enumerate(names):
        pnl = by_lead[lead]
        tr = pnl.trace
        t = pnl.t0 + (tr.x - tr.x0) / speed
        v = -(tr.y - np.median(tr.y)) / gain
        half = 0.5 / OUT_FS  # a panel drawn to 9.998 s still covers the sample at 9.998 s
        sel = (t_grid >= t[0] - half) & (t_grid <= t[-1] + half)
        sig[sel, j] = np.interp(t_grid[sel], t, v)
        windows[lead] = [round(float(t[0]), 3), round(float(t[-1]), 3)]
        confidence[lead] = round(tr.confidence, 3)
        if tr.confidence < _MIN_CONFIDENCE:
            sig[:, j] = np.nan
            missing.append(lead)
    peak = np.nanmax(np.abs(sig)) if np.isfinite(sig).any() else 0.0
    if peak > 1000.0:  # as every loader: no ECG comes near 1 V
        raise RecordError(f"{where}: a trace reaches {peak:.3g} mV at {gain:g} mm/mV: the page's "
                          "scale is not an ECG's")
    keep = [j for j, lead in enumerate(names) if lead not in missing]
    if missing:
        notes.append("could not be traced (left out): " + ", ".join(missing))
    if not keep:
        raise RecordError(f"{str(path)!r}: no lead could be traced reliably")
    names = [names[j] for j in keep]
    sig = sig[:, keep]
    px = (f"{page.pitch:.2f} px/mm" if page.kind == "raster image" and page.pitch
          else "vector")
    notes.insert(0, f"digitised from a {page.kind} ({layout} layout, {px}, {speed:g} mm/s, "
                    f"{gain:g} mm/mV): amplitudes and timings carry the page's resolution")
    digitized = {"source": page.kind, "layout": layout,
                 "pixels_per_mm": round(page.pitch, 3) if page.kind == "raster image"
                 and page.pitch else None,
                 "speed_mm_s": speed, "gain_mm_mv": round(gain, 3),
                 "simultaneous_columns": simultaneous,
                 "windows_s": {k: windows[k] for k in names},
                 "trace_confidence": confidence, "not_traced": missing}
    return Record(signal=sig, fs=OUT_FS, sig_name=names, units=["mV"] * len(names),
                  source=str(path), format=f"paper ECG ({page.kind}, digitised)",
                  reader_notes=notes, digitized=digitized)


def _is_pulse(t: Trace, pulses) -> bool:
    return (t.x1 - t.x0) < 14.0 and any(abs(t.x0 - x) < 3 for x, _, _ in pulses)


def _panels(traces: list[Trace], labels, speed: float, cut_pulses: bool) -> list[_Panel]:
    """Traces grouped into rows by their level; a raster row drawn as one line is split at
    the lead labels' x positions when labels are known (vector pages have a path per panel)."""
    levels = [t.level for t in traces]
    order = np.argsort(levels)
    rows: list[list[Trace]] = []
    sums: list[float] = []
    for i in order:
        t, lv = traces[i], levels[i]
        if rows and abs(sums[-1] / len(rows[-1]) - lv) < 8.0:
            rows[-1].append(t)
            sums[-1] += lv
        else:
            rows.append([t])
            sums.append(lv)
    out = []
    for i, row in enumerate(rows):
        if cut_pulses:
            row = _bridge(sorted(row, key=lambda t: t.x0))
        for t in sorted(row, key=lambda t: t.x0):
            # drop a leading calibration pulse joined to the trace (raster pages; a vector
            # page draws it as its own path)
            p = _pulse_at_start(t) if cut_pulses else None
            if p:
                head = np.flatnonzero(t.x <= t.x0 + 12.0)
                top = int(head[np.argmin(t.y[head])])
                cut = np.flatnonzero((np.arange(len(t.x)) > top) & (t.x <= t.x0 + 14.0) &
                                     (np.abs(t.y - p[1]) < max(0.3, 0.05 * p[2])))
                if cut.size:
                    t = Trace(t.x[cut[0]:], t.y[cut[0]:], t.confidence)
            out.append(_Panel(t, i))
    return out


def _bridge(row: list[Trace], max_gap_mm: float = 4.0) -> list[Trace]:
    """Join pieces of one raster row less than 4 mm apart: a thin line's steep strokes can
    fall below the dark threshold over a QRS (about 3 mm at 25 mm/s), and the piece in
    between is then lost with the text. Panels printed apart leave wider gaps (ecg_plot 6
    mm); the bridged span counts against the trace's confidence."""
    out = [row[0]]
    for t in row[1:]:
        prev = out[-1]
        gap = t.x0 - prev.x1
        if 0 <= gap < max_gap_mm:
            w_prev, w_t = prev.x1 - prev.x0, t.x1 - t.x0
            conf = (prev.confidence * w_prev + t.confidence * w_t) / (w_prev + w_t + gap)
            out[-1] = Trace(np.concatenate([prev.x, t.x]), np.concatenate([prev.y, t.y]), conf)
        else:
            out.append(t)
    return out


def _assign(panels: list[_Panel], labels, speed: float, notes: list[str]):
    """Lead names (printed labels, else the standard layout) and start times per panel."""
    # printed lead names ('aVR', 'Lead II'); a bare number is a time tick, not lead '1'
    lead_labels = [(name, x, y) for name, x, y in
                   ((normalize_lead_name(s), x, y) for s, x, y in labels if not s.isdigit())
                   if name in STANDARD_LEADS]
    rows = sorted({p.row for p in panels})
    by_row = {r: sorted([p for p in panels if p.row == r], key=lambda p: p.trace.x0) for r in rows}
    if lead_labels:
        layout_name = "labelled"
        # a raster-like row drawn as one line holding several labels is split at them
        split = []
        for r in rows:
            for p in by_row[r]:
                inside = sorted(x for s, x, y in lead_labels
                                if p.trace.x0 + 5 < x < p.trace.x1 - 5
                                and 0 < p.trace.level - y < 35)
                if not inside:
                    split.append(p)
                    continue
                edges = [p.trace.x0] + inside + [p.trace.x1 + 1]
                for a, b in zip(edges[:-1], edges[1:]):
                    s = (p.trace.x >= a - 1.5) & (p.trace.x < b - 1.5)
                    if s.sum() > 4:
                        split.append(_Panel(Trace(p.trace.x[s], p.trace.y[s],
                                                  p.trace.confidence), r))
        panels = split
        by_row = {r: sorted([p for p in panels if p.row == r], key=lambda p: p.trace.x0)
                  for r in rows}
        for p in panels:
            # the label printed nearest above the panel's start: its own (a row's labels
            # stand below the row above's traces, however tall a page draws its rows)
            cands = [(p.trace.level - y, abs(x - p.trace.x0), s) for s, x, y in lead_labels
                     if -10 <= x - p.trace.x0 <= 20 and p.trace.level - y >= -3]
            if cands:
                p.lead = min(cands)[2]
    else:
        layout_name = _standard_names(by_row, rows, notes, speed)
    # consecutive time within each row (standard formats); simultaneity is tested later
    by_lead: dict[str, _Panel] = {}
    for r in rows:
        prev = None
        for p in by_row[r]:
            if prev is None:
                p.t0 = p.t0 or 0.0
            elif abs(p.trace.x0 - prev.trace.x1) < 2.0:  # drawn on: one time axis
                p.t0 = prev.t0 + (p.trace.x0 - prev.trace.x0) / speed
            else:  # panels apart: the next column of time; printed panels last whole
                # tenths of a second (2.5 s in 3x4), the drawn width is a line width short
                p.t0 = prev.t0 + round((prev.trace.x1 - prev.trace.x0) / speed * 10) / 10
            prev = p
            if p.lead is None:
                continue
            old = by_lead.get(p.lead)
            if old is None or (p.trace.x1 - p.trace.x0) > (old.trace.x1 - old.trace.x0):
                by_lead[p.lead] = p  # a lead printed twice: the longer strip
    if lead_labels:
        n_cols = max(len(v) for v in by_row.values())
        layout_name = f"{len(rows)} rows, up to {n_cols} panels per row (labels read)"
    return layout_name, by_lead


def _standard_names(by_row: dict[int, list[_Panel]], rows: list[int], notes,
                    speed: float) -> str:
    """Name panels by the standard layouts when the page has no readable labels: 3x4 (with
    0-3 rhythm strips below), 6x2 and 12x1 (Kligfield 2007 formats)."""
    widths = {r: by_row[r][-1].trace.x1 - by_row[r][0].trace.x0 for r in rows}
    full = max(widths.values())
    multi = [r for r in rows if len(by_row[r]) > 1]
    if len(rows) >= 3 and all(len(by_row[r]) == 1 for r in rows[:3]) and len(rows) <= 6 \
            and all(abs(widths[r] - full) < 0.1 * full for r in rows):
        # rows drawn as one continuous line: the first three are 3x4 rows of four 2.5-s
        # columns, anchored at the row's end (its start may carry the calibration pulse's
        # flat tail); every row starts at the same time, the x of t = 0
        col = 2.5 * speed
        x_start = float(np.median([by_row[r][0].trace.x1 - 4 * col for r in rows[:3]]))
        for r in rows:
            t = by_row[r][0].trace
            s = t.x >= x_start - 0.05
            by_row[r] = [_Panel(Trace(t.x[s], t.y[s], t.confidence), r)]
        for r in rows[:3]:
            t = by_row[r][0].trace
            pieces = []
            for c in range(4):
                s = (t.x >= x_start + c * col) & (t.x < x_start + (c + 1) * col)
                pieces.append(_Panel(Trace(t.x[s], t.y[s], t.confidence), r,
                                     _STANDARD_3X4[r][c], t0=c * 2.5))
            by_row[r] = pieces
        multi = rows[:3]
    if len(multi) == 3 and all(len(by_row[r]) == 4 for r in multi) and multi == rows[:3]:
        for r, names in zip(multi, _STANDARD_3X4):
            for p, name in zip(by_row[r], names):
                p.lead = name
        extra = rows[3:]
        strips = {1: ("II",), 2: ("II", "V5"), 3: ("V1", "II", "V5")}.get(len(extra), ())
        for r, name in zip(extra, strips):
            by_row[r][0].lead = name
        notes.append("lead names from the standard 3x4 layout" +
                     (f" with rhythm strip(s) {', '.join(strips)}" if strips else "") +
                     " (labels not read from the image)")
        return "3x4" + (f" + {len(strips)} rhythm" if strips else "")
    if len(rows) == 6 and all(len(by_row[r]) == 2 for r in rows):
        for r in rows:
            by_row[r][0].lead = STANDARD_LEADS[r]
            by_row[r][1].lead = STANDARD_LEADS[6 + r]
        notes.append("lead names from the standard 6x2 layout (labels not read from the image)")
        return "6x2"
    if len(rows) == 12 and all(len(by_row[r]) == 1 for r in rows):
        for r in rows:
            by_row[r][0].lead = STANDARD_LEADS[r]
        notes.append("lead names from the standard 12x1 layout (labels not read from the image)")
        return "12x1"
    raise RecordError(f"page layout not recognised without lead labels: {len(rows)} rows with "
                      f"{[len(by_row[r]) for r in rows]} panels (3x4, 6x2 and 12x1 are known)")


def _activity(p: _Panel, speed: float, gain: float) -> np.ndarray:
    """|slope| of a panel on a 100-Hz grid, smoothed over 20 ms: where its QRS complexes are."""
    tr = p.trace
    t = (tr.x - tr.x0) / speed
    g = np.arange(0, t[-1], 0.01)
    v = np.interp(g, t, -tr.y / gain)
    a = np.abs(np.gradient(v))
    return np.convolve(a, np.ones(2) / 2, mode="same")


def _timing(by_lead: dict[str, _Panel], speed: float, gain: float) -> bool:
    """Whether the columns were printed simultaneously (each from t = 0) rather than one
    after the other. Sets ``t0``.

    A rhythm strip decides: columns that fill its duration one after the other are
    consecutive (the 3x4 + strip of every cart), columns each as long as it are
    simultaneous. Without a strip, simultaneous columns show the same beats at the same
    times: the first two columns' QRS activity coincides (a perfectly regular rhythm whose
    RR divides the column length cannot be told apart this way; it then makes no
    difference to the measurements)."""
    panels = list(by_lead.values())
    col0 = [p for p in panels if p.t0 == 0.0]
    later = [p for p in panels if p.t0 > 0.0]
    if not col0 or not later:
        return False
    dur = {id(p): (p.trace.x1 - p.trace.x0) / speed for p in panels}
    longest_later = max(dur[id(p)] for p in later)
    strips = [p for p in col0 if dur[id(p)] >= 1.5 * longest_later
              and not any(q.row == p.row and q is not p for q in panels)]
    if strips:
        return False  # later columns start within the strip's span: consecutive
    scores = []
    for p in later:
        ref = [q for q in col0 if q.row == p.row] or col0
        a, b = _activity(p, speed, gain), _activity(ref[0], speed, gain)
        m = min(len(a), len(b))
        if m < 100:
            continue
        a, b = a[:m] - a[:m].mean(), b[:m] - b[:m].mean()
        den = float(np.linalg.norm(a) * np.linalg.norm(b))
        if den > 0:
            scores.append(float(a @ b) / den)
    if scores and float(np.median(scores)) > 0.5:
        for p in later:
            p.t0 = 0.0
        return True
    return False
