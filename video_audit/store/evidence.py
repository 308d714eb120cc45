"""The evidence log's records (the chain's logic lives in video_audit.evidence)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from video_audit.store.db import Database


class EvidenceRecords(Database):
    """The hash-chained evidence records, appended one at a time by the writer."""

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
        self.after_write(after, record["seq"], record["hash"])
        return record

    def evidence(self, class_ids: list[int] | None = None) -> list[sqlite3.Row]:
        """The log in order (or only the records of some classes)."""
        rows = self.read("SELECT * FROM evidence ORDER BY seq")
        if class_ids is None:
            return rows
        return [r for r in rows if r["class_id"] in class_ids]

    def evidence_record(self, seq: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM evidence WHERE seq = ?", (seq,))
