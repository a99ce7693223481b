"""HTTP API: upload one ECG record, get its structured (optionally LLM-written) report.

``create_app(settings)`` builds the FastAPI app; nothing happens at import time.
``ecg-assistant serve`` runs it with the Gradio app mounted at ``/`` (:func:`mount_ui`).

Routes (OpenAPI at ``/openapi.json``, docs at ``/docs``):

- ``GET /healthz``: readiness and whether the LLM backend answers;
- ``POST /v1/reports`` (multipart ``files``; ``llm``, ``fs``, ``patient_id``, ``prior_id``,
  ``wait``):
  ``llm=false`` returns the report (200); ``llm=true`` starts a job (202, poll
  ``GET /v1/reports/{id}``) unless ``wait=true``;
- ``GET /v1/reports`` (ids), ``GET /v1/reports/{id}`` (200 done / failed, 202 running);
- ``GET /v1/reports/{id}/image`` (``format=png|svg|pdf``, ``highlight=`` evidence ids),
  ``GET /v1/reports/{id}/pdf``, ``GET /v1/reports/{id}/fhir`` (FHIR R4 Bundle);
- ``POST /v1/reports/{id}/ask`` (``{"question": ...}``), ``GET /v1/reports/{id}/questions``.

When ``settings.api_key`` is set, the ``/v1`` routes require the header ``X-API-Key``.
Logs carry ids, counts and error types only, never file contents, header comments or
messages that may quote them.
"""
from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from assistant.config import Settings, get_settings
from assistant.service import LLMFactory, ReportService, ServiceError
from assistant.store import StoreError
from assistant.uploads import UPLOAD_DOC, read_uploads

log = logging.getLogger(__name__)

_MEDIA = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=2000,
                          description="a question about this ECG, e.g. 'Is there RBBB?'")


