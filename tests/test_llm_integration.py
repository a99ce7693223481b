"""The real embedded LLM (llama.cpp server + Qwen2.5-Coder-1.5B GGUF from PyPI), started once.

Marked integration: it runs in CI (about 2 minutes on 2 cores). It checks the contract, not
the wording: the report is verified, every cited id exists, and a yes/no answer starts with
the evidence's answer.
"""
import pytest

from assistant.agent import ReportAgent
from assistant.config import get_settings
from assistant.llm import LLM
from assistant.llm_server import MODEL_NAME, EmbeddedServer
from assistant.qa import ChatSession
from tests.test_engine import CINC
from tools.engine import analyze
from tools.record import load_record

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def llm(tmp_path_factory):
    import os

    home = os.environ.get("ECG_ASSISTANT_HOME") or str(tmp_path_factory.mktemp("home"))
    settings = get_settings(home=home)
    with EmbeddedServer(settings) as server:
        yield settings, LLM(settings, base_url=server.base_url, model=MODEL_NAME)


def test_real_model_report_is_grounded(llm):
    settings, client = llm
    rep = ReportAgent(settings, client).run(str(CINC))
    g = rep["grounding"]
    assert g["passed"]
    assert g["fallback"] is False or g["problems"], "a fallback must say why"
    assert rep["interpretation"]["findings"]
    for f in rep["interpretation"]["findings"]:
        assert f["evidence_ids"]
        assert all(e in rep["evidence"] for e in f["evidence_ids"])
    assert rep["llm"]["mode"].startswith("text only")
    assert any(c["tool"] == "measure_ecg" for c in rep["tool_calls"])


def test_real_model_answers_yes_no_from_evidence(llm):
    settings, client = llm
    session = ChatSession(settings, client, report=analyze(load_record(CINC)).to_dict())
    out = session.ask("Is there atrial fibrillation?")
    assert out["answer"].startswith("No")  # E07500: sinus bradycardia (Dx 426177001)
    out = session.ask("Is there bradycardia?")
    assert out["answer"].startswith("Yes")
    assert len(session.history) == 4


def test_sigterm_to_llm_serve_leaves_no_model_process(tmp_path):
    """Issue 17: SIGTERM to ``ecg-assistant llm serve`` left the 3-4 GB model server running,
    reparented to PID 1 (either backend)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from assistant.llm_server import _free_port

    port = _free_port()
    env = dict(os.environ, ECG_ASSISTANT_HOME=os.environ.get("ECG_ASSISTANT_HOME")
               or str(tmp_path))
    p = subprocess.Popen([sys.executable, "-c", "import sys; from assistant.cli import main; "
                          f"sys.exit(main(['llm', 'serve', '--port', '{port}']))"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = p.stdout.readline()
    assert "embedded LLM serving" in line, line

    def model_pids():
        out = []
        for d in Path("/proc").iterdir():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if (b"llama_cpp.server" in cmd or b"assistant.xl_server" in cmd) \
                    and str(port).encode() in cmd:
                out.append(int(d.name))
        return out

    pids = model_pids()
    assert pids
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0
    deadline = time.monotonic() + 15
    while model_pids() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert model_pids() == []
