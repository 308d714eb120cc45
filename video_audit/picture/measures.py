"""Picture measures over sampled frames: noise, sharpness, black/blank, change, fingerprints,
and the scene-change (cut) score of each step between sampled frames.

The analyzer only measures; the rules (video_audit/rules/picture.py) hold the measures against
the profile's thresholds. Everything here is per clip and needs no other clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from video_audit.disc import Clip
from video_audit.media.frames import SampledFrame, Sampling, Timeline
from video_audit.picture.fingerprints import Fingerprint, dct_hash, motion_hashes, thumbnail
from video_audit.standard import Profile, section_values

# Immerkær's noise mask: zero response to planes and ramps, std 6σ on white noise of std σ.
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_BLOCK = 8
_EDGE = 3.0  # gray levels a pixel apart in the blurred picture: an edge, not noise


def noise_sigma(luma: np.ndarray) -> float:
    """Noise std (0–255 luma) from the flattest tenth of 8×8 blocks: texture does not count."""
    response = cv2.filter2D(luma.astype(np.float32), -1, _NOISE_MASK, borderType=cv2.BORDER_REFLECT)
    h, w = (response.shape[0] // _BLOCK) * _BLOCK, (response.shape[1] // _BLOCK) * _BLOCK
    if h == 0 or w == 0:
        return 0.0
    energy = cv2.resize(
        np.square(response[:h, :w]), (w // _BLOCK, h // _BLOCK), interpolation=cv2.INTER_AREA
    )
    flat = float(np.percentile(energy, 10))
    return math.sqrt(max(flat, 0.0)) / 6.0


def blur_level(luma: np.ndarray) -> float:
    """Crété-Roffet blur estimate on edges: 0 sharp … 1 smeared (how little a 9-tap blur changes).

    A 5×5 median first, and only pixels on edges: sensor noise would otherwise pass for detail.
    """
    image = cv2.medianBlur(luma, 5).astype(np.float32)
    worst = 0.0
    for ksize in ((1, 9), (9, 1)):
        blurred = cv2.blur(image, ksize)
        if ksize[1] == 9:  # vertical blur, vertical neighbours
            d_image = cv2.absdiff(image[1:], image[:-1])
            d_blurred = cv2.absdiff(blurred[1:], blurred[:-1])
        else:
            d_image = cv2.absdiff(image[:, 1:], image[:, :-1])
            d_blurred = cv2.absdiff(blurred[:, 1:], blurred[:, :-1])
        edges = (d_blurred > _EDGE).astype(np.uint8)
        if cv2.countNonZero(edges) < 0.002 * edges.size:  # no edge left: all of it is smeared
            edges[:] = 1
        total = cv2.sumElems(cv2.multiply(d_image, edges, dtype=cv2.CV_32F))[0]
        if total <= 0:
            continue
        kept = cv2.threshold(cv2.subtract(d_image, d_blurred), 0, 0, cv2.THRESH_TOZERO)[1]
        kept_sum = cv2.sumElems(cv2.multiply(kept, edges, dtype=cv2.CV_32F))[0]
        worst = max(worst, (total - kept_sum) / total)
    return float(worst)


def _histogram(gray: np.ndarray) -> np.ndarray:
    hist = cv2.calcHist([gray], [0], None, [32], [0, 256]).ravel()
    return hist / max(float(hist.sum()), 1.0)


_SMALL = (128, 96)  # the picture whose structure is compared: people and desks, not noise
_CELLS = 8  # _SMALL is cut into 8×8-pixel cells for the spread of a change
_CELL_CHANGE = 0.35  # mean |Δ| (in the picture's own std) that makes a cell count as changed
_OVERLAP = 0.5  # least share of the picture two frames of a pan must share to be compared
_LOCAL = 6.0  # pixels of _SMALL around a pixel that set its brightness and contrast
_LOCAL_FLOOR = 4.0  # least contrast (gray levels) a flat wall is given: its noise stays small
_WINDOW = cv2.createHanningWindow(_SMALL, cv2.CV_32F)


def _structure(gray: np.ndarray) -> np.ndarray | None:
    """The picture small, each pixel less its surroundings' mean over their std: lights going
    on or off (a smooth change of brightness) leave it as it is; people and desks do not."""
    small = cv2.resize(gray, _SMALL, interpolation=cv2.INTER_AREA).astype(np.float32)
    if float(cv2.meanStdDev(small)[1][0, 0]) < 1.0:  # a flat picture has no structure to compare
        return None
    mean = cv2.GaussianBlur(small, (0, 0), _LOCAL)
    spread = cv2.GaussianBlur(small * small, (0, 0), _LOCAL) - mean * mean
    return (small - mean) / np.sqrt(np.maximum(spread, 0.0) + _LOCAL_FLOOR**2)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(math.sqrt(float((a * a).sum() * (b * b).sum())), 1e-9))


def _structure_change(before: np.ndarray | None, after: np.ndarray | None) -> tuple[float, float]:
    """1 − correlation of two structure pictures (0 same … 1 unrelated), the camera's turn
    between them taken out; and the share of cells that changed (one person walking past: a
    few; another room: nearly all)."""
    if before is None or after is None:
        return math.nan, math.nan
    change = np.abs(after - before)
    structure = 1.0 - _correlation(before, after)
    # phaseCorrelate windows its inputs in place: it gets copies.
    (dx, dy), _ = cv2.phaseCorrelate(before.copy(), after.copy(), _WINDOW)
    sx, sy = round(dx), round(dy)
    w, h = _SMALL
    if (abs(sx) > 1 or abs(sy) > 1) and (w - abs(sx)) * (h - abs(sy)) >= _OVERLAP * w * h:
        # The camera turned: compare what both frames show.
        a = before[max(0, -sy) : h - max(0, sy), max(0, -sx) : w - max(0, sx)]
        b = after[max(0, sy) : h - max(0, -sy), max(0, sx) : w - max(0, -sx)]
        turned = 1.0 - _correlation(a, b)
        if turned < structure:
            structure = turned
            change = np.pad(np.abs(b - a), ((0, h - a.shape[0]), (0, w - a.shape[1])))
    cells = cv2.resize(change, (w // _CELLS, h // _CELLS), interpolation=cv2.INTER_AREA)
    return max(structure, 0.0), float(np.mean(cells > _CELL_CHANGE))


MEASURES = ("change", "histogram", "hash", "structure", "spread", "contrast")


@dataclass(frozen=True)
class CutScore:
    """How the measures of one step between sampled frames combine into a cut score (0–1).

    Each measure is divided by its scale and capped at 1; the score is their weighted mean. The
    contrast compares a step's structure change with the steps around it: a cut stands alone,
    a pan or a person walking past changes the neighbouring steps as well.
    """

    change: tuple[float, float] = (0.10, 40.0)
    """(weight, scale) of the mean absolute gray difference (0–255)."""
    histogram: tuple[float, float] = (0.10, 0.5)
    """… of the luma histogram distance (0–1)."""
    hash: tuple[float, float] = (0.10, 32.0)
    """… of the picture hashes' differing bits (0–64)."""
    structure: tuple[float, float] = (0.20, 0.6)
    """… of 1 − the correlation of the small pictures, lighting taken out (0–1)."""
    spread: tuple[float, float] = (0.20, 0.6)
    """… of the share of the picture's cells that changed (0–1)."""
    contrast: tuple[float, float] = (0.30, 6.0)
    """… of the structure change over that of the steps around it (1 = as usual)."""
    neighbours: int = 3
    """Steps on each side that make a step's neighbourhood."""
    floor: float = 0.005
    """Least neighbourhood structure change (sensor noise in a still room is not the norm)."""

    @classmethod
    def from_profile(cls, profile: Profile) -> CutScore:
        """From [picture] cut_weights and cut_scales (tables by measure), cut_neighbours and
        cut_floor."""
        raw = profile.section("picture")
        base = cls()
        weights, scales = raw.get("cut_weights", {}), raw.get("cut_scales", {})
        unknown = (set(weights) | set(scales)) - set(MEASURES)
        if unknown:
            raise ValueError(f"unknown cut measure {sorted(unknown)}")
        values: dict[str, Any] = {
            name: (float(weights.get(name, getattr(base, name)[0])),
                   float(scales.get(name, getattr(base, name)[1])))
            for name in MEASURES
        }  # fmt: skip
        values.update(section_values(raw, base, {"neighbours": "cut_neighbours",
                                                  "floor": "cut_floor"}))  # fmt: skip
        return cls(**values)

    def features(self, p: ClipPicture) -> dict[str, np.ndarray]:
        """Each measure of each step (frame k−1 to k) divided by its scale and capped at 1."""
        s = p.structure_change
        contrast = s / _neighbourhood(s, self.neighbours, self.floor)
        raw = {
            "change": p.change,
            "histogram": p.hist_change,
            "hash": np.where(p.hash_change < 0, np.nan, p.hash_change.astype(np.float64)),
            "structure": s,
            "spread": p.spread,
            "contrast": contrast - 1.0,
        }
        out: dict[str, np.ndarray] = {}
        for name, values in raw.items():
            _, scale = getattr(self, name)
            if name == "contrast":
                scale -= 1.0
            with np.errstate(invalid="ignore"):
                out[name] = np.clip(np.nan_to_num(values, nan=0.0) / scale, 0.0, 1.0)
        return out

    def scores(self, p: ClipPicture) -> np.ndarray:
        """The cut score of each step (0 for the first frame and wherever a picture is flat)."""
        features = self.features(p)
        total = sum(getattr(self, name)[0] for name in features)
        score = sum(getattr(self, name)[0] * values for name, values in features.items())
        score = np.asarray(score, dtype=np.float64) / max(total, 1e-9)
        score[np.isnan(p.structure_change)] = 0.0
        return score


