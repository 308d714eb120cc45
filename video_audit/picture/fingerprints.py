"""Footage fingerprints: a perceptual hash per sampled frame, and matching with a time offset
(video_audit.store.fingerprints remembers the classes audited before).

A hash survives re-encoding, rescaling and small crops (it reads the low frequencies of the
picture's centre). Two clips show the same footage when many of their frames match at one
time offset and that offset stands out: the same classroom filmed on another day matches a
little at every offset, reused footage matches closely at one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

_CROP = 0.05  # share of each border left out: small crops and burned-in borders do not count


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
