"""Test clips for the picture checks: small, seconds-long, made with PyAV; faults injected.

The helpers here are shared by the other test_picture_* files; the tests below check that the
clips are what they claim to be (a test clip that is not faulty would make a test meaningless).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.settings import AuditSettings
from video_audit.standard import DEFAULT_PROFILE

W, H = 320, 240


@dataclass(frozen=True)
class Footage:
    """A synthetic camera: a room with people (by seed), motion, sensor noise; and its faults."""

    seconds: float = 12.0
    fps: int = 5
    seed: int = 1
    width: int = W
    height: int = H
    gop: int = 10
    sensor: float = 1.5
    """Per-frame noise std: a live camera's picture never repeats exactly."""
    noise: float = 0.0
    blur: float = 0.0
    black: tuple[float, float] | None = None
    grey: tuple[float, float] | None = None
    frozen: tuple[float, float] | None = None
    splice: float | None = None
    """From this second on, another room (seed + 1000): a lesson spliced from two recordings."""
    pts_jump: tuple[float, float] | None = None
    """(at, seconds): the stream's timestamps jump forward at AT by SECONDS."""
    start: dt.datetime | None = None
    crop: float = 0.0
    scale: tuple[int, int] | None = None
    offset: float = 0.0
    """Start the footage this many seconds in (an excerpt of a longer recording)."""


