"""The embedded model server cannot outlive the process that started it (issue 17: a 3-4 GB
llama.cpp server was left running after SIGTERM to ``serve`` / ``llm serve``)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


PARENT = r"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "assistant.orphan_guard", str(os.getpid()),
                          "--", sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
time.sleep(1.5)
# the grandchild (the 'server') is the guard's only child
kids = open(f"/proc/{child.pid}/task/{child.pid}/children").read().split()
print(child.pid, kids[0], flush=True)
time.sleep(120)
"""


def _start_parent():
    p = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    guard, server = map(int, p.stdout.readline().split())
    assert _alive(guard) and _alive(server)
    return p, guard, server


def test_server_dies_when_its_parent_is_killed():
    p, guard, server = _start_parent()
    p.kill()  # SIGKILL: no handler, no atexit in the parent
    p.wait()
    assert _wait_gone(server) and _wait_gone(guard)


def test_server_dies_when_its_parent_gets_sigterm():
    p, guard, server = _start_parent()
    p.send_signal(signal.SIGTERM)  # the default handler: the parent ends without atexit
    p.wait()
    assert _wait_gone(server) and _wait_gone(guard)


def test_guard_stops_its_child_on_sigterm_and_refuses_bad_usage():
    p, guard, server = _start_parent()
    os.kill(guard, signal.SIGTERM)
    assert _wait_gone(server)
    p.kill()
    p.wait()
    r = subprocess.run([sys.executable, "-m", "assistant.orphan_guard", "x"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_concurrent_callers_start_one_model_server(monkeypatch):
    # the app's chat warm-up and a question can ask for the embedded server at the same
    # moment; a second server would be a second 1-GB process
    import threading
    import time

    from assistant import llm_server
    from assistant.config import get_settings

    started = []

    class FakeServer:
        def __init__(self, settings):
            self.proc = None

        def start(self, progress=None):
            started.append(self)
            time.sleep(0.2)  # a start takes a while: the others arrive meanwhile

            class Alive:
                def poll(self):
                    return None
            self.proc = Alive()
            return self

    monkeypatch.setattr(llm_server, "EmbeddedServer", FakeServer)
    monkeypatch.setattr(llm_server, "_SHARED", None)
    got = []
    threads = [threading.Thread(target=lambda: got.append(
        llm_server.shared_server(get_settings(llm_base_url="")))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(started) == 1 and len(got) == 4 and all(g is started[0] for g in got)
