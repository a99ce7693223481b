"""Evaluation suites behind ``ecg-assistant eval SUITE --data DIR --out OUTDIR``.

Each suite writes ``OUTDIR/summary.json``, a per-record CSV (``records.csv``, rebuilt from
the resumable ``records.jsonl``), PNG plots and ``OUTDIR/report.md``. Every score is
computed from evidence and dataset labels; no LLM judges another LLM.
"""
