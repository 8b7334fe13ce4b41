"""The run database's file: its SQL schema and cheap checks that a file is a sound SQLite file."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
QUICK_CHECK_MAX_BYTES = 32 * 1024 * 1024  # full page scan on open only for files up to this size

SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    task TEXT NOT NULL,
    seed INTEGER,
    algo TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    start_step INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    updated_at REAL,
    ended_at REAL,
    outcome TEXT,
    summary TEXT,
    pid INTEGER,
    host TEXT
);
CREATE INDEX IF NOT EXISTS runs_task ON runs (task);
CREATE TABLE IF NOT EXISTS metric_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, step, key_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS best_programs (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, step INTEGER, score REAL, code TEXT, at REAL
);
CREATE INDEX IF NOT EXISTS best_programs_run ON best_programs (run_id);
CREATE TABLE IF NOT EXISTS hints (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, step INTEGER, text TEXT, forced INTEGER,
    effect TEXT, at REAL
);
CREATE INDEX IF NOT EXISTS hints_run ON hints (run_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, step INTEGER, kind TEXT, message TEXT, at REAL
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
"""


class CorruptDatabase(Exception):
    """The database file cannot be trusted."""


def sqlite_file_problem(path: Path) -> str | None:
    """Why `path` is not a usable SQLite file (cheap header checks), or None if it looks fine."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return None
    if size == 0:
        return "empty file"
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "not an SQLite database (garbage or another format)"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages = struct.unpack(">I", header[28:32])[0]
    # the in-header size is valid when the change counter equals version-valid-for
    if pages and header[24:28] == header[92:96] and size < pages * page_size:
        return f"truncated ({size} of {pages * page_size} bytes)"
    return None


def is_corruption(e: sqlite3.Error) -> bool:
    name = getattr(e, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(e).lower()
    return "malformed" in text or "not a database" in text
