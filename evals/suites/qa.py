"""``eval qa``: the answers of ``ask`` (:class:`assistant.qa.ChatSession`) against questions
whose answers the dataset labels know.

Generated questions (:func:`questions_for`): per record, one yes/no question per statement
class the format's labels judge ("Is there atrial fibrillation?": yes when the record carries
the class's code, no when it carries none of its codes; skipped when it carries only a broader
``also_accept`` code), and "Which rhythm is this?" where the labels name the rhythm (AF,
flutter, sinus bradycardia / tachycardia / rhythm). "How many ...?" questions need counted
labels, which none of the readers provide, so none are generated. ECG-QA questions
(:mod:`evals.ecgqa`) are added with ``--ecgqa`` over the PTB-XL records of ``--data``.

Scoring is exact match after normalisation: a yes/no answer is its first word; "Cannot tell
from this recording" is an abstention; a "which rhythm" answer is the first rhythm named; an
ECG-QA answer must equal the answer list (yes/no by first word). Accuracy counts abstentions
as not correct; ``accuracy_answered`` leaves them out.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from evals import datasets, records
from evals import labels as L
from evals.suites import common

YES_NO: dict[str, str] = {
    "af": "Is there atrial fibrillation?", "afl": "Is there atrial flutter?",
    "rbbb": "Is there a right bundle branch block?",
    "irbbb": "Is there an incomplete right bundle branch block?",
    "lbbb": "Is there a left bundle branch block?", "iavb": "Is there a first-degree AV block?",
    "lafb": "Is there a left anterior fascicular block?", "lad": "Is there left axis deviation?",
    "rad": "Is there right axis deviation?", "lvh": "Is there left ventricular hypertrophy?",
    "lqt": "Is there a prolonged QT?", "pvc": "Are there premature ventricular complexes?",
    "pac": "Are there premature atrial complexes?", "sb": "Is there sinus bradycardia?",
    "stach": "Is there sinus tachycardia?", "paced": "Is this a paced rhythm?",
    "wpw": "Is there a pre-excitation pattern?", "lqrsv": "Is there low QRS voltage?",
}
WHICH_RHYTHM = "Which rhythm is this?"
# rhythm category of the labels, most specific first
_RHYTHM_ORDER = (("af", "af"), ("afl", "afl"), ("sb", "sb"), ("stach", "stach"),
                 ("sr", "sinus"), ("sa", "sinus"))
_RHYTHM_WORDS = [(r"atrial fibrillation|\bafib\b|\ba-fib\b", "af"), (r"flutter", "afl"),
                 (r"sinus brady", "sb"), (r"sinus tachy", "stach"),
                 (r"sinus rhythm|sinus arrhythmia", "sinus")]


def questions_for(item: datasets.LabelledRecord, fmt: str) -> list[dict]:
    """Questions with known answers from one record's labels."""
    truth = {str(c) for c in item.truth}
    out = []
    for key in datasets.classes_for(fmt):
        if key not in YES_NO:
            continue
        c = L.CLASS_BY_KEY[key]
        if c.codes & truth:
            expected = "yes"
        elif c.also_accept & truth:
            continue  # a broader label: neither yes nor no is known
        else:
            expected = "no"
        out.append({"type": "yes/no", "class": key, "question": YES_NO[key],
                    "expected": [expected]})
    classes = L.to_classes(truth)
    rhythm = next((cat for k, cat in _RHYTHM_ORDER if k in classes), None)
    if rhythm is not None:
        out.append({"type": "which", "class": "rhythm", "question": WHICH_RHYTHM,
                    "expected": [rhythm]})
    return out


def normalise(answer: str, qtype: str) -> str | None:
    """The comparable form of an answer; None for an abstention."""
    a = answer.strip().lower()
    if a.startswith("cannot tell"):
        return None
    if qtype in ("yes/no", "single-verify"):
        word = re.match(r"[a-z]+", a)
        return word.group(0) if word else ""
    if qtype == "which":
        hits = [(m.start(), cat) for pat, cat in _RHYTHM_WORDS for m in re.finditer(pat, a)]
        return min(hits)[1] if hits else ""
    return re.sub(r"[.\s]+$", "", a)


def _score(q: dict, answer: str) -> dict:
    pred = normalise(answer, q["type"])
    return {**q, "answer": answer[:300], "normalised": pred, "abstained": pred is None,
            "correct": pred is not None and [pred] == list(q["expected"])}


def _get_llm(use_llm: bool):
    from assistant.config import get_settings

    settings = get_settings()
    if not use_llm:
        return settings, None, "no LLM (--no-llm): deterministic answers"
    from assistant.llm_server import connect

    llm, note = connect(settings)
    if llm is None:
        print(f"warning: {note}", file=sys.stderr)
        return settings, None, note
    return settings, llm, f"LLM {llm.model} at {llm.base_url}"


