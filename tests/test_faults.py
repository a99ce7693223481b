"""Fault injection (issue 17): the service recovers, or fails with a clear message, and
nothing already stored is lost - kill -9 in the middle of writes, a full disk, a corrupt
report store, a corrupt knowledge index, the model server dropping the connection in the
middle of a report job. (An LLM that answers errors or times out: tests/test_agent.py; a job
interrupted by a restart: tests/test_api.py.)"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.config import get_settings
from assistant.store import ReportStore, StoreError

ROOT = Path(__file__).resolve().parents[1]
REC = ROOT / "examples" / "cinc-E07500"
FILES = [("files", (n, (REC / n).read_bytes())) for n in ("E07500.hea", "E07500.mat")]


def _client(home: Path) -> TestClient:
    settings = get_settings(home=str(home), llm_base_url="", api_key="")
    return TestClient(create_app(settings, llm_factory=lambda s: (None, "no LLM (test)")))


_WRITER = r"""
import sys
from assistant.store import ReportStore
store = ReportStore(sys.argv[1])
blob = bytes(range(256)) * 4000  # 1 MB of record files per report
i = 0
while True:
    rid = store.save({"n": i, "pad": "x" * 20000}, files={"rec.dat": blob})
    print(rid, i, flush=True)
    i += 1
"""


def test_kill_9_during_writes_loses_no_committed_report(tmp_path):
    path = tmp_path / "reports.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    committed = []
    t0 = time.time()
    while len(committed) < 15 and time.time() - t0 < 60:
        committed.append(proc.stdout.readline().split())
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next write
    proc.wait()
    store = ReportStore(path)
    for rid, n in committed:
        got = store.get(rid)
        assert got is not None and got["report"]["n"] == int(n) and got["status"] == "done"
        assert len(store.files(rid)["rec.dat"]) == 1_024_000
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(store.ids()) >= len(committed)  # the one being written is either whole or absent


def test_a_full_disk_is_a_503_with_the_reason_and_nothing_stored_is_lost(tmp_path, monkeypatch):
    client = _client(tmp_path / "home")
    first = client.post("/v1/reports", files=FILES)
    assert first.status_code == 200

    def full(self):
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as mp:
        mp.setattr(ReportStore, "_connect", full)
        r = client.post("/v1/reports", files=FILES)
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert "disk is full" in r.json()["detail"] and "nothing" in r.json()["detail"]
        assert client.get(f"/v1/reports/{first.json()['id']}").status_code == 503
    # space again: the earlier report is intact and new ones are stored
    assert client.get(f"/v1/reports/{first.json()['id']}").json()["id"] == first.json()["id"]
    assert client.post("/v1/reports", files=FILES).status_code == 200


def test_a_corrupt_report_store_is_a_clear_503_and_is_not_overwritten(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    garbage = b"this is not a database" * 100
    (home / "reports.sqlite3").write_bytes(garbage)
    client = _client(home)
    r = client.post("/v1/reports", files=FILES)
    assert r.status_code == 503 and "reports.sqlite3" in r.json()["detail"]
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and "not a database" in health["store"]
    assert (home / "reports.sqlite3").read_bytes() == garbage  # kept for recovery


def test_a_store_error_names_the_file(tmp_path):
    (tmp_path / "reports.sqlite3").write_bytes(b"junk" * 1000)
    with pytest.raises(StoreError, match="reports.sqlite3"):
        ReportStore(tmp_path / "reports.sqlite3").ids()


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:legacy embedding function config")
def test_a_corrupt_knowledge_index_is_moved_aside_and_rebuilt(tmp_path, monkeypatch):
    from knowledge import kb

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    index = tmp_path / "chroma"
    index.mkdir()
    (index / "chroma.sqlite3").write_bytes(os.urandom(5000))
    hits = kb.query("Sokolow-Lyon voltage for LVH", k=3, persist_dir=index)
    assert hits[0].id == "k:lvh"
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("chroma.corrupt-")]
    assert len(kept) == 1 and (kept[0] / "chroma.sqlite3").exists()


def test_a_model_server_crash_mid_report_gives_the_deterministic_report(tmp_path):
    # the plan is answered, then the server drops the connection while the draft is written
    # (and refuses afterwards): the job still finishes, with the deterministic report and
    # the reason; the record files are kept with it
    from assistant.llm import LLM
    from tests.fake_openai import FakeOpenAI

    plan = {"tool_call": ("plan", {"knowledge_queries": [], "use_priors": False,
                                   "use_similar": False})}
    with FakeOpenAI([plan, {"drop": True}, {"drop": True}]) as fake:
        settings = get_settings(home=str(tmp_path / "home"), llm_base_url=fake.base_url,
                                llm_model="fake", api_key="")
        app = create_app(settings, llm_factory=lambda s: (LLM(s), None))
        with TestClient(app) as c:
            rid = c.post("/v1/reports?llm=true&wait=true", files=FILES).json()["id"]
            rep = c.get(f"/v1/reports/{rid}").json()
    assert rep["status"] == "done" and rep["grounding"]["fallback"]
    assert any("LLM draft failed" in n for n in rep["notes"]), rep["notes"]
    assert rep["interpretation"]["findings"] and rep["interpretation"]["impression"] == []
    assert ReportStore(tmp_path / "home" / "reports.sqlite3").files(rid)
