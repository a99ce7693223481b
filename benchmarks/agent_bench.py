"""Grounded reports with the embedded LLM: seconds per report, tool calls, verifier outcomes,
agreement with dataset labels, the LLM's impression (sentences per report, share citing a
knowledge passage), and yes/no questions answered from the evidence.

    .venv/bin/python -m benchmarks.agent_bench [--n 12] [--data ../shared/data]
        [--backend xllamacpp|llama-cpp-python] [--out FILE]

Starts the embedded llama.cpp server once (2 threads), runs ``ReportAgent`` on the first N
CinC 2021 records, and for each record asks the yes/no questions its SNOMED labels decide
(AF, RBBB, first-degree AV block, bradycardia, sinus rhythm). Label agreement: a report
"agrees" with a label when the interpretation's findings state that class (concept match
on the verified text). Writes benchmarks/results/agent_bench.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "agent_bench.json"

# question, SNOMED codes meaning "yes" (CinC equivalents), statement class
QUESTIONS = [
    ("Is there atrial fibrillation?", {"164889003"}),
    ("Is there a right bundle branch block?", {"59118001", "713427006"}),
    ("Is there a first-degree AV block?", {"270492004"}),
    ("Is there bradycardia?", {"426177001"}),
    ("Is this a regular sinus rhythm?", {"426783006", "426177001", "427084000"}),
]
_CLASS_WORDS = {"426177001": "sinus bradycardia", "427084000": "sinus tachycardia",
                "164889003": "atrial fibrillation", "59118001": "right bundle branch block",
                "713427006": "right bundle branch block", "270492004": "first-degree",
                "111975006": "prolonged qt", "426783006": "sinus rhythm",
                "284470004": "premature atrial", "427172004": "premature ventricular"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--backend", choices=("xllamacpp", "llama-cpp-python"), default=None,
                    help="embedded server (default: the configured one)")
    ap.add_argument("--out", default=str(RESULTS), help="results JSON")
    ap.add_argument("--warm", action=argparse.BooleanOptionalAction, default=True,
                    help="warm the prompt cache with each record's evidence before its "
                         "questions, as the browser app does (default: yes)")
    ap.add_argument("--impression", choices=("auto", "on", "off"), default="on",
                    help="ask the embedded model for the report's impression (default on: "
                         "what this benchmark measures; the product's default is auto = off "
                         "for the embedded model)")
    args = ap.parse_args(argv)
    from assistant.agent import ReportAgent
    from assistant.config import get_settings
    from assistant.llm import LLM
    from assistant.llm_server import MODEL_NAME, EmbeddedServer
    from assistant.qa import ChatSession
    from evals.labels import parse_header
    from tools.engine import analyze
    from tools.record import load_record

    files = sorted((Path(args.data).resolve() / "cinc2021").glob("*.hea"))[:args.n]
    settings = get_settings(llm_impression=args.impression,
                            **({"embedded_backend": args.backend} if args.backend else {}))
    rows, qa = [], []
    with EmbeddedServer(settings) as server:
        llm = LLM(settings, base_url=server.base_url, model=MODEL_NAME)
        agent = ReportAgent(settings, llm)
        for i, path in enumerate(files, 1):
            print(f"[agent] {i}/{len(files)} {path.name}", file=sys.stderr, flush=True)
            truth = set(parse_header(path).dx)
            t = time.perf_counter()
            rep = agent.run(str(path))
            secs = time.perf_counter() - t
            text = " ".join(f["text"] for f in rep["interpretation"]["findings"]).lower()
            labels = {c: _CLASS_WORDS[c] for c in truth if c in _CLASS_WORDS}
            imp = rep["interpretation"].get("impression") or []
            rows.append({"record": path.stem, "seconds": round(secs, 1),
                         "impression": [f["text"] for f in imp],
                         "impression_sentences": len(imp),
                         "impression_citing_knowledge": sum(bool(f.get("knowledge_ids"))
                                                            for f in imp),
                         "tool_calls": len(rep["tool_calls"]),
                         "outcome": "fallback" if rep["grounding"]["fallback"] else
                         ("repaired" if rep["grounding"]["repaired"] else "first"),
                         "problems": rep["grounding"]["problems"][:3],
                         "labels_stated": sum(w in text for w in labels.values()),
                         "llm_tokens": rep["timings"].get("llm_tokens", {}),
                         "labels": len(labels)})
            session = ChatSession(settings, llm, report=analyze(load_record(path)).to_dict())
            # as the browser app does right after the analysis (ReportService.warm_chat)
            if args.warm:
                rows[-1]["chat_warm_seconds"] = round(session.warm() or 0.0, 2)
            for q, codes in QUESTIONS:
                expected = "Yes" if truth & codes else "No"
                out = session.ask(q)
                qa.append({"record": path.stem, "question": q, "expected": expected,
                           "answer": out["answer"][:160], "fallback": out["grounding"]["fallback"],
                           "seconds": out["seconds"],
                           "correct": out["answer"].startswith(expected)})
        two = _two_at_once(settings, llm, files[:2])
    n = len(rows)
    outcomes = {k: sum(r["outcome"] == k for r in rows) / n for k in ("first", "repaired",
                                                                       "fallback")}
    secs = [r["seconds"] for r in rows]
    summary = {
        "records": n, "machine": "2 CPU cores, embedded Qwen2.5-Coder-1.5B Q4_K_M",
        "backend": settings.embedded_backend,
        "seconds_median": statistics.median(secs), "seconds_max": max(secs),
        "tool_calls_mean": statistics.mean(r["tool_calls"] for r in rows),
        "verifier": outcomes,
        # share of the shown impression sentences (LLM-written, verified) citing a k: passage
        "impression_reports": sum(r["impression_sentences"] > 0 for r in rows) / n,
        "impression_sentences_mean": statistics.mean(r["impression_sentences"] for r in rows),
        "impression_knowledge_share": (sum(r["impression_citing_knowledge"] for r in rows) /
                                       max(1, sum(r["impression_sentences"] for r in rows))),
        "label_agreement": (sum(r["labels_stated"] for r in rows) /
                            max(1, sum(r["labels"] for r in rows))),
        "qa_accuracy": sum(q["correct"] for q in qa) / len(qa), "qa_n": len(qa),
        "qa_llm_phrased": sum(not q["fallback"] for q in qa) / len(qa),
        "generated_tokens_mean": statistics.mean(r["llm_tokens"].get("generated", 0)
                                                 for r in rows),
        "prompt_tokens_mean": statistics.mean(r["llm_tokens"].get("prompt", 0) for r in rows),
        "prompt_cached_share": (sum(r["llm_tokens"].get("cached", 0) for r in rows)
                                / max(1, sum(r["llm_tokens"].get("prompt", 0) for r in rows))),
        "chat_warm_seconds_median": statistics.median(r.get("chat_warm_seconds", 0)
                                                      for r in rows),
        "qa_seconds_median": statistics.median(q["seconds"] for q in qa),
        "qa_seconds_max": max(q["seconds"] for q in qa),
        **two,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "reports": rows, "qa": qa}, indent=1))
    for k, v in summary.items():
        print(f"{k:>18}: {v:.3g}" if isinstance(v, float) else f"{k:>18}: {v}")
    print(f"wrote {out}")
    return 0


def _two_at_once(settings, llm, paths) -> dict:
    """Wall seconds for two questions (on two records, caches warm) one after the other and
    both at once on the server's two slots."""
    import threading

    from assistant.qa import ChatSession
    from tools.engine import analyze
    from tools.record import load_record

    reports = [analyze(load_record(p)).to_dict() for p in paths]
    q = "Is there a first-degree AV block?"

    def ask(rep):
        ChatSession(settings, llm, report=rep).ask(q)

    for rep in reports:
        ChatSession(settings, llm, report=rep).warm()
    t = time.perf_counter()
    for rep in reports:
        ask(rep)
    one = time.perf_counter() - t
    threads = [threading.Thread(target=ask, args=(rep,)) for rep in reports]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    both = time.perf_counter() - t
    return {"two_questions_one_after_the_other_s": round(one, 2),
            "two_questions_at_once_s": round(both, 2)}


if __name__ == "__main__":
    sys.exit(main())
