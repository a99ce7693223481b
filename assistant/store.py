"""Report persistence: one SQLite file (``settings.home / 'reports.sqlite3'``).

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

_SCHEMA = """CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'running', 'failed')),
    report_json TEXT,
    error TEXT
)"""


def new_id() -> str:
    """A fresh report id (uuid4, 32 hex digits)."""
    return uuid.uuid4().hex


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
                conn.execute(_SCHEMA)
            self._ready = True
        return conn

    def save(self, report: dict | None, *, id: str | None = None, status: Status = "done",
             error: str | None = None) -> str:
        """Insert or replace one report; returns its id (a new one when ``id`` is None)."""
        rid = id or new_id()
        body = None if report is None else json.dumps(report, allow_nan=False,
                                                      default=_json_default)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO reports (id, created, status, report_json, error) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "status = excluded.status, report_json = excluded.report_json, "
                "error = excluded.error", (rid, created, status, body, error))
        return rid

    def get(self, id: str) -> dict | None:
        """``{id, created, status, report, error}`` or None when ``id`` is unknown."""
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT id, created, status, report_json, error FROM reports "
                               "WHERE id = ?", (id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "created": row[1], "status": row[2],
                "report": None if row[3] is None else json.loads(row[3]), "error": row[4]}

    def ids(self) -> list[str]:
        """All report ids, oldest first."""
        with closing(self._connect()) as conn:
            return [r[0] for r in conn.execute(
                "SELECT id FROM reports ORDER BY created, rowid")]


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
