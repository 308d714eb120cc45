"""Classes uploaded through the web, their audits and findings, and random spot-checks."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from video_audit.store.base import now
from video_audit.store.class_index import report_facts
from video_audit.store.db import Database

_LATEST = (
    "SELECT c.*, a.id AS audit_id, a.state AS audit_state, a.summary AS audit_summary "
    "FROM classes c LEFT JOIN audits a ON a.id = "
    "(SELECT MAX(id) FROM audits WHERE class_id = c.id)"
)
SORTS = {
    "uploaded": "c.uploaded_at {order}, c.id {order}",
    "name": "c.name {order}, c.id {order}",
    "institution": "c.institution {order}, c.name {order}, c.id {order}",
    "errors": "c.errors IS NULL, c.errors {order}, c.id {order}",
}
VERDICTS = ("pass", "fail", "running")
# People the latest finished audit left to review and no standing decision covers: one made on
# that audit for the person, or one made on another audit for the same faces (the descriptor).
_OWES_REVIEW = (
    "EXISTS (SELECT 1 FROM json_each(c.review) j WHERE NOT EXISTS (SELECT 1 FROM "
    "attendance_decisions d WHERE d.class_id = c.id AND d.revoked_at IS NULL AND ("
    "(d.audit_id = c.facts_audit AND d.person = json_extract(j.value, '$[0]')) "
    "OR d.descriptor = json_extract(j.value, '$[1]'))))"
)


@dataclass(frozen=True)
class ClassQuery:
    """A page of the class list: who looks (VISIBLE: one institution, None for all), what they
    search for, filter and sort by."""

    visible: str | None = None
    q: str = ""
    institution: str = ""
    verdict: str = ""
    uploaded_from: dt.date | None = None
    uploaded_to: dt.date | None = None
    year: int | None = None
    first_month: int = 12
    review: bool = False
    sort: str = "uploaded"
    order: str = "desc"
    page: int = 1
    per_page: int = 50

    def year_range(self) -> tuple[str, str]:
        """[first day, day after the last) of the statistics year, as ISO dates: with
        first_month 12, 2025 runs from 2024-12-01 to 2025-11-30."""
        assert self.year is not None
        if self.first_month <= 1:
            return f"{self.year:04d}-01-01", f"{self.year + 1:04d}-01-01"
        return (
            f"{self.year - 1:04d}-{self.first_month:02d}-01",
            f"{self.year:04d}-{self.first_month:02d}-01",
        )

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.visible is not None:
            parts.append("c.institution = ?")
            params.append(self.visible)
        if self.q.strip():
            like = "%" + _escape_like(self.q.strip()) + "%"
            parts.append(
                "(c.name LIKE ? ESCAPE '\\' OR c.institution LIKE ? ESCAPE '\\' "
                "OR c.trainees LIKE ? ESCAPE '\\')"
            )
            params += [like, like, like]
        if self.institution:
            parts.append("c.institution = ?")
            params.append(self.institution)
        if self.verdict == "running":
            parts.append("a.state IN ('queued', 'running')")
        elif self.verdict in ("pass", "fail"):
            parts.append("a.state = 'done' AND c.verdict = ?")
            params.append(self.verdict)
        if self.uploaded_from is not None:
            parts.append("c.uploaded_at >= ?")
            params.append(self.uploaded_from.isoformat())
        if self.uploaded_to is not None:
            parts.append("c.uploaded_at < ?")
            params.append((self.uploaded_to + dt.timedelta(days=1)).isoformat())
        if self.year is not None:
            parts.append("c.start_date >= ? AND c.start_date < ?")
            params += list(self.year_range())
        if self.review:
            parts.append("c.review IS NOT NULL AND " + _OWES_REVIEW)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
        if institution is None:
            return self.read(_LATEST + " ORDER BY c.id DESC")
        return self.read(_LATEST + " WHERE c.institution = ? ORDER BY c.id DESC", (institution,))

    def find_classes(self, query: ClassQuery) -> tuple[list[sqlite3.Row], int]:
        """One page of the classes QUERY asks for (the columns of classes()), and how many
        match in all."""
        where, params = query.where()
        count = self.read_one(
            "SELECT COUNT(*) FROM classes c LEFT JOIN audits a ON a.id = "
            "(SELECT MAX(id) FROM audits WHERE class_id = c.id)" + where,
            tuple(params),
        )
        order = "ASC" if query.order == "asc" else "DESC"
        sort = SORTS.get(query.sort, SORTS["uploaded"]).format(order=order)
        rows = self.read(
            f"{_LATEST}{where} ORDER BY {sort} LIMIT ? OFFSET ?",
            (*params, query.per_page, (max(1, query.page) - 1) * query.per_page),
        )
        return rows, int(count[0]) if count is not None else 0

    def class_institutions(self, institution: str | None = None) -> list[str]:
        """The institutions that have classes (only INSTITUTION itself when given)."""
        if institution is not None:
            rows = self.read(
                "SELECT DISTINCT institution FROM classes WHERE institution = ?", (institution,)
            )
        else:
            rows = self.read("SELECT DISTINCT institution FROM classes ORDER BY institution")
        return [str(r[0]) for r in rows]

    def class_summary(self, class_id: int) -> sqlite3.Row | None:
        """One class with its latest audit (the columns of classes())."""
        return self.read_one(_LATEST + " WHERE c.id = ?", (class_id,))

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
            # What the class list searches and filters by: this audit's, now the latest.
            conn.execute(
                "UPDATE classes SET trainees = ?, start_date = ?, verdict = ?, errors = ?, "
                "review = ?, facts_audit = ? WHERE id = (SELECT class_id FROM audits WHERE id = ?)",
                (*report_facts(report).values(audit_id), audit_id),
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
