"""What the Gradio app shows, computed here so that app.py holds layout and wiring only.

The app works through the same :class:`~assistant.service.ReportService` as the HTTP API
(same store, same sanitised uploads), so a report made in the browser can be fetched by id
from the API and vice versa. Errors come back as exceptions with a message the page shows.
"""
from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.uploads import safe_name
from tools.evidence import CONFIDENCE_MEANING

#: the line under the statements table that says what a confidence is
CONFIDENCE_LEGEND = f"Confidence: {CONFIDENCE_MEANING}."

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
#: Measurements shown in the table (per-lead amplitudes stay in the JSON download).
_HIDDEN_PREFIXES = ("amp.", "terminal_qrs.")


def default_service():
    """The service of a stand-alone app (``python app.py``): settings from the environment."""
    from assistant.config import get_settings
    from assistant.service import ReportService

    return ReportService(get_settings())


def examples() -> dict[str, str]:
    """Bundled example records: label -> header path."""
    return {p.parent.name: str(p) for p in sorted(EXAMPLES_DIR.glob("*/*.hea"))}


def read_files(paths: list[str] | None, example: str | None = None) -> dict[str, bytes]:
    """The files of one record, from uploaded (Gradio temp) paths or a bundled example:
    sanitised base name -> bytes."""
    if not paths and example:
        hea = examples().get(example)
        if hea is None:
            raise ValueError(f"unknown example {example!r}")
        paths = [str(p) for p in sorted(Path(hea).parent.iterdir())
                 if p.suffix.lower() in (".hea", ".dat", ".mat")]
    if not paths:
        raise ValueError("upload a record (the .hea with its .dat/.mat, or one .csv/.npy/"
                         ".npz/.edf, GE MUSE or Philips XML, DICOM ECG or HL7 aECG file) or "
                         "pick an example")
    out = {}
    for p in paths:
        name = Path(str(p)).name
        try:
            safe_name(name)
        except Exception:
            raise ValueError(f"file name {name!r} is not allowed (letters, digits, . _ - "
                             "only)") from None
        out[name] = Path(p).read_bytes()
    return out


def _tmp(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix="ecg-ui-")) / name


def tables(analysis: dict) -> dict:
    """Rows of the statements, measurements and quality tables."""
    m = analysis["measurements"]
    rows = [[k, "-" if v["value"] is None else v["value"], v["unit"], v["id"],
             v.get("reason") or ""] for k, v in m.items() if not k.startswith(_HIDDEN_PREFIXES)]
    statements = [[s["label"], s["snomed"], f"{s['confidence']:.2f}",
                   f"{s['criterion']} ({s.get('source', '')})",
                   ", ".join(s["evidence_ids"]), s["id"]] for s in analysis["statements"]]
    quality = [[lead, q["grade"], ", ".join(q["issues"])]
               for lead, q in analysis["quality"]["leads"].items()]
    return {"measurements": rows, "statements": statements, "quality": quality}


def analyse(service, files: dict[str, bytes]) -> dict:
    """Measure and store one record; the page PNG path, the tables and the report id."""
    rep = service.create(files, llm=False)
    if not rep["quality"].get("abstain"):
        service.warm_chat(rep["id"])  # the first question then answers as fast as later ones
    page = page_png(service, rep["id"])
    q = rep["quality"]
    status = (f"**Not interpreted:** {q.get('abstain_reason')}" if q.get("abstain") else
              f"Analysed `{rep['record']['source']}` (report `{rep['id']}`): "
              f"{len(rep['statements'])} statements. Click a statement to highlight its "
              "evidence; ask about this ECG below.")
    return {"id": rep["id"], "page": page, "status": status, **tables(rep)}


def page_png(service, rid: str, highlight: list[str] | None = None) -> str:
    out = _tmp("page.png")
    out.write_bytes(service.image(rid, "png", highlight or []))
    return str(out)


