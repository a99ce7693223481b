"""Run a command as a child that cannot outlive its parent.

``python -m assistant.orphan_guard PARENT_PID -- CMD...`` starts CMD and stops it (SIGTERM,
then SIGKILL after 10 s) when the process PARENT_PID is gone (this guard is then reparented,
so ``os.getppid()`` changes), or when the guard itself gets SIGTERM/SIGINT/SIGHUP. It covers
every way the parent can end: a normal exit, SIGTERM with the default handler (no ``atexit``),
a re-raised signal after uvicorn's graceful shutdown, SIGKILL and a crash. Used for the
embedded LLM server, a 3-4 GB process that was left running, reparented to PID 1, whenever
``ecg-assistant serve`` or ``llm serve`` was stopped with SIGTERM (issue 17).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_S = 0.5


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -m assistant.orphan_guard PARENT_PID -- CMD...", file=sys.stderr)
        return 2
    parent, cmd = int(argv[0]), argv[2:]
    proc = subprocess.Popen(cmd)

    def stop(*_):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        sys.exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    while proc.poll() is None:
        if os.getppid() != parent:
            stop()
        time.sleep(POLL_S)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