def _clip(value, limit: int = 200):
    """An echoed request value, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def create_app(settings: Settings | None = None, *,
               llm_factory: LLMFactory | None = None) -> FastAPI:
    """The API app. ``llm_factory(settings) -> (llm | None, note | None)`` is for tests."""
    settings = settings or get_settings()
    service = ReportService(settings, llm_factory=llm_factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()

    app = FastAPI(title="ECG interpretation assistant", version="0.1", lifespan=lifespan,
                  description="Grounded 12-lead ECG reports: every number measured from the "
                              "signal and cited by evidence id.")
    app.state.service = service

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        headers = ({"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None
                   else None)
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError):
        # disk full, a corrupt or locked store file: the request's work is not kept (each
        # write is one transaction) and what was stored before is untouched
        return JSONResponse({"detail": f"{exc}: the report store cannot be used now; nothing "
                                       "from this request was stored - try again later"},
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # FastAPI echoes the whole offending input; a 1 MB question came back whole (issue 17)
        errors = [{k: (_clip(v) if k == "input" else v) for k, v in err.items() if k != "ctx"}
                  for err in exc.errors()[:10]]
        return JSONResponse({"detail": errors}, status_code=422)

    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

    def require_key(key: str | None = Depends(api_key_header)) -> None:
        if settings.api_key and not (key and secrets.compare_digest(
                key.encode(), settings.api_key.encode())):
            raise HTTPException(401, "missing or wrong X-API-Key header")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])

    @app.get("/healthz")
    def healthz() -> dict:
        """Readiness: the report store, and whether an LLM endpoint is configured and
        answering. ``status`` is 'degraded' when the store cannot be used."""
        try:
            service.store.ping()
            store = "ok"
        except StoreError as exc:
            store = str(exc)
        return {"status": "ok" if store == "ok" else "degraded", "store": store,
                "llm": _llm_health(settings)}

    @v1.post("/reports", openapi_extra=UPLOAD_DOC, status_code=200,
             responses={202: {"description": "LLM report job started; poll its id"}})
    async def create_report(
            request: Request,
            llm: bool = Query(False, description="write the interpretation with the LLM"),
            fs: float | None = Query(None, gt=0, description="sampling rate in Hz for files "
                                                             "that do not state it"),
            patient_id: str | None = Query(None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                                           description="compare with this patient's priors "
                                                       "(LLM reports)"),
            prior_id: str | None = Query(None, description="id of an earlier stored report "
                                                           "of the same patient to compare with"),
            wait: bool = Query(False, description="with llm=true: wait for the report "
                                                  "instead of returning 202")):
        """Analyse one uploaded record and store it (with its files); returns the report
        with its ``id``, or for an LLM job ``202 {id, status: running}``."""
        files = await read_uploads(request, settings.max_upload_mb)

        out = await run_in_threadpool(service.create, files, fs=fs, llm=llm,
                                      patient_id=patient_id, prior_id=prior_id,
                                      cancelled=_gone(request))
        if out["status"] == "running":
            if wait:
                return await run_in_threadpool(service.wait, out["id"])
            return JSONResponse(out, status_code=202,
                                headers={"Location": f"/v1/reports/{out['id']}"})
        return out

    @v1.get("/reports")
    def list_reports() -> dict:
        """Ids of the stored reports, oldest first."""
        return {"ids": service.ids()}

    @v1.get("/reports/{report_id}", responses={202: {"description": "still running"}})
    def get_report(report_id: str):
        """A stored report by id (``status``: done, running with ``progress``, or failed
        with ``error``)."""
        rep = service.get(report_id)
        return JSONResponse(rep, status_code=202) if rep["status"] == "running" else rep

    @v1.get("/reports/{report_id}/image", response_class=Response,
            responses={200: {"content": {m: {} for m in _MEDIA.values()}}})
    async def get_image(report_id: str,
                        format: Literal["png", "svg", "pdf"] = Query("png"),
                        highlight: list[str] = Query([], description="evidence ids to shade, "
                                                                     "e.g. m:qrs_ms, s:rbbb")):
        """The 12-lead page (25 mm/s, 10 mm/mV) with the cited evidence highlighted."""
        body = await run_in_threadpool(service.image, report_id, format, highlight)
        return Response(body, media_type=_MEDIA[format])

    @v1.get("/reports/{report_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
    async def get_pdf(report_id: str):
        """The printable report: the page, then statements, measurements and citations."""
        body = await run_in_threadpool(service.pdf, report_id)
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="ecg-report-{report_id}.pdf"'})

    @v1.get("/reports/{report_id}/fhir")
    async def get_fhir(report_id: str):
        """FHIR R4 Bundle: a DiagnosticReport with LOINC-coded measurement Observations and
        SNOMED CT-coded statements."""
        body = await run_in_threadpool(service.fhir, report_id)
        return JSONResponse(body, media_type="application/fhir+json")

    @v1.post("/reports/{report_id}/ask")
    async def ask(report_id: str, q: Question, request: Request,
                  llm: bool = Query(True, description="let the LLM phrase the answer (it is "
                                                      "verified; else deterministic)")) -> dict:
        """Answer a question about this ECG from its evidence, with cited evidence ids.
        While the LLM is busy for longer than ``ask_wait_s`` the deterministic answer comes
        at once (``note`` says so)."""
        return await run_in_threadpool(service.ask, report_id, q.question, llm=llm,
                                       cancelled=_gone(request))

    @v1.get("/reports/{report_id}/questions")
    def questions(report_id: str) -> dict:
        """The questions asked about this report and their answers, oldest first."""
        return {"id": report_id, "questions": service.questions(report_id)}

    app.include_router(v1)
    return app


def _gone(request: Request):
    """``cancelled()`` for the service: asked from a worker thread once a slot is free,
    True when the client has closed the request."""
    def gone() -> bool:
        import anyio.from_thread

        try:
            return bool(anyio.from_thread.run(request.is_disconnected))
        except Exception:  # no event loop to ask: treat the client as present
            return False
    return gone


def mount_ui(app: FastAPI, settings: Settings | None = None) -> bool:
    """Mount the Gradio app of ``app.py`` (repository root) at ``/``, sharing the API's
    report service. ``app.py`` is loaded by path: nothing imports it (HOUSE_STYLE.md).
    Returns False, with a warning, when ``app.py`` is not beside the package."""
    import runpy
    from pathlib import Path

    import gradio as gr

    path = Path(__file__).resolve().parents[1] / "app.py"
    if not path.is_file():
        log.warning("app.py not found beside the package: serving the API only")
        return False
    settings = settings or app.state.service.settings
    ui = runpy.run_path(str(path), run_name="ecg_app")
    # With an API key, the app asks for it as the password: the UI must not be a way around
    # the key that protects /v1.
    auth = None
    if settings.api_key:
        def auth(username: str, password: str) -> bool:
            return secrets.compare_digest(password.encode(), settings.api_key.encode())
    gr.mount_gradio_app(app, ui["build"](app.state.service), path="/", auth=auth,
                        auth_message="Password: the server's ECG_ASSISTANT_API_KEY",
                        max_file_size=f"{settings.max_upload_mb:g}mb", footer_links=[])
    return True


class QueryFreeAccessLog(logging.Filter):
    """Drops query strings from uvicorn's access log lines: they may carry a patient id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and \
                isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def install_access_log_filter() -> None:
    """Attach :class:`QueryFreeAccessLog` to ``uvicorn.access`` (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryFreeAccessLog) for f in logger.filters):
        logger.addFilter(QueryFreeAccessLog())


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
