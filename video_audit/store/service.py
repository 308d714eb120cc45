"""SQLite store: users, sessions, uploaded classes, audits, findings, spot-checks, evidence log.

One writer: every write runs on one thread that owns the only write connection, inside
BEGIN IMMEDIATE, so writes never interleave (and other processes wait on SQLite's lock).
Reads open their own connection per thread and never block the writer (WAL).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SCHEMA_VERSION = 1
ROLES = ("inspector", "institution", "admin")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('inspector', 'institution', 'admin')),
    institution TEXT, password_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL, csrf TEXT NOT NULL, created TEXT NOT NULL, expires TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, institution TEXT NOT NULL,
    folder TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users(id), uploaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    state TEXT NOT NULL, created TEXT NOT NULL, started TEXT, finished TEXT,
    error TEXT, summary TEXT, report TEXT, files TEXT);
CREATE TABLE IF NOT EXISTS findings (
    audit_id INTEGER NOT NULL REFERENCES audits(id), code TEXT NOT NULL,
    severity TEXT NOT NULL, path TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_audit ON findings(audit_id);
CREATE TABLE IF NOT EXISTS spotchecks (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    seed INTEGER NOT NULL, count INTEGER NOT NULL, moments TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id), created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY, class_id INTEGER, source_path TEXT NOT NULL,
    source_sha256 TEXT NOT NULL, clip TEXT NOT NULL, frame_time REAL NOT NULL,
    pts INTEGER NOT NULL, time_base TEXT NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, taken_by TEXT NOT NULL, note TEXT NOT NULL, taken_at TEXT NOT NULL,
    png TEXT NOT NULL, png_sha256 TEXT NOT NULL, caption_png TEXT NOT NULL,
    caption_sha256 TEXT NOT NULL, caption TEXT NOT NULL, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
"""


