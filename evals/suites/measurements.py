"""``eval measurements``: global PR, QRS and QT and the axis category against LUDB.

Data layout (LUDB, Kalyakulina et al., IEEE Access 8:186181, 2020): ``DIR/data/<name>.hea``
+ ``.dat`` with the 12 per-lead annotation files ``<name>.i`` ... ``<name>.v6``, and
``DIR/ludb.csv`` (diagnoses; optional here, needed for the axis categories). Any record
names and any subset of LUDB work.

Per record (:func:`evals.ludb_eval.record_result`, the code path of
``benchmarks.ludb_bench``): the reference of ``shared/design/MEASUREMENT.md``
(:func:`evals.ludb.reference_intervals`, trim 2), the engine's values exactly as
``ecg-assistant measure --json`` prints them, and optionally the NeuroKit2-alone baseline.

Scores (:func:`evals.scoring.interval_errors`; error = predicted - reference, ms): ``n``,
``missing``, ``extra``, ``mean_error_ms``, ``sd_error_ms``, ``median_abs_error_ms`` and
``within_tolerance``, the share of records with |error| <= the per-interval tolerance
(:data:`evals.scoring.RECORD_TOLERANCE_MS`: 10 ms PR and QRS, 25 ms QT). ``iec_style``
checks mean and SD against :data:`evals.scoring.IEC_STYLE_LIMITS_MS` (PR, QRS: |mean| <= 10,
SD <= 10 ms; QT: |mean| <= 25, SD <= 30 ms). These are the limits of the IEC 60601-2-25:2011
test of global interval measurement on the CSE biological ECGs (inherited from IEC
60601-2-51:2003) as we recall them: we could not check them against the standard's text
(not freely available; searches found only manufacturers' manuals that quote the test's
structure, mean and SD of differences on the CSE set, not its limits). They are applied to
LUDB with a derived reference, not to CSE, so they say nothing about conformity.

PTB-XL with a machine reference: when ``DIR`` holds ``ptbxl_database.csv`` (records via
``filename_hr``, 500 Hz preferred, :func:`evals.datasets.read_ptbxl`), ``--ptbxl-plus DIR``
names the PTB-XL+ folder and ``--reference 12sl|unig|ecgdeli`` (default 12sl) the
algorithm whose global measurements (:func:`evals.ptbxl_plus.read_features`) are the
reference. The engine call, the scoring (:func:`_errors`), the plots and the report are
the LUDB ones; HR (bpm) and QRS axis (degrees, difference wrapped to -180..180) errors are
added where the reference has them. The reference is another machine algorithm, not
cardiologists, so an error is a disagreement between two programs.
"""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from statistics import mean

from evals import ludb, scoring
from evals.suites import common

#: quantities scored beside the intervals on a machine reference: (key, unit, wrap at 360)
OTHER_QUANTITIES = (("hr_bpm", "bpm", False), ("qrs_axis_deg", "deg", True))

TOLERANCES = {k: {"per_record_ms": scoring.RECORD_TOLERANCE_MS[k],
                  "iec_style_mean_ms": scoring.IEC_STYLE_LIMITS_MS[k][0],
                  "iec_style_sd_ms": scoring.IEC_STYLE_LIMITS_MS[k][1]}
              for k in scoring.INTERVALS}
_EXPECTED = ("the LUDB layout: DIR/data/<name>.hea (+ .dat) with per-lead annotation files "
             "<name>.i, <name>.ii, ... <name>.v6, and DIR/ludb.csv")


def find_layout(data: Path) -> tuple[Path, Path | None]:
    """(folder of the records, ``ludb.csv`` or None) for an LUDB-style ``--data`` folder.

    ``DIR/data/*.hea`` is the layout; ``DIR/*.hea`` (the data folder itself) is accepted.
    Raises :class:`~evals.suites.common.LayoutError` naming the path and the layout expected.
    """
    if not Path(data).is_dir():
        raise common.LayoutError(f"--data {str(data)!r} is not a folder; expected {_EXPECTED}")
    given, data = str(data), Path(data).resolve()  # messages name the path as typed
    for rec_dir in (data / "data", data):
        heads = sorted(rec_dir.glob("*.hea")) if rec_dir.is_dir() else []
        annotated = [h for h in heads if h.with_suffix(".i").exists()
                     and h.with_suffix(".v6").exists()]
        if annotated:
            csv = next((p for p in (rec_dir.parent / "ludb.csv", rec_dir / "ludb.csv")
                        if p.exists()), None)
            return rec_dir, csv
    found = sorted(p.name for p in data.iterdir())[:8]
    raise common.LayoutError(f"--data {given!r} has no annotated LUDB records; expected "
                             f"{_EXPECTED}; found {found}")


