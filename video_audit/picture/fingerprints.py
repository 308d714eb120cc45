"""Footage fingerprints: a perceptual hash per sampled frame, matching with a time offset,
and a SQLite store that remembers the classes audited before.

A hash survives re-encoding, rescaling and small crops (it reads the low frequencies of the
picture's centre). Two clips show the same footage when many of their frames match at one
time offset and that offset stands out: the same classroom filmed on another day matches a
little at every offset, reused footage matches closely at one.
"""

from __future__ import annotations

import base64
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

_CROP = 0.05  # share of each border left out: small crops and burned-in borders do not count
_BANDS = 4  # 16-bit bands of a hash, for the store's candidate look-up


def thumbnail(gray: np.ndarray) -> np.ndarray:
    """The picture's centre as 32×32 float32: what hashes are computed from."""
    h, w = gray.shape[:2]
    dy, dx = int(h * _CROP), int(w * _CROP)
    small = cv2.resize(gray[dy : h - dy, dx : w - dx], (32, 32), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32)


def dct_hash(thumb: np.ndarray) -> int:
    """64-bit DCT hash (bit set where a low-frequency coefficient is above their median)."""
    coefficients = cv2.dct(np.ascontiguousarray(thumb, dtype=np.float32))[:8, :8].ravel()
    bits = coefficients > np.median(coefficients[1:])
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def phash(gray: np.ndarray) -> int:
    """64-bit perceptual hash of a gray picture's centre."""
    return dct_hash(thumbnail(gray))


