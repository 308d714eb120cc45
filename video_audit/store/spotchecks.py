"""Spot-check results: an inspector's 正常 / 异常 (with a note) for each drawn moment, each
written in the transaction of its evidence record (kind spotcheck_result)."""

from __future__ import annotations

import sqlite3

from video_audit.store.db import Database

RESULTS = ("normal", "abnormal")


class SpotCheckResults(Database):
    """What inspectors found at the moments of a spot-check; the newest per moment stands."""

    def spotcheck(self, spot_id: int) -> sqlite3.Row | None:
        """One spot-check (None when there is none)."""
        return self.read_one("SELECT * FROM spotchecks WHERE id = ?", (spot_id,))

    @staticmethod
    def insert_spotcheck_result(
        conn: sqlite3.Connection,
        spot_id: int,
        moment: int,
        result: str,
        note: str,
        by: int,
        at: str,
        evidence_seq: int,
    ) -> int:
        """Write one result inside the caller's transaction (its evidence record's)."""
        if result not in RESULTS:
            raise ValueError(result)
        cur = conn.execute(
            "INSERT INTO spotcheck_results (spotcheck_id, moment, result, note, recorded_by, "
            "recorded, evidence_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (spot_id, moment, result, note, by, at, evidence_seq),
        )
        return int(cur.lastrowid or 0)

    def spotcheck_results(self, spot_ids: list[int]) -> list[sqlite3.Row]:
        """Every result of these spot-checks, oldest first (the last per moment stands)."""
        if not spot_ids:
            return []
        marks = ", ".join("?" for _ in spot_ids)
        return self.read(
            "SELECT r.*, u.name AS by_name FROM spotcheck_results r "
            f"JOIN users u ON u.id = r.recorded_by WHERE r.spotcheck_id IN ({marks}) "
            "ORDER BY r.id",
            tuple(spot_ids),
        )