def room(seed: int, width: int, height: int) -> tuple[np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.empty((height, width, 3), np.float32)
    tint = rng.uniform(70, 130, size=3)
    for c in range(3):
        base[..., c] = tint[c] + 50 * yy / height * (c + 1) / 3 + 30 * xx / width
    for _ in range(int(rng.integers(10, 18))):  # desks and people, sharp-edged
        w, h = (
            int(rng.integers(width // 14, width // 6)),
            int(rng.integers(height // 12, height // 5)),
        )
        x, y = int(rng.integers(0, width - w)), int(rng.integers(height // 5, height - h))
        base[y : y + h, x : x + w] = rng.uniform(20, 235, size=3)
    return base, rng


def frames(f: Footage) -> list[np.ndarray]:
    """Every frame of the footage, RGB uint8, faults applied (before any crop or scale)."""
    base, rng = room(f.seed, f.width, f.height)
    other, _ = room(f.seed + 1000, f.width, f.height)
    out: list[np.ndarray] = []
    first = round(f.offset * f.fps)
    total = round(f.seconds * f.fps)
    frozen_picture: np.ndarray | None = None
    for k in range(first, first + total):
        t = k / f.fps
        img = (other if f.splice is not None and t >= f.splice else base).copy()
        for j in range(3):  # people walking about
            x = int((f.width - 30) * (0.5 + 0.5 * np.sin(k / (6.0 + 3 * j) + f.seed + j)))
            y = int(f.height * (0.15 + 0.25 * j))
            img[y : y + f.height // 6, x : x + 22] = (200 - 60 * j, 80 + 50 * j, 60)
        if f.blur:
            img = cv2.GaussianBlur(img, (0, 0), f.blur)
        noise = rng.normal(0, f.sensor + f.noise, size=(f.height, f.width, 1)).astype(np.float32)
        picture = np.clip(img + noise, 0, 255).astype(np.uint8)
        if f.frozen and f.frozen[0] <= t < f.frozen[1]:
            frozen_picture = picture if frozen_picture is None else frozen_picture
            picture = frozen_picture
        if f.black and f.black[0] <= t < f.black[1]:
            picture = np.clip(rng.normal(8, 2, picture.shape), 0, 255).astype(np.uint8)
        if f.grey and f.grey[0] <= t < f.grey[1]:
            picture = np.full_like(picture, 128)
        out.append(picture)
    return out


def encode(path: Path, f: Footage) -> Path:
    """Write the footage as H.264 in MP4 (creation_time from f.start, in UTC)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = f.scale or (f.width, f.height)
    with av.open(str(path), "w", format="mp4") as out:
        options = {"preset": "ultrafast", "crf": "20", "g": str(f.gop), "bf": "0"}
        stream = out.add_stream("libx264", rate=f.fps, options=options)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, f.fps)
        if f.start is not None:
            out.metadata["creation_time"] = f.start.astimezone(dt.UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000000Z"
            )
        for n, picture in enumerate(frames(f)):
            if f.crop:
                dy, dx = int(f.height * f.crop), int(f.width * f.crop)
                picture = np.ascontiguousarray(picture[dy : f.height - dy, dx : f.width - dx])
            if picture.shape[1] != size[0] or picture.shape[0] != size[1]:
                picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            if f.pts_jump and n / f.fps >= f.pts_jump[0]:
                frame.pts = n + round(f.pts_jump[1] * f.fps)
            frame.time_base = Fraction(1, f.fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def picture_profile(tmp_path: Path, **changes: object) -> Path:
    """The shipped profile with a 3 s lesson minimum and [picture] keys replaced."""
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    text = text.replace("min_lesson_seconds = 600", "min_lesson_seconds = 3")
    lines = text.splitlines()
    for key, value in changes.items():
        hits = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        assert len(hits) == 1, key
        lines[hits[0]] = f"{key} = {value}"
    path = tmp_path / "profile.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lesson_path(cls: Path, date: str = "5月24日") -> Path:
    return cls / date / f"{PREFIX}{date}授课过程.mp4"


def roll_path(cls: Path, slot: int, date: str = "5月24日") -> Path:
    return cls / date / f"{PREFIX}{date}课间人脸识别视频{slot}.mp4"


def audit(cls: Path, profile: Path, **settings: object) -> AuditReport:
    return run_audit(cls, AuditSettings(standard=profile, **settings))  # type: ignore[arg-type]


def qa(report: AuditReport) -> set[tuple[str, str]]:
    """The picture findings (QA codes) as (code, file name)."""
    return {(f.code, f.path.rsplit("/", 1)[-1]) for f in report.findings if f.code[:2] == "QA"}


def qa_details(report: AuditReport, code: str) -> list[dict[str, object]]:
    return [dict(f.details) for f in report.findings if f.code == code]


# --- the clips are what they claim -------------------------------------------------------------


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def test_footage_is_alive_and_faults_are_there(tmp_path: Path) -> None:
    clean = _decoded(encode(tmp_path / "a.mp4", Footage(seconds=4)))
    steps = [float(np.abs(a.astype(int) - b).mean()) for a, b in itertools.pairwise(clean)]
    assert min(steps) > 0.5  # sensor noise and motion: never two equal frames
    frozen = _decoded(encode(tmp_path / "f.mp4", Footage(seconds=4, frozen=(1.0, 3.0))))
    inside = [float(np.abs(a.astype(int) - b).mean()) for a, b in itertools.pairwise(frozen[11:15])]
    assert max(inside) < 0.3
    black = _decoded(encode(tmp_path / "b.mp4", Footage(seconds=4, black=(1.0, 3.0))))
    assert float(black[10].mean()) < 20 < float(black[0].mean())


def test_pts_jump_and_scale_reach_the_file(tmp_path: Path) -> None:
    path = encode(tmp_path / "j.mp4", Footage(seconds=4, pts_jump=(2.0, 5.0), scale=(400, 300)))
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (400, 300)
        base = stream.time_base or 1
        times = [float(p.pts * base) for p in c.demux(stream) if p.pts is not None]
    assert max(np.diff(sorted(times))) > 4.5


def test_clean_footage_of_one_room_differs_from_another(tmp_path: Path) -> None:
    a = replace(Footage(seconds=1), seed=1)
    b = replace(a, seed=2)
    assert float(np.abs(frames(a)[0].astype(int) - frames(b)[0]).mean()) > 20