def motion_hashes(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of each thumbnail's departure from the clip's median picture, and its strength.

    A fixed camera films the same room every day; what moves in it (people) is what tells two
    days apart. Strength is the RMS departure in gray levels; a still clip has none.
    """
    if thumbs.shape[0] == 0:
        return np.empty(0, np.uint64), np.empty(0, np.float32)
    residual = thumbs - np.median(thumbs, axis=0)
    hashes = np.asarray([dct_hash(r) for r in residual], dtype=np.uint64)
    strength = np.sqrt(np.mean(np.square(residual), axis=(1, 2))).astype(np.float32)
    return hashes, strength


@dataclass(frozen=True)
class Fingerprint:
    """A clip's sampled frame times (s), their picture hashes and motion hashes (+ strength)."""

    times: np.ndarray
    hashes: np.ndarray
    motion: np.ndarray
    strength: np.ndarray

    def __len__(self) -> int:
        return int(self.hashes.size)

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form: times in tenths of a second, hashes as base64 of big-endian u64."""
        return {
            "hash": "dct64",
            "times": [round(float(t), 2) for t in self.times],
            "hashes": _b64(self.hashes),
            "motion": _b64(self.motion),
            "strength": [round(float(s), 1) for s in self.strength],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(
            np.asarray(data["times"], dtype=np.float32),
            _unb64(data["hashes"]),
            _unb64(data["motion"]),
            np.asarray(data["strength"], dtype=np.float32),
        )

    def to_bytes(self) -> bytes:
        parts = (self.times.astype("<f4"), self.hashes.astype("<u8"), self.motion.astype("<u8"))
        return b"".join(p.tobytes() for p in (*parts, self.strength.astype("<f4")))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Fingerprint:
        n = len(blob) // 24
        times, rest = np.frombuffer(blob[: 4 * n], "<f4"), blob[4 * n :]
        hashes, motion = (
            np.frombuffer(rest[: 8 * n], "<u8"),
            np.frombuffer(rest[8 * n : 16 * n], "<u8"),
        )
        strength = np.frombuffer(rest[16 * n :], "<f4")
        return cls(
            times.astype(np.float32),
            hashes.astype(np.uint64),
            motion.astype(np.uint64),
            strength.astype(np.float32),
        )


def _b64(hashes: np.ndarray) -> str:
    return base64.b64encode(hashes.astype(">u8").tobytes()).decode("ascii")


def _unb64(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=">u8").astype(np.uint64)


@dataclass(frozen=True)
class ReuseRules:
    """When two fingerprints count as the same footage."""

    distance: int = 12
    """Most differing picture-hash bits for two frames to match."""
    motion_distance: int = 14
    """Most differing motion-hash bits, where both frames show motion."""
    still_distance: int = 5
    """Most differing picture-hash bits where motion cannot be compared (a still room, or
    frames taken at other moments)."""
    min_strength: float = 2.0
    """Motion (RMS gray levels off the clip's median picture) that makes a motion hash count."""
    same_moment: float = 0.25
    """Seconds apart two frames may be for their motion hashes to be compared."""
    min_seconds: float = 6.0
    """Shortest matched stretch that counts."""
    min_frames: int = 4
    share: float = 0.6
    """Share of the overlapping frames that must match at the offset."""


@dataclass(frozen=True)
class Match:
    """Footage of clip B found in clip A: B's time t is A's time t + offset."""

    offset: float
    start: float
    end: float
    """The matched stretch, in B's time."""
    frames: int
    distance: float
    """Mean differing picture-hash bits of the matched frames."""

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.int16)


def _tolerance(times: np.ndarray) -> float:
    if times.size < 2:
        return 0.5
    return float(np.median(np.diff(times))) * 0.5 + 0.3


def match(a: Fingerprint, b: Fingerprint, rules: ReuseRules) -> Match | None:
    """The best time offset at which B's footage appears in A, if it counts as reuse."""
    if len(a) < rules.min_frames or len(b) < rules.min_frames:
        return None
    picture, motion = _bits(a.hashes, b.hashes), _bits(a.motion, b.motion)
    # Votes for an offset: pairs that look like the same frame by either test.
    close = np.argwhere(
        (picture <= rules.still_distance)
        | ((picture <= rules.distance) & (motion <= rules.motion_distance))
    )
    if close.shape[0] < rules.min_frames:
        return None
    tolerance = max(_tolerance(a.times), _tolerance(b.times))
    offsets = a.times[close[:, 0]] - b.times[close[:, 1]]
    votes = np.round(offsets / tolerance).astype(np.int64)
    candidates, counts = np.unique(votes, return_counts=True)
    best: Match | None = None
    for bin_ in candidates[np.argsort(-counts)][:5]:
        offset = float(np.median(offsets[votes == bin_]))
        found = _aligned(a, b, picture, motion, offset, tolerance, rules)
        if found is not None and (best is None or found.frames > best.frames):
            best = found
    return best


def _aligned(
    a: Fingerprint,
    b: Fingerprint,
    picture: np.ndarray,
    motion: np.ndarray,
    offset: float,
    tolerance: float,
    rules: ReuseRules,
) -> Match | None:
    target = b.times + offset
    right = np.clip(np.searchsorted(a.times, target), 0, len(a) - 1)
    left = np.clip(right - 1, 0, len(a) - 1)
    pick = np.where(np.abs(a.times[left] - target) <= np.abs(a.times[right] - target), left, right)
    apart = np.abs(a.times[pick] - target)
    overlap = apart <= tolerance
    if overlap.sum() < rules.min_frames:
        return None
    columns = np.arange(len(b))
    pair_picture, pair_motion = picture[pick, columns], motion[pick, columns]
    # Motion is compared only between frames taken at the same moment (re-encoded footage has
    # its keyframes elsewhere); other pairs must match closely as pictures.
    moving = (a.strength[pick] >= rules.min_strength) & (b.strength >= rules.min_strength)
    comparable = moving & (apart <= rules.same_moment)
    same = np.where(
        comparable,
        (pair_picture <= rules.distance) & (pair_motion <= rules.motion_distance),
        pair_picture <= rules.still_distance,
    )
    matched = overlap & same
    n = int(matched.sum())
    if n < rules.min_frames or n < rules.share * int(overlap.sum()):
        return None
    times = b.times[matched]
    start, end = float(times.min()), float(times.max())
    if end - start < rules.min_seconds:
        return None
    mean = float(pair_picture[matched].mean())
    return Match(round(offset, 2), round(start, 2), round(end, 2), n, round(mean, 1))


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
    """Fingerprints of every class audited with this store (SQLite, WAL, one write per audit)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS clips (
                    id INTEGER PRIMARY KEY,
                    class_key TEXT NOT NULL,
                    class_folder TEXT NOT NULL,
                    path TEXT NOT NULL,
                    audited TEXT NOT NULL,
                    fingerprint BLOB NOT NULL
                );
                CREATE INDEX IF NOT EXISTS clips_class ON clips(class_key);
                CREATE TABLE IF NOT EXISTS bands (
                    key INTEGER NOT NULL,
                    clip INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE
                );
                CREATE INDEX IF NOT EXISTS bands_key ON bands(key);
                """
            )
            yield db

    def candidates(
        self, fingerprint: Fingerprint, class_key: str, limit: int = 50
    ) -> list[StoredClip]:
        """Clips of other classes that share hash bands with FINGERPRINT, most shared first."""
        keys = _bands(fingerprint.hashes)
        if not keys or not self.path.exists():
            return []
        with self._connect() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (key INTEGER PRIMARY KEY)")
            db.execute("DELETE FROM wanted")
            db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(k,) for k in keys])
            rows = db.execute(
                """
                SELECT c.class_key, c.class_folder, c.path, c.audited, c.fingerprint, COUNT(*) AS n
                FROM bands b JOIN wanted w ON w.key = b.key JOIN clips c ON c.id = b.clip
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
        with self._connect() as db, db:
            for class_key, class_folder, clips in classes:
                db.execute("DELETE FROM clips WHERE class_key = ?", (class_key,))
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
                "INSERT INTO clips (class_key, class_folder, path, audited, fingerprint)"
                " VALUES (?, ?, ?, ?, ?)",
                (class_key, class_folder, path, audited, fingerprint.to_bytes()),
            )
            db.executemany(
                "INSERT INTO bands (key, clip) VALUES (?, ?)",
                [(k, cursor.lastrowid) for k in _bands(fingerprint.hashes)],
            )
