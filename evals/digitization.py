"""Pages to digitise and how to score them (``eval digitization``, tests/test_paper.py).

:func:`render_page` prints a record as a page: ``ours-3x4`` is this project's renderer
(tools.render: 3x4 + lead II rhythm strip, pink grid, one continuous line per row),
``ecg_plot-6x2`` / ``ecg_plot-3x4`` / ``ecg_plot-12x1`` are ecg_plot's (MIT; an independent
program: a grid per panel, panels apart, lead names above, its own colours and line width),
each as ``.pdf`` (vector) or ``.png`` (150 dpi). :func:`degrade` makes a scan or photo of a
PNG: rotation, blur, JPEG compression, noise, uneven lighting.

:func:`compare` scores a digitised record against the signal it was printed from, lead by
lead over the window each lead was printed in, after the one time shift common to all
leads that fits best (the page's origin and line width; at most 100 ms): Pearson
correlation and SNR = 10 log10(sum x^2 / sum (x - x_hat)^2) with each lead's mean removed
(a page carries no DC level), the PhysioNet/CinC Challenge 2024 digitisation metric.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.record import Record

PAGES = ("ours-3x4.pdf", "ours-3x4.png", "ecg_plot-6x2.pdf", "ecg_plot-6x2.png",
         "ecg_plot-3x4.pdf", "ecg_plot-3x4.png", "ecg_plot-12x1.pdf")
DEGRADATIONS = ("rotate2", "blur", "jpeg", "noise", "lighting", "photo")
DPI = 150


def render_page(record: Record, out_stem: Path, name: str) -> Path:
    """Print ``record`` (its first 10 s) as page ``name`` (one of :data:`PAGES`) at
    ``out_stem`` + the page's extension; returns the file."""
    kind, ext = name.rsplit(".", 1)
    renderer, layout = kind.split("-", 1)
    out = Path(f"{out_stem}.{ext}")
    if renderer == "ours":
        from tools.render import render_ecg_page

        # drawn unfiltered: the score then measures the digitiser, not the print filter
        render_ecg_page(record, None, out, dpi=DPI, display_filter="none")
        return out
    import ecg_plot

    n = min(record.n_samples, int(10 * record.fs))
    x = np.nan_to_num(record.signal[:n].T)
    opts = {"6x2": dict(layout="columns", columns=2),
            "3x4": dict(layout="12lead", time_mode="sequential", rhythm_lead="II"),
            "12x1": dict(layout="stacked")}[layout]
    chart = ecg_plot.plot(x, sample_rate=float(record.fs), lead_names=list(record.sig_name),
                          title="", **opts)
    fig, _ = chart.to_matplotlib()
    fig.savefig(out, dpi=DPI)
    return out


def degrade(png: Path, out: Path, how: str, seed: int = 0) -> Path:
    """A scanned/photographed version of a page image."""
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    with Image.open(png) as im:
        im = im.convert("RGB")
    if how in ("rotate2", "photo"):
        im = im.rotate(2.0 if how == "rotate2" else -1.5, resample=Image.BICUBIC, expand=True,
                       fillcolor="white")
    if how in ("blur", "photo"):
        im = im.filter(ImageFilter.GaussianBlur(0.8))
    if how in ("noise", "lighting", "photo"):
        a = np.asarray(im, dtype=np.float32)
        if how in ("lighting", "photo"):
            h, w = a.shape[:2]
            yy, xx = np.mgrid[0:h, 0:w]
            shade = 0.75 + 0.25 * np.cos((xx / w - 0.3) * np.pi) * np.cos((yy / h - 0.6) * 1.5)
            a = a * shade[..., None]
        if how in ("noise", "photo"):
            a = a + rng.normal(0, 8.0, a.shape)
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if how in ("jpeg", "photo"):
        out = out.with_suffix(".jpg")
        im.save(out, quality=60)
    else:
        im.save(out)
    return out


def compare(digitised: Record, original: Record, max_shift_s: float = 0.1) -> dict:
    """Per-lead correlation and SNR (dB) of ``digitised`` against ``original`` over each
    lead's printed window, at the common time shift that fits best; missing leads listed."""
    fs = float(original.fs)
    step = fs / float(digitised.fs)
    leads = [lead for lead in digitised.sig_name if original.has(lead)]

    def pairs(lead: str, shift: int):
        x = digitised.lead(lead)
        idx = np.flatnonzero(np.isfinite(x))
        src = np.round(idx * step).astype(int) + shift
        ok = (src >= 0) & (src < original.n_samples)
        return x[idx[ok]], original.lead(lead)[src[ok]]

    max_shift = int(round(max_shift_s * fs))
    best, best_score = 0, -np.inf
    for shift in range(-max_shift, max_shift + 1):
        cs = []
        for lead in leads:
            a, b = pairs(lead, shift)
            if a.size > 10 and np.std(a) > 0 and np.std(b) > 0:
                cs.append(np.corrcoef(a, b)[0, 1])
        if cs and np.mean(cs) > best_score:
            best, best_score = shift, float(np.mean(cs))
    per = {}
    for lead in leads:
        a, b = pairs(lead, best)
        if a.size <= 10:
            continue
        a, b = a - a.mean(), b - b.mean()
        err = float(np.sum((a - b) ** 2))
        per[lead] = {"corr": float(np.corrcoef(a, b)[0, 1]) if np.std(a) and np.std(b) else None,
                     "snr_db": float(10 * np.log10(np.sum(b ** 2) / err)) if err > 0 else None,
                     "seconds": round(a.size / float(digitised.fs), 2)}
    return {"shift_ms": round(best * 1000.0 / fs, 1), "leads": per,
            "missing": [lead for lead in original.sig_name if lead not in per]}
