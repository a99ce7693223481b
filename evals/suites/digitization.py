"""``eval digitization``: records printed as pages, digitised back, scored against the signal.

For each record of ``--data`` every page of ``--pages`` (:data:`evals.digitization.PAGES`:
this project's 3x4 page and ecg_plot's 6x2 / 3x4 / 12x1, as vector PDF and 150-dpi PNG) and
every degradation of ``--degrade`` applied to this project's PNG (rotation, blur, JPEG,
noise, uneven lighting, all of them as a 'photo') is digitised by :mod:`tools.paper` and
compared with the recording: per-lead correlation and SNR over each lead's printed window
(:func:`evals.digitization.compare`), and the engine's heart rate, PR, QRS, QT, rhythm
statement and statement set on the digitised record against those on the recording.
A page that cannot be digitised is a failure, counted, with its message.
"""
from __future__ import annotations

import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from evals import datasets
from evals.suites import common
from tools.statements import RHYTHM_IDS

INTERVALS = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms")
#: agreement limits reported: heart rate and QRS as in issue 16's check; PR and QT at the
#: CSE inter-observer scale (Willems et al. 1985: about 10 ms PR, 30 ms QT)
LIMITS = {"hr_bpm": 3.0, "pr_ms": 20.0, "qrs_ms": 12.0, "qt_ms": 30.0}


def _engine(record) -> dict:
    from tools.engine import analyze

    d = analyze(record).to_dict()
    m = d["measurements"]
    return {"values": {k: (m.get(k) or {}).get("value") for k in INTERVALS},
            "statements": sorted(s["id"] for s in d["statements"]),
            "usable": d["quality"]["usable_leads"]}


