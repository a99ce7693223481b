"""Knowledge-base retrieval benchmark: recall@3 of dense, BM25 and hybrid search.

For each clinician-style question of ``evals/knowledge_questions.json``: recall@3 (one of the
expected passage ids is among the top 3) and key-term recall@3 (the answer's key term appears,
case-insensitively, in one of the top-3 passage texts), per mode, reported separately for the
dev questions and for the holdout questions (written last, never used for tuning). Also
timed: embedding-model load, ingest of all passages into a fresh Chroma directory, and
per-query latency per mode (after one warm-up query).

Run: ``python -m benchmarks.knowledge_bench [--k 3] [--persist-dir DIR]``; without
``--persist-dir`` a temporary directory is used. Writes
``benchmarks/results/knowledge_bench.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from statistics import median

from benchmarks import common

QUESTIONS = Path(__file__).resolve().parents[1] / "evals" / "knowledge_questions.json"
MODES = ("dense", "bm25", "hybrid")


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The questions (id, question, expected ids, key_term, split)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["questions"]


def _p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def evaluate(questions: list[dict], persist_dir: str, k: int = 3) -> dict:
    """Per-mode hits, latencies and the per-question top-k ids."""
    from knowledge import kb

    out = {}
    for mode in MODES:
        kb.query("warm-up", k=k, mode=mode, persist_dir=persist_dir)
        rows, lat = [], []
        for q in questions:
            t0 = time.perf_counter()
            got = kb.query(q["question"], k=k, mode=mode, persist_dir=persist_dir)
            lat.append(time.perf_counter() - t0)
            ids = [p.id for p in got]
            rows.append({"id": q["id"], "split": q["split"], "top": ids,
                         "hit": any(e in ids for e in q["expected"]),
                         "key_hit": any(q["key_term"].lower() in p.text.lower() for p in got)})
        out[mode] = {"rows": rows, "latency_ms": {"median": 1000 * median(lat),
                                                  "p90": 1000 * _p90(lat)}}
    return out


def summarise(results: dict, splits=("dev", "holdout")) -> dict:
    """recall@k and key-term recall@k per mode and split."""
    summary = {}
    for mode, r in results.items():
        summary[mode] = {}
        for split in splits:
            rows = [x for x in r["rows"] if x["split"] == split]
            n = len(rows)
            summary[mode][split] = {
                "n": n,
                "recall_at_k": sum(x["hit"] for x in rows) / n if n else None,
                "key_term_recall_at_k": sum(x["key_hit"] for x in rows) / n if n else None,
                "misses": [x["id"] for x in rows if not x["hit"]]}
    return summary


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--persist-dir", default=None,
                    help="Chroma directory (default: a fresh temporary directory)")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from knowledge import kb
    from knowledge.passages import load_passages

    questions = load_questions()
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        persist = args.persist_dir or tmp
        t0 = time.perf_counter()
        kb._embed_model()
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = kb.ingest(persist)
        t_ingest = time.perf_counter() - t0
        results = evaluate(questions, persist, k=args.k)
    summary = summarise(results)

    headers = ["mode", f"dev R@{args.k}", f"dev key@{args.k}", f"holdout R@{args.k}",
               f"holdout key@{args.k}", "median ms", "p90 ms"]
    rows = [[m, summary[m]["dev"]["recall_at_k"], summary[m]["dev"]["key_term_recall_at_k"],
             summary[m]["holdout"]["recall_at_k"], summary[m]["holdout"]["key_term_recall_at_k"],
             results[m]["latency_ms"]["median"], results[m]["latency_ms"]["p90"]]
            for m in MODES]
    n_dev = sum(q["split"] == "dev" for q in questions)
    print(f"knowledge base: {n} passages; {n_dev} dev + {len(questions) - n_dev} holdout "
          f"questions; model load {t_model:.1f} s, ingest {t_ingest:.1f} s")
    print(common.table(headers, rows, digits=2))
    for m in MODES:
        misses = summary[m]["dev"]["misses"] + summary[m]["holdout"]["misses"]
        print(f"{m} misses: {', '.join(misses) or 'none'}")
    payload = {
        "k": args.k, "passages": n, "passage_count_file": len(load_passages()),
        "questions": {"dev": n_dev, "holdout": len(questions) - n_dev},
        "timings_s": {"model_load": t_model, "ingest": t_ingest},
        "summary": summary,
        "latency_ms": {m: results[m]["latency_ms"] for m in MODES},
        "per_question": {m: results[m]["rows"] for m in MODES},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
    }
    path = common.write_json("knowledge_bench", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
