"""CinC 2021 benchmark: the engine's statements against the Challenge's SNOMED CT labels.

Per statement class (``evals.labels.CLASSES``, with its equivalences and tolerated broader
codes): support, TP/FP/FN, precision, recall, F1; the macro F1 over sinus bradycardia,
sinus tachycardia, AF, RBBB, first-degree AV block and prolonged QT (classes without a
reference positive among the records are left out of the macro and listed); and the
official Challenge 2021 metric (:mod:`evals.challenge`) overall and per source database.

Run: ``python -m benchmarks.cinc_bench [--dir PATH]``. Writes
``benchmarks/results/cinc_bench.json``. Data: 50 records of the Challenge training set
(Reyna et al., CinC 2021; CC BY 4.0), in ``../shared/data/cinc2021``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

from benchmarks import common
from evals import labels as L
from evals.ludb import default_data_dir


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=default_data_dir() / "cinc2021")
    args = ap.parse_args(argv)
    heads = sorted(args.dir.glob("*.hea"))
    if not heads:
        raise FileNotFoundError(f"no CinC 2021 records (*.hea) under {str(args.dir)!r}")
    analyze = common.engine_or_none()
    if analyze is None:
        print("[cinc] the engine is required for this benchmark; nothing scored", file=sys.stderr)
        return {}
    truth, pred, per_record, seconds = {}, {}, {}, []
    for i, hea in enumerate(heads, 1):
        h = L.parse_header(hea)
        t0 = time.perf_counter()
        d = common.run_engine(analyze, common.load(hea))
        seconds.append(time.perf_counter() - t0)
        truth[h.record], pred[h.record] = set(h.dx), common.statement_codes(d)
        per_record[h.record] = {
            "truth": sorted(h.dx), "predicted": sorted(pred[h.record]), "error": d.get("error"),
            "truth_classes": sorted(L.to_classes(h.dx)),
            "predicted_classes": sorted(L.to_classes(pred[h.record])),
            **{k: common.measurement(d, k) for k in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms",
                                                      "qtc_ms", "qrs_axis_deg")}}
        common.progress("cinc", i, len(heads), h.record)
    from evals.challenge import challenge_score, source_of

    scores = L.score_classes(pred, truth)
    macro = L.macro_f1(scores, L.CINC_MACRO_CLASSES)
    sources = sorted({source_of(r) for r in truth})
    challenge = {"all": challenge_score(truth, pred)} | {
        src: challenge_score({r: t for r, t in truth.items() if source_of(r) == src}, pred)
        for src in sources}
    out = {"classes": scores, "macro": macro, "challenge_metric": challenge,
           "per_record": per_record,
           "seconds_median": median(seconds),
           "failures": {r: v["error"] for r, v in per_record.items() if v["error"]},
           "config": {"dir": str(args.dir), "n_records": len(heads),
                      "macro_classes": L.CINC_MACRO_CLASSES}}
    shown = [k for k, v in scores.items() if v["support"] or v["fp"] or v["ignored"]]
    print(common.table(["class", "snomed", "support", "tp", "fp", "fn", "ignored", "precision",
                        "recall", "f1"],
                       [[k, scores[k]["snomed"], scores[k]["support"], scores[k]["tp"],
                         scores[k]["fp"], scores[k]["fn"], scores[k]["ignored"],
                         scores[k]["precision"], scores[k]["recall"], scores[k]["f1"]]
                        for k in shown], 2))
    f3 = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"\nmacro F1 over {macro['classes']}: {f3(macro['macro_f1'])}"
          f" (left out, no reference positive: {macro['left_out_no_support']})")
    print(f"strict macro F1 over {macro['strict_classes']} (a left-out class the engine "
          f"stated anyway counts as 0): {f3(macro['macro_f1_strict'])}")
    print("PhysioNet/CinC Challenge 2021 metric (official weights): "
          + ", ".join(f"{k} {f3(v)}" for k, v in challenge.items()))
    print(f"engine: median {out['seconds_median']:.2f} s/record, "
          f"{len(out['failures'])} failures")
    print(f"wrote {common.write_json('cinc_bench', out)}")
    return out


if __name__ == "__main__":
    main()
