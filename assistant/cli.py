"""Command-line interface: ``ecg-assistant measure PATH [PATH...] [--json]``."""
from __future__ import annotations

import argparse
import json
import sys


def _fmt(v, unit: str) -> str:
    return "-" if v is None else (f"{v:.0f} {unit}" if unit != "ratio" else f"{v:.2f}")


def _table(d: dict) -> str:
    m = d["measurements"]
    rows = [f"{d['record']['source']}  fs={d['record']['fs']:g} Hz  "
            f"leads={len(d['record']['leads'])}  {d['record']['duration_s']:.1f} s"]
    for name in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "p_axis_deg", "qrs_axis_deg",
                 "t_axis_deg"):
        if name in m:
            x = m[name]
            rows.append(f"  {name:<14}{_fmt(x['value'], x['unit']):>10}   [{x['id']}]"
                        + (f"  ({x['reason']})" if x["value"] is None and x.get("reason") else ""))
    rows.append("  statements:")
    for s in d["statements"] or [{"label": "none", "confidence": 0, "evidence_ids": []}]:
        rows.append(f"    - {s['label']} (confidence {s['confidence']:.2f}) "
                    f"[{', '.join(s['evidence_ids'])}]")
    q = d["quality"]
    if q.get("excluded_leads"):
        rows.append(f"  excluded leads: {', '.join(q['excluded_leads'])}")
    for note in d.get("notes", []):
        rows.append(f"  note: {note}")
    return "\n".join(rows)


def cmd_measure(args) -> int:
    from tools.engine import analyze
    from tools.record import RecordError, load_record

    failed = 0
    for i, path in enumerate(args.paths):
        if not args.json and len(args.paths) > 1:
            print(f"[{i + 1}/{len(args.paths)}] {path}", file=sys.stderr)
        try:
            record = load_record(path, fs=args.fs)
            d = analyze(record).to_dict()
        except RecordError as exc:
            failed += 1
            d = {"path": path, "error": str(exc)}
        except Exception as exc:  # one bad record must not stop the others
            failed += 1
            d = {"path": path, "error": f"analysis failed: {type(exc).__name__}: {exc}"}
        if args.json:
            print(json.dumps(d, allow_nan=False, default=_json_default), flush=True)
        elif "error" in d:
            print(f"{path}: ERROR {d['error']}")
        else:
            print(_table(d))
    return 1 if failed else 0


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecg-assistant",
                                description="Grounded 12-lead ECG interpretation assistant")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="measure records and state findings with evidence")
    m.add_argument("paths", nargs="+", metavar="PATH",
                   help=".hea (WFDB .dat/.mat), .csv, .npy/.npz or .edf file")
    m.add_argument("--json", action="store_true", help="one JSON object per record per line")
    m.add_argument("--fs", type=float, default=None,
                   help="sampling frequency (Hz) for formats that do not store it")
    m.set_defaults(func=cmd_measure)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
