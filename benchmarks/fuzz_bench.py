"""Hostile-input benchmark: generated uploads of every accepted format (evals/hostile.py).

    python -m benchmarks.fuzz_bench [--n 10000] [--api 300] [--seed 0] [--out FILE]

Every input is loaded as the API loads it (``check``: accepted / refused naming the file /
crash); ``--api N`` of them (spread over the run) are also posted to the HTTP API in-process
(FastAPI TestClient, no LLM) and must get 200 or a 4xx with a message, never a 5xx. Peak
memory: the process's resident high-water mark (``ru_maxrss``) before and after each input;
the largest rise over one input bounds what any single upload cost. Prints a summary and
writes it as JSON (default ``benchmarks/results/fuzz_bench.json``).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(n: int, n_api: int, seed: int) -> dict:
    from evals import hostile

    tmp = Path(tempfile.mkdtemp(prefix="ecg-fuzz-seeds-"))
    seeds = hostile.seeds(tmp)
    client = _client(tmp) if n_api else None
    every = max(1, n // n_api) if n_api else 0
    outcomes: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    crashes, statuses, api_5xx, slow = [], Counter(), [], []
    worst_rise, worst_what = 0.0, ""
    t_start = time.perf_counter()
    for i, up in enumerate(hostile.generate(seeds, n, seed)):
        before = _rss_mb()
        t0 = time.perf_counter()
        outcome, detail = hostile.check(up)
        secs = time.perf_counter() - t0
        rise = _rss_mb() - before
        if rise > worst_rise:
            worst_rise, worst_what = rise, f"{up.kind}/{up.how} ({outcome})"
        outcomes[outcome] += 1
        by_kind.setdefault(up.kind, Counter())[outcome] += 1
        if outcome == "crash":
            crashes.append({"kind": up.kind, "how": up.how, "detail": detail})
        if up.how == "seed" and outcome != "accepted":
            crashes.append({"kind": up.kind, "how": "seed refused", "detail": detail})
        if secs > 5:
            slow.append({"kind": up.kind, "how": up.how, "seconds": round(secs, 1)})
        if client is not None and i % every == 0:
            r = client.post("/v1/reports",
                            files=[("files", (name, data)) for name, data in up.files.items()],
                            params={"fs": "500"} if any(k.endswith(".npy") for k in up.files)
                            else None)
            statuses[r.status_code] += 1
            if r.status_code >= 500 or (r.status_code >= 400 and not r.json().get("detail")):
                api_5xx.append({"kind": up.kind, "how": up.how, "status": r.status_code,
                                "body": r.text[:200]})
        if (i + 1) % 500 == 0:
            print(f"[{i + 1}/{n}] {dict(outcomes)}", file=sys.stderr, flush=True)
    return {"inputs": n, "seed": seed, "outcomes": dict(outcomes),
            "by_format": {k: dict(v) for k, v in sorted(by_kind.items())},
            "crashes": crashes[:50], "n_crashes": len(crashes),
            "api_posts": sum(statuses.values()), "api_status": dict(sorted(statuses.items())),
            "api_5xx_or_silent_4xx": api_5xx[:20], "n_api_5xx": len(api_5xx),
            "peak_rss_mb": round(_rss_mb(), 1),
            "largest_rise_over_one_input_mb": round(worst_rise, 1),
            "largest_rise_input": worst_what, "slow_inputs_over_5s": slow[:20],
            "seconds": round(time.perf_counter() - t_start, 1)}


def _client(tmp: Path):
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.config import get_settings

    settings = get_settings(home=str(tmp / "home"), llm_base_url="", api_key="")
    return TestClient(create_app(settings, llm_factory=lambda s: (None, "no LLM (fuzz)")))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--api", type=int, default=300, help="inputs also posted to the API")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "fuzz_bench.json"))
    a = ap.parse_args(argv)
    res = run(a.n, a.api, a.seed)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: v for k, v in res.items()
                      if k not in ("crashes", "api_5xx_or_silent_4xx", "by_format")}, indent=1))
    return 1 if res["n_crashes"] or res["n_api_5xx"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
