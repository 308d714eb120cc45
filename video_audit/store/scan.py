"""The nightly scan's state in the workspace database: runs, classes, files, audits, findings.

Only the scanning process writes. Every class's result goes in in one transaction, so a scan
killed at any moment leaves each class either fully recorded or not at all; readers (the morning
summary, other tools) read freely while a scan runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_audit.store.base import StoreError, transaction
from video_audit.store.db import connect

__all__ = ["AuditRecord", "FileRecord", "FileState", "KnownClass", "ScanStore", "StoreError"]


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
        """Open the database at PATH (unless readonly: create it, or upgrade an older one)."""
        return cls(connect(path, readonly=readonly), path)

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        return transaction(self.conn)

    # --- meta and runs ---------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM scan_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO scan_meta (key, value) VALUES (?, ?)", (key, value))

    def start_run(
        self, root: str, started: str, workers: int | None, cluster: str | None, settle: float
    ) -> int:
        """A new run; runs left 'running' by a killed scan become 'interrupted'."""
        with self.transaction() as db:
            db.execute("UPDATE scan_runs SET status = 'interrupted' WHERE status = 'running'")
            cur = db.execute(
                "INSERT INTO scan_runs (root, started, status, workers, cluster, settle_seconds)"
                " VALUES (?, ?, 'running', ?, ?, ?)",
                (root, started, workers, cluster, settle),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished: str, unreadable: Sequence[str] = ()) -> None:
        """Mark a run done; UNREADABLE lists folders under the root that could not be listed."""
        with self.transaction() as db:
            db.execute(
                "UPDATE scan_runs SET status = 'done', finished = ?, unreadable = ? WHERE id = ?",
                (finished, _json(list(unreadable)), run_id),
            )

    # --- classes ---------------------------------------------------------------------------
    def known_classes(self) -> dict[str, KnownClass]:
        rows = self.conn.execute(
            "SELECT id, rel, status, fingerprint, audit_key, first_audited FROM scan_classes"
        )
        return {r["rel"]: KnownClass(**dict(r)) for r in rows}

    def class_files(self, class_id: int) -> dict[str, FileRecord]:
        rows = self.conn.execute(
            "SELECT rel, size, mtime_ns, head, first_seen FROM scan_files WHERE class_id = ?",
            (class_id,),
        )
        return {r["rel"]: FileRecord(**dict(r)) for r in rows}

    def _class_id(self, db: sqlite3.Connection, rel: str, institution: str, now: str) -> int:
        row = db.execute("SELECT id FROM scan_classes WHERE rel = ?", (rel,)).fetchone()
        if row is not None:
            return int(row[0])
        cur = db.execute(
            "INSERT INTO scan_classes (rel, institution, status, first_seen)"
            " VALUES (?, ?, 'seen', ?)",
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
            "INSERT OR REPLACE INTO scan_outcomes (run_id, class_id, outcome, detail, audit_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, class_id, outcome, _json(detail) if detail else None, audit_id),
        )

    def record_unchanged(self, run_id: int, rels: Sequence[str]) -> None:
        """Unchanged classes of this run, all in one transaction."""
        with self.transaction() as db:
            ids = [
                db.execute("SELECT id FROM scan_classes WHERE rel = ?", (r,)).fetchone()
                for r in rels
            ]
            db.executemany(
                "INSERT OR REPLACE INTO scan_outcomes (run_id, class_id, outcome) "
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
                "UPDATE scan_classes SET status = 'removed', removed = ? WHERE id = ?",
                (now, known.id),
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
                    "SELECT rel, first_seen FROM scan_files WHERE class_id = ?", (class_id,)
                )
            }
            db.execute("DELETE FROM scan_files WHERE class_id = ?", (class_id,))
            db.executemany(
                "INSERT INTO scan_files (class_id, rel, size, mtime_ns, head, first_seen)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (class_id, f.rel, f.size, f.mtime_ns, f.head, seen.get(f.rel, now))
                    for f in record.files
                ],
            )
            cur = db.execute(
                "INSERT INTO scan_audits (class_id, run_id, fingerprint, audit_key, started,"
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
                "UPDATE scan_classes SET institution = ?, prefix = ?, status = 'audited',"
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
        "INSERT INTO scan_findings (class_id, run_id, audit_id, source, code, severity, path,"
        " message, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
