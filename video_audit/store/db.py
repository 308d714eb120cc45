"""The workspace database: one SQLite file (WAL), opened and upgraded in one place.

Within a process every write of the service runs on one writer thread that owns the only write
connection, inside BEGIN IMMEDIATE, so writes never interleave; other processes (audit workers,
the nightly scan, the command line) wait on SQLite's own lock. Reads open their own connection
per thread and never block the writer (WAL).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from video_audit.store.base import StoreError, now, transaction
from video_audit.store.migrations import check_current, upgrade

__all__ = ["DB_NAME", "Database", "StoreError", "connect", "now", "transaction"]

T = TypeVar("T")

DB_NAME = "video-audit.sqlite"
"""The database's file name inside a workspace."""


def connect(path: Path, *, readonly: bool = False, migrate: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), upgraded to this schema.

    A read-only connection never creates or upgrades anything: an older database is refused
    with a message saying how to upgrade it.
    """
    try:
        if readonly:
            if not path.is_file():
                raise StoreError(f"{path}: no such database")
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.isolation_level = None
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed record survives a power cut or a reboot, not only a kill.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        if readonly or not migrate:
            check_current(conn, path)
        else:
            upgrade(conn, path)
        return conn
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a usable video-audit database ({exc})") from exc


class Database:
    """The database for a long-running process with threads (the web service).

    Create one per process; close() when done. Opening upgrades an older schema in place.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._local = threading.local()
        self._write_conn: sqlite3.Connection | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        try:
            self._writer.submit(self._open_writer).result()
        except BaseException:
            self._writer.shutdown()
            raise

    def _open_writer(self) -> None:
        self._write_conn = connect(self.path)

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run fn(conn) on the writer thread inside one transaction; its result or its error."""

        def run() -> T:
            conn = self._write_conn
            if conn is None:
                raise StoreError(f"{self.path}: the database is closed")
            with transaction(conn):
                return fn(conn)

        return self._writer.submit(run).result()

    def after_write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(*args) on the writer thread, in order with the writes (no transaction)."""
        return self._writer.submit(fn, *args).result()

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of one query, on this thread's own read connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, migrate=False)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return list(conn.execute(sql, params))

    def read_one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self.read(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        def shut() -> None:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None

        self._writer.submit(shut).result()
        self._writer.shutdown()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
