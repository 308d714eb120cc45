"""Classes uploaded through the web, their audits and findings, and random spot-checks."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from video_audit.store.base import now
from video_audit.store.db import Database


class ClassAudits(Database):
    """Uploaded classes, their audits (queued → running → done/failed) and spot-checks."""

    def add_class(
        self,
        name: str,
        institution: str,
        folder: str,
        files: int,
        size: int,
        by: int,
        content_sha256: str | None = None,
    ) -> int:
        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO classes (name, institution, folder, files, bytes, uploaded_by, "
                "uploaded_at, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, institution, folder, files, size, by, now(), content_sha256),
            )
            return int(cur.lastrowid or 0)

        return self.write(insert)

    def institution_bytes(self, institution: str) -> int:
        """Bytes the institution's stored classes hold together (its quota's use)."""
        row = self.read_one(
            "SELECT COALESCE(SUM(bytes), 0) FROM classes WHERE institution = ?", (institution,)
        )
        return int(row[0]) if row is not None else 0

    def class_with_content(self, institution: str, content_sha256: str) -> sqlite3.Row | None:
        """The institution's earliest class holding exactly this content, if any."""
        return self.read_one(
            "SELECT * FROM classes WHERE institution = ? AND content_sha256 = ? "
            "ORDER BY id LIMIT 1",
            (institution, content_sha256),
        )

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
        """Queue an audit of the class; one already queued or running is returned instead
        (requests for a class are coalesced: never two audits of it waiting at once)."""

        def insert(conn: sqlite3.Connection) -> int:
            waiting = conn.execute(
                "SELECT id FROM audits WHERE class_id = ? AND state IN ('queued', 'running') "
                "ORDER BY id LIMIT 1",
                (class_id,),
            ).fetchone()
            if waiting is not None:
                return int(waiting[0])
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