def _neighbourhood(values: np.ndarray, width: int, floor: float) -> np.ndarray:
    """For each step, the larger of the medians of the WIDTH steps before and after it (the
    step itself left out), at least FLOOR and the clip's median step."""
    known = values[~np.isnan(values)]
    base = max(floor, float(np.median(known)) if known.size else 0.0)
    out = np.full(values.shape, base)
    for k in range(values.size):
        sides = [values[max(0, k - width) : k], values[k + 1 : k + 1 + width]]
        for side in sides:
            side = side[~np.isnan(side)]
            if side.size:
                out[k] = max(out[k], float(np.median(side)))
    return out


@dataclass(frozen=True)
class PictureConfig:
    """The sampling and measuring parameters of the [picture] profile section."""

    every: float = 1.0
    keyframe_gap: float = 2.0
    width: int = 320
    quality_frames: int = 16
    blank_std: float = 6.0
    dense_seconds: float = 120.0
    dense_every: float = 0.5

    @classmethod
    def from_profile(cls, profile: Profile) -> PictureConfig:
        keys = {
            "every": "sample_seconds",
            "keyframe_gap": "keyframe_gap_seconds",
            "width": "analysis_width",
            "quality_frames": "quality_frames",
            "blank_std": "blank_std",
            "dense_seconds": "dense_seconds",
            "dense_every": "dense_every_seconds",
        }
        return cls(**section_values(profile.section("picture"), cls, keys))