def _work(path: Path, use_baseline: bool) -> dict:
    """One record's row for ``records.jsonl`` (no per-lead annotations: they stay in the
    dataset)."""
    r = ludb_result(path, use_baseline)
    row = {"record": r["record"], "ref": r["ref"], "ref_trim0": r["ref0"]}
    for m in ("engine", "baseline"):
        if m in r:
            row[m] = {k: v for k, v in r[m].items() if k != "delineation"}
    return row


def ludb_result(path: Path, use_baseline: bool) -> dict:
    from evals.ludb_eval import record_result

    return record_result(path, use_engine=True, use_baseline=use_baseline)


def _errors(rows: list[dict], method: str) -> dict:
    pred = {r["record"]: r[method] for r in rows if method in r}
    refs = {r["record"]: r["ref"] for r in rows}
    out = {}
    for k, v in scoring.interval_errors(pred, refs).items():
        lim_mean, lim_sd = scoring.IEC_STYLE_LIMITS_MS[k]
        out[k] = {"n": v["n"], "missing": v["missing"], "extra": v["extra"],
                  "mean_error_ms": v["mean_error_ms"], "sd_error_ms": v["sd_error_ms"],
                  "median_abs_error_ms": v["median_abs_error_ms"],
                  "within_tolerance": v["within_tol"], "tolerance_ms": v["tolerance_ms"],
                  "iec_style": {"mean_limit_ms": lim_mean, "sd_limit_ms": lim_sd,
                                "ok": v["iec_style_ok"]}}
    return out


def _axis(rows: list[dict], labels: dict | None) -> dict | None:
    """Axis category agreement with ludb.csv (paced and unstated excluded)."""
    if labels is None:
        return None
    from evals.ludb_eval import axis_category

    out = {}
    # the engine's axis, and (for comparison) the axis measured on the cardiologists' own QRS
    # boundaries: where both miss a category, the label convention is the cause
    for key, name, limit in (("axis", "left_below_-30deg", -30.0),
                             ("axis_below0", "left_below_0deg", 0.0),
                             ("ref", "reference_boundaries_left_below_-30deg", -30.0),
                             ("ref", "reference_boundaries_left_below_0deg", 0.0)):
        pairs = []
        for r in rows:
            lab = labels.get(r["record"])
            if lab is None or lab.paced or lab.axis is None or "engine" not in r:
                continue
            if key == "ref":
                ref = r["ref"].get("axis_deg")
                if ref is None:
                    continue
                pairs.append((lab.axis, axis_category(ref, (), limit)))
            else:
                pairs.append((lab.axis, r["engine"].get(key)))
        conf: dict[str, int] = {}
        for t, p in pairs:
            conf[f"{t}->{p}"] = conf.get(f"{t}->{p}", 0) + 1
        agree = sum(t == p for t, p in pairs)
        out[name] = {"n": len(pairs), "agree": agree,
                     "agreement": agree / len(pairs) if pairs else None, "confusion": conf}
    return out


def _axis_error(rows: list[dict]) -> dict:
    """The engine's QRS axis minus the axis measured on the cardiologists' QRS boundaries
    (:func:`evals.ludb_eval.reference_axis`), in degrees wrapped to -180..180."""
    from statistics import median

    errs = [((r["engine"]["axis_deg"] - r["ref"]["axis_deg"]) + 180.0) % 360.0 - 180.0
            for r in rows if (r.get("engine") or {}).get("axis_deg") is not None
            and r["ref"].get("axis_deg") is not None]
    return {"n": len(errs), "median_abs_error_deg": median(abs(e) for e in errs)
            if errs else None,
            "within_15deg": sum(abs(e) <= 15 for e in errs) / len(errs) if errs else None}


def summarize(rows: list[dict], labels: dict | None, config: dict) -> dict:
    """summary.json: per interval the engine's scores at the top level, the baseline's under
    ``baseline_neurokit2``, reference medians, axis agreement, subsets and config."""
    summary: dict = dict(_errors(rows, "engine"))
    if any("baseline" in r for r in rows):
        summary["baseline_neurokit2"] = _errors(rows, "baseline")
    summary["reference"] = _reference_medians(rows)
    summary["reference_rule"] = ("shared/design/MEASUREMENT.md via "
                                 "evals.ludb.reference_intervals (trim 2)")
    summary["vs_trim0_reference"] = scoring.interval_errors(
        {r["record"]: r["engine"] for r in rows}, {r["record"]: r["ref_trim0"] for r in rows})
    summary["axis_category"] = _axis(rows, labels)
    summary["axis_vs_reference_boundaries"] = _axis_error(rows)
    held = [r for r in rows if r["record"] in ludb.HELD_OUT]
    if held:  # only meaningful for our LUDB half: openecg never trained on these records
        summary["subsets"] = {"openecg_held_out": {"records": [r["record"] for r in held],
                                                   **_errors(held, "engine")}}
    summary.update(_tail(rows, config))
    return summary


