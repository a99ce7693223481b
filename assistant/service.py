"""The report service behind the HTTP API and the Gradio app: analyse, store, re-render,
answer questions and run LLM reports as background jobs.

Every report keeps the uploaded files of its record in the :class:`~assistant.store.
ReportStore`, so the page can be rendered, questions answered and an interrupted LLM job
re-run after a restart. CPU-bound analyses are bounded by a semaphore (one per core) so that
many concurrent uploads queue instead of thrashing; LLM jobs run one at a time on a single
worker thread (one local model). Logs carry ids, counts and error types only.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from assistant.store import ReportStore, StoreError, new_id
from assistant.uploads import primary, write_files

log = logging.getLogger(__name__)

LLMFactory = Callable[[Settings], tuple[Any, str | None]]
ImageFormat = Literal["png", "svg", "pdf"]


class ServiceError(Exception):
    """A client error: ``status`` is the HTTP status, the message says what was wrong."""

    def __init__(self, status: int, message: str, retry_after_s: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


def default_llm(settings: Settings) -> tuple[Any, str | None]:
    """The LLM for LLM reports and questions (:func:`assistant.llm_server.connect`)."""
    from assistant.llm_server import connect

    llm, note = connect(settings)
    if note:
        log.warning("LLM unavailable; deterministic answers only")
    return llm, note


class ReportService:
    """Reports of uploaded records, persisted in ``settings.home / 'reports.sqlite3'``."""

    def __init__(self, settings: Settings, *, llm_factory: LLMFactory | None = None,
                 resume: bool = True):
        self.settings = settings
        self.store = ReportStore(Path(settings.home) / "reports.sqlite3")
        self.make_llm = llm_factory or default_llm
        self._n_workers = max(0, int(settings.analysis_workers))
        self._cpu = threading.BoundedSemaphore(max(1, self._n_workers or os.cpu_count() or 1))
        self._pool = None  # analysis worker processes, started on first use
        self._pool_lock = threading.Lock()
        self._waiting = 0  # requests waiting for an analysis slot (bounded: 503 beyond)
        self._waiting_lock = threading.Lock()
        # as many LLM report jobs at once as the model serves (the embedded server's slots;
        # a configured endpoint such as vLLM batches on its own)
        self._jobs = ThreadPoolExecutor(max_workers=max(1, settings.embedded_slots),
                                        thread_name_prefix="llm-report")
        # report jobs and questions share the model's slots: a question waits at most
        # ask_wait_s for one (then the deterministic answer), a report job as long as it takes
        self._llm_slots = threading.BoundedSemaphore(max(1, settings.embedded_slots))
        self._futures: dict[str, Future] = {}
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._cache_lock = threading.Lock()
        if resume:
            try:
                running = self.store.running()
            except StoreError as exc:  # the server starts; each request then says why (503)
                log.error("%s: interrupted jobs not resumed", exc)
                running = []
            for rid in running:  # the server stopped during these jobs
                log.info("report %s: resuming an interrupted LLM job", rid)
                self.store.set_progress(rid, "queued again after a server restart")
                self._futures[rid] = self._jobs.submit(self._run_job, rid)

    # ------------------------------------------------------------------ files
    @contextmanager
    def _staged(self, files: dict[str, bytes]) -> Iterator[Path | None]:
        """The record's files written into a private folder; yields the path to load (None
        for no files)."""
        if not files:
            yield None
            return
        main = primary(list(files))
        with tempfile.TemporaryDirectory(prefix="ecg-upload-") as tmp:
            write_files(files, Path(tmp))
            try:
                yield Path(tmp) / main
            except ServiceError:
                raise
            except Exception as exc:
                raise ServiceError(422, _error_message(exc, main, tmp)) from None

    def _files(self, rid: str) -> dict[str, bytes]:
        files = self.store.files(rid)
        if not files:
            raise ServiceError(409, f"report {rid!r} has no stored record files (made "
                                    "before files were kept); upload the record again")
        return files

    # ------------------------------------------------------------------ reports
    def create(self, files: dict[str, bytes], *, fs: float | None = None, llm: bool = False,
               patient_id: str | None = None, prior_id: str | None = None,
               cancelled=None) -> dict:
        """Analyse one record and store it. Without the LLM: the finished report. With it:
        ``{id, status: 'running'}`` for a background job (poll :meth:`get`).

        ``prior_id``: an earlier stored report of the same patient to compare with (the
        deterministic serial comparison; the LLM report also phrases it). ``cancelled()``:
        asked once a CPU slot is free; True (the client has gone) skips the analysis
        (ServiceError 499), so a flood of abandoned requests does not hold the queue."""
        t0 = time.perf_counter()
        if prior_id is not None:
            self._done(prior_id)  # 404 / 409 now, not in the job
            self._files(prior_id)
        meta = {"fs": fs, "llm": llm, "patient_id": patient_id, "prior_id": prior_id,
                "primary": primary(list(files))}
        if llm:
            slots = max(1, self.settings.embedded_slots)
            waiting = len(self._futures) - slots
            if waiting >= self.settings.llm_queue:
                # about 20 s per grounded report per slot (benchmarks/results/agent_bench.json)
                retry = max(1, int(round((waiting + 1) * 20 / slots)))
                raise ServiceError(503, f"busy: {waiting} LLM reports are waiting; try again "
                                        f"in {retry} s, or post with llm=false for the "
                                        "deterministic report now", retry_after_s=retry)
            with self._staged(files) as path:  # fail now with the loader's clear message
                from tools.record import load_record
                load_record(path, fs=fs)
            rid = self.store.save(None, status="running", files=files, meta=meta)
            self.store.set_progress(rid, "queued")
            self._futures[rid] = self._jobs.submit(self._run_job, rid)
            log.info("report %s: %d file(s), LLM job queued", rid, len(files))
            return {"id": rid, "status": "running", "progress": "queued"}
        with self._queued():
            if cancelled is not None and cancelled():
                log.info("analysis skipped: the client closed the request while it queued")
                raise ServiceError(499, "client closed the request; nothing was analysed")
            with self._staged(files) as path:
                report = self._analyse(path, fs)
        if prior_id is not None:
            from assistant.evidence_view import compare_with_prior

            prior = self.analysis(prior_id)
            report["comparison"] = {"prior_id": prior_id,
                                    **compare_with_prior(report, prior, prior_id)}
            report["evidence"].update(report["comparison"]["entries"])
        rid = self.store.save(report, files=files, meta=meta)
        self._remember(rid, report)
        log.info("report %s: %d file(s), %.1f s", rid, len(files), time.perf_counter() - t0)
        return {"id": rid, "status": "done", **report}

    @contextmanager
    def _queued(self) -> Iterator[None]:
        """Hold an analysis slot; with ``analysis_queue`` requests already waiting, a 503
        whose Retry-After is the expected wait (one analysis ~0.5 s per slot)."""
        with self._waiting_lock:
            if self._waiting >= self.settings.analysis_queue:
                slots = max(1, self._n_workers or os.cpu_count() or 1)
                retry = max(1, int(round(self._waiting * 0.5 / slots)))
                raise ServiceError(503, f"busy: {self._waiting} analyses are waiting; try "
                                        f"again in {retry} s", retry_after_s=retry)
            self._waiting += 1
        acquired = False
        try:
            self._cpu.acquire()
            acquired = True
            with self._waiting_lock:
                self._waiting -= 1
            yield
        finally:
            if acquired:
                self._cpu.release()
            else:
                with self._waiting_lock:
                    self._waiting -= 1

    def _analyse(self, path: Path, fs: float | None) -> dict:
        """The deterministic report, in a worker process when ``analysis_workers`` > 0 (the
        staged file is read there; the models are loaded once per worker)."""
        if not self._n_workers:
            return _deterministic_report(path, fs)
        from concurrent.futures.process import BrokenProcessPool

        pool = self._worker_pool()
        try:
            return pool.submit(_deterministic_report, path, fs).result()
        except BrokenProcessPool:
            with self._pool_lock:  # a worker died (killed, out of memory): start afresh
                if self._pool is pool:
                    self._pool = None
            log.error("an analysis worker process died; the pool is restarted")
            raise ServiceError(503, "the analysis worker stopped unexpectedly; nothing was "
                                    "stored - try again", retry_after_s=2) from None

    def _worker_pool(self):
        with self._pool_lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # spawn, not fork: the server process runs threads (fork would copy locks)
                self._pool = ProcessPoolExecutor(
                    self._n_workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start, initargs=(os.getpid(),))
            return self._pool

    def wait(self, rid: str, timeout_s: float | None = None) -> dict:
        """Block until the job of ``rid`` ends; returns :meth:`get`."""
        fut = self._futures.get(rid)
        if fut is not None:
            fut.result(timeout=timeout_s)
        return self.get(rid)

    def get(self, rid: str) -> dict:
        """The stored report with ``id`` and ``status``; a running job gives its progress, a
        failed one its error. ServiceError 404 for an unknown id."""
        row = self.store.get(rid) if _valid_id(rid) else None
        if row is None:
            raise ServiceError(404, f"no report with id {rid!r}")
        if row["status"] == "running":
            return {"id": rid, "status": "running", "progress": row["progress"]}
        if row["status"] == "failed":
            return {"id": rid, "status": "failed", "error": row["error"]}
        return {"id": rid, "status": "done", **row["report"]}

    def ids(self) -> list[str]:
        return self.store.ids()

    def _run_job(self, rid: str) -> None:
        from assistant.agent import ReportAgent

        row = self.store.get(rid) or {}
        meta = row.get("meta") or {}
        t0 = time.perf_counter()
        try:
            # the model is started only when it writes the impression (settings.llm_impression)
            llm, note = self.make_llm(self.settings) if self.settings.impression_by_llm \
                else (None, None)
            agent = ReportAgent(self.settings, llm,
                                progress=lambda msg: self.store.set_progress(rid, msg))
            prior_id = meta.get("prior_id")
            with self._llm_slots, self._staged(self._files(rid)) as path, \
                    self._staged(self._files(prior_id) if prior_id else {}) as prior_path:
                report = agent.run(str(path), fs=meta.get("fs"),
                                   prior_path=str(prior_path) if prior_id else None,
                                   patient_id=meta.get("patient_id"))
            if note:
                report["notes"] = [*report.get("notes", []), note]
            report["record"]["source"] = meta.get("primary") or report["record"]["source"]
            self.store.save(report, id=rid)
            log.info("report %s: LLM job done in %.1f s", rid, time.perf_counter() - t0)
        except ServiceError as exc:
            self.store.save(None, id=rid, status="failed", error=str(exc))
        except Exception as exc:
            log.error("report %s: LLM job failed (%s)", rid, type(exc).__name__)
            self.store.save(None, id=rid, status="failed",
                            error=f"the LLM report failed ({type(exc).__name__}); the "
                                  "record is kept: post it again with llm=false for the "
                                  "deterministic report")
        finally:
            self._futures.pop(rid, None)

    # ------------------------------------------------------------------ derived views
    def _done(self, rid: str) -> dict:
        rep = self.get(rid)
        if rep["status"] != "done":
            raise ServiceError(409, f"report {rid!r} is {rep['status']}"
                                    + (f": {rep.get('error')}" if rep.get("error") else
                                       "; try again when it is done"))
        return rep

    def analysis(self, rid: str) -> dict:
        """The evidence engine's analysis of report ``rid`` (the deterministic report holds
        it; for an LLM report the stored record is measured again, same code, same result)."""
        rep = self._done(rid)
        if "measurements" in rep:
            return rep
        with self._cache_lock:
            if rid in self._cache:
                return self._cache[rid]
        meta = (self.store.get(rid) or {}).get("meta") or {}
        with self._cpu, self._staged(self._files(rid)) as path:
            from tools.engine import analyze
            from tools.record import load_record
            analysis = analyze(load_record(path, fs=meta.get("fs"))).to_dict()
        self._remember(rid, analysis)
        return analysis

    def _remember(self, rid: str, analysis: dict) -> None:
        with self._cache_lock:
            self._cache[rid] = analysis
            while len(self._cache) > 64:
                self._cache.popitem(last=False)

    def image(self, rid: str, fmt: ImageFormat = "png",
              highlight: list[str] | tuple[str, ...] = ()) -> bytes:
        """The 12-lead page of report ``rid`` with ``highlight`` evidence ids shaded."""
        from tools.record import load_record
        from tools.render import render_ecg_page

        analysis = self.analysis(rid)
        unknown = [h for h in highlight if h not in (analysis.get("evidence") or
                                                      _evidence(analysis))]
        if unknown:
            raise ServiceError(400, f"unknown evidence id(s) {', '.join(unknown)} for report "
                                    f"{rid!r}")
        meta = (self.store.get(rid) or {}).get("meta") or {}
        with self._cpu, self._staged(self._files(rid)) as path, \
                tempfile.TemporaryDirectory() as out:
            target = Path(out) / f"page.{fmt}"
            render_ecg_page(load_record(path, fs=meta.get("fs")), analysis, target,
                            highlight=list(highlight))
            return target.read_bytes()

    def pdf(self, rid: str) -> bytes:
        """The printable report: the 12-lead page, then findings, measurements, statements
        with criteria and citations, quality (:mod:`assistant.report_pdf`)."""
        from assistant.report_pdf import report_pdf

        page = self.image(rid, "pdf")
        return report_pdf(self._done(rid), self.analysis(rid), page,
                          questions=self.store.questions(rid))

    def fhir(self, rid: str) -> dict:
        """FHIR R4 Bundle (DiagnosticReport + Observations) of report ``rid``."""
        rep = self._done(rid)
        from assistant.fhir import report_to_fhir

        if "measurements" not in rep:
            rep = {**rep, "measurements": self.analysis(rid)["measurements"],
                   "quality": self.analysis(rid)["quality"]}
        created = (self.store.get(rid) or {}).get("created")
        return report_to_fhir(rep, rid, issued=created)

    def ask(self, rid: str, question: str, *, llm: bool = True, cancelled=None) -> dict:
        """Answer ``question`` about report ``rid`` from its evidence (earlier questions of
        this report are the conversation); the answer is stored with the report.

        The LLM phrases it when one of its slots frees up within ``ask_wait_s``; otherwise
        the deterministic answer comes at once, with a note that the LLM was busy.
        ``cancelled()`` is asked once the slot is held: True (the client has gone) answers
        nothing and stores nothing (ServiceError 499)."""
        from assistant.qa import ChatSession

        question = question.strip()
        if not question:
            raise ServiceError(400, "empty question")
        analysis = self.analysis(rid)
        model, note = self.make_llm(self.settings) if llm else (None, None)
        held = False
        if model is not None:
            held = self._llm_slots.acquire(timeout=max(0.0, self.settings.ask_wait_s))
            if not held:
                model, note = None, (f"the LLM stayed busy for {self.settings.ask_wait_s:g} s "
                                     "(other reports and questions): deterministic answer")
                log.info("question on %s: LLM busy, deterministic answer", rid)
        try:
            if cancelled is not None and cancelled():
                log.info("question skipped: the client closed the request while it waited")
                raise ServiceError(499, "client closed the request; nothing was answered")
            session = ChatSession(self.settings, model, report=analysis, llm_note=note)
            for past in self.store.questions(rid)[-3:]:
                session.history += [{"role": "user", "content": past["question"]},
                                    {"role": "assistant",
                                     "content": past["answer"]["answer"]}]
            out = session.ask(question)
        finally:
            if held:
                self._llm_slots.release()
        if note:
            out["note"] = note
        self.store.add_question(rid, question, out)
        return out

    def warm_chat(self, rid: str) -> threading.Thread | None:
        """In the background, start the LLM if needed and put report ``rid``'s evidence in
        its prompt cache, so that the first question is answered as fast as later ones. For
        interactive use (the browser app), not for API uploads, where it would spend CPU on
        every record; skipped when every LLM slot is busy."""
        from assistant.qa import ChatSession

        def run():
            if not self._llm_slots.acquire(blocking=False):
                return
            try:
                model, _ = self.make_llm(self.settings)
                if model is not None:
                    ChatSession(self.settings, model, report=self.analysis(rid)).warm()
            except Exception as exc:  # a warm-up must never disturb the app
                log.info("chat warm-up for %s skipped (%s)", rid, type(exc).__name__)
            finally:
                self._llm_slots.release()

        t = threading.Thread(target=run, name="chat-warm", daemon=True)
        t.start()
        return t

    def questions(self, rid: str) -> list[dict]:
        self.get(rid)  # 404 for an unknown id
        return self.store.questions(rid)

    def close(self) -> None:
        self._jobs.shutdown(wait=False, cancel_futures=True)
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        from assistant.llm_server import running_server

        server = running_server()  # the embedded model this process started, if any
        if server is not None:
            server.stop()


# --------------------------------------------------------------------------- helpers
def _valid_id(rid: str) -> bool:
    return len(rid) == 32 and all(c in "0123456789abcdef" for c in rid)


def _evidence(analysis: dict) -> dict:
    from tools.evidence import evidence_index

    return evidence_index(analysis)


def _worker_start(parent_pid: int) -> None:
    """Analysis worker: load the models once, and end when the server process is gone
    (whatever way it ended), so no worker outlives it."""
    import threading as _t

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(0)

    _t.Thread(target=watch, daemon=True, name="parent-watch").start()
    from tools.delineate import warm_up

    warm_up()  # the ONNX delineator, once per worker


def _deterministic_report(path: Path, fs: float | None) -> dict:
    """Evidence and statements only (no LLM): what ``POST /v1/reports?llm=false`` returns."""
    from tools.engine import analyze
    from tools.record import load_record

    d = analyze(load_record(path, fs=fs)).to_dict()
    return {"record": d["record"], "evidence": _evidence(d), "statements": d["statements"],
            "measurements": d["measurements"], "quality": d["quality"],
            "delineation": d["delineation"], "beats": d.get("beats", []),
            "notes": d.get("notes", [])}


def _error_message(exc: Exception, main: str, tmp: str) -> str:
    """A client-facing message naming the uploaded file, without server paths."""
    from tools.record import RecordError

    if isinstance(exc, RecordError):
        msg = str(exc).replace(tmp.rstrip("/") + "/", "").replace(tmp, "")
        return msg if main in msg else f"{main!r}: {msg}"
    log.error("analysis failed: %s", type(exc).__name__)  # not str(exc): may quote the file
    return f"could not analyse {main!r} ({type(exc).__name__})"


__all__ = ["ReportService", "ServiceError", "default_llm", "new_id"]
