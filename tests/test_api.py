"""HTTP API (assistant.api) through FastAPI's TestClient: no network, no LLM."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.config import get_settings
from assistant.store import ReportStore

REC = Path(__file__).resolve().parents[1] / "examples" / "cinc-E07500"


def _files(*names: str) -> list[tuple]:
    return [("files", (n, (REC / n).read_bytes())) for n in names]


def _settings(home, **kw):
    """Settings isolated from the environment's LLM endpoint and API key."""
    return get_settings(**{"home": str(home), "llm_base_url": "", "api_key": "", **kw})


@pytest.fixture
def settings(tmp_path):
    return _settings(tmp_path / "home")


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings))


@pytest.fixture
def posted(client):
    r = client.post("/v1/reports", files=_files("E07500.hea", "E07500.mat"))
    assert r.status_code == 200, r.text
    return r.json()


def test_healthz_does_not_start_the_model(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "llm": {"configured": False, "reachable": None}}


def test_report_of_the_bundled_record(posted):
    assert len(posted["id"]) == 32
    assert "Sinus bradycardia" in [s["label"] for s in posted["statements"]]
    assert {"record", "evidence", "measurements", "quality", "delineation"} <= set(posted)
    assert posted["record"]["source"] == "E07500.hea"
    for s in posted["statements"]:  # every cited id resolves in the evidence index
        assert set(s["evidence_ids"]) <= set(posted["evidence"])


def test_report_is_stored_and_survives_a_restart(settings, client, posted):
    r = client.get(f"/v1/reports/{posted['id']}")
    assert r.status_code == 200 and r.json() == posted
    again = TestClient(create_app(_settings(settings.home)))
    assert again.get(f"/v1/reports/{posted['id']}").json() == posted
    assert posted["id"] in again.get("/v1/reports").json()["ids"]
    assert ReportStore(Path(settings.home) / "reports.sqlite3").get(posted["id"])["status"] \
        == "done"


def test_unknown_report_is_404(client):
    r = client.get("/v1/reports/" + "0" * 32)
    assert r.status_code == 404 and "0" * 32 in r.json()["detail"]
    assert client.get("/v1/reports/../../etc").status_code == 404


def test_random_bytes_as_header_is_a_clear_4xx(client):
    r = client.post("/v1/reports", files=[("files", ("x.hea", bytes(range(256)) * 8))])
    assert 400 <= r.status_code < 500
    assert "x.hea" in r.json()["detail"]


def test_header_without_its_data_file_names_the_missing_file(client):
    r = client.post("/v1/reports", files=_files("E07500.hea"))
    assert 400 <= r.status_code < 500
    assert "E07500.mat" in r.json()["detail"]
    assert "/tmp" not in r.json()["detail"]  # no server paths leak


@pytest.mark.parametrize("name", ["../../etc/passwd.hea", "..", "", "a b.csv",
                                  "/abs/x.csv", "..\\x.csv"])
def test_unsafe_file_names_are_rejected(client, tmp_path, name):
    r = client.post("/v1/reports", files=[("files", (name, b"0,1\n"))])
    assert 400 <= r.status_code < 500
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert not (tmp_path / "etc").exists() and not Path("/etc/passwd.hea").exists()


def test_unknown_format_and_missing_files_are_4xx(client):
    r = client.post("/v1/reports", files=[("files", ("notes.txt", b"hello"))])
    assert r.status_code == 400 and "notes.txt" in r.json()["detail"]
    r = client.post("/v1/reports", data={"x": "1"})
    assert r.status_code == 400 and "files" in r.json()["detail"]
    r = client.post("/v1/reports", files=_files("E07500.mat"))
    assert r.status_code == 400 and ".hea" in r.json()["detail"]


def test_unreadable_data_file_is_422_naming_it(client):
    r = client.post("/v1/reports?fs=500", files=[("files", ("x.npy", b"not numpy"))])
    assert r.status_code == 422 and "x.npy" in r.json()["detail"]


def test_oversize_upload_is_413(tmp_path):
    app = create_app(_settings(tmp_path, max_upload_mb=0.01))
    r = TestClient(app).post("/v1/reports", files=_files("E07500.hea", "E07500.mat"))
    assert r.status_code == 413 and "MB" in r.json()["detail"]


def test_api_key_is_required_when_set(tmp_path):
    c = TestClient(create_app(_settings(tmp_path, api_key="s3cret")))
    assert c.get("/healthz").status_code == 200
    assert c.get("/v1/reports").status_code == 401
    assert c.get("/v1/reports", headers={"X-API-Key": "wrong"}).status_code == 401
    r = c.post("/v1/reports", files=_files("E07500.hea", "E07500.mat"))
    assert r.status_code == 401
    assert c.get("/v1/reports", headers={"X-API-Key": "s3cret"}).status_code == 200


def test_llm_report_falls_back_without_llm(settings):
    app = create_app(settings, llm_factory=lambda s: (None, "LLM unavailable (test)"))
    r = TestClient(app).post("/v1/reports?llm=true",
                             files=_files("E07500.hea", "E07500.mat"))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["grounding"]["fallback"] and "LLM unavailable (test)" in rep["notes"]
    assert "/tmp" not in rep["record"]["source"]


def test_openapi_lists_the_report_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/v1/reports"] and "/v1/reports/{report_id}" in paths
    assert "multipart/form-data" in paths["/v1/reports"]["post"]["requestBody"]["content"]
