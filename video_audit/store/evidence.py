"""The evidence log's records (the chain's logic lives in video_audit.evidence)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from video_audit.store.db import Database


class EvidenceRecords(Database):
    """The hash-chained evidence records, appended one at a time by the writer."""

    def append_evidence(
        self,
        seal: Callable[[int, dict[str, Any] | None], dict[str, Any]],
        after: Callable[[dict[str, Any]], None],
        alongside: Callable[[sqlite3.Connection, dict[str, Any]], Any] | None = None,
    ) -> dict[str, Any]:
        """Append one record in one transaction: seal(seq, last record or None) builds it from
        the last record as it is under the write lock; after(record) runs once it is committed.
        The chain's head is the last record itself, so a crash at any point leaves the record
        either wholly there or not at all, never a head that disagrees with the records.
        alongside(conn, record), when given, writes what the record is about in the same
        transaction (a decision and its record stand or fall together)."""

        def insert(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute("SELECT * FROM evidence ORDER BY seq DESC LIMIT 1").fetchone()
            last = dict(row) if row is not None else None
            record = seal((last["seq"] if last else 0) + 1, last)
            columns = ", ".join(record)
            marks = ", ".join("?" for _ in record)
            conn.execute(
                f"INSERT INTO evidence ({columns}) VALUES ({marks})", tuple(record.values())
            )
            if alongside is not None:
                alongside(conn, record)
            return record

        record = self.write(insert)
        self.after_write(after, record)
        return record

    def last_evidence(self) -> sqlite3.Row | None:
        """The newest record (None when the log is empty)."""
        return self.read_one("SELECT * FROM evidence ORDER BY seq DESC LIMIT 1")

    def evidence(
        self, class_ids: list[int] | None = None, every_kind: bool = False
    ) -> list[sqlite3.Row]:
        """The captures in order (or only those of some classes); EVERY_KIND: the whole chain,
        attendance decisions and revocations included (what verification walks)."""
        where = "" if every_kind else " WHERE kind IS NULL"
        rows = self.read(f"SELECT * FROM evidence{where} ORDER BY seq")
        if class_ids is None:
            return rows
        return [r for r in rows if r["class_id"] in class_ids]

    def evidence_record(self, seq: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM evidence WHERE seq = ?", (seq,))