def _work(item, questions: list[dict], settings, llm) -> dict:
    from assistant.qa import ChatSession

    d = records.engine_dict(item.path)
    if "error" in d:
        return {"record": item.key, "error": d["error"],
                "qa": [{**q, "answer": "", "normalised": None, "abstained": True,
                        "correct": False} for q in questions]}
    session = ChatSession(settings, llm, report=d)
    rows = []
    for q in questions:
        session.history.clear()  # each question on its own, as a user asking it fresh
        out = session.ask(q["question"])
        rows.append({**_score(q, out["answer"]), "fallback": out["grounding"]["fallback"]})
    return {"record": item.key, "error": None, "qa": rows}


def summarize(rows: list[dict], config: dict, llm_note: str, skipped: dict) -> dict:
    by_type: dict[str, list[dict]] = {}
    by_class: dict[str, list[dict]] = {}
    for r in rows:
        for q in r["qa"]:
            by_type.setdefault(q["type"], []).append(q)
            if q["type"] == "yes/no":
                by_class.setdefault(q["class"], []).append(q)

    def stats(qs):
        n, ok, ab = len(qs), sum(q["correct"] for q in qs), sum(q["abstained"] for q in qs)
        return {"n": n, "correct": ok, "abstained": ab, "accuracy": ok / n if n else None,
                "accuracy_answered": ok / (n - ab) if n - ab else None,
                "abstention_rate": ab / n if n else None}

    allq = [q for qs in by_type.values() for q in qs]
    return {"n_records": len(rows), "n_questions": len(allq), "overall": stats(allq),
            "by_type": {k: stats(v) for k, v in by_type.items()},
            "yes_no_by_class": {k: stats(v) for k, v in sorted(by_class.items())},
            "llm": llm_note, "ecgqa_skipped": skipped,
            "failures": {r["record"]: r["error"] for r in rows if r.get("error")},
            "config": config}


def report(summary: dict, figures: list[Path]) -> str:
    rows = [[k, v["n"], v["correct"], v["abstained"], v["accuracy"], v["accuracy_answered"],
             v["abstention_rate"]] for k, v in summary["by_type"].items()]
    crow = [[k, v["n"], v["correct"], v["abstained"], v["accuracy"]]
            for k, v in summary["yes_no_by_class"].items()]
    return "\n".join([
        f"# QA: {summary['n_questions']} questions on {summary['n_records']} records", "",
        f"Answers: {summary['llm']}. Exact match; abstention = 'Cannot tell from this "
        "recording'.", "",
        common.md_table(["type", "n", "correct", "abstained", "accuracy",
                         "accuracy (answered)", "abstention rate"], rows, 3), "",
        "Yes/no by class:", "",
        common.md_table(["class", "n", "correct", "abstained", "accuracy"], crow, 3), "",
        *[f"![{p.stem}]({p.name})" for p in figures]]) + "\n"


def run(args) -> int:
    fmt, items = datasets.read_records(Path(args.data), args.format)
    if args.limit:
        items = items[:args.limit]
    questions = {it.key: questions_for(it, fmt) for it in items}
    skipped: dict = {}
    ecgqa = args.ecgqa
    if ecgqa is None and (Path(args.data) / "ecgqa").is_dir():
        ecgqa = str(Path(args.data) / "ecgqa")
    if ecgqa:
        from evals.ecgqa import read_ecgqa

        if fmt != "ptbxl":
            raise common.LayoutError(f"--ecgqa needs PTB-XL records (--data with "
                                     f"ptbxl_database.csv); {args.data!r} is {fmt}")
        by_id = {it.ecg_id: it for it in items}
        qa_items, skipped = read_ecgqa(Path(ecgqa), set(by_id))
        for q in qa_items:
            questions[by_id[q.ecg_id].key].append({
                "type": q.question_type, "class": q.attribute_type, "question": q.question,
                "expected": list(q.answer), "source": "ecg-qa", "sample_id": q.sample_id,
                "template_id": q.template_id})
    settings, llm, note = _get_llm(args.llm)
    print(f"qa: {note}", file=sys.stderr)
    config = {"suite": "qa", "data": str(Path(args.data).resolve()), "format": fmt,
              "llm": llm is not None, "ecgqa": str(ecgqa) if ecgqa else None}
    log = common.ResultLog(Path(args.out), resume=args.resume, config=config)
    common.run_items(items, key=lambda it: it.key,
                     work=lambda it: _work(it, questions[it.key], settings, llm), log=log,
                     jobs=1, label=lambda it: it.key)
    rows = [log.rows[it.key] for it in items if it.key in log.rows]
    out = Path(args.out)
    summary = summarize(rows, config, note, skipped)
    fig = common.bar_plot(out / "qa_accuracy.png",
                          {"accuracy": {k: v["accuracy"] for k, v in summary["by_type"].items()},
                           "abstention": {k: v["abstention_rate"]
                                          for k, v in summary["by_type"].items()}},
                          "QA: exact-match accuracy and abstention by question type", "share")
    flat = [{"record": r["record"], **q} for r in rows for q in r["qa"]]
    common.write_outputs(out, summary, flat, report(summary, [fig]))
    o = summary["overall"]
    print(f"qa: {summary['n_questions']} questions; accuracy {common.fmt(o['accuracy'], 3)}, "
          f"abstention {common.fmt(o['abstention_rate'], 3)}; wrote {out / 'summary.json'}")
    return 0
