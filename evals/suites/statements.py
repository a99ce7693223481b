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
    pred = records.statement_codes(d)
    return {"record": item.key, "path": str(item.path), "error": d.get("error"),
            "truth": sorted(item.truth), "predicted": sorted(pred),
            "truth_classes": sorted(L.to_classes(item.truth)),
            "predicted_classes": sorted(L.to_classes(pred)),
            "seconds": time.perf_counter() - t0}


def summarize(rows: list[dict], fmt: str, config: dict) -> dict:
    keys = datasets.classes_for(fmt)
    classes = [L.CLASS_BY_KEY[k] for k in keys]
    scores = L.score_classes({r["record"]: r["predicted"] for r in rows},
                             {r["record"]: r["truth"] for r in rows}, classes)
    macro_keys = L.CINC_MACRO_CLASSES if fmt == "cinc" else keys
    return {"format": fmt, "n_records": len(rows), "classes": scores,
            "macro": L.macro_f1(scores, macro_keys),
            "macro_all_supported": L.macro_f1(scores, keys),
            "failures": {r["record"]: r["error"] for r in rows if r.get("error")},
            "config": config}


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
    rows = [[k, v["name"], v["support"], v["tp"], v["fp"], v["fn"], v["ignored"],
             v["precision"], v["recall"], v["f1"]] for k, v in cls.items() if k in shown]
    m = summary["macro"]
    lines = [f"# Statements: {summary['n_records']} {summary['format']} records", "",
             common.md_table(["class", "name", "support", "TP", "FP", "FN", "ignored",
                              "precision", "recall", "F1"], rows, 2), "",
             f"Macro F1 over {m['classes']}: {common.fmt(m['macro_f1'], 3)} "
             f"(no reference positive, left out: {m['left_out_no_support']}); strict "
             f"(a left-out class stated anyway counts 0): {common.fmt(m['macro_f1_strict'], 3)}.",
             ""]
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
                     jobs=args.jobs, label=lambda it: it.key)
    rows = [log.rows[it.key] for it in items if it.key in log.rows]
    out = Path(args.out)
    summary = summarize(rows, fmt, config)
    figs = [confusion_plot(out / "statements_confusion.png", rows,
                           datasets.classes_for(fmt))]
    common.write_outputs(out, summary, rows, report(summary, figs))
    print(f"statements: {len(rows)} {fmt} records; macro F1 "
          f"{common.fmt(summary['macro']['macro_f1'], 3)}; wrote {out / 'summary.json'}")
    return 0
