"""The nightly scan's SQLite store: runs, classes, fingerprints, audits, findings (WAL, one writer).

Only the scanning process writes. Every class's result goes in in one transaction, so a scan
killed at any moment leaves each class either fully recorded or not at all; readers (the morning
summary, other tools) read freely while a scan runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
    workers INTEGER,
    cluster TEXT,
    settle_seconds REAL,
    unreadable TEXT
);
CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    rel TEXT NOT NULL UNIQUE,
    institution TEXT NOT NULL,
    prefix TEXT,
    status TEXT NOT NULL CHECK (status IN ('seen', 'audited', 'removed')),
    fingerprint TEXT,
    audit_key TEXT,
    last_audit_id INTEGER,
    first_seen TEXT NOT NULL,
    first_audited TEXT,
    last_audited TEXT,
    removed TEXT,
    start_date TEXT,
    stat_year INTEGER,
    verdict TEXT,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE files (
    class_id INTEGER NOT NULL REFERENCES classes(id),
    rel TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    head TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (class_id, rel)
);
CREATE TABLE audits (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES classes(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    fingerprint TEXT NOT NULL,
    audit_key TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    worker TEXT,
    verdict TEXT NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    report_json TEXT NOT NULL,
    UNIQUE (class_id, run_id)
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES classes(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    audit_id INTEGER REFERENCES audits(id),
    source TEXT NOT NULL CHECK (source IN ('audit', 'retention')),
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    path TEXT NOT NULL,
    message TEXT NOT NULL,
    details_json TEXT NOT NULL
);
CREATE INDEX findings_by_audit ON findings(audit_id);
CREATE INDEX findings_by_run ON findings(run_id, code);
CREATE TABLE outcomes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    outcome TEXT NOT NULL CHECK (outcome IN
        ('new', 'changed', 'reaudit', 'unchanged', 'pending', 'removed', 'error')),
    detail TEXT,
    audit_id INTEGER REFERENCES audits(id),
    PRIMARY KEY (run_id, class_id)
);
"""


class StoreError(Exception):
    """The database cannot be used (not ours, newer schema, unreadable)."""


@dataclass(frozen=True)
class FileState:
    """One file of a class as the scan saw it: path in the class, size, mtime, hash of its head."""

    rel: str
    size: int
    mtime_ns: int
    head: str


@dataclass(frozen=True)
class FileRecord:
    """A file as recorded at a class's last audit, with when the scan first saw it."""

    rel: str
    size: int
    mtime_ns: int
    head: str
    first_seen: str


@dataclass(frozen=True)
class KnownClass:
    """What the store remembers of one class folder."""

    id: int
    rel: str
    status: str
    fingerprint: str | None
    audit_key: str | None
    first_audited: str | None


@dataclass
class AuditRecord:
    """One class's audit result, ready to commit."""

    rel: str
    institution: str
    prefix: str | None
    fingerprint: str
    audit_key: str
    files: Sequence[FileState]
    report: dict[str, Any]
    worker: str | None
    outcome: str
    start_date: str | None
    stat_year: int | None
    retention: list[dict[str, Any]]


