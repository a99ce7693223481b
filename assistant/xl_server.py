"""The embedded model behind llama.cpp's own C++ server, from the prebuilt ``xllamacpp`` wheel.

``python -m assistant.xl_server --model GGUF --port P [--ctx N] [--threads T] [--parallel S]``
serves the OpenAI-compatible API (``/v1/chat/completions``, ``/v1/models``) on 127.0.0.1:P
until it gets SIGTERM/SIGINT. Compared with ``python -m llama_cpp.server`` (llama-cpp-python,
compiled from source at install, about 10 minutes here): the wheel installs in seconds, and
the C++ server has parallel slots (continuous batching), prompt-cache reuse across requests
and JSON-schema constrained output. README "The grounded agent and the LLM" has the measured
comparison.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="GGUF file")
    ap.add_argument("--alias", default=None, help="model name the API reports")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ctx", type=int, default=4096, help="context tokens per slot")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=2, help="slots: requests served at once")
    args = ap.parse_args(argv)

    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = args.model
    if args.alias:
        p.model_alias = {args.alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_parallel = args.parallel
    p.n_ctx = args.ctx * args.parallel  # llama.cpp divides the context among the slots
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    # llama-cpp-python's server samples with repeat_penalty 1.1 by default, llama.cpp's with
    # 1.0: without it the 1.5B model looped ("The ECG is not a qrs_ms. The ECG is not ...")
    # until max_tokens in 7 of 12 drafts, so the JSON never closed. Same defaults as before.
    p.sampling.penalty_repeat = 1.1
    p.sampling.penalty_last_n = 64
    p.cache_prompt = True
    p.n_cache_reuse = 256  # reuse cached prompt chunks (the fixed instructions) across requests
    server = xlc.Server(p)  # loads the model and starts listening
    print(f"xllamacpp server listening at {server.listening_address}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
