"""Command-line interface: ``ecg-assistant measure PATH [PATH...] [--json]``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import UnionType


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


def user_path(path: str | None) -> str | None:
    """A path typed on the command line, resolved (``~``, ``..``, relative): the loaders
    refuse unresolved ``..`` components, a guard meant for names that arrive from uploads,
    not for the user's own files."""
    from pathlib import Path

    return None if path is None else str(Path(path).expanduser().resolve())


def cmd_measure(args) -> int:
    from tools.engine import analyze
    from tools.record import RecordError, load_record

    failed = 0
    for i, path in enumerate(args.paths):
        if not args.json and len(args.paths) > 1:
            print(f"[{i + 1}/{len(args.paths)}] {path}", file=sys.stderr)
        try:
            record = load_record(user_path(path), fs=args.fs)
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


def cmd_convert(args) -> int:
    """Write each record as DICOM or HL7 aECG into --out; a CinC header's '# Dx:' labels go
    to --out/labels.csv, so ``eval statements --data OUT`` scores the converted files."""
    import csv

    from tools.record import RecordError, load_record
    from tools.writers import WRITERS

    write, ext = WRITERS[args.to]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, failed = [], 0
    for i, path in enumerate(args.paths):
        print(f"[{i + 1}/{len(args.paths)}] {path}", file=sys.stderr, flush=True)
        try:
            record = load_record(user_path(path), fs=args.fs)
            dst = out / (Path(path).stem + ext)
            if dst.exists() and not args.overwrite:
                raise RecordError(f"{str(dst)!r} exists; pass --overwrite to replace it")
            write(record, dst)
        except RecordError as exc:
            failed += 1
            print(f"{path}: ERROR {exc}", file=sys.stderr)
            continue
        dx = _dx_codes(record.comments)
        if dx is not None:
            rows.append({"file": dst.name, "dx": ",".join(dx)})
    if rows:
        with open(out / "labels.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["file", "dx"])
            w.writeheader()
            w.writerows(rows)
    print(f"wrote {len(args.paths) - failed} {args.to} file(s) to {out}"
          + (f" with labels.csv ({len(rows)} labelled)" if rows else ""), file=sys.stderr)
    return 1 if failed else 0


def cmd_batch(args) -> int:
    from assistant.batch import bar, run_batch

    summary = run_batch(args.inputs, args.out, jobs=args.jobs, runner=args.runner,
                        fs=args.fs, resume=args.resume, progress=bar)
    print(f"batch: {summary['records']} records ({summary['measured_now']} measured now, "
          f"{summary['resumed']} resumed), {summary['errors']} errors, "
          f"{summary['seconds']} s ({summary['records_per_s'] or '-'} records/s); wrote "
          f"{summary['out']}", file=sys.stderr)
    return 1 if summary["errors"] else 0


def _dx_codes(comments: list[str]) -> list[str] | None:
    """The SNOMED codes of a CinC-style ``Dx:`` header comment (``# Dx: 426783006,...``),
    or None. Read from the record's comments: product code does not import evals/."""
    for line in comments:
        key, sep, value = str(line).lstrip("#").strip().partition(":")
        if sep and key.strip().lower() == "dx":
            return sorted(c.strip() for c in value.split(",") if c.strip())
    return None


def _progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def _llm_for(args, *, report: bool = False):
    """Settings and the LLM (None, with a warning, when it cannot be had or --no-llm; None
    for a report whose impression the LLM does not write, so the model is not started)."""
    from assistant.config import get_settings
    from assistant.llm_server import connect

    settings = get_settings()
    if getattr(args, "no_llm", False) or (report and not settings.impression_by_llm):
        return settings, None
    llm, note = connect(settings, progress=_progress)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    return settings, llm


def cmd_report(args) -> int:
    from assistant.agent import ReportAgent
    from tools.record import RecordError

    settings, llm = _llm_for(args, report=True)
    agent = ReportAgent(settings, llm, progress=_progress)
    try:
        rep = agent.run(user_path(args.path), fs=args.fs, prior_path=user_path(args.prior),
                        patient_id=args.patient)
    except RecordError as exc:
        print(json.dumps({"error": str(exc)}) if args.json else f"error: {exc}")
        return 2
    if args.json:
        print(json.dumps(rep, default=_json_default))
    else:
        print(format_report(rep))
    return 0


def format_report(rep: dict) -> str:
    """The readable report: findings with their citations, then grounding and timings."""
    r, it, g = rep["record"], rep["interpretation"], rep["grounding"]
    lines = [f"ECG {r['source']}: {len(r['leads'])} leads, {r['duration_s']:.1f} s, "
             f"{r['fs']:g} Hz", ""]
    for f in it["findings"]:
        cites = ", ".join(f["evidence_ids"] + f.get("knowledge_ids", []))
        lines.append(f"- {f['text']} [{cites}]")
    lines += ["", f"Summary: {it['summary']}"]
    for f in it.get("impression") or []:
        cites = ", ".join(f["evidence_ids"] + f.get("knowledge_ids", []))
        lines.append(f"Impression: {f['text']} [{cites}]")
    if it.get("comparison_with_prior"):
        lines.append(f"Compared with prior: {it['comparison_with_prior']}")
    for lim in it.get("limitations", []):
        lines.append(f"Limitation: {lim}")
    from assistant.fallback import authorship

    lines.append(f"Grounding: verified ({authorship(g)}); {len(rep['tool_calls'])} tool calls; "
                 f"{rep['timings'].get('total_s', 0):.1f} s")
    if g["fallback"] and g["problems"]:
        lines.append("Why: " + "; ".join(g["problems"][:3]))
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from assistant.qa import ChatSession
    from tools.engine import analyze
    from tools.record import RecordError, load_record

    try:
        report = analyze(load_record(user_path(args.path), fs=args.fs)).to_dict()
    except RecordError as exc:
        print(json.dumps({"error": str(exc)}) if args.json else f"error: {exc}")
        return 2
    settings, llm = _llm_for(args)
    session = ChatSession(settings, llm, report=report)
    questions = [args.question] if args.question else None
    if questions is None:  # interactive chat
        print("Ask about this ECG (empty line to quit).", file=sys.stderr)
        while True:
            try:
                q = input("> ").strip()
            except EOFError:
                break
            if not q:
                break
            out = session.ask(q)
            print(f"{out['answer']} [{', '.join(out['evidence_ids'])}]")
        return 0
    out = session.ask(questions[0])
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{out['answer']} [{', '.join(out['evidence_ids'])}]")
    return 0


def cmd_llm_serve(args) -> int:
    import time

    from assistant.config import get_settings
    from assistant.llm import LLMError
    from assistant.llm_server import EmbeddedServer

    settings = get_settings()
    server = EmbeddedServer(settings, port=args.port)

    def _terminate(*_):
        raise KeyboardInterrupt  # SIGTERM stops the server like Ctrl-C (the finally below)

    import signal

    # installed before the server starts and before the "serving" line is printed: a caller
    # that stops us as soon as it reads that line must not find SIGTERM's default action
    signal.signal(signal.SIGTERM, _terminate)
    try:
        server.start(progress=_progress)
        print(f"embedded LLM serving at {server.base_url} (Ctrl-C to stop); set "
              f"ECG_ASSISTANT_LLM_BASE_URL={server.base_url} to reuse it", flush=True)
        while server.proc and server.proc.poll() is None:
            time.sleep(1)
    except LLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from assistant.api import create_app, install_access_log_filter, mount_ui

    import os

    from assistant.config import get_settings

    settings = get_settings()
    workers = args.workers
    if workers is None:  # worker processes use every core (threads share one GIL)
        workers = settings.analysis_workers if (
            settings.analysis_workers or os.environ.get("ECG_ASSISTANT_ANALYSIS_WORKERS")) \
            else max(1, os.cpu_count() or 1)
    app = create_app(settings.model_copy(update={"analysis_workers": max(0, workers)}))
    install_access_log_filter()
    if not args.no_ui:
        mount_ui(app)
    print(f"serving the API (docs at /docs){'' if args.no_ui else ' and the app at /'} on "
          f"http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_knowledge_ingest(args) -> int:
    from knowledge.kb import ingest

    n = ingest()
    print(f"ingested {n} passages")
    return 0


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _field_type(annotation):
    """argparse type and nargs for a pydantic field annotation (str, int, float, bool, lists)."""
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if typing.get_origin(annotation) in (typing.Union, UnionType) and args \
        else annotation
    if typing.get_origin(base) is list:
        return str, "*"
    return (base if base in (int, float, str) else str), None


def add_tool_command(sub, command: str, tool_name: str, *, positional=(), aliases=None,
                     help: str | None = None, formatter=None):
    """A subcommand generated from a tool declaration: one option per input field."""
    from tools.registry import TOOLS

    spec = TOOLS[tool_name]
    aliases = aliases or {}
    p = sub.add_parser(command, help=help or spec.description.split("\n")[0],
                       description=spec.description)
    for name, field in spec.input_model.model_fields.items():
        typ, nargs = _field_type(field.annotation)
        kw = {"help": field.description or name}
        if nargs:
            kw["nargs"] = nargs
        if name in positional:
            p.add_argument(name, type=typ, **kw)
            continue
        flags = aliases.get(name, ["--" + name.replace("_", "-")])
        if field.annotation is bool:
            p.add_argument(*flags, dest=name, action="store_true", **kw)
        else:
            p.add_argument(*flags, dest=name, type=typ, required=field.is_required(), **kw)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=lambda a: _run_tool(spec, a, formatter))
    return p


def _run_tool(spec, args, formatter) -> int:
    from pydantic import ValidationError

    from tools.record import RecordError

    values = {k: getattr(args, k) for k in spec.input_model.model_fields
              if getattr(args, k, None) is not None}
    for k in ("path", "out"):  # file arguments typed by the user
        if isinstance(values.get(k), str):
            values[k] = user_path(values[k])
    try:
        result = spec(spec.input_model.model_validate(values))
    except (RecordError, ValueError, ValidationError, FileNotFoundError) as exc:
        msg = str(exc)
        if args.json:
            print(json.dumps({"error": msg}))
        else:
            print(f"error: {msg}", file=sys.stderr)
        return 2
    if args.json or formatter is None:
        print(result.model_dump_json(indent=None if args.json else 2))
    else:
        print(formatter(result))
    return 0


def _register_tools() -> None:
    """Import the modules that declare tools (declarations only; heavy imports are lazy)."""
    import tools.api  # noqa: F401
    import tools.encoder  # noqa: F401
    import tools.priors  # noqa: F401
    import tools.render  # noqa: F401
    import tools.retrieval  # noqa: F401


def _fmt_passages(r) -> str:
    return "\n\n".join(f"[{p.id}] {p.title} ({p.source}; score {p.score:.3f})\n{p.text}"
                        for p in r.passages)


def _fmt_similar(r) -> str:
    rows = [f"{r.stored_reports} reports stored; encoder {r.embedding_model}"]
    for m in r.matches:
        labels = "; ".join(m.report.expert_labels) or \
            ", ".join(s["label"] for s in m.report.statements)
        rows.append(f"  {m.similarity:.3f}  {m.report.patient_id:<16} {labels}")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    _register_tools()
    p = argparse.ArgumentParser(prog="ecg-assistant",
                                description="Grounded 12-lead ECG interpretation assistant")
    sub = p.add_subparsers(dest="command", required=True)
    add_tool_command(sub, "render", "render_ecg", positional=("path",),
                     aliases={"out": ["-o", "--out"]},
                     help="render the 12-lead page (PNG, SVG or PDF) with evidence highlights")
    add_tool_command(sub, "encode", "encode_ecg", positional=("path",),
                     help="learned embedding and label probabilities of a record")
    kn = sub.add_parser("knowledge", help="clinical knowledge base").add_subparsers(
        dest="knowledge_command", required=True)
    add_tool_command(kn, "query", "search_knowledge", positional=("query",),
                     aliases={"k": ["--k", "-k"]}, formatter=_fmt_passages)
    ing = kn.add_parser("ingest", help="rebuild the knowledge base collection")
    ing.set_defaults(func=cmd_knowledge_ingest)
    pr = sub.add_parser("priors", help="prior-report store").add_subparsers(
        dest="priors_command", required=True)
    add_tool_command(pr, "add", "priors_add", positional=("path",),
                     aliases={"patient_id": ["--patient"]})
    add_tool_command(pr, "similar", "priors_similar", positional=("path",),
                     aliases={"k": ["--k", "-k"], "patient_id": ["--patient"]},
                     formatter=_fmt_similar)
    add_tool_command(pr, "list", "priors_for_patient", positional=("patient_id",))
    rp = sub.add_parser("report", help="grounded interpretation with cited evidence")
    rp.add_argument("path", help="ECG file (.hea, .csv, .npy, .npz, .edf, GE MUSE / Philips "
                                 "XML, DICOM, HL7 aECG) or a paper ECG page (.pdf, .png, .jpg: "
                                 "digitised first)")
    rp.add_argument("--json", action="store_true")
    rp.add_argument("--prior", help="an earlier ECG of the same patient to compare with")
    rp.add_argument("--patient", help="patient id: compare with its stored priors")
    rp.add_argument("--fs", type=float, default=None)
    rp.add_argument("--no-llm", action="store_true", help="deterministic report, no LLM")
    _cross_check_option(rp)
    rp.set_defaults(func=cmd_report)
    ak = sub.add_parser("ask", help="ask a question about an ECG (no question: chat)")
    ak.add_argument("path")
    ak.add_argument("question", nargs="?", default=None)
    ak.add_argument("--json", action="store_true")
    ak.add_argument("--fs", type=float, default=None)
    ak.add_argument("--no-llm", action="store_true")
    ak.set_defaults(func=cmd_ask)
    lm = sub.add_parser("llm", help="the embedded local LLM").add_subparsers(
        dest="llm_command", required=True)
    sv = lm.add_parser("serve", help="serve the embedded model (OpenAI-compatible)")
    sv.add_argument("--port", type=int, default=None)
    sv.set_defaults(func=cmd_llm_serve)
    api = sub.add_parser("serve", help="HTTP API (OpenAPI at /openapi.json) and the app at /")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--no-ui", action="store_true", help="the API only, no Gradio app at /")
    api.add_argument("--workers", type=int, default=None, metavar="N",
                     help="analysis worker processes (default: one per CPU; 0: threads)")
    _cross_check_option(api)
    api.set_defaults(func=cmd_serve)
    m = sub.add_parser("measure", help="measure records and state findings with evidence")
    m.add_argument("paths", nargs="+", metavar="PATH",
                   help=".hea (WFDB .dat/.mat), .csv, .npy/.npz, .edf, GE MUSE / Philips XML, "
                        "DICOM ECG waveform or HL7 aECG file, or a paper ECG page (.pdf vector "
                        "export, .png/.jpg scan or photo: digitised first)")
    m.add_argument("--json", action="store_true", help="one JSON object per record per line")
    m.add_argument("--fs", type=float, default=None,
                   help="sampling frequency (Hz) for formats that do not store it")
    _cross_check_option(m)
    m.set_defaults(func=cmd_measure)
    bt = sub.add_parser("batch", help="measure an archive into one parquet table "
                                      "(one row per record; resumable)")
    bt.add_argument("inputs", nargs="+", metavar="PATH|DIR",
                    help="record files, or folders searched recursively")
    bt.add_argument("--out", required=True, help="results .parquet file")
    bt.add_argument("--jobs", type=int, default=1, help="worker processes (or Ray actors)")
    bt.add_argument("--runner", choices=("local", "ray"), default="local",
                    help="local worker processes, or Ray Data (pip install '.[scale]')")
    bt.add_argument("--fs", type=float, default=None)
    bt.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                    help="skip records already in OUT.parts.jsonl (default: yes)")
    _cross_check_option(bt)
    bt.set_defaults(func=cmd_batch)
    cv = sub.add_parser("convert", help="write records as DICOM 12-lead waveform or HL7 aECG")
    cv.add_argument("paths", nargs="+", metavar="PATH", help="ECG files of any readable format")
    cv.add_argument("--to", choices=("dicom", "aecg"), required=True)
    cv.add_argument("--out", required=True, help="output folder (created if needed)")
    cv.add_argument("--fs", type=float, default=None)
    cv.add_argument("--overwrite", action="store_true")
    cv.set_defaults(func=cmd_convert)
    from evals.cli import add_eval_parser  # evaluation suites (evals/), lazy per suite
    add_eval_parser(sub)
    return p


def _cross_check_option(parser) -> None:
    from tools.engine import CROSS_CHECK_MODES

    parser.add_argument("--cross-check", choices=CROSS_CHECK_MODES, default=None,
                        help="when the classic ECGdeli delineation is run as a second opinion "
                             "on PR, QRS and QT: auto (where the engine's own estimates "
                             "disagree or the record is outside the learned delineator's "
                             "validated domain; the default), always, off "
                             "(environment: ECG_ASSISTANT_CROSS_CHECK)")


def main(argv: list[str] | None = None) -> int:
    import os

    # offline, quiet model loading; no telemetry (STACK.md)
    for var, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("ANONYMIZED_TELEMETRY", "False"),
                       ("GRADIO_ANALYTICS_ENABLED", "False"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(var, value)
    args = build_parser().parse_args(argv)
    if getattr(args, "cross_check", None):
        # read by tools.engine.analyze here, in worker processes and in Ray actors alike
        os.environ["ECG_ASSISTANT_CROSS_CHECK"] = args.cross_check
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into head & co.
        return 0


if __name__ == "__main__":
    sys.exit(main())
