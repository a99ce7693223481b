"""The printable PDF report: the 12-lead page (vector, from :mod:`tools.render`) followed by
text pages with the interpretation, every statement with its criterion, source and cited
evidence ids, the measurements table, lead quality, grounding and the questions asked.

Text pages are drawn with matplotlib (already the renderer's engine) and joined to the
page with pypdf; nothing here computes a measurement.
"""
from __future__ import annotations

import io
import textwrap

from tools.evidence import CONFIDENCE_MEANING

_A4 = (11.69, 8.27)  # inches, landscape, like the ECG page
_LINES_PER_PAGE = 46
_WRAP = 150


def _fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if unit in ("ratio", "mV") else f"{v:.0f} {unit}"


def report_lines(report: dict, analysis: dict, questions: list[dict] = ()) -> list[str]:
    """The report as plain lines of text (also used by tests)."""
    r = report["record"]
    lines = [f"ECG report {report.get('id', '')}",
             f"Record {r['source']}: {len(r['leads'])} leads, {r['duration_s']:.1f} s, "
             f"{r['fs']:g} Hz", ""]
    it = report.get("interpretation")
    if it:
        lines.append("INTERPRETATION")
        for f in it["findings"]:
            ids = f["evidence_ids"] + f.get("knowledge_ids", [])
            lines.append(f"- {f['text']} [{', '.join(ids)}]")
        lines.append(f"Summary: {it['summary']}")
        for f in it.get("impression") or []:
            lines.append(f"Impression: {f['text']} "
                         f"[{', '.join(f['evidence_ids'] + f.get('knowledge_ids', []))}]")
        if it.get("comparison_with_prior"):
            lines.append(f"Compared with prior: {it['comparison_with_prior']}")
        g = report.get("grounding") or {}
        from assistant.fallback import authorship

        lines += [f"Grounding: verified ({authorship(g)})", ""]
    q = analysis.get("quality") or {}
    if q.get("abstain"):
        lines += [f"NOT INTERPRETED: {q.get('abstain_reason') or 'poor signal quality'}", ""]
    lines.append("STATEMENTS (criterion; source; evidence)")
    lines.append(f"  confidence: {CONFIDENCE_MEANING}")
    for s in analysis.get("statements") or []:
        lines.append(f"- {s['label']} (SNOMED {s['snomed']}, confidence {s['confidence']:.2f})")
        lines.append(f"    criterion: {s['criterion']}; source: {s.get('source', '')}")
        lines.append(f"    evidence: {', '.join(s['evidence_ids'])}")
    if not analysis.get("statements"):
        lines.append("- none")
    lines += ["", "MEASUREMENTS (value; evidence id; method)"]
    for name, m in (analysis.get("measurements") or {}).items():
        if name.startswith(("amp.", "terminal_qrs.")):
            continue
        why = f" ({m['reason']})" if m["value"] is None and m.get("reason") else ""
        lines.append(f"  {name:<22}{_fmt(m['value'], m['unit']):>12}  [{m['id']}]  "
                     f"{m.get('method', '')}{why}")
    lines += ["", "LEAD QUALITY"]
    for lead, lq in (q.get("leads") or {}).items():
        lines.append(f"  {lead:<5}{lq['grade']:<11}{', '.join(lq['issues'])}")
    if q.get("excluded_leads"):
        lines.append(f"  excluded from measurement: {', '.join(q['excluded_leads'])}")
    for note in report.get("notes") or []:
        lines.append(f"Note: {note}")
    if questions:
        lines += ["", "QUESTIONS ASKED"]
        for qa in questions:
            a = qa["answer"]
            lines.append(f"Q: {qa['question']}")
            lines.append(f"A: {a['answer']} [{', '.join(a.get('evidence_ids', []))}]")
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, _WRAP, subsequent_indent="      ",
                                 drop_whitespace=False) or [""]
    return wrapped


def _text_pages(lines: list[str]) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for start in range(0, max(1, len(lines)), _LINES_PER_PAGE):
            fig = Figure(figsize=_A4)
            fig.text(0.04, 0.96, "\n".join(lines[start:start + _LINES_PER_PAGE]),
                     family="monospace", fontsize=7.5, va="top")
            fig.text(0.96, 0.02, f"page {start // _LINES_PER_PAGE + 2}", ha="right",
                     fontsize=7)
            pdf.savefig(fig)
    return buf.getvalue()


def report_pdf(report: dict, analysis: dict, page_pdf: bytes,
               questions: list[dict] = ()) -> bytes:
    """One PDF: ``page_pdf`` (the rendered 12-lead page) then the text pages."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in (page_pdf, _text_pages(report_lines(report, analysis, questions))):
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    writer.add_metadata({"/Title": f"ECG report {report.get('id', '')}",
                         "/Producer": "ecg-assistant"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