def _tail(rows: list[dict], config: dict) -> dict:
    """The summary keys every reference shares: engine time, failures, tolerances, size."""
    secs = [r["engine"]["seconds"] for r in rows if r.get("engine")]
    return {"engine_seconds_mean": mean(secs) if secs else None,
            "failures": {str(r["record"]): r["engine"]["error"] for r in rows
                         if (r.get("engine") or {}).get("error")},
            "tolerances": TOLERANCES, "n_records": len(rows), "config": config}


def _reference_medians(rows: list[dict]) -> dict:
    return {k: {"median_ms": _median([r["ref"][k] for r in rows]),
                "n": sum(r["ref"][k] is not None for r in rows)} for k in scoring.INTERVALS}


def _other_errors(rows: list[dict], method: str) -> dict:
    """HR and QRS axis errors (method - reference) in their units, counted like
    :func:`evals.scoring.interval_errors` (``n``, ``missing``, ``extra``); no tolerance."""
    from statistics import median, stdev

    out = {}
    for key, unit, wrap in OTHER_QUANTITIES:
        errors, missing, extra = [], 0, 0
        for r in rows:
            ref = scoring._num(r["ref"].get(key))
            pred = scoring._num((r.get(method) or {}).get(key))
            if ref is None:
                extra += pred is not None
            elif pred is None:
                missing += 1
            else:
                e = pred - ref
                errors.append((e + 180.0) % 360.0 - 180.0 if wrap else e)
        out[key] = {"n": len(errors), "missing": missing, "extra": extra,
                    f"mean_error_{unit}": mean(errors) if errors else None,
                    f"sd_error_{unit}": stdev(errors) if len(errors) > 1 else None,
                    f"median_abs_error_{unit}": median(abs(e) for e in errors) if errors
                    else None}
    return out


def summarize_machine(rows: list[dict], source: str, config: dict) -> dict:
    """summary.json against a PTB-XL+ machine reference: the LUDB keys per interval (engine
    at the top level, ``baseline_neurokit2``), ``hr_bpm`` and ``qrs_axis_deg`` errors where
    the reference has them (the baseline measures neither), and the reference named."""
    from evals.ptbxl_plus import FILES, NAMES

    summary: dict = dict(_errors(rows, "engine"))
    summary.update(_other_errors(rows, "engine"))
    if any("baseline" in r for r in rows):
        summary["baseline_neurokit2"] = _errors(rows, "baseline")
    summary["reference"] = _reference_medians(rows)
    for k in scoring.INTERVALS:  # empty / NaN cells: not scored (``extra`` if we measured)
        summary["reference"][k]["missing"] = len(rows) - summary["reference"][k]["n"]
    summary["reference_source"] = source
    summary["reference_rule"] = (f"PTB-XL+ features/{FILES[source]}: {NAMES[source]} "
                                 "global measurements, another machine algorithm, not "
                                 "cardiologists")
    summary.update(_tail(rows, config))
    return summary


def _median(vals):
    from statistics import median

    vals = [v for v in vals if v is not None]
    return median(vals) if vals else None


def _pairs(rows: list[dict], method: str, k: str) -> list[tuple[float, float]]:
    """(reference, method value) of interval ``k`` where both exist."""
    return [(r["ref"][k], r[method][k]) for r in rows
            if method in r and r[method].get(k) is not None and r["ref"][k] is not None]


