"""``eval statements``: the engine's diagnostic statements against dataset labels.

Readers and the SNOMED mapping: :mod:`evals.datasets`; classes, equivalences and scoring:
:mod:`evals.labels` (the code of ``benchmarks.cinc_bench``). Per class (those the format's
labels can judge, :func:`evals.datasets.classes_for`): support, TP/FP/FN, ignored
(predictions on records with only a broader reference code), precision, recall, F1; macro F1
over the classes with a reference positive.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from evals import datasets, records
from evals import labels as L
from evals.suites import common


def _work(item: datasets.LabelledRecord) -> dict:
    import time

    t0 = time.perf_counter()
    d = records.engine_dict(item.path)
    codes = records.statement_codes(d)
    ids = {s["id"] for s in d.get("statements") or () if s.get("id")}
    pred = codes | ids  # classes match SNOMED codes or, where SNOMED is silent, statement ids
    return {"record": item.key, "path": str(item.path), "error": d.get("error"),
            "truth": sorted(item.truth), "predicted": sorted(pred),
            "predicted_codes": sorted(codes),
            "truth_classes": sorted(L.to_classes(item.truth)),
            "predicted_classes": sorted(L.to_classes(pred)),
            # each statement's confidence, for the reliability table (summarize)
            "statements": [{"id": s.get("id"), "snomed": s.get("snomed"),
                            "confidence": s.get("confidence")}
                           for s in d.get("statements") or () if s.get("confidence") is not None],
            "seconds": time.perf_counter() - t0}


def _scores(rows: list[dict], fmt: str) -> tuple[dict, dict, dict]:
    keys = datasets.classes_for(fmt)
    classes = [L.CLASS_BY_KEY[k] for k in keys]
    scores = L.score_classes({r["record"]: r["predicted"] for r in rows},
                             {r["record"]: r["truth"] for r in rows}, classes)
    # SNOMED-labelled files (the 'files' layout, e.g. CinC records converted to DICOM) are
    # scored like the CinC records they usually are
    macro_keys = L.CINC_MACRO_CLASSES if fmt in ("cinc", "files") else keys
    return scores, L.macro_f1(scores, macro_keys), L.macro_f1(scores, keys)


def _vt_flags(rows: list[dict]) -> dict:
    """VT flagged (VT, wide-complex tachycardia or a ventricular run) on VT-labelled records,
    and false flags on the others."""
    vt = L.CLASS_BY_KEY["vt"]
    pos = [r for r in rows if vt.codes & set(r["truth"])]
    neg = [r for r in rows if not vt.codes & set(r["truth"])]
    flagged = (lambda r: bool(vt.codes & set(r["predicted"])))
    return {"vt_records": len(pos), "flagged": sum(map(flagged, pos)),
            "other_records": len(neg), "false_flags": sum(map(flagged, neg)),
            "false_flag_records": [r["record"] for r in neg if flagged(r)]}


#: the Q-wave territories (tools.statements.TERRITORIES) that can show a scar of each LUDB
#: wall, after Bayes de Luna et al., Circulation 114:1755, 2006 (walls by cardiac MRI): septal
#: Q in V1-V2; anterior (mid-anterior) Q in aVL/I, sometimes V2-V3; apical Q in V1-V2 up to
#: V4-V6; lateral Q in I, aVL, V5-V6; inferior Q in II, III, aVF; posterior (inferobasal)
#: gives no Q wave in the 12 leads (a tall R in V1), so no Q statement can find it.
SCAR_WALL_TERRITORIES = {
    "septal": ("s:q_anterior",), "anterior": ("s:q_anterior", "s:q_lateral"),
    "apical": ("s:q_anterior", "s:q_lateral"), "lateral": ("s:q_lateral",),
    "inferior": ("s:q_inferior",), "posterior": (),
}


def _scar_by_wall(rows: list[dict]) -> dict:
    """Per LUDB scar wall: records labelled, found (a Q-wave statement of a territory that
    can show that wall), Q waves stated only in other territories, none stated."""
    out = {}
    for wall, ids in SCAR_WALL_TERRITORIES.items():
        pos = [r for r in rows if f"ludb:scar@{wall}" in r["truth"]]
        if not pos:
            continue
        q = [{p for p in r["predicted"] if p.startswith("s:q_")} for r in pos]
        found = sum(bool(s & set(ids)) for s in q)
        other = sum(bool(s) and not s & set(ids) for s in q)
        out[wall] = {"records": len(pos), "found": found, "other_territory": other,
                     "none": len(pos) - found - other, "territories": list(ids)}
    return out


def _calibration(rows: list[dict], fmt: str) -> dict:
    """The reliability of the stated confidences against the labels (:func:`evals.labels.
    reliability`) over the statements of the classes the format's labels can judge.
    ``records`` counts the rows used: a row resumed from a run before the confidences were
    recorded has none and is left out."""
    classes = [L.CLASS_BY_KEY[k] for k in datasets.classes_for(fmt)]
    outcomes = [o for r in rows if "statements" in r
                for o in L.statement_outcomes(r["statements"], r["truth"], classes)]
    # per class, the mean confidence of its statements, beside the class's precision
    conf: dict[str, list[float]] = {}
    for r in rows:
        for st in r.get("statements") or ():
            for c in L.classes_of(st, classes):
                conf.setdefault(c.key, []).append(float(st["confidence"]))
    return L.reliability(outcomes) | {
        "records": sum("statements" in r for r in rows),
        "class_mean_confidence": {k: sum(v) / len(v) for k, v in conf.items()}}


def summarize(rows: list[dict], fmt: str, config: dict) -> dict:
    scores, macro, macro_all = _scores(rows, fmt)
    out = {"format": fmt, "n_records": len(rows), "classes": scores, "macro": macro,
           "macro_all_supported": macro_all, "calibration": _calibration(rows, fmt),
           "vt_flag": _vt_flags(rows),
           "failures": {r["record"]: r["error"] for r in rows if r.get("error")},
           "config": config}
    if fmt == "ludb":
        from evals.ludb_eval import LUDB_NO_MV_CLASSES

        out["scar_by_wall"] = _scar_by_wall(rows)
        out["macro_no_mv"] = L.macro_f1(scores, LUDB_NO_MV_CLASSES)
    if fmt in ("cinc", "files"):
        # The Challenge metric (official weights) overall and per source database, with the
        # per-source macro F1, so that a rule that only fits one source shows.
        from evals.challenge import challenge_score, source_of

        out["challenge_metric"] = challenge_score(
            {r["record"]: r["truth"] for r in rows},
            {r["record"]: r.get("predicted_codes", r["predicted"]) for r in rows})
        by_source: dict[str, list[dict]] = {}
        for r in rows:
            by_source.setdefault(source_of(r["record"]), []).append(r)
        out["per_source"] = {}
        for src, rs in sorted(by_source.items()):
            s_scores, s_macro, _ = _scores(rs, fmt)
            cal = _calibration(rs, fmt)
            out["per_source"][src] = {
                "n_records": len(rs),
                "challenge_metric": challenge_score(
                    {r["record"]: r["truth"] for r in rs},
                    {r["record"]: r.get("predicted_codes", r["predicted"]) for r in rs}),
                "macro_f1": s_macro["macro_f1"], "macro_classes": s_macro["classes"],
                "f1": {k: v["f1"] for k, v in s_scores.items() if v["f1"] is not None},
                "false_positives": {k: v["fp"] for k, v in s_scores.items() if v["fp"]},
                "calibration": {k: cal[k] for k in ("n", "precision", "mean_confidence",
                                                    "ece", "brier")}}
    return out


def confusion_plot(path: Path, rows: list[dict], keys: tuple[str, ...]) -> Path:
    """Multi-label confusion: cell (reference class i, engine class j) = records labelled i
    on which the engine stated j; a last column counts records where it stated none of the
    scored classes. The diagonal is the true positives."""
    import numpy as np

    plt = common.pyplot()
    used = [k for k in keys if any(k in r["truth_classes"] or k in r["predicted_classes"]
                                   for r in rows)] or list(keys[:1])
    cols = used + ["(none)"]
    mat = np.zeros((len(used), len(cols)), dtype=int)
    for r in rows:
        pred = [k for k in used if k in r["predicted_classes"]]
        for i, t in enumerate(used):
            if t not in r["truth_classes"]:
                continue
            for j, p in enumerate(used):
                mat[i, j] += p in pred
            mat[i, -1] += not pred
    fig, ax = plt.subplots(figsize=(1 + 0.55 * len(cols), 1 + 0.5 * len(used)))
    ax.imshow(mat, cmap="Blues")
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            if mat[i, j]:
                ax.text(j, i, str(mat[i, j]), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=45, ha="right")
    ax.set_yticks(range(len(used)))
    ax.set_yticklabels(used)
    ax.set_xlabel("engine statement")
    ax.set_ylabel("reference label")
    ax.set_title("records: reference class x engine class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(summary: dict, figures: list[Path]) -> str:
    cls = summary["classes"]
    shown = [k for k, v in cls.items() if v["support"] or v["fp"] or v["ignored"]]
    mean_conf = (summary.get("calibration") or {}).get("class_mean_confidence", {})
    rows = [[k, v["name"], v["support"], v["tp"], v["fp"], v["fn"], v["ignored"],
             v["precision"], mean_conf.get(k), v["recall"], v["f1"]]
            for k, v in cls.items() if k in shown]
    m = summary["macro"]
    lines = [f"# Statements: {summary['n_records']} {summary['format']} records", "",
             common.md_table(["class", "name", "support", "TP", "FP", "FN", "ignored",
                              "precision", "mean confidence", "recall", "F1"], rows, 2), "",
             f"Macro F1 over {m['classes']}: {common.fmt(m['macro_f1'], 3)} "
             f"(no reference positive, left out: {m['left_out_no_support']}); strict "
             f"(a left-out class stated anyway counts 0): {common.fmt(m['macro_f1_strict'], 3)}.",
             ""]
    nm = summary.get("macro_no_mv")
    if nm:
        lines += [f"Macro F1 over the classes that need no millivolts ({len(nm['classes'])} "
                  f"with support: {nm['classes']}): {common.fmt(nm['macro_f1'], 3)}; strict: "
                  f"{common.fmt(nm['macro_f1_strict'], 3)}.", ""]
    if summary.get("challenge_metric") is not None:
        lines += [f"PhysioNet/CinC Challenge 2021 metric (official weights): "
                  f"{common.fmt(summary['challenge_metric'], 3)}", ""]
    if summary.get("per_source"):
        lines += [common.md_table(
            ["source", "records", "Challenge metric", "macro F1", "classes", "false positives"],
            [[k, v["n_records"], v["challenge_metric"], v["macro_f1"],
              ", ".join(v["macro_classes"]),
              ", ".join(f"{c} {n}" for c, n in v["false_positives"].items())]
             for k, v in summary["per_source"].items()], 3), ""]
    cal = summary.get("calibration")
    if cal and cal["n"]:
        lines += [f"Confidence against the labels ({cal['n']} judged statements on "
                  f"{cal['records']} records; a statement of a class the labels cannot judge "
                  "is left out; with incomplete labels precision is a lower bound): "
                  f"precision {common.fmt(cal['precision'], 3)} at mean confidence "
                  f"{common.fmt(cal['mean_confidence'], 3)}; expected calibration error "
                  f"{common.fmt(cal['ece'], 3)}, Brier score {common.fmt(cal['brier'], 3)}.",
                  "", common.md_table(
                      ["confidence", "statements", "correct", "precision", "mean confidence"],
                      [[f"{b['from']:.1f}-{b['to']:.1f}", b["n"], b["correct"], b["precision"],
                        b["mean_confidence"]] for b in cal["bins"]], 3), ""]
        if summary.get("per_source"):
            lines += [common.md_table(
                ["source", "statements", "precision", "mean confidence", "ECE", "Brier"],
                [[k, v["calibration"]["n"], v["calibration"]["precision"],
                  v["calibration"]["mean_confidence"], v["calibration"]["ece"],
                  v["calibration"]["brier"]] for k, v in summary["per_source"].items()], 3),
                "", ]
    vt = summary.get("vt_flag")
    if vt:
        lines += [f"VT flagged (VT, wide-complex tachycardia or ventricular run): "
                  f"{vt['flagged']}/{vt['vt_records']} VT records; false flags "
                  f"{vt['false_flags']}/{vt['other_records']} others", ""]
    if summary.get("scar_by_wall"):
        lines += ["Infarct scar by wall (LUDB) against the Q-wave territory that can show it "
                  "(Bayes de Luna 2006; a posterior scar gives no Q wave):", "",
                  common.md_table(
                      ["wall", "records", "found", "Q waves elsewhere only", "none",
                       "territories"],
                      [[w, v["records"], v["found"], v["other_territory"], v["none"],
                        ", ".join(v["territories"]) or "-"]
                       for w, v in summary["scar_by_wall"].items()], 0), ""]
    if summary["failures"]:
        lines += [f"Failures: {summary['failures']}", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    fmt, items = datasets.read_records(Path(args.data), args.format)
    if args.limit:
        items = items[:args.limit]
    config = {"suite": "statements", "data": str(Path(args.data).resolve()), "format": fmt}
    log = common.ResultLog(Path(args.out), resume=args.resume, config=config)
    common.run_items(items, key=lambda it: it.key, work=partial(_work), log=log,
                     jobs=args.jobs, label=lambda it: it.key, runner=args.runner)
    rows = [log.rows[it.key] for it in items if it.key in log.rows]
    out = Path(args.out)
    summary = summarize(rows, fmt, config)
    figs = [confusion_plot(out / "statements_confusion.png", rows,
                           datasets.classes_for(fmt))]
    common.write_outputs(out, summary, rows, report(summary, figs))
    extra = (f"; Challenge metric {common.fmt(summary['challenge_metric'], 3)}"
             if summary.get("challenge_metric") is not None else "")
    if summary.get("macro_no_mv"):
        extra += ("; macro F1 without millivolt classes "
                  f"{common.fmt(summary['macro_no_mv']['macro_f1'], 3)}")
    print(f"statements: {len(rows)} {fmt} records; macro F1 "
          f"{common.fmt(summary['macro']['macro_f1'], 3)}{extra}; wrote {out / 'summary.json'}")
    for src, v in (summary.get("per_source") or {}).items():
        print(f"  {src}: {v['n_records']} records, Challenge metric "
              f"{common.fmt(v['challenge_metric'], 3)}, macro F1 {common.fmt(v['macro_f1'], 3)}")
    return 0