def highlight_ids(service, rid: str, statement_id: str) -> list[str]:
    """The statement and every evidence id it cites (what a click highlights)."""
    analysis = service.analysis(rid)
    s = next((s for s in analysis["statements"] if s["id"] == statement_id), None)
    return [] if s is None else [s["id"], *s["evidence_ids"]]


def answer(service, rid: str, question: str) -> Iterator[str]:
    """The answer as chat text with its evidence ids, in two steps: the deterministic answer
    at once, then the LLM's wording once the verifier has passed it (or the deterministic
    answer again, saying why, when it did not). Nothing unverified is ever shown; the
    embedded model answers in a few seconds (README: chat figures)."""
    from assistant.qa import deterministic_answer

    first = deterministic_answer(question, service.analysis(rid))
    yield _chat_text(first.answer, first.evidence_ids) + "  \n_(the LLM is wording it...)_"
    out = service.ask(rid, question, llm=True)
    text = _chat_text(out["answer"], out["evidence_ids"])
    if out["grounding"]["fallback"]:
        why = out.get("note") or "; ".join(out["grounding"]["problems"]) or "not verified"
        text += f"  \n_(deterministic answer: {why[:160]})_"
    yield text


def _chat_text(answer_text: str, ids: list[str]) -> str:
    return f"{answer_text}  \n_evidence: {', '.join(ids) or 'none'}_"


def interpret(service, rid: str, poll_s: float = 1.0) -> Iterator[tuple[str, str]]:
    """Run the LLM report on the record of ``rid``; yields ``(status, findings markdown)``
    while it works (progress) and once when it is done."""
    job = service.create(service.store.files(rid), llm=True)
    t0 = time.perf_counter()
    while (rep := service.get(job["id"]))["status"] == "running":
        yield (f"LLM working ({time.perf_counter() - t0:.0f} s): "
               f"{rep.get('progress') or 'queued'}", "")
        time.sleep(poll_s)
    if rep["status"] == "failed":
        yield f"**Error:** {rep['error']}", ""
        return
    from assistant.fallback import authorship

    yield (f"Report `{rep['id']}` done in {time.perf_counter() - t0:.0f} s "
           f"({authorship(rep['grounding'])})", findings_markdown(rep))


def findings_markdown(rep: dict) -> str:
    it, g = rep["interpretation"], rep["grounding"]
    lines = [f"- {f['text']} `[{', '.join(f['evidence_ids'] + f.get('knowledge_ids', []))}]`"
             for f in it["findings"]]
    lines += ["", f"**Summary:** {it['summary']}"]
    if it.get("impression"):
        lines += ["", "**Impression:**"] + [
            f"- {f['text']} `[{', '.join(f['evidence_ids'] + f.get('knowledge_ids', []))}]`"
            for f in it["impression"]]
    if it.get("comparison_with_prior"):
        lines.append(f"**Compared with prior:** {it['comparison_with_prior']}")
    from assistant.fallback import authorship

    lines.append(f"_Grounding: verified ({authorship(g)})._")
    return "\n".join(lines)


def compare(service, rid: str, prior_files: dict[str, bytes]) -> list[list]:
    """Rows ``[change, evidence id]`` comparing report ``rid`` with a prior record."""
    from assistant.evidence_view import compare_with_prior

    prior = service.create(prior_files, llm=False)
    cmp = compare_with_prior(service.analysis(rid), prior)
    return [[item["text"], item["id"]] for item in cmp["items"]] or \
        [["no change in the compared measurements or statements", ""]]


def downloads(service, rid: str) -> list[str]:
    """The report as JSON, FHIR R4 JSON and PDF files (paths for download)."""
    folder = Path(tempfile.mkdtemp(prefix="ecg-dl-"))
    js = folder / f"ecg-report-{rid}.json"
    js.write_text(json.dumps(service.get(rid), indent=1))
    fhir = folder / f"ecg-report-{rid}.fhir.json"
    fhir.write_text(json.dumps(service.fhir(rid), indent=1))
    pdf = folder / f"ecg-report-{rid}.pdf"
    pdf.write_bytes(service.pdf(rid))
    return [str(js), str(fhir), str(pdf)]
