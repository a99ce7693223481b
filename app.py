"""Gradio app: layout and event wiring only (logic lives in assistant/ui_logic.py).

    python app.py                 # stand-alone, http://127.0.0.1:7860
    ecg-assistant serve           # the same app at / beside the HTTP API
"""
from __future__ import annotations

import os
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant import ui_logic  # noqa: E402

_EMPTY = (None, [], [], [], None)


def _error(exc: Exception) -> str:
    return f"**Error:** {getattr(exc, 'detail', None) or exc}"


def handlers(service) -> SimpleNamespace:
    """The event handlers, bound to one report service (tests call them directly)."""

    def on_analyse(files, example):
        try:
            out = ui_logic.analyse(service, ui_logic.read_files(_paths(files), example))
        except Exception as exc:  # shown in the page, never a dead UI
            return (*_EMPTY, _error(exc), "")
        return (out["page"], out["measurements"], out["statements"], out["quality"], None,
                out["status"], out["id"])

    def on_select(rid, evt: gr.SelectData):
        if not rid or evt is None or evt.index is None:
            return gr.update(), gr.update()
        try:
            row = evt.index[0]
            sid = service.analysis(rid)["statements"][row]["id"]
            ids = ui_logic.highlight_ids(service, rid, sid)
            return ui_logic.page_png(service, rid, ids), f"Highlighted: {', '.join(ids)}"
        except Exception as exc:
            return gr.update(), _error(exc)

    def on_ask(rid, question, history):
        """Yields the chat twice: the deterministic answer at once, then the verified LLM
        wording in its place."""
        history = list(history or [])
        if not rid:
            yield history + [{"role": "assistant", "content": "Analyse an ECG first."}], ""
            return
        if not (question or "").strip():
            yield history, ""
            return
        asked = history + [{"role": "user", "content": question}]
        try:
            for text in ui_logic.answer(service, rid, question):
                yield asked + [{"role": "assistant", "content": text}], ""
        except Exception as exc:
            yield asked + [{"role": "assistant", "content": _error(exc)}], ""

    def on_interpret(rid):
        if not rid:
            yield "Analyse an ECG first.", ""
            return
        try:
            yield from ui_logic.interpret(service, rid)
        except Exception as exc:
            yield _error(exc), ""

    def on_compare(rid, files, example):
        if not rid:
            return [], "Analyse an ECG first."
        try:
            rows = ui_logic.compare(service, rid, ui_logic.read_files(_paths(files), example))
            return rows, "Compared with the prior."
        except Exception as exc:
            return [], _error(exc)

    def on_downloads(rid):
        if not rid:
            return None
        try:
            return ui_logic.downloads(service, rid)
        except Exception:
            return None

    return SimpleNamespace(**{k: v for k, v in locals().items() if k.startswith("on_")})


def build(service=None) -> gr.Blocks:
    service = service or ui_logic.default_service()
    h = handlers(service)
    with gr.Blocks(title="ECG assistant") as demo:
        gr.Markdown("# ECG assistant\nEvery number is measured from the signal and cited by "
                    "its evidence id. Findings are decision support for a clinician.")
        rid = gr.State("")
        with gr.Row():
            files = gr.File(label="ECG files of one record (.hea + .dat/.mat, or one .csv/"
                                  ".npy/.npz/.edf, GE MUSE or Philips XML, DICOM ECG or HL7 "
                                  "aECG file, or a paper ECG as .pdf/.png/.jpg, digitised)",
                            file_count="multiple", elem_id="upload")
            with gr.Column():
                example = gr.Dropdown(choices=list(ui_logic.examples()), label="or an example",
                                      elem_id="example")
                go = gr.Button("Analyse", variant="primary", elem_id="analyse")
        status = gr.Markdown(elem_id="status")
        page = gr.Image(label="12-lead page (click a statement to highlight its evidence)",
                        type="filepath", elem_id="page")
        with gr.Tab("Statements"):
            statements = gr.Dataframe(headers=["statement", "SNOMED", "confidence",
                                               "criterion (source)", "evidence", "id"],
                                      interactive=False, elem_id="statements")
            gr.Markdown(ui_logic.CONFIDENCE_LEGEND, elem_id="confidence-legend")
        with gr.Tab("Measurements"):
            measurements = gr.Dataframe(headers=["name", "value", "unit", "id", "reason"],
                                        interactive=False, elem_id="measurements")
        with gr.Tab("Quality"):
            quality = gr.Dataframe(headers=["lead", "grade", "issues"], interactive=False)
        with gr.Tab("Compare with a prior"):
            with gr.Row():
                prior_files = gr.File(label="prior ECG files", file_count="multiple")
                prior_example = gr.Dropdown(choices=list(ui_logic.examples()),
                                            label="or an example as the prior")
            compare_btn = gr.Button("Compare")
            comparison = gr.Dataframe(headers=["change", "evidence id"], interactive=False)
        with gr.Tab("LLM interpretation"):
            interpret_btn = gr.Button("Write the grounded report (the LLM adds the impression "
                                      "where its model can)")
            llm_status = gr.Markdown()
            findings = gr.Markdown(elem_id="findings")
        chat = gr.Chatbot(label="Ask about this ECG", elem_id="chat")
        with gr.Row():
            question = gr.Textbox(label="Question", placeholder="Is there atrial fibrillation?",
                                  elem_id="question", scale=4)
            ask_btn = gr.Button("Ask", elem_id="ask")
        dl = gr.File(label="Download: JSON, FHIR R4, PDF", file_count="multiple",
                     interactive=False, elem_id="downloads")

        # The app's events are for this page only, not a second API (/v1 is the API): kept
        # out of Gradio's API listing, which Gradio 6 otherwise embeds even in the
        # unauthenticated login page (issue 17)
        hide = {"api_visibility": "private"}
        go.click(h.on_analyse, [files, example],
                 [page, measurements, statements, quality, comparison, status, rid], **hide
                 ).then(h.on_downloads, rid, dl, **hide)
        statements.select(h.on_select, rid, [page, status], **hide)
        question.submit(h.on_ask, [rid, question, chat], [chat, question], **hide)
        ask_btn.click(h.on_ask, [rid, question, chat], [chat, question], **hide)
        interpret_btn.click(h.on_interpret, rid, [llm_status, findings], **hide)
        compare_btn.click(h.on_compare, [rid, prior_files, prior_example], [comparison, status],
                          **hide)
    return demo


def _paths(files) -> list[str]:
    return [f if isinstance(f, str) else f.name for f in (files or [])]


if __name__ == "__main__":
    build().launch(server_name="127.0.0.1")