def plots(out: Path, rows: list[dict]) -> list[Path]:
    """Bland-Altman (mean of reference and method vs difference, mean and +-1.96 SD lines)
    and error histograms, per interval, engine and baseline."""
    plt = common.pyplot()
    methods = [m for m in ("engine", "baseline") if any(m in r for r in rows)]
    names = {"engine": "engine", "baseline": "neurokit2 alone"}
    paths = []
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, k in zip(axes, scoring.INTERVALS):
        for m in methods:
            pts = [((v + ref) / 2, v - ref) for ref, v in _pairs(rows, m, k)]
            if not pts:
                continue
            xs, ds = zip(*pts)
            sc = ax.scatter(xs, ds, s=12, alpha=0.7, label=names[m])
            md = mean(ds)
            sd = (sum((d - md) ** 2 for d in ds) / (len(ds) - 1)) ** 0.5 if len(ds) > 1 else 0
            for y, ls in ((md, "-"), (md + 1.96 * sd, "--"), (md - 1.96 * sd, "--")):
                ax.axhline(y, color=sc.get_facecolor()[0], ls=ls, lw=0.8)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"{k}: Bland-Altman")
        ax.set_xlabel("mean of reference and method (ms)")
        ax.set_ylabel("method - reference (ms)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "measurements_bland_altman.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, k in zip(axes, scoring.INTERVALS):
        for m in methods:
            es = [v - ref for ref, v in _pairs(rows, m, k)]
            if es:
                ax.hist(es, bins=30, alpha=0.6, label=names[m])
        tol = scoring.RECORD_TOLERANCE_MS[k]
        for x in (-tol, tol):
            ax.axvline(x, color="k", ls=":", lw=0.8)
        ax.set_title(f"{k}: error (tolerance +-{tol:g} ms dotted)")
        ax.set_xlabel("method - reference (ms)")
        ax.set_ylabel("records")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "measurements_error_hist.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def report(summary: dict, figures: list[Path]) -> str:
    """report.md."""
    rows = []
    for k in scoring.INTERVALS:
        e = summary[k]
        b = (summary.get("baseline_neurokit2") or {}).get(k) or {}
        rows.append([k, e["n"], e["missing"], e["mean_error_ms"], e["sd_error_ms"],
                     e["median_abs_error_ms"], e["within_tolerance"], e["tolerance_ms"],
                     e["iec_style"]["ok"], b.get("median_abs_error_ms"),
                     b.get("within_tolerance")])
    machine = summary.get("reference_source")
    data = "PTB-XL" if machine else "LUDB"
    lines = [f"# Measurements: {summary['n_records']} {data} records", ""]
    if machine:
        from evals.ptbxl_plus import NAMES

        ref = summary["reference"]
        lines += [f"**The reference is another machine algorithm ({NAMES[machine]}, PTB-XL+), "
                  "not cardiologists**: an error here is the disagreement between the engine "
                  "and that program, not an error against a human reading.", "",
                  "Reference cells empty or NaN (not scored; counted as `extra` where the "
                  "engine measured): " + ", ".join(f"{k} {ref[k]['missing']}"
                                                   for k in scoring.INTERVALS) + ".", ""]
    lines += [f"Reference: {summary['reference_rule']}. Error = method - reference (ms).", "",
             common.md_table(["interval", "n", "missing", "mean", "SD", "median abs",
                              "within tol", "tol ms", "IEC-style mean/SD", "neurokit2 median "
                              "abs", "neurokit2 within tol"], rows, 2), "",
             "IEC-style limits (|mean| / SD, ms): " + ", ".join(
                 f"{k} {v['iec_style_mean_ms']:g} / {v['iec_style_sd_ms']:g}"
                 for k, v in summary["tolerances"].items()) +
             f" (IEC 60601-2-25:2011 CSE test as recalled, unverified; {data} is not CSE).", ""]
    if machine:
        other = []
        for key, unit, _ in OTHER_QUANTITIES:
            e = summary[key]
            other.append([key, e["n"], e["missing"], e[f"mean_error_{unit}"],
                          e[f"sd_error_{unit}"], e[f"median_abs_error_{unit}"], unit])
        lines += [common.md_table(["quantity", "n", "missing", "mean", "SD", "median abs",
                                   "unit"], other, 1),
                  ""]
        if summary.get("baseline_neurokit2"):
            lines += ["neurokit2 alone measures no HR or axis here (intervals only).", ""]
    ax = summary.get("axis_category")
    if ax:
        for name, v in ax.items():
            lines.append(f"Axis category agreement ({name}): {v['agree']}/{v['n']} "
                         f"{v['confusion']}")
        lines.append("")
    ae = summary.get("axis_vs_reference_boundaries")
    if ae and ae["n"]:
        lines += [f"QRS axis vs the axis on the cardiologists' QRS boundaries: median |error| "
                  f"{ae['median_abs_error_deg']:.1f} deg, within 15 deg "
                  f"{ae['within_15deg']:.2f} (n {ae['n']})", ""]
    if summary.get("failures"):
        lines += [f"Failures: {summary['failures']}", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    """The ``eval measurements`` command: LUDB, or PTB-XL against a PTB-XL+ reference."""
    ptbxl_plus = getattr(args, "ptbxl_plus", None)
    source = getattr(args, "reference", None)
    if (Path(args.data) / "ptbxl_database.csv").is_file():
        return run_machine(args, ptbxl_plus, source or "12sl")
    if ptbxl_plus or source:
        raise common.LayoutError(
            f"--ptbxl-plus / --reference apply to a PTB-XL folder (DIR/ptbxl_database.csv); "
            f"--data {str(args.data)!r} has none")
    rec_dir, csv_path = find_layout(Path(args.data))
    heads = sorted(rec_dir.glob("*.hea"), key=lambda p: (not p.stem.isdigit(),
                                                         int(p.stem) if p.stem.isdigit() else 0,
                                                         p.stem))
    heads = [h for h in heads if h.with_suffix(".i").exists()]
    if args.limit:
        heads = heads[:args.limit]
    labels = None
    if csv_path is not None:
        labels = ludb.read_labels(csv_path)
    else:
        print(f"note: no ludb.csv beside {str(rec_dir)!r}: axis categories not scored",
              file=sys.stderr)
    use_baseline = not args.no_baseline
    config = {"suite": "measurements", "data": str(Path(args.data).resolve()),
              "baseline": use_baseline}
    log = common.ResultLog(Path(args.out), resume=args.resume, config=config)
    paths = [h.with_suffix("") for h in heads]
    common.run_items(paths, key=lambda p: p.name, work=partial(_work, use_baseline=use_baseline),
                     log=log, jobs=args.jobs, label=lambda p: p.name, runner=args.runner)
    rows = [log.rows[p.name] for p in paths if p.name in log.rows]
    out = Path(args.out)
    summary = summarize(rows, labels, config)
    figures = plots(out, rows)
    common.write_outputs(out, summary, rows, report(summary, figures))
    _finish(out, summary, rows)
    return 0


def _finish(out: Path, summary: dict, rows: list[dict]) -> None:
    if summary["failures"]:
        print(f"warning: the engine failed on {len(summary['failures'])} records (see "
              f"summary.json 'failures'), e.g. {next(iter(summary['failures'].values()))}",
              file=sys.stderr)
    q = summary["qrs_ms"]
    print(f"measurements: {len(rows)} records; QRS median |error| "
          f"{common.fmt(q['median_abs_error_ms'])} ms; wrote {out / 'summary.json'}")


def run_machine(args, ptbxl_plus: str | None, source: str) -> int:
    """PTB-XL records (``filename_hr`` preferred) scored against PTB-XL+ ``source``."""
    from evals import datasets, ptbxl_plus as plus

    data = Path(args.data).resolve()
    if not ptbxl_plus:
        raise common.LayoutError(
            f"--data {str(args.data)!r} is a PTB-XL folder (ptbxl_database.csv): PTB-XL has "
            "no interval annotations, so scoring needs a machine reference: --ptbxl-plus DIR "
            f"(the PTB-XL+ folder holding features/{plus.FILES[source]}) and --reference "
            "12sl|unig|ecgdeli (default 12sl)")
    refs = plus.read_features(ptbxl_plus, source)
    recs = sorted(datasets.read_ptbxl(data), key=lambda r: r.ecg_id)
    unref = [r.ecg_id for r in recs if r.ecg_id not in refs]
    if unref:
        print(f"note: {len(unref)} records have no {source} row in PTB-XL+ and are not "
              f"scored, e.g. ecg_id {unref[:5]}", file=sys.stderr)
    recs = [r for r in recs if r.ecg_id in refs]
    if not recs:
        raise common.LayoutError(f"none of the PTB-XL records in {str(data)!r} has a row in "
                                 f"{str(plus.feature_file(ptbxl_plus, source))!r}")
    if args.limit:
        recs = recs[:args.limit]
    use_baseline = not args.no_baseline
    config = {"suite": "measurements", "data": str(data), "baseline": use_baseline,
              "reference": source, "ptbxl_plus": str(Path(ptbxl_plus).resolve())}
    log = common.ResultLog(Path(args.out), resume=args.resume, config=config)
    items = [(r.ecg_id, r.path, refs[r.ecg_id]) for r in recs]
    common.run_items(items, key=lambda it: it[0],
                     work=partial(plus.record_result, use_baseline=use_baseline), log=log,
                     jobs=args.jobs, label=lambda it: f"{it[0]} ({it[1].name})",
                     runner=args.runner)
    rows = [log.rows[str(it[0])] for it in items if str(it[0]) in log.rows]
    out = Path(args.out)
    summary = summarize_machine(rows, source, config)
    figures = plots(out, rows)
    common.write_outputs(out, summary, rows, report(summary, figures))
    _finish(out, summary, rows)
    return 0