class ScanStore:
    """The store; open it with `ScanStore.open(path)` (creates or migrates the schema)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path, readonly: bool = False) -> ScanStore:
        """Open (or, unless readonly, create) the database at PATH."""
        try:
            if readonly:
                if not path.is_file():
                    raise StoreError(f"{path}: no such scan database")
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL: a committed class survives a power cut or a reboot, not only a kill.
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path)
            store._migrate(readonly)
            return store
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable scan database ({exc})") from exc

    def close(self) -> None:
        self.conn.close()

    def _migrate(self, readonly: bool) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer video-audit (schema {version}); upgrade first"
            )
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and tables:
            raise StoreError(f"{self.path}: an SQLite database, but not a scan database")
        if readonly:
            raise StoreError(f"{self.path}: empty scan database")
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- meta and runs ---------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def start_run(
        self, root: str, started: str, workers: int | None, cluster: str | None, settle: float
    ) -> int:
        """A new run; runs left 'running' by a killed scan become 'interrupted'."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cur = db.execute(
                "INSERT INTO runs (root, started, status, workers, cluster, settle_seconds)"
                " VALUES (?, ?, 'running', ?, ?, ?)",
                (root, started, workers, cluster, settle),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished: str, unreadable: Sequence[str] = ()) -> None:
        """Mark a run done; UNREADABLE lists folders under the root that could not be listed."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET status = 'done', finished = ?, unreadable = ? WHERE id = ?",
                (finished, _json(list(unreadable)), run_id),
            )

    # --- classes ---------------------------------------------------------------------------
    def known_classes(self) -> dict[str, KnownClass]:
        rows = self.conn.execute(
            "SELECT id, rel, status, fingerprint, audit_key, first_audited FROM classes"
        )
        return {r["rel"]: KnownClass(**dict(r)) for r in rows}

    def class_files(self, class_id: int) -> dict[str, FileRecord]:
        rows = self.conn.execute(
            "SELECT rel, size, mtime_ns, head, first_seen FROM files WHERE class_id = ?",
            (class_id,),
        )
        return {r["rel"]: FileRecord(**dict(r)) for r in rows}

    def _class_id(self, db: sqlite3.Connection, rel: str, institution: str, now: str) -> int:
        row = db.execute("SELECT id FROM classes WHERE rel = ?", (rel,)).fetchone()
        if row is not None:
            return int(row[0])
        cur = db.execute(
            "INSERT INTO classes (rel, institution, status, first_seen) VALUES (?, ?, 'seen', ?)",
            (rel, institution, now),
        )
        return int(cur.lastrowid or 0)

    @staticmethod
    def _outcome(
        db: sqlite3.Connection,
        run_id: int,
        class_id: int,
        outcome: str,
        detail: dict[str, Any] | None = None,
        audit_id: int | None = None,
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO outcomes (run_id, class_id, outcome, detail, audit_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, class_id, outcome, _json(detail) if detail else None, audit_id),
        )

    def record_unchanged(self, run_id: int, rels: Sequence[str]) -> None:
        """Unchanged classes of this run, all in one transaction."""
        with self.transaction() as db:
            ids = [
                db.execute("SELECT id FROM classes WHERE rel = ?", (r,)).fetchone() for r in rels
            ]
            db.executemany(
                "INSERT OR REPLACE INTO outcomes (run_id, class_id, outcome) "
                "VALUES (?, ?, 'unchanged')",
                [(run_id, int(row[0])) for row in ids if row is not None],
            )

    def record_outcome(
        self,
        run_id: int,
        rel: str,
        institution: str,
        outcome: str,
        detail: dict[str, Any],
        now: str,
    ) -> None:
        """A class that was not audited this run: pending (still being copied) or error."""
        with self.transaction() as db:
            class_id = self._class_id(db, rel, institution, now)
            self._outcome(db, run_id, class_id, outcome, detail)

    def record_removed(
        self, run_id: int, known: KnownClass, retention: list[dict[str, Any]], now: str
    ) -> None:
        """A class folder that is gone: marked removed, with its RT01 findings, in one go."""
        with self.transaction() as db:
            db.execute(
                "UPDATE classes SET status = 'removed', removed = ? WHERE id = ?", (now, known.id)
            )
            _insert_findings(db, known.id, run_id, None, "retention", retention)
            self._outcome(db, run_id, known.id, "removed", {"rt01": len(retention)})

    def commit_audit(self, run_id: int, record: AuditRecord, now: str) -> int:
        """One class's audit, its files, findings and outcome: one transaction; the audit id."""
        report = record.report
        summary = report["summary"]
        errors = int(summary["errors"]) + sum(f["severity"] == "error" for f in record.retention)
        warnings = int(summary["warnings"]) + sum(
            f["severity"] == "warning" for f in record.retention
        )
        verdict = "fail" if errors else "pass"
        with self.transaction() as db:
            class_id = self._class_id(db, record.rel, record.institution, now)
            seen = {
                r[0]: r[1]
                for r in db.execute(
                    "SELECT rel, first_seen FROM files WHERE class_id = ?", (class_id,)
                )
            }
            db.execute("DELETE FROM files WHERE class_id = ?", (class_id,))
            db.executemany(
                "INSERT INTO files (class_id, rel, size, mtime_ns, head, first_seen)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (class_id, f.rel, f.size, f.mtime_ns, f.head, seen.get(f.rel, now))
                    for f in record.files
                ],
            )
            cur = db.execute(
                "INSERT INTO audits (class_id, run_id, fingerprint, audit_key, started,"
                " finished, worker, verdict, errors, warnings, report_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    class_id,
                    run_id,
                    record.fingerprint,
                    record.audit_key,
                    report.get("started"),
                    report.get("finished"),
                    record.worker,
                    verdict,
                    errors,
                    warnings,
                    _json(report),
                ),
            )
            audit_id = int(cur.lastrowid or 0)
            _insert_findings(db, class_id, run_id, audit_id, "audit", report["findings"])
            _insert_findings(db, class_id, run_id, audit_id, "retention", record.retention)
            db.execute(
                "UPDATE classes SET institution = ?, prefix = ?, status = 'audited',"
                " fingerprint = ?, audit_key = ?, last_audit_id = ?,"
                " first_audited = coalesce(first_audited, ?), last_audited = ?, removed = NULL,"
                " start_date = ?, stat_year = ?, verdict = ?, errors = ?, warnings = ?"
                " WHERE id = ?",
                (
                    record.institution,
                    record.prefix,
                    record.fingerprint,
                    record.audit_key,
                    audit_id,
                    now,
                    now,
                    record.start_date,
                    record.stat_year,
                    verdict,
                    errors,
                    warnings,
                    class_id,
                ),
            )
            self._outcome(db, run_id, class_id, record.outcome, None, audit_id)
        return audit_id

    # --- reading ---------------------------------------------------------------------------
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (for summaries and tests)."""
        return list(self.conn.execute(sql, params))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _insert_findings(
    db: sqlite3.Connection,
    class_id: int,
    run_id: int,
    audit_id: int | None,
    source: str,
    findings: Sequence[dict[str, Any]],
) -> None:
    db.executemany(
        "INSERT INTO findings (class_id, run_id, audit_id, source, code, severity, path, message,"
        " details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                class_id,
                run_id,
                audit_id,
                source,
                f["code"],
                f["severity"],
                f["path"],
                f["message"],
                _json(f.get("details", {})),
            )
            for f in findings
        ],
    )
