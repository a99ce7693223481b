"""What the Gradio app shows, computed here so that app.py holds layout and wiring only.

Uploads are copied under sanitised names into a private temporary directory (the same rules
as the HTTP API), measured, rendered with evidence highlights, and kept in a per-browser
session for the chat. Errors come back as messages, never as exceptions in the page.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

_NAME_OK = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_DATA_EXT = (".hea", ".csv", ".npy", ".npz", ".edf", ".bdf")
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


def examples() -> dict[str, str]:
    """Bundled example records: label -> header path."""
    return {p.parent.name: str(p) for p in sorted(EXAMPLES_DIR.glob("*/*.hea"))}


def stage_upload(paths: list[str]) -> str:
    """Copy uploaded files (Gradio temp paths) under their sanitised base names into a fresh
    directory; return the path of the file to load (the .hea, else the single data file)."""
    if not paths:
        raise ValueError("no file uploaded: choose the .hea with its .dat/.mat, or one "
                         ".csv/.npy/.npz/.edf file")
    tmp = Path(tempfile.mkdtemp(prefix="ecg-ui-"))
    staged = []
    for p in paths:
        name = Path(str(p)).name
        if ".." in name or not _NAME_OK.match(name):
            raise ValueError(f"file name {name!r} is not allowed (letters, digits, . _ - only)")
        shutil.copyfile(p, tmp / name)
        staged.append(tmp / name)
    heads = [p for p in staged if p.suffix.lower() == ".hea"]
    if heads:
        return str(heads[0])
    data = [p for p in staged if p.suffix.lower() in _DATA_EXT]
    if len(data) != 1:
        raise ValueError("upload one record: a .hea with its .dat/.mat, or a single "
                         ".csv/.npy/.npz/.edf file")
    return str(data[0])


def analyse(path: str, highlight: list[str] | None = None) -> dict:
    """Measure and render one record: report, page PNG path and the tables to show."""
    from tools.engine import analyze
    from tools.record import load_record
    from tools.render import render_ecg_page

    record = load_record(path)
    report = analyze(record).to_dict()
    page = Path(tempfile.mkdtemp(prefix="ecg-page-")) / "page.png"
    render_ecg_page(record, report, page, highlight=highlight or [])
    m = report["measurements"]
    rows = [[k, "-" if v["value"] is None else v["value"], v["unit"], v["id"],
             v.get("reason") or ""] for k, v in m.items()
            if not k.startswith(("amp.", "terminal_qrs."))]
    statements = [[s["label"], s["snomed"], f"{s['confidence']:.2f}", s["criterion"],
                   ", ".join(s["evidence_ids"]), s["id"]] for s in report["statements"]]
    quality = [[lead, q["grade"], ", ".join(q["issues"])]
               for lead, q in report["quality"]["leads"].items()]
    return {"path": path, "report": report, "page": str(page), "measurements": rows,
            "statements": statements, "quality": quality}


def rerender(state: dict, highlight: list[str]) -> str:
    """The page again with other evidence highlighted (e.g. a clicked finding)."""
    from tools.record import load_record
    from tools.render import render_ecg_page

    page = Path(tempfile.mkdtemp(prefix="ecg-page-")) / "page.png"
    render_ecg_page(load_record(state["path"]), state["report"], page, highlight=highlight)
    return str(page)


def answer(state: dict, question: str) -> dict:
    """Answer a question about the analysed ECG (deterministic unless an LLM endpoint is
    configured: the page must stay responsive)."""
    from assistant.config import get_settings
    from assistant.qa import ChatSession

    session = state.get("session")
    if session is None:
        settings = get_settings()
        llm = None
        if not settings.embedded:  # the embedded model would stall the page for a minute
            from assistant.llm_server import connect
            llm, _ = connect(settings)
        session = ChatSession(settings, llm, report=state["report"])
        state["session"] = session
    return session.ask(question)