@dataclass
class ClipPicture:
    """What the picture pass measured in one clip (per sampled frame, and per clip)."""

    times: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    change: np.ndarray
    """Mean absolute gray difference to the previous sampled frame (NaN for the first)."""
    hist_change: np.ndarray
    """Histogram distance (0–1) to the previous sampled frame (NaN for the first)."""
    hash_change: np.ndarray
    """Hash bits that differ from the previous sampled frame (−1 for the first)."""
    structure_change: np.ndarray
    """1 − correlation with the previous sampled frame, lighting taken out (NaN for the first
    and where either picture is flat)."""
    spread: np.ndarray
    """Share of the picture's cells that changed since the previous sampled frame (NaN as above)."""
    fingerprint: Fingerprint
    quality_times: np.ndarray
    noise: np.ndarray
    blur: np.ndarray
    packet_times: np.ndarray
    decode_times: np.ndarray
    keyframe_times: np.ndarray
    rate: float | None
    decoded: int
    metadata: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def duration(self) -> float:
        return float(self.packet_times.max()) if self.packet_times.size else 0.0

    @property
    def keyframe_interval(self) -> float | None:
        if self.keyframe_times.size < 2:
            return None
        return float(np.median(np.diff(np.sort(self.keyframe_times))))

    def to_dict(self) -> dict[str, Any]:
        """Measured values for the report (clips[].picture), fingerprint included."""

        def level(values: np.ndarray, digits: int) -> float | None:
            return round(float(np.median(values)), digits) if values.size else None

        changes = self.change[~np.isnan(self.change)]
        return {
            "sampled": int(self.times.size),
            "decoded": self.decoded,
            "packets": int(self.packet_times.size),
            "keyframe_interval": _round(self.keyframe_interval, 2),
            "noise": level(self.noise, 2),
            "blur": level(self.blur, 3),
            "luma": level(self.mean, 1),
            "change": level(changes, 2),
            "error": self.error,
            "fingerprint": self.fingerprint.to_dict(),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class PictureSink:
    """Measures one clip's sampled frames as they come."""

    def __init__(self, config: PictureConfig, quality_every: float, every: float = 0.0) -> None:
        self.config = config
        self.quality_every = quality_every
        self.every = every
        """This analyzer's own grid: a pass shared with denser analyzers (face rolls are sampled
        every 0.25 s for faces) hands over more frames; only those on this grid are measured,
        so that the picture checks give the same results with or without face analysis."""
        self._next_due = 0.0
        self.rows: list[tuple[float, float, float, float, float, int, float, float]] = []
        self.hashes: list[int] = []
        self.thumbs: list[np.ndarray] = []
        self.quality: list[tuple[float, float, float]] = []
        self._previous: tuple[np.ndarray, np.ndarray, int, np.ndarray | None] | None = None
        self._next_quality = 0.0

    def add(self, frame: SampledFrame) -> None:
        if self.every > 0:
            if frame.time < self._next_due - 0.25 * self.every:
                return
            self._next_due = max(
                self._next_due + self.every, (frame.time // self.every + 1) * self.every
            )
        gray = frame.gray_at(self.config.width)
        mean, std = cv2.meanStdDev(gray)
        mean_v, std_v = float(mean[0, 0]), float(std[0, 0])
        hist = _histogram(gray)
        thumb = thumbnail(gray)
        code = dct_hash(thumb)
        structure = _structure(gray)
        change = hist_change = structure_change = spread = math.nan
        hash_change = -1
        if self._previous is not None:
            before, before_hist, before_code, before_structure = self._previous
            change = float(cv2.norm(gray, before, cv2.NORM_L1)) / gray.size
            hist_change = 0.5 * float(np.abs(hist - before_hist).sum())
            hash_change = (code ^ before_code).bit_count()
            structure_change, spread = _structure_change(before_structure, structure)
        self._previous = (gray, hist, code, structure)
        self.rows.append(
            (frame.time, mean_v, std_v, change, hist_change, hash_change, structure_change, spread)
        )
        self.hashes.append(code)
        self.thumbs.append(thumb)
        alive = std_v > self.config.blank_std
        if alive and frame.time >= self._next_quality and (luma := frame.luma) is not None:
            self._next_quality = frame.time + self.quality_every * 0.95
            self.quality.append((frame.time, noise_sigma(luma), blur_level(luma)))

    def finish(self, timeline: Timeline) -> ClipPicture:
        rows = np.asarray(self.rows, dtype=np.float64).reshape(-1, 8)
        quality = np.asarray(self.quality, dtype=np.float64).reshape(-1, 3)
        motion, strength = motion_hashes(np.asarray(self.thumbs, np.float32).reshape(-1, 32, 32))
        hashes = np.asarray(self.hashes, np.uint64)
        return ClipPicture(
            times=rows[:, 0],
            mean=rows[:, 1],
            std=rows[:, 2],
            change=rows[:, 3],
            hist_change=rows[:, 4],
            hash_change=rows[:, 5].astype(np.int64),
            structure_change=rows[:, 6],
            spread=rows[:, 7],
            fingerprint=Fingerprint(rows[:, 0].astype(np.float32), hashes, motion, strength),
            quality_times=quality[:, 0],
            noise=quality[:, 1],
            blur=quality[:, 2],
            packet_times=timeline.packet_times,
            decode_times=timeline.decode_times,
            keyframe_times=timeline.keyframe_times,
            rate=timeline.rate,
            decoded=timeline.decoded,
            metadata=timeline.metadata,
            error=timeline.error,
        )


class PictureAnalyzer:
    """The picture checks' view of the shared frame pass."""

    name = "picture"

    def __init__(self, config: PictureConfig, reference: bool = False) -> None:
        self.config = config
        self.reference = reference
        """Every frame decoded and measured: the slow baseline the sparse pass is judged by."""

    def sampling(self, clip: Clip) -> Sampling | None:
        if clip.media is None or clip.media.problem is not None:
            return None
        c = self.config
        if self.reference:
            return Sampling(every=0.0, width=c.width, luma=True)
        if (clip.media.duration or 0.0) <= c.dense_seconds:
            # Short clips (face rolls pan fast): every frame decoded, a frame on a fine grid.
            return Sampling(every=c.dense_every, keyframe_gap=0.0, width=c.width, luma=True)
        return Sampling(every=c.every, keyframe_gap=c.keyframe_gap, width=c.width, luma=True)

    def begin(self, clip: Clip) -> PictureSink:
        duration = (clip.media.duration if clip.media else None) or 0.0
        spread = duration / max(1, self.config.quality_frames)
        # The reference measures noise and blur once a second: clip-level figures, no more.
        quality_every = 1.0 if self.reference else max(self.config.dense_every, spread)
        own = self.sampling(clip)
        return PictureSink(self.config, quality_every, own.every if own else 0.0)


def stretches(times: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) sample times of each run of consecutive flagged samples."""
    runs: list[tuple[float, float]] = []
    start: float | None = None
    for t, flag in zip(times.tolist(), flags.tolist(), strict=True):
        if flag and start is None:
            start = t
        if flag:
            last = t
        elif start is not None:
            runs.append((start, last))
            start = None
    if start is not None:
        runs.append((start, last))
    return runs


def pair_runs(times: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """Runs of flagged consecutive pairs (flag k: frames k-1 and k) as (first, last) frame times."""
    runs: list[tuple[float, float]] = []
    start: int | None = None
    for k in range(1, len(flags) + 1):
        on = k < len(flags) and bool(flags[k])
        if on and start is None:
            start = k
        elif not on and start is not None:
            runs.append((float(times[start - 1]), float(times[k - 1])))
            start = None
    return runs
