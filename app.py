"""Gradio app: layout and event wiring only (logic lives in assistant/ui_logic.py).

    python app.py            # http://127.0.0.1:7860
"""
from __future__ import annotations

import os

import gradio as gr

from assistant import ui_logic

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _on_analyse(files, example):
    try:
        paths = [f if isinstance(f, str) else f.name for f in (files or [])]
        path = ui_logic.stage_upload(paths) if paths else ui_logic.examples().get(example)
        if not path:
            raise ValueError("upload a record or pick an example")
        out = ui_logic.analyse(path)
    except Exception as exc:  # shown in the page, never a dead UI
        return (None, [], [], [], f"**Error:** {exc}", {}, [])
    ids = [row[5] for row in out["statements"]]
    return (out["page"], out["measurements"], out["statements"], out["quality"],
            "Analysed. Ask about this ECG below; pick a finding to highlight it.", out,
            gr.update(choices=ids, value=None))


def _on_highlight(state, sid):
    if not state or not sid:
        return gr.update()
    ev = next((row[4] for row in state["statements"] if row[5] == sid), "")
    return ui_logic.rerender(state, [sid] + [e.strip() for e in ev.split(",") if e.strip()])


def _on_ask(state, question, history):
    history = list(history or [])
    if not state:
        history.append({"role": "assistant", "content": "Analyse an ECG first."})
        return history, ""
    try:
        out = ui_logic.answer(state, question)
        text = f"{out['answer']}  \n_evidence: {', '.join(out['evidence_ids']) or 'none'}_"
    except Exception as exc:
        text = f"Error: {exc}"
    history += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]
    return history, ""


def build() -> gr.Blocks:
    with gr.Blocks(title="ECG assistant") as demo:
        gr.Markdown("# ECG assistant\nEvery number is measured from the signal and cited.")
        state = gr.State({})
        with gr.Row():
            files = gr.File(label="ECG files of one record (.hea + .dat/.mat, or .csv/.npy/"
                                  ".npz/.edf)", file_count="multiple")
            example = gr.Dropdown(choices=list(ui_logic.examples()), label="or an example")
            go = gr.Button("Analyse", variant="primary")
        status = gr.Markdown()
        page = gr.Image(label="12-lead page", type="filepath")
        finding = gr.Dropdown(label="Highlight a finding", choices=[])
        with gr.Tab("Statements"):
            statements = gr.Dataframe(headers=["statement", "SNOMED", "confidence",
                                               "criterion", "evidence", "id"])
        with gr.Tab("Measurements"):
            measurements = gr.Dataframe(headers=["name", "value", "unit", "id", "reason"])
        with gr.Tab("Quality"):
            quality = gr.Dataframe(headers=["lead", "grade", "issues"])
        chat = gr.Chatbot(label="Ask about this ECG")
        question = gr.Textbox(label="Question", placeholder="Is there atrial fibrillation?")
        go.click(_on_analyse, [files, example],
                 [page, measurements, statements, quality, status, state, finding])
        finding.change(_on_highlight, [state, finding], page)
        question.submit(_on_ask, [state, question, chat], [chat, question])
    return demo


if __name__ == "__main__":
    build().launch(server_name="127.0.0.1")
