"""Attendance review: inspectors' decisions per class person, and the people each audit saw.

A decision keeps the person's descriptor (days, thumbnails, the centre of their face embeddings
and every face embedding as float32 bytes): biometric data, kept only in this database — never
in a report, a JSON export or a log. The people an audit saw (table attendance_people) are
written by the audit itself, from its worker process, through its own connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from video_audit.store.base import now, transaction
from video_audit.store.db import Database, connect

DECISION_KINDS = ("confirm", "stranger", "undecidable")


def to_blob(vectors: np.ndarray) -> bytes:
    """Embeddings as float32 bytes (row after row)."""
    return np.ascontiguousarray(vectors, dtype=np.float32).tobytes()


def from_blob(blob: bytes | None, dim: int | None) -> np.ndarray | None:
    """The float32 rows of a blob (None when there is none)."""
    if not blob or not dim:
        return None
    return np.frombuffer(blob, dtype=np.float32).reshape(-1, int(dim))


@dataclass(frozen=True)
class SeenPerson:
    """One class person of an audit, as the audit stores it to map decisions by later."""

    descriptor: str
    class_key: str
    person: str
    days: list[str]
    thumbnails: list[str]
    faces: np.ndarray
    metric: str
    threshold: float
    engine: str

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.faces.mean(axis=0), dtype=np.float32)

    @classmethod
    def of(cls, row: Any) -> SeenPerson:
        faces = from_blob(row["faces"], row["dim"])
        assert faces is not None
        return cls(
            row["descriptor"],
            row["class_key"],
            row["person"],
            json.loads(row["days"]),
            json.loads(row["thumbnails"]),
            faces,
            row["metric"],
            float(row["threshold"]),
            row["engine"],
        )


def save_people(path: Path, people: Sequence[SeenPerson]) -> None:
    """Remember the people an audit saw (one transaction; a person seen again is replaced)."""
    if not people:
        return
    conn = connect(path)
    try:
        with transaction(conn):
            for p in people:
                conn.execute(
                    "INSERT OR REPLACE INTO attendance_people (descriptor, class_key, person, "
                    "days, thumbnails, centre, faces, dim, metric, threshold, engine, recorded) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.descriptor,
                        p.class_key,
                        p.person,
                        json.dumps(p.days, ensure_ascii=False),
                        json.dumps(p.thumbnails),
                        to_blob(p.centre[None, :]),
                        to_blob(p.faces),
                        int(p.faces.shape[1]),
                        p.metric,
                        p.threshold,
                        p.engine,
                        now(),
                    ),
                )
    finally:
        conn.close()


def confirmed_faces(path: Path, class_key: str, engine: str) -> list[tuple[str, np.ndarray]]:
    """(roster key, face embeddings) of every active confirmation in the class made with the
    same engine: the extra enrolment a later audit of the class uses."""
    if not path.is_file():
        return []
    conn = connect(path)
    try:
        rows = conn.execute(
            "SELECT key, faces, dim FROM attendance_decisions WHERE class_key = ? AND kind = "
            "'confirm' AND revoked_at IS NULL AND engine = ? AND faces IS NOT NULL ORDER BY id",
            (class_key, engine),
        ).fetchall()
    finally:
        conn.close()
    out = []
    for row in rows:
        faces = from_blob(row["faces"], row["dim"])
        if faces is not None and row["key"]:
            out.append((str(row["key"]), faces))
    return out


class Conflict(Exception):
    """The person already has an active decision."""


class AttendanceDecisions(Database):
    """Decisions per class person (recorded with the evidence log) and the people audits saw."""

    def class_decisions(self, class_id: int, active: bool = True) -> list[sqlite3.Row]:
        """A class's decisions, oldest first (only those not revoked unless ACTIVE is False)."""
        where = " AND revoked_at IS NULL" if active else ""
        return self.read(
            f"SELECT * FROM attendance_decisions WHERE class_id = ?{where} ORDER BY id",
            (class_id,),
        )

    def attendance_decision(self, decision_id: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM attendance_decisions WHERE id = ?", (decision_id,))

    def seen_people(self, descriptors: Iterable[str]) -> dict[str, SeenPerson]:
        """The stored people of these descriptors (those an audit stored)."""
        wanted = sorted(set(descriptors))
        out: dict[str, SeenPerson] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.read(
                f"SELECT * FROM attendance_people WHERE descriptor IN ({marks})", tuple(chunk)
            ):
                out[row["descriptor"]] = SeenPerson.of(row)
        return out


def insert_decision(conn: sqlite3.Connection, fields: dict[str, Any]) -> int:
    """In the evidence record's transaction: the decision row (Conflict when the person of that
    audit has an active one already)."""
    clash = conn.execute(
        "SELECT id FROM attendance_decisions WHERE class_id = ? AND revoked_at IS NULL AND "
        "((audit_id = ? AND person = ?) OR descriptor = ?)",
        (fields["class_id"], fields["audit_id"], fields["person"], fields["descriptor"]),
    ).fetchone()
    if clash is not None:
        raise Conflict(int(clash[0]))
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = conn.execute(
        f"INSERT INTO attendance_decisions ({columns}) VALUES ({marks})", tuple(fields.values())
    )
    return int(cur.lastrowid or 0)


def revoke_decision(conn: sqlite3.Connection, decision_id: int, by: str, at: str, seq: int) -> bool:
    """In the evidence record's transaction: mark the decision revoked (False: it was already)."""
    cur = conn.execute(
        "UPDATE attendance_decisions SET revoked_by = ?, revoked_at = ?, revoke_seq = ? "
        "WHERE id = ? AND revoked_at IS NULL",
        (by, at, seq, decision_id),
    )
    return cur.rowcount == 1
