"""Footage fingerprints of the classes audited before, to find footage reused across classes.

Kept in the workspace database (tables footage_clips and footage_bands); any video-audit
database file works, and a standalone fingerprint store of an earlier version is adopted.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from video_audit.picture.fingerprints import Fingerprint
from video_audit.store.base import transaction
from video_audit.store.db import connect

_BANDS = 4  # 16-bit bands of a hash, for the candidate look-up


@dataclass(frozen=True)
class StoredClip:
    """A clip remembered from an earlier audit."""

    class_key: str
    class_folder: str
    path: str
    audited: str
    fingerprint: Fingerprint


def _bands(hashes: np.ndarray) -> list[int]:
    keys = set()
    for h in hashes.tolist():
        for band in range(_BANDS):
            keys.add((band << 16) | ((int(h) >> (16 * band)) & 0xFFFF))
    return sorted(keys)


class FingerprintStore:
    """Fingerprints of every class audited with this database (one write per audit).

    One connection for the store's life, opened on first use (an audit asks once per clip);
    close() when done.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def candidates(
        self, fingerprint: Fingerprint, class_key: str, limit: int = 50
    ) -> list[StoredClip]:
        """Clips of other classes that share hash bands with FINGERPRINT, most shared first."""
        keys = _bands(fingerprint.hashes)
        if not keys or not self.path.exists():
            return []
        db = self._db()
        db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (key INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(k,) for k in keys])
        rows = db.execute(
            """
            SELECT c.class_key, c.class_folder, c.path, c.audited, c.fingerprint, COUNT(*) AS n
            FROM footage_bands b JOIN wanted w ON w.key = b.key
            JOIN footage_clips c ON c.id = b.clip
            WHERE c.class_key != ?
            GROUP BY c.id ORDER BY n DESC LIMIT ?
            """,
            (class_key, limit),
        ).fetchall()
        return [StoredClip(r[0], r[1], r[2], r[3], Fingerprint.from_bytes(r[4])) for r in rows]

    def remember(
        self, classes: Iterable[tuple[str, str, Iterable[tuple[str, Fingerprint]]]]
    ) -> None:
        """Replace what the store holds for each (key, folder, clips) class, in one transaction."""
        audited = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with transaction(self._db()) as db:
            for class_key, class_folder, clips in classes:
                db.execute("DELETE FROM footage_clips WHERE class_key = ?", (class_key,))
                self._insert(db, class_key, class_folder, audited, clips)

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        class_key: str,
        class_folder: str,
        audited: str,
        clips: Iterable[tuple[str, Fingerprint]],
    ) -> None:
        for path, fingerprint in clips:
            cursor = db.execute(
                "INSERT INTO footage_clips (class_key, class_folder, path, audited, fingerprint)"
                " VALUES (?, ?, ?, ?, ?)",
                (class_key, class_folder, path, audited, fingerprint.to_bytes()),
            )
            db.executemany(
                "INSERT INTO footage_bands (key, clip) VALUES (?, ?)",
                [(k, cursor.lastrowid) for k in _bands(fingerprint.hashes)],
            )