def now() -> str:
    """The current time, ISO 8601 with offset, to the second."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


class StoreError(Exception):
    """The store cannot be used: a newer schema, an unwritable folder."""


class Store:
    """The service's database. Create one per process; close() when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._local = threading.local()
        self._write_conn: sqlite3.Connection | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self.write(self._migrate)

    # -- plumbing -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run fn(conn) on the writer thread inside one transaction; its result or its error."""

        def run() -> T:
            if self._write_conn is None:
                self._write_conn = self._connect()
                self._write_conn.isolation_level = None
                self._write_conn.execute("PRAGMA journal_mode = WAL")
            conn = self._write_conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return self._writer.submit(run).result()

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of one query, on this thread's own read connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
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

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this program's "
                f"({SCHEMA_VERSION}); upgrade video-audit"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )

    # -- users and sessions -----------------------------------------------------------------
    def add_user(self, name: str, role: str, institution: str | None, password_hash: str) -> int:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if role == "institution" and not institution:
            raise ValueError("an institution account needs --institution")

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO users (name, role, institution, password_hash, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, role, institution, password_hash, now()),
            )
            return int(cur.lastrowid or 0)

        try:
            return self.write(insert)
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"user {name!r} already exists") from exc

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.write(
            lambda c: c.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
        )

    def user_by_name(self, name: str) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM users WHERE name = ?", (name,))

    def users(self) -> list[sqlite3.Row]:
        return self.read("SELECT id, name, role, institution, created FROM users ORDER BY name")

    def add_session(
        self, token_hash: str, user_id: int, kind: str, csrf: str, expires: str
    ) -> None:
        """A new login; expired ones are dropped on the way."""

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE expires <= ?", (now(),))
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, kind, csrf, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, user_id, kind, csrf, now(), expires),
            )

        self.write(insert)

    def session(self, token_hash: str, kind: str) -> sqlite3.Row | None:
        """The live session (with its user's fields) for a token hash, or None."""
        return self.read_one(
            "SELECT s.csrf, s.expires, u.id, u.name, u.role, u.institution FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.kind = ? "
            "AND s.expires > ?",
            (token_hash, kind, now()),
        )

    def drop_session(self, token_hash: str) -> None:
        self.write(lambda c: c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))

    # -- classes and audits -----------------------------------------------------------------
    def add_class(
        self, name: str, institution: str, folder: str, files: int, size: int, by: int
    ) -> int:
        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO classes (name, institution, folder, files, bytes, uploaded_by, "
                "uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, institution, folder, files, size, by, now()),
            )
            return int(cur.lastrowid or 0)

        return self.write(insert)

    def classes(self, institution: str | None = None) -> list[sqlite3.Row]:
        """Every class, or only one institution's; newest first, with the latest audit."""
        sql = (
            "SELECT c.*, a.id AS audit_id, a.state AS audit_state, a.summary AS audit_summary "
            "FROM classes c LEFT JOIN audits a ON a.id = "
            "(SELECT MAX(id) FROM audits WHERE class_id = c.id)"
        )
        if institution is None:
            return self.read(sql + " ORDER BY c.id DESC")
        return self.read(sql + " WHERE c.institution = ? ORDER BY c.id DESC", (institution,))

    def class_summary(self, class_id: int) -> sqlite3.Row | None:
        """One class with its latest audit (the columns of classes())."""
        return self.read_one(
            "SELECT c.*, a.id AS audit_id, a.state AS audit_state, a.summary AS audit_summary "
            "FROM classes c LEFT JOIN audits a ON a.id = "
            "(SELECT MAX(id) FROM audits WHERE class_id = c.id) WHERE c.id = ?",
            (class_id,),
        )

    def class_row(self, class_id: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM classes WHERE id = ?", (class_id,))

    def add_audit(self, class_id: int) -> int:
        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO audits (class_id, state, created) VALUES (?, 'queued', ?)",
                (class_id, now()),
            )
            return int(cur.lastrowid or 0)

        return self.write(insert)

    def audit_started(self, audit_id: int) -> None:
        self.write(
            lambda c: c.execute(
                "UPDATE audits SET state = 'running', started = ? WHERE id = ?", (now(), audit_id)
            )
        )

    def audit_done(self, audit_id: int, report: dict[str, Any], files: dict[str, str]) -> None:
        """Store a finished audit: its JSON report, its findings, the rendered files."""

        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE audits SET state = 'done', finished = ?, summary = ?, report = ?, "
                "files = ? WHERE id = ?",
                (
                    now(),
                    json.dumps(report["summary"], ensure_ascii=False),
                    json.dumps(report, ensure_ascii=False),
                    json.dumps(files, ensure_ascii=False),
                    audit_id,
                ),
            )
            conn.executemany(
                "INSERT INTO findings (audit_id, code, severity, path, message, details) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        audit_id,
                        f["code"],
                        f["severity"],
                        f["path"],
                        f["message"],
                        json.dumps(f.get("details", {}), ensure_ascii=False),
                    )
                    for f in report["findings"]
                ],
            )

        self.write(update)

    def audit_failed(self, audit_id: int, error: str) -> None:
        self.write(
            lambda c: c.execute(
                "UPDATE audits SET state = 'failed', finished = ?, error = ? WHERE id = ?",
                (now(), error, audit_id),
            )
        )

    def audit(self, audit_id: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM audits WHERE id = ?", (audit_id,))

    def latest_audit(self, class_id: int) -> sqlite3.Row | None:
        return self.read_one(
            "SELECT * FROM audits WHERE class_id = ? ORDER BY id DESC LIMIT 1", (class_id,)
        )

    def findings(self, audit_id: int) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM findings WHERE audit_id = ? ORDER BY rowid", (audit_id,))

    def unfinished_audits(self) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM audits WHERE state IN ('queued', 'running')")

    # -- spot-checks ------------------------------------------------------------------------
    def add_spotcheck(
        self, class_id: int, seed: int, moments: list[dict[str, Any]], by: int
    ) -> int:
        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO spotchecks (class_id, seed, count, moments, created_by, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (class_id, seed, len(moments), json.dumps(moments, ensure_ascii=False), by, now()),
            )
            return int(cur.lastrowid or 0)

        return self.write(insert)

    def spotchecks(self, class_id: int) -> list[sqlite3.Row]:
        return self.read(
            "SELECT s.*, u.name AS by_name FROM spotchecks s JOIN users u ON u.id = s.created_by "
            "WHERE class_id = ? ORDER BY s.id DESC",
            (class_id,),
        )

    # -- evidence log -----------------------------------------------------------------------
    def append_evidence(
        self, seal: Callable[[int, str], dict[str, Any]], after: Callable[[int, str], None]
    ) -> dict[str, Any]:
        """Append one record: seal(seq, prev_hash) builds it; after(seq, hash) runs on commit."""

        def insert(conn: sqlite3.Connection) -> dict[str, Any]:
            last = conn.execute(
                "SELECT seq, hash FROM evidence ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq = (last[0] if last else 0) + 1
            record = seal(seq, last[1] if last else "")
            columns = ", ".join(record)
            marks = ", ".join("?" for _ in record)
            conn.execute(
                f"INSERT INTO evidence ({columns}) VALUES ({marks})", tuple(record.values())
            )
            return record

        record = self.write(insert)
        self._writer.submit(after, record["seq"], record["hash"]).result()
        return record

    def evidence(self, class_ids: list[int] | None = None) -> list[sqlite3.Row]:
        """The log in order (or only the records of some classes)."""
        rows = self.read("SELECT * FROM evidence ORDER BY seq")
        if class_ids is None:
            return rows
        return [r for r in rows if r["class_id"] in class_ids]

    def evidence_record(self, seq: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM evidence WHERE seq = ?", (seq,))
