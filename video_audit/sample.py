"""`video-audit sample`: demo discs made with PyAV — one compliant class, one with known faults."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

CHINA = dt.timezone(dt.timedelta(hours=8))
GOOD_PREFIX = "壶关县鑫达职业培训学校2024年第1期中式面点师培训班"
BAD_PREFIX = "长治市华森职业培训学校2024年第3期电工培训班"
ROLL_SECONDS, ROLL_FPS = 10, 5
LESSON_SECONDS, LESSON_FPS = 610, 1


@dataclass(frozen=True)
class ClipSpec:
    """How to make one synthetic clip."""

    seconds: float
    fps: int
    width: int = 1024
    height: int = 768
    container: str = "mp4"
    start: dt.datetime | None = None
    seed: int = 0


@dataclass
class SampleClass:
    """A generated class folder and the (code, path) findings it was built to produce."""

    path: Path
    expected: set[tuple[str, str]] = field(default_factory=set)


def _scene(spec: ClipSpec) -> Callable[[int], np.ndarray]:
    """A classroom-like picture that stays alive: rows of desks, a moving figure, soft light."""
    rng = np.random.default_rng(spec.seed)
    h, w = spec.height, spec.width
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.empty((h, w, 3), np.uint8)
    tint = rng.integers(60, 120, size=3)
    base[..., 0] = (tint[0] + 60 * yy / h).astype(np.uint8)
    base[..., 1] = (tint[1] + 40 * xx / w).astype(np.uint8)
    base[..., 2] = (tint[2] + 30 * (xx + yy) / (w + h)).astype(np.uint8)
    for row in range(3):
        y0 = int(h * (0.45 + 0.17 * row))
        for col in range(6):
            x0 = int(w * (0.05 + 0.155 * col))
            base[y0 : y0 + h // 14, x0 : x0 + w // 9] = (140 + 10 * row, 100, 60)
            base[y0 - h // 12 : y0, x0 + w // 40 : x0 + w // 40 + w // 22] = (210, 180, 160)
    texture = rng.integers(0, 12, size=(h, w, 1), dtype=np.uint8)
    base = np.clip(base.astype(np.int16) + texture - 6, 0, 255).astype(np.uint8)

    def frame(i: int) -> np.ndarray:
        img = base.copy()
        x = int((w * 0.8) * (0.5 + 0.5 * np.sin(i / 7.0 + spec.seed)))
        img[h // 8 : h // 8 + h // 4, x : x + w // 12] = (40, 60, 200)
        img[: h // 30, : int(w * ((i % 50) / 50))] = (230, 230, 230)
        return img

    return frame


def write_clip(path: Path, spec: ClipSpec) -> Path:
    """Encode a synthetic clip with PyAV (H.264 in MP4, or MPEG-4 Part 2 in AVI)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = "libx264" if spec.container in ("mp4", "mov") else "mpeg4"
    fmt = {"mp4": "mp4", "mov": "mov", "avi": "avi"}[spec.container]
    with av.open(str(path), "w", format=fmt) as out:
        options = (
            {"preset": "ultrafast", "crf": "30", "g": str(spec.fps * 10)}
            if codec == "libx264"
            else {}
        )
        stream = out.add_stream(codec, rate=spec.fps, options=options)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        if spec.start is not None:
            out.metadata["creation_time"] = spec.start.astimezone(dt.UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000000Z"
            )
        frame = _scene(spec)
        for i in range(round(spec.seconds * spec.fps)):
            video_frame = av.VideoFrame.from_ndarray(frame(i), format="rgb24")
            out.mux(stream.encode(video_frame))
        out.mux(stream.encode(None))
    return path