def _work(item, pages: tuple[str, ...], degrade: tuple[str, ...]) -> dict:
    from evals.digitization import compare, degrade as make_degraded, render_page
    from tools.record import load_record

    original = load_record(item.path)
    original = original if original.duration_s <= 10.0 + 1e-6 else _first_10s(original)
    ref = _engine(original)
    out = {"record": item.key, "reference": ref, "pages": {}}
    with tempfile.TemporaryDirectory(prefix="ecg-pages-") as tmp:
        tmp = Path(tmp)
        files = {}
        for name in pages:
            try:
                files[name] = render_page(original, tmp / name.replace(".", "_"), name)
            except Exception as exc:  # noqa: BLE001 - reported per page
                out["pages"][name] = {"error": f"render: {type(exc).__name__}: {exc}"}
        base = files.get("ours-3x4.png")
        for how in degrade:
            if base is not None:
                files[f"ours-3x4.png+{how}"] = make_degraded(base, tmp / f"deg_{how}.png", how)
        for name, path in files.items():
            t0 = time.perf_counter()
            try:
                rec = load_record(path)
            except Exception as exc:  # noqa: BLE001 - a page that cannot be digitised
                out["pages"][name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                continue
            secs = time.perf_counter() - t0
            cmp = compare(rec, original)
            try:
                got = _engine(rec)
            except Exception as exc:  # noqa: BLE001 - an engine failure is a finding
                out["pages"][name] = {"error": f"engine: {type(exc).__name__}: {exc}"[:300]}
                continue
            out["pages"][name] = {
                "seconds": round(secs, 2), "layout": rec.digitized.get("layout"),
                "compare": cmp, "engine": got,
                "diff": {k: (None if got["values"][k] is None or ref["values"][k] is None
                             else round(got["values"][k] - ref["values"][k], 1))
                         for k in INTERVALS}}
    return out


def _first_10s(record):
    from dataclasses import replace

    return replace(record, signal=record.signal[: int(round(10 * record.fs))])


def _source(key: str, fmt: str) -> str:
    if fmt == "ludb":
        return "LUDB"
    from evals.challenge import source_of

    return source_of(key)


def summarize(rows: list[dict], fmt: str, config: dict) -> dict:
    names = sorted({n for r in rows for n in r["pages"]})
    per_page = {}
    for name in names:
        entries = [(r, r["pages"][name]) for r in rows if name in r["pages"]]
        ok = [(r, p) for r, p in entries if "error" not in p]
        corr = [v["corr"] for _, p in ok for v in p["compare"]["leads"].values()
                if v["corr"] is not None]
        snr = [v["snr_db"] for _, p in ok for v in p["compare"]["leads"].values()
               if v["snr_db"] is not None]
        rec_corr = [float(np.median([v["corr"] for v in p["compare"]["leads"].values()
                                     if v["corr"] is not None] or [np.nan])) for _, p in ok]
        s = {"records": len(entries), "digitised": len(ok),
             "failures": {r["record"]: p["error"] for r, p in entries if "error" in p},
             "median_lead_corr": _med(corr), "median_lead_snr_db": _med(snr),
             "records_median_corr_ge_0.99": _share([c >= 0.99 for c in rec_corr]),
             "records_median_corr_ge_0.90": _share([c >= 0.90 for c in rec_corr]),
             "leads_missing_mean": _med([len(p["compare"]["missing"]) for _, p in ok]),
             "seconds_median": _med([p["seconds"] for _, p in ok])}
        for k in INTERVALS:
            d = [abs(p["diff"][k]) for _, p in ok if p["diff"][k] is not None]
            s[f"{k}_median_abs_diff"] = _med(d)
            s[f"{k}_within_{LIMITS[k]:g}"] = _share([v <= LIMITS[k] for v in d])
        s["same_rhythm"] = _share([set(p["engine"]["statements"]) & RHYTHM_IDS ==
                                   set(r["reference"]["statements"]) & RHYTHM_IDS for r, p in ok])
        s["same_statements"] = _share([p["engine"]["statements"] == r["reference"]["statements"]
                                       for r, p in ok])
        by_src: dict[str, list] = {}
        for r, p in ok:
            by_src.setdefault(_source(r["record"], fmt), []).append((r, p))
        s["per_source"] = {src: {
            "records": len(v),
            "median_lead_corr": _med([c["corr"] for _, p in v
                                      for c in p["compare"]["leads"].values()
                                      if c["corr"] is not None]),
            "hr_within_3": _share([p["diff"]["hr_bpm"] is not None
                                   and abs(p["diff"]["hr_bpm"]) <= 3 for _, p in v]),
            "qrs_within_12": _share([p["diff"]["qrs_ms"] is not None
                                     and abs(p["diff"]["qrs_ms"]) <= 12 for _, p in v]),
            "same_rhythm": _share([set(p["engine"]["statements"]) & RHYTHM_IDS ==
                                   set(r["reference"]["statements"]) & RHYTHM_IDS
                                   for r, p in v])} for src, v in sorted(by_src.items())}
        per_page[name] = s
    return {"format": fmt, "n_records": len(rows), "pages": per_page, "config": config}


def _med(v):
    v = [x for x in v if x is not None and np.isfinite(x)]
    return round(float(np.median(v)), 4) if v else None


def _share(v):
    return round(float(np.mean(v)), 3) if v else None


def report(summary: dict) -> str:
    rows = []
    for name, s in summary["pages"].items():
        rows.append([name, f"{s['digitised']}/{s['records']}", s["median_lead_corr"],
                     s["median_lead_snr_db"], s["records_median_corr_ge_0.99"],
                     s["hr_bpm_within_3"], s["qrs_ms_median_abs_diff"], s["qrs_ms_within_12"],
                     s["pr_ms_within_20"], s["qt_ms_within_30"], s["same_rhythm"],
                     s["same_statements"], s["seconds_median"]])
    lines = [f"# Digitisation: {summary['n_records']} {summary['format']} records", "",
             "Per page kind: digitised/records; median per-lead correlation and SNR (dB) over "
             "each lead's printed window; share of records whose median lead correlation is "
             ">= 0.99; engine on the digitised record vs on the recording: share with heart "
             "rate within 3 bpm, median |QRS difference| (ms), shares within 12 ms QRS, 20 ms "
             "PR, 30 ms QT, same rhythm statement, same statement set; median seconds to "
             "digitise.", "",
             common.md_table(["page", "ok", "corr", "SNR dB", "corr>=0.99", "HR<=3",
                              "|dQRS|", "QRS<=12", "PR<=20", "QT<=30", "rhythm", "all",
                              "s"], rows, 3), ""]
    for name, s in summary["pages"].items():
        if s["failures"]:
            lines.append(f"- {name}: failed on " + "; ".join(
                f"{k}: {v}" for k, v in list(s["failures"].items())[:5]))
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from evals.digitization import DEGRADATIONS, PAGES

    fmt, items = datasets.read_records(Path(args.data), args.format)
    if args.limit:
        items = items[:args.limit]
    pages = tuple(args.pages or PAGES)
    degrade = tuple(DEGRADATIONS if args.degrade is None else args.degrade)
    bad = [p for p in pages if p not in PAGES] + [d for d in degrade if d not in DEGRADATIONS]
    if bad:
        raise common.LayoutError(f"unknown page/degradation {bad}; pages: {', '.join(PAGES)}; "
                                 f"degradations: {', '.join(DEGRADATIONS)}")
    config = {"suite": "digitization", "data": str(Path(args.data).resolve()), "format": fmt,
              "pages": pages, "degrade": degrade}
    log = common.ResultLog(Path(args.out), resume=args.resume, config=config)
    common.run_items(items, key=lambda it: it.key,
                     work=partial(_work, pages=pages, degrade=degrade), log=log,
                     jobs=args.jobs, label=lambda it: it.key, runner=args.runner)
    rows = [log.rows[it.key] for it in items if it.key in log.rows]
    summary = summarize(rows, fmt, config)
    common.write_outputs(Path(args.out), summary, rows, report(summary))
    print(f"digitization: {len(rows)} {fmt} records; wrote {Path(args.out) / 'summary.json'}")
    for name, s in summary["pages"].items():
        print(f"  {name}: {s['digitised']}/{s['records']} digitised, lead corr "
              f"{common.fmt(s['median_lead_corr'], 3)}, SNR {common.fmt(s['median_lead_snr_db'])} "
              f"dB, HR<=3 bpm {common.fmt(s['hr_bpm_within_3'], 2)}, QRS<=12 ms "
              f"{common.fmt(s['qrs_ms_within_12'], 2)}, same rhythm "
              f"{common.fmt(s['same_rhythm'], 2)}")
    return 0
