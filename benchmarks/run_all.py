"""Run every benchmark in turn: ``python -m benchmarks.run_all`` (also ``make bench``).

Each writes its own ``benchmarks/results/<name>.json``; this prints their tables in order.
"""
from __future__ import annotations

import sys
import time

from benchmarks import (af_bench, api_load_bench, av_block_bench, cinc_bench, encoder_bench,
                        er_bench, format_bench, fs_bench, fuzz_bench, knowledge_bench,
                        long_pr_bench, ludb_bench, noise_bench, pacing_bench, qrs_bench,
                        render_bench, speed_bench, stemi_bench, vrun_bench, wct_bench)

# agent_bench (the embedded LLM, about 2 minutes per record) is run on its own.
BENCHMARKS = (("ludb_bench", ludb_bench.main), ("cinc_bench", cinc_bench.main),
              ("qrs_bench", qrs_bench.main), ("long_pr_bench", long_pr_bench.main),
              ("wct_bench", wct_bench.main), ("vrun_bench", vrun_bench.main),
              ("av_block_bench", av_block_bench.main),
              ("af_bench", af_bench.main),
              ("er_bench", er_bench.main),
              ("noise_bench", noise_bench.main), ("fs_bench", fs_bench.main),
              ("pacing_bench", pacing_bench.main), ("stemi_bench", stemi_bench.main),
              ("speed_bench", speed_bench.main), ("format_bench", format_bench.main),
              ("render_bench", render_bench.main),
              ("encoder_bench", encoder_bench.main), ("knowledge_bench", knowledge_bench.main),
              ("api_load_bench", api_load_bench.main), ("fuzz_bench", fuzz_bench.main))


def main(argv=None) -> int:
    failed = []
    for name, run in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        try:
            run([])
        except Exception as exc:  # noqa: BLE001 - report and go on to the next benchmark
            failed.append(name)
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
