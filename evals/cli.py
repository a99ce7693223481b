"""``ecg-assistant eval SUITE --data DIR --out OUTDIR``: the evaluation suites' CLI.

``assistant/cli.py`` calls :func:`add_eval_parser` from ``build_parser()``; each suite's
module is imported only when its command runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUITES = {
    "measurements": "global PR/QRS/QT and axis vs LUDB cardiologists' annotations, or PTB-XL "
                    "vs a PTB-XL+ machine reference",
    "statements": "per-class precision/recall/F1 vs dataset labels (CinC, PTB-XL, LUDB)",
    "qa": "answers of `ask` vs questions with known answers (labels, ECG-QA)",
    "grounding": "citation validity, number agreement, verifier outcomes, injection cases",
    "digitization": "records printed as PDF/PNG pages (two renderers, degraded scans), "
                    "digitised back: per-lead correlation/SNR and engine agreement",
}


def _common(p: argparse.ArgumentParser, *, jobs: bool = False, llm: bool | None = None) -> None:
    p.add_argument("--data", required=True, metavar="DIR", help="dataset folder")
    p.add_argument("--out", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="first N records")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="reuse per-record results already in OUTDIR (default: yes)")
    if jobs:
        p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes")
        p.add_argument("--runner", choices=("local", "ray"), default="local",
                       help="local worker processes (default) or Ray actors on a local "
                            "instance or the cluster RAY_ADDRESS names (pip install "
                            "'.[scale]'), as for `batch`")
    if llm is not None:
        p.add_argument("--llm", action=argparse.BooleanOptionalAction, default=llm,
                       help=f"use the configured LLM (default: {'yes' if llm else 'no'})")


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``eval`` with one sub-command per suite to an argparse ``subparsers`` object."""
    ev = subparsers.add_parser("eval", help="evaluation suites (summary.json, CSV, plots, "
                                            "report.md)")
    sub = ev.add_subparsers(dest="eval_suite", required=True)
    m = sub.add_parser("measurements", help=SUITES["measurements"])
    _common(m, jobs=True)
    m.add_argument("--no-baseline", action="store_true",
                   help="skip the neurokit2-alone baseline (about 1 s per record)")
    m.add_argument("--ptbxl-plus", default=None, metavar="DIR",
                   help="PTB-XL+ folder holding features/ (needed when --data is PTB-XL)")
    m.add_argument("--reference", choices=("12sl", "unig", "ecgdeli"), default=None,
                   help="PTB-XL+ algorithm used as the reference on PTB-XL (default 12sl; a "
                        "machine, not cardiologists)")
    s = sub.add_parser("statements", help=SUITES["statements"])
    _common(s, jobs=True)
    s.add_argument("--format", choices=("cinc", "ptbxl", "ludb", "files"), default=None,
                   help="dataset layout (default: detected from DIR)")
    q = sub.add_parser("qa", help=SUITES["qa"])
    _common(q, llm=False)
    q.add_argument("--format", choices=("cinc", "ptbxl", "ludb", "files"), default=None)
    q.add_argument("--ecgqa", default=None, metavar="PATH",
                   help="ECG-QA json file or folder (questions over the PTB-XL records in DIR)")
    g = sub.add_parser("grounding", help=SUITES["grounding"])
    _common(g, llm=True)
    g.add_argument("--format", choices=("cinc", "ptbxl", "ludb", "files"), default=None)
    g.add_argument("--injection", type=int, default=2, metavar="N",
                   help="records also run with injected instructions (default 2)")
    dg = sub.add_parser("digitization", help=SUITES["digitization"])
    _common(dg, jobs=True)
    dg.add_argument("--format", choices=("cinc", "ptbxl", "ludb", "files"), default=None)
    dg.add_argument("--pages", nargs="+", default=None, metavar="PAGE",
                    help="page kinds (default: all of ours-3x4.pdf/.png, ecg_plot-6x2.pdf/.png, "
                         "ecg_plot-3x4.pdf/.png, ecg_plot-12x1.pdf)")
    dg.add_argument("--degrade", nargs="*", default=None, metavar="HOW",
                    help="degradations of ours-3x4.png (default: all of rotate2 blur jpeg "
                         "noise lighting photo; none: --degrade with no value)")
    for name, p in (("measurements", m), ("statements", s), ("qa", q), ("grounding", g),
                    ("digitization", dg)):
        p.set_defaults(func=lambda a, _n=name: run_suite(_n, a))
    return ev


def run_suite(name: str, args) -> int:
    """Run one suite; layout errors and interrupts end with a clear message."""
    from evals.suites.common import LayoutError

    if not hasattr(args, "jobs"):
        args.jobs = 1
    if not hasattr(args, "runner"):
        args.runner = "local"
    try:
        mod = importlib.import_module(f"evals.suites.{name}")
        return mod.run(args)
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished records are kept in {args.out}/records.jsonl; "
              "run the same command again to resume", file=sys.stderr)
        return 130
