"""HTTP API under load: concurrent clients posting ``llm=false`` reports to a real
``ecg-assistant serve`` process, then a restart and a check that every stored report is
still there and unchanged.

    python -m benchmarks.api_load_bench [--clients 50] [--per-client 2] [--data DIR]
                                        [--workers N] [--out NAME]

Peer in the same run: the engine called in-process, one record after another (load +
analyse, no HTTP, no store); the ratio says what the API's parsing, storage and
concurrency cost or gain. Results: ``benchmarks/results/api_load_bench.json``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import free_port, start_server, table, write_json
from evals.ludb import default_data_dir


def _records(data_dir: Path, n: int) -> list[dict[str, bytes]]:
    heas = sorted((data_dir / "cinc2021").glob("*.hea"))[:n]
    if not heas:
        raise SystemExit(f"no CinC records under {data_dir / 'cinc2021'!s}")
    return [{p.name: p.read_bytes(), p.with_suffix(".mat").name:
             p.with_suffix(".mat").read_bytes()} for p in heas]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def _in_process(records: list[dict[str, bytes]]) -> float:
    """Seconds per record for load + analyse in this process, sequentially (the peer)."""
    from tools.engine import analyze
    from tools.record import load_record

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for files in records:
            for name, data in files.items():
                (Path(tmp) / name).write_bytes(data)
            hea = next(n for n in files if n.endswith(".hea"))
            t = time.perf_counter()
            analyze(load_record(Path(tmp) / hea))
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> dict:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--per-client", type=int, default=2)
    ap.add_argument("--records", type=int, default=10, help="distinct records to post")
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--workers", type=int, default=None,
                    help="analysis worker processes of the server (default: serve's own, one "
                         "per CPU; 0: threads of the server process)")
    ap.add_argument("--out", default="api_load_bench", help="results file name")
    args = ap.parse_args(argv)
    if args.workers is not None:
        os.environ["ECG_ASSISTANT_ANALYSIS_WORKERS"] = str(args.workers)
    records = _records(args.data, args.records)
    home = Path(tempfile.mkdtemp(prefix="ecg-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(home, port)
    latencies, failures, ids = [], [], {}
    lock = threading.Lock()
    start = threading.Barrier(args.clients)

    def client(k: int) -> None:
        with httpx.Client(timeout=600) as c:
            start.wait()
            for j in range(args.per_client):
                files = records[(k * args.per_client + j) % len(records)]
                t = time.perf_counter()
                try:
                    r = c.post(f"{base}/v1/reports?llm=false",
                               files=[("files", (n, d)) for n, d in files.items()])
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    if ok:
                        body = r.json()
                        ids[body["id"]] = sorted(s["id"] for s in body["statements"])
                    else:
                        failures.append(str(getattr(r, "status_code", r))[:200])
                print(f"\r[api_load] {len(latencies)}/{args.clients * args.per_client}",
                      end="", file=sys.stderr, flush=True)

    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(client, range(args.clients)))
        wall = time.perf_counter() - t0
        print(file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    # restart on the same store: every report must still be there, unchanged
    proc = start_server(home, port)
    try:
        with httpx.Client(timeout=60) as c:
            listed = set(c.get(f"{base}/v1/reports").json()["ids"])
            same = sum(1 for rid, st in ids.items()
                       if sorted(s["id"] for s in c.get(f"{base}/v1/reports/{rid}").json()
                                 ["statements"]) == st)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    peer_s = _in_process(records)
    n = len(latencies)
    res = {"clients": args.clients, "requests": n, "failures": len(failures),
           "failure_examples": failures[:5], "wall_s": round(wall, 2),
           "reports_per_s": round((n - len(failures)) / wall, 3),
           "latency_s": {"p50": round(_pct(latencies, 50), 2), "p90": round(_pct(latencies, 90), 2),
                         "p99": round(_pct(latencies, 99), 2), "max": round(max(latencies), 2)},
           "after_restart": {"stored": len(ids), "listed": len(listed & set(ids)),
                             "unchanged": same},
           "peer_in_process_s_per_record": round(peer_s, 3),
           "peer_reports_per_s": round(1 / peer_s, 3),
           "throughput_ratio_vs_peer": round((n - len(failures)) / wall * peer_s, 3),
           "cpu_cores": os.cpu_count(),
           "analysis_workers": os.environ.get("ECG_ASSISTANT_ANALYSIS_WORKERS") or "serve default"}
    print(table(["clients", "requests", "failures", "reports/s", "p50 s", "p90 s", "p99 s",
                 "in-process reports/s", "ratio"],
                [[args.clients, n, len(failures), res["reports_per_s"],
                  res["latency_s"]["p50"], res["latency_s"]["p90"], res["latency_s"]["p99"],
                  res["peer_reports_per_s"], res["throughput_ratio_vs_peer"]]], digits=2))
    print(f"after restart: {res['after_restart']['listed']}/{len(ids)} reports listed, "
          f"{same}/{len(ids)} unchanged")
    write_json(args.out, res)
    return res


if __name__ == "__main__":
    main()