def truncate(path: Path, keep: float = 0.5) -> None:
    """Cut a file short, as an interrupted copy leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


def _write_roster(folder: Path, people: list[tuple[str, str, str]]) -> None:
    with (folder / "名册.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["证件号", "姓名", "角色", "照片"])
        for pid, name, role in people:
            writer.writerow([pid, name, role, ""])


PEOPLE = [
    ("140423199001011234", "王芳", "学员"),
    ("140423199203052345", "李娜", "学员"),
    ("140423198807153456", "张伟", "学员"),
    ("140423199512254567", "刘洋", "学员"),
    ("140423198002115678", "陈静", "教师"),
    ("140423197906306789", "赵磊", "管理人员"),
]


def _standard_day(folder: Path, prefix: str, day: dt.date, seed: int, **lesson: object) -> None:
    date = f"{day.month}月{day.day}日"
    write_clip(
        folder / f"{prefix}{date}课间人脸识别视频1.mp4",
        ClipSpec(ROLL_SECONDS, ROLL_FPS, start=_at(day, 9, 50), seed=seed),
    )
    write_clip(
        folder / f"{prefix}{date}课间人脸识别视频2.mp4",
        ClipSpec(ROLL_SECONDS, ROLL_FPS, start=_at(day, 15, 20), seed=seed + 1),
    )
    spec = ClipSpec(LESSON_SECONDS, LESSON_FPS, start=_at(day, 10, 5), seed=seed + 2)
    write_clip(folder / f"{prefix}{date}授课过程.mp4", ClipSpec(**{**spec.__dict__, **lesson}))


def write_compliant(out: Path) -> SampleClass:
    """Three complete days that meet every duty."""
    cls = out / GOOD_PREFIX
    cls.mkdir(parents=True, exist_ok=True)
    _write_roster(cls, PEOPLE)
    for n in range(3):
        day = dt.date(2024, 6, 3 + n)
        _standard_day(cls / f"{day.month}月{day.day}日", GOOD_PREFIX, day, seed=10 * n)
    return SampleClass(cls)


def write_faulty(out: Path) -> SampleClass:
    """Five days, each built with known faults; `expected` lists exactly what they are."""
    cls = out / BAD_PREFIX
    cls.mkdir(parents=True, exist_ok=True)
    _write_roster(cls, PEOPLE)
    p, name = BAD_PREFIX, cls.name
    expected: set[tuple[str, str]] = set()

    # 5月20日: lesson clip at 640×480 (FM02); clip 1 named with zero padding, 05月20日 (NM04).
    d = dt.date(2024, 5, 20)
    _standard_day(cls / "5月20日", p, d, seed=100, width=640, height=480)
    (cls / "5月20日" / f"{p}5月20日课间人脸识别视频1.mp4").rename(
        cls / "5月20日" / f"{p}05月20日课间人脸识别视频1.mp4"
    )
    expected |= {
        ("FM02", f"{name}/5月20日/{p}5月20日授课过程.mp4"),
        ("NM04", f"{name}/5月20日/{p}05月20日课间人脸识别视频1.mp4"),
    }

    # 5月21日: no face-roll clip 2 (CT01); a 5-minute lesson clip (FM03).
    d = dt.date(2024, 5, 21)
    _standard_day(cls / "5月21日", p, d, seed=110, seconds=300)
    (cls / "5月21日" / f"{p}5月21日课间人脸识别视频2.mp4").unlink()
    expected |= {("CT01", f"{name}/5月21日"), ("FM03", f"{name}/5月21日/{p}5月21日授课过程.mp4")}

    # 第三天: a day folder whose name has no date (LY02); a Thumbs.db left behind (LY03).
    d = dt.date(2024, 5, 22)
    _standard_day(cls / "第三天", p, d, seed=120)
    (cls / "第三天" / "Thumbs.db").write_bytes(b"\x00" * 64)
    expected |= {("LY02", f"{name}/第三天"), ("LY03", f"{name}/第三天/Thumbs.db")}

    # 5月23日: clip 1 carries tomorrow's date (NM03); clip 2 is an AVI renamed .mp4 (FM01).
    d = dt.date(2024, 5, 23)
    _standard_day(cls / "5月23日", p, d, seed=130)
    folder = cls / "5月23日"
    (folder / f"{p}5月23日课间人脸识别视频1.mp4").rename(
        folder / f"{p}5月24日课间人脸识别视频1.mp4"
    )
    write_clip(
        folder / f"{p}5月23日课间人脸识别视频2.mp4",
        ClipSpec(ROLL_SECONDS, ROLL_FPS, container="avi", seed=131),
    )
    expected |= {
        ("NM03", f"{name}/5月23日/{p}5月24日课间人脸识别视频1.mp4"),
        ("FM01", f"{name}/5月23日/{p}5月23日课间人脸识别视频2.mp4"),
    }

    # 5月24日: clip 2 cut short by an interrupted copy (FM04); an extra clip named freely (NM01).
    d = dt.date(2024, 5, 24)
    _standard_day(cls / "5月24日", p, d, seed=140)
    truncate(cls / "5月24日" / f"{p}5月24日课间人脸识别视频2.mp4")
    write_clip(cls / "5月24日" / "课堂录像.mp4", ClipSpec(ROLL_SECONDS, ROLL_FPS, seed=141))
    expected |= {
        ("FM04", f"{name}/5月24日/{p}5月24日课间人脸识别视频2.mp4"),
        ("NM01", f"{name}/5月24日/课堂录像.mp4"),
    }
    return SampleClass(cls, expected)


def write_samples(out: Path) -> tuple[SampleClass, SampleClass]:
    """Both demo classes under OUT (existing sample classes are replaced)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for prefix in (GOOD_PREFIX, BAD_PREFIX):
        shutil.rmtree(out / prefix, ignore_errors=True)
    return write_compliant(out), write_faulty(out)
