"""Report persistence: one SQLite file (``settings.home / 'reports.sqlite3'``).

Three tables: ``reports`` (the report JSON, its status and progress), ``files`` (the uploaded
files of the record, so the page can be re-rendered, questions answered and jobs re-run
after a restart) and ``questions`` (every question asked about a report and its answer).
Each call opens its own connection, so one :class:`ReportStore` may be shared by the
threads of the HTTP server. Nothing is opened at import time.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

Status = Literal["done", "running", "failed"]

_SCHEMA = ("""CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'running', 'failed')),
    report_json TEXT,
    error TEXT
)""", """CREATE TABLE IF NOT EXISTS files (
    report_id TEXT NOT NULL REFERENCES reports(id),
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (report_id, name)
)""", """CREATE TABLE IF NOT EXISTS questions (
    report_id TEXT NOT NULL REFERENCES reports(id),
    asked TEXT NOT NULL,
    question TEXT NOT NULL,
    answer_json TEXT NOT NULL
)""")
# Columns added after the first release: (name, declaration), added to older files on open.
_ADDED_COLUMNS = (("progress", "TEXT"), ("meta_json", "TEXT"))


class StoreError(RuntimeError):
    """The report store cannot be read or written (disk full, file corrupt or locked); the
    message names the store file and the cause. Nothing half-written is kept: each write is
    one SQLite transaction."""


def _guarded(method):
    """Turn SQLite and OS errors of a store method into :class:`StoreError`."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"report store {self.path.name!r}: {type(exc).__name__}: "
                             f"{str(exc)[:200]}") from exc
    return wrapper


def new_id() -> str:
    """A fresh report id (uuid4, 32 hex digits)."""
    return uuid.uuid4().hex


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ReportStore:
    """Reports keyed by id; survive a restart (a new store on the same path sees them)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        if not self._ready:
            with conn:
                conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
                for ddl in _SCHEMA:
                    conn.execute(ddl)
                have = {r[1] for r in conn.execute("PRAGMA table_info(reports)")}
                for name, decl in _ADDED_COLUMNS:
                    if name not in have:
                        conn.execute(f"ALTER TABLE reports ADD COLUMN {name} {decl}")
            self._ready = True
        return conn

    @_guarded
    def save(self, report: dict | None, *, id: str | None = None, status: Status = "done",
             error: str | None = None, files: dict[str, bytes] | None = None,
             meta: dict | None = None) -> str:
        """Insert or replace one report (and, when given, its record files and request
        parameters ``meta``); returns its id (a new one when ``id`` is None)."""
        rid = id or new_id()
        body = None if report is None else json.dumps(report, allow_nan=False,
                                                      default=_json_default)
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO reports (id, created, status, report_json, error, meta_json) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "status = excluded.status, report_json = excluded.report_json, "
                "error = excluded.error, meta_json = COALESCE(excluded.meta_json, meta_json)",
                (rid, _now(), status, body, error,
                 None if meta is None else json.dumps(meta)))
            for name, data in (files or {}).items():
                conn.execute("INSERT OR REPLACE INTO files (report_id, name, data) "
                             "VALUES (?, ?, ?)", (rid, name, data))
        return rid

    @_guarded
    def set_progress(self, id: str, message: str) -> None:
        """The latest progress message of a running job."""
        with closing(self._connect()) as conn, conn:
            conn.execute("UPDATE reports SET progress = ? WHERE id = ?", (message[:500], id))

    @_guarded
    def get(self, id: str) -> dict | None:
        """``{id, created, status, report, error, progress, meta}`` or None when unknown."""
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT id, created, status, report_json, error, progress, "
                               "meta_json FROM reports WHERE id = ?", (id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "created": row[1], "status": row[2],
                "report": None if row[3] is None else json.loads(row[3]), "error": row[4],
                "progress": row[5], "meta": json.loads(row[6]) if row[6] else {}}

    @_guarded
    def files(self, id: str) -> dict[str, bytes]:
        """The uploaded files of report ``id`` (name -> bytes); empty when none were kept."""
        with closing(self._connect()) as conn:
            return {n: bytes(d) for n, d in conn.execute(
                "SELECT name, data FROM files WHERE report_id = ? ORDER BY name", (id,))}

    @_guarded
    def add_question(self, id: str, question: str, answer: dict) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT INTO questions (report_id, asked, question, answer_json) "
                         "VALUES (?, ?, ?, ?)", (id, _now(), question,
                                                 json.dumps(answer, default=_json_default)))

    @_guarded
    def questions(self, id: str) -> list[dict]:
        """Questions asked about report ``id``, oldest first: ``{asked, question, answer}``."""
        with closing(self._connect()) as conn:
            return [{"asked": a, "question": q, "answer": json.loads(j)} for a, q, j in
                    conn.execute("SELECT asked, question, answer_json FROM questions "
                                 "WHERE report_id = ? ORDER BY rowid", (id,))]

    @_guarded
    def ping(self) -> None:
        """Raise StoreError when the store cannot be read (for the health check)."""
        with closing(self._connect()) as conn:
            conn.execute("SELECT 1 FROM reports LIMIT 1").fetchall()

    @_guarded
    def ids(self) -> list[str]:
        """All report ids, oldest first."""
        with closing(self._connect()) as conn:
            return [r[0] for r in conn.execute(
                "SELECT id FROM reports ORDER BY created, rowid")]

    @_guarded
    def running(self) -> list[str]:
        """Ids of reports whose job has not finished (e.g. the server stopped during it)."""
        with closing(self._connect()) as conn:
            return [r[0] for r in conn.execute(
                "SELECT id FROM reports WHERE status = 'running' ORDER BY created, rowid")]


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
