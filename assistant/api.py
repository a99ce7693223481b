"""HTTP API: upload one ECG record, get its structured (optionally LLM-written) report.

``create_app(settings)`` builds the FastAPI app; nothing happens at import time. Run with
``uvicorn --factory assistant.api:create_app``.

Routes: ``GET /healthz``; ``POST /v1/reports`` (multipart ``files``, query ``llm``, ``fs``);
``GET /v1/reports`` (ids); ``GET /v1/reports/{id}``. When ``settings.api_key`` is set, the
``/v1`` routes require the header ``X-API-Key``. Logs carry ids, counts and error types only,
never file contents, header comments or messages that may quote them.
"""
from __future__ import annotations

import logging
import re
import secrets
import tempfile
import time
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from assistant.config import Settings, get_settings
from assistant.store import ReportStore

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# The formats of tools.record.load_record; WFDB data files travel with their .hea.
_DATA_EXTS = {".csv", ".npy", ".npz", ".edf", ".bdf"}
_WFDB_EXTS = {".hea", ".dat", ".mat"}
_MAX_FILES = 8
_MULTIPART_SLACK = 64 * 1024  # boundaries and part headers on top of the file bytes

LLMFactory = Callable[[Settings], tuple[Any, str | None]]

_UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["files"], "properties": {"files": {
        "type": "array", "items": {"type": "string", "format": "binary"},
        "description": "the files of ONE record: a .hea with its .dat or .mat, or a single "
                       ".csv, .npy, .npz, .edf or .bdf"}}}}}}}


class _TooLarge(Exception):
    pass


def default_llm(settings: Settings) -> tuple[Any, str | None]:
    """The LLM for ``llm=true`` reports (:func:`assistant.llm_server.connect`)."""
    from assistant.llm_server import connect

    llm, note = connect(settings)
    if note:
        log.warning("LLM unavailable; deterministic report only")
    return llm, note


def create_app(settings: Settings | None = None, *,
               llm_factory: LLMFactory | None = None) -> FastAPI:
    """The API app. ``llm_factory(settings) -> (llm | None, note | None)`` is for tests."""
    settings = settings or get_settings()
    store = ReportStore(Path(settings.home) / "reports.sqlite3")
    make_llm = llm_factory or default_llm
    app = FastAPI(title="ECG interpretation assistant", version="0.1")

    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

    def require_key(key: str | None = Depends(api_key_header)) -> None:
        if settings.api_key and not (key and secrets.compare_digest(
                key.encode(), settings.api_key.encode())):
            raise HTTPException(401, "missing or wrong X-API-Key header")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])

    @app.get("/healthz")
    def healthz() -> dict:
        """Liveness, and whether an LLM endpoint is configured and answering."""
        return {"status": "ok", "llm": _llm_health(settings)}

    @v1.post("/reports", openapi_extra=_UPLOAD_DOC)
    async def create_report(
            request: Request,
            llm: bool = Query(False, description="write the interpretation with the LLM"),
            fs: float | None = Query(None, gt=0, description="sampling rate in Hz for files "
                                                             "that do not state it")) -> dict:
        """Analyse one uploaded record and store the report; returns it with its ``id``."""
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="ecg-upload-") as tmp:
            names = await _save_uploads(request, Path(tmp), settings.max_upload_mb)
            primary = _primary(names)
            try:
                report = await run_in_threadpool(_analyse, Path(tmp) / primary, fs, llm,
                                                 settings, make_llm)
            except HTTPException:
                raise
            except Exception as exc:
                raise HTTPException(422, _error_message(exc, primary, tmp)) from None
        rid = store.save(report)
        report = {"id": rid, **report}
        log.info("report %s: %d file(s), llm=%s, %.1f s", rid, len(names), llm,
                 time.perf_counter() - t0)
        return report

    @v1.get("/reports")
    def list_reports() -> dict:
        """Ids of the stored reports, oldest first."""
        return {"ids": store.ids()}

    @v1.get("/reports/{report_id}")
    def get_report(report_id: str) -> dict:
        """A stored report by id."""
        row = store.get(report_id) if _ID_RE.match(report_id) else None
        if row is None or row["report"] is None:
            raise HTTPException(404, f"no report with id {report_id!r}")
        return {"id": row["id"], **row["report"]}

    app.include_router(v1)
    return app


# --------------------------------------------------------------------------- helpers
def _llm_health(settings: Settings) -> dict:
    """``configured``: an endpoint is set or the embedded model is running; ``reachable``:
    it answered ``/models`` within 2 s (None when nothing is configured). Never starts it."""
    base_url = settings.llm_base_url
    if settings.embedded:
        from assistant.llm_server import running_server

        server = running_server()
        if server is None:
            return {"configured": False, "reachable": None}
        base_url = server.base_url
    import httpx

    try:
        r = httpx.get(f"{base_url.rstrip('/')}/models", timeout=2.0,
                      headers={"Authorization": f"Bearer {settings.llm_api_key or 'x'}"})
        return {"configured": True, "reachable": r.status_code < 500}
    except Exception:
        return {"configured": True, "reachable": False}


def _safe_name(raw: str | None) -> str:
    """The upload's base name, if it is a plain file name; else HTTP 400."""
    raw = raw or ""
    parts = re.split(r"[/\\]", raw)
    base = parts[-1]
    if ".." in parts or ".." in base or not _NAME_RE.match(base) or base.startswith("."):
        raise HTTPException(400, f"uploaded file name {raw!r} is not allowed: expected a plain "
                                 "name of letters, digits, '.', '_' or '-' (no directories)")
    return base


async def _limited(stream: AsyncGenerator[bytes, None], limit: int):
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        yield chunk


async def _save_uploads(request: Request, folder: Path, max_mb: float) -> list[str]:
    """Write the ``files`` parts into ``folder`` under sanitised names; returns the names."""
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    limit = int(max_mb * 2**20)
    too_large = HTTPException(413, f"upload exceeds the limit of {max_mb:g} MB in total")
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise HTTPException(400, "expected multipart/form-data with one or more 'files'")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise too_large
    parser = MultiPartParser(request.headers, _limited(request.stream(),
                                                        limit + _MULTIPART_SLACK),
                             max_files=_MAX_FILES, max_fields=_MAX_FILES)
    try:
        form = await parser.parse()
    except _TooLarge:
        raise too_large from None
    except MultiPartException as exc:
        raise HTTPException(400, f"malformed multipart upload: {exc.message}") from None
    try:
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not uploads:
            raise HTTPException(400, "no files uploaded: send one record as multipart field "
                                     "'files' (.hea with its .dat/.mat, or one .csv, .npy, "
                                     ".npz, .edf or .bdf)")
        names, total = [], 0
        for up in uploads:
            name = _safe_name(up.filename)
            if name in names:
                raise HTTPException(400, f"file {name!r} was uploaded twice")
            ext = Path(name).suffix.lower()
            if ext not in _DATA_EXTS | _WFDB_EXTS:
                raise HTTPException(400, f"uploaded file {name!r}: unknown format {ext!r}; "
                                         f"expected one of "
                                         f"{', '.join(sorted(_DATA_EXTS | _WFDB_EXTS))}")
            with open(folder / name, "xb") as out:
                while chunk := await up.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        raise too_large
                    out.write(chunk)
            names.append(name)
        return names
    finally:
        await form.close()


def _primary(names: list[str]) -> str:
    """The file to load: the one .hea, else the single data file; else HTTP 400."""
    heas = [n for n in names if Path(n).suffix.lower() == ".hea"]
    if len(heas) > 1:
        raise HTTPException(400, f"several headers uploaded ({', '.join(heas)}); send one "
                                 "record per request")
    if heas:
        others = [n for n in names if Path(n).suffix.lower() not in _WFDB_EXTS]
        if others:
            raise HTTPException(400, f"{', '.join(others)} do not belong to WFDB record "
                                     f"{heas[0]!r}; send one record per request")
        return heas[0]
    if len(names) == 1 and Path(names[0]).suffix.lower() in _DATA_EXTS:
        return names[0]
    if all(Path(n).suffix.lower() in (".dat", ".mat") for n in names):
        raise HTTPException(400, f"{', '.join(names)}: WFDB data without its header; upload "
                                 "the .hea too")
    raise HTTPException(400, f"{', '.join(names)}: expected the files of ONE record (a .hea "
                             "with its .dat/.mat, or a single .csv/.npy/.npz/.edf/.bdf)")


def _analyse(path: Path, fs: float | None, use_llm: bool, settings: Settings,
             make_llm: LLMFactory) -> dict:
    """The report of the file at ``path`` (runs in a worker thread)."""
    from tools.evidence import evidence_index
    from tools.record import load_record

    if not use_llm:
        from tools.engine import analyze

        d = analyze(load_record(path, fs=fs)).to_dict()
        return {"record": d["record"], "evidence": evidence_index(d),
                "statements": d["statements"], "measurements": d["measurements"],
                "quality": d["quality"], "delineation": d["delineation"],
                "notes": d.get("notes", [])}
    from assistant.agent import ReportAgent

    load_record(path, fs=fs)  # fail early with the loader's clear message
    llm, note = make_llm(settings)
    report = ReportAgent(settings, llm).run(str(path), fs=fs)
    if note:
        report["notes"] = [*report.get("notes", []), note]
    return report


def _error_message(exc: Exception, primary: str, tmp: str) -> str:
    """A client-facing message naming the uploaded file, without server paths."""
    from tools.record import RecordError

    if isinstance(exc, RecordError):
        msg = str(exc).replace(tmp.rstrip("/") + "/", "").replace(tmp, "")
        return msg if primary in msg else f"{primary!r}: {msg}"
    log.error("analysis failed: %s", type(exc).__name__)  # not str(exc): may quote the file
    return f"could not analyse {primary!r} ({type(exc).__name__})"
