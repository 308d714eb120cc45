"""`video-audit sample`: demo discs made with PyAV — one compliant class, one with known faults."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from video_audit.samples.clock_overlay import CORNERS, ClockOverlay, cjk_font, needs_cjk
from video_audit.samples.faces import UNKNOWN, FaceShot, roster_photo

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
    faces: FaceShot | None = None
    """Real faces in the picture (video_audit.samples.faces): a panning face roll or a lesson."""
    black: tuple[float, float] | None = None
    """Seconds [from, to) of black picture (a covered lens)."""
    frozen: tuple[float, float] | None = None
    """Seconds [from, to) in which the picture stays as it was at `from` (a stuck camera)."""
    clock: ClockOverlay | None = None
    """The camera's burned-in clock (video_audit.samples.clock_overlay), drawn over everything."""
    keyframe_seconds: float = 10
    """Seconds between keyframes (H.264): a camera sends one every 1–4 s, a recorder less."""


@dataclass
class SampleClass:
    """A generated class folder and the (code, path) findings it was built to produce."""

    path: Path
    expected: set[tuple[str, str]] = field(default_factory=set)


def _scene(spec: ClipSpec) -> Callable[[int], np.ndarray]:
    """A classroom-like picture that stays alive: rows of desks, people, a moving figure.

    The room's layout and its people differ with the seed, as two days' footage does.
    """
    rng = np.random.default_rng(spec.seed)
    h, w = spec.height, spec.width
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.empty((h, w, 3), np.uint8)
    tint = rng.integers(60, 120, size=3)
    base[..., 0] = (tint[0] + 60 * yy / h).astype(np.uint8)
    base[..., 1] = (tint[1] + 40 * xx / w).astype(np.uint8)
    base[..., 2] = (tint[2] + 30 * (xx + yy) / (w + h)).astype(np.uint8)
    board = int(w * rng.uniform(0.1, 0.6))
    base[h // 20 : h // 4, board : board + w // 3] = (30, 60, 40)
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(4, 8))
    for row in range(rows):
        y0 = int(h * (0.4 + (0.55 / rows) * row + rng.uniform(0, 0.04)))
        for col in range(cols):
            x0 = int(w * (0.03 + (0.94 / cols) * col + rng.uniform(0, 0.03)))
            base[y0 : y0 + h // 14, x0 : x0 + w // (cols + 3)] = (140 + 10 * row, 100, 60)
            if rng.random() < 0.8:  # someone sits there
                shirt = rng.integers(20, 230, size=3)
                base[y0 - h // 12 : y0, x0 + w // 40 : x0 + w // 40 + w // 22] = shirt
    texture = rng.integers(0, 12, size=(h, w, 1), dtype=np.uint8)
    base = np.clip(base.astype(np.int16) + texture - 6, 0, 255).astype(np.uint8)
    top = int(h * rng.uniform(0.08, 0.2))
    speed = rng.uniform(5.0, 9.0)

    def frame(i: int) -> np.ndarray:
        img = base.copy()
        x = int((w * 0.8) * (0.5 + 0.5 * np.sin(i / speed + spec.seed)))
        img[top : top + h // 4, x : x + w // 12] = (40, 60, 200)
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
            {
                "preset": "ultrafast",
                "crf": "30",
                "g": str(max(1, round(spec.fps * spec.keyframe_seconds))),
            }
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
        if spec.faces is not None:
            count = round(spec.seconds * spec.fps)
            frame = spec.faces.frames(spec.width, spec.height, count, frame)
        black = np.zeros((spec.height, spec.width, 3), np.uint8)
        painter = spec.clock.painter() if spec.clock is not None else None
        for i in range(round(spec.seconds * spec.fps)):
            t = i / spec.fps
            if spec.black and spec.black[0] <= t < spec.black[1]:
                picture = black
            elif spec.frozen and spec.frozen[0] <= t < spec.frozen[1]:
                picture = frame(round(spec.frozen[0] * spec.fps))
            else:
                picture = frame(i)
            if painter is not None:
                picture = painter.draw(picture.copy(), t)
            video_frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            out.mux(stream.encode(video_frame))
        out.mux(stream.encode(None))
    return path


def reencode(source: Path, path: Path, width: int, height: int, start: dt.datetime) -> Path:
    """The same footage again: decoded, rescaled and encoded anew, with another recording time."""
    with av.open(str(source)) as src, av.open(str(path), "w", format="mp4") as out:
        video = src.streams.video[0]
        rate = video.average_rate or 5
        stream = out.add_stream("libx264", rate=rate, options={"preset": "ultrafast", "crf": "24"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        out.metadata["creation_time"] = start.astimezone(dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000000Z"
        )
        for n, frame in enumerate(src.decode(video)):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = n, Fraction(1, int(rate))
            out.mux(stream.encode(scaled))
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
        (folder / "照片").mkdir(exist_ok=True)
        for k, (pid, name, role) in enumerate(people):
            (folder / "照片" / f"{name}.jpg").write_bytes(roster_photo(k))
            writer.writerow([pid, name, role, f"照片/{name}.jpg"])


PEOPLE = [
    ("140423199001011234", "王芳", "学员"),
    ("140423199203052345", "李娜", "学员"),
    ("140423198807153456", "张伟", "学员"),
    ("140423199512254567", "刘洋", "学员"),
    ("140423198002115678", "陈静", "教师"),
    ("140423197906306789", "赵磊", "管理人员"),
]


# Who each clip shows (indexes into PEOPLE = sample_faces.portraits()): face roll 1 and 2
# (the camera pans along the row), and the lesson wide shot (the trainees).
EVERYONE = ((0, 1, 2, 3, 4, 5), (5, 4, 3, 2, 1, 0), (0, 1, 2, 3))


SAMPLE_CLOCKS = ("iso-zh", "us-12h", "cjk", "eu", "cjk-12h", "us", "iso")


def sample_clock(when: dt.datetime, seed: int) -> ClockOverlay:
    """A camera clock showing WHEN (local time), its layout and corner varied by SEED."""
    style = SAMPLE_CLOCKS[seed % len(SAMPLE_CLOCKS)]
    if needs_cjk(style) and cjk_font() is None:  # no CJK font here: an ASCII layout instead
        style = "us" if seed % 2 else "iso"
    return ClockOverlay(when.replace(tzinfo=None), style, CORNERS[seed % len(CORNERS)])


def _line_up(people: tuple[int, ...], seed: int) -> tuple[int, ...]:
    order = np.random.default_rng(seed).permutation(len(people))
    return tuple(people[k] for k in order)


def _standard_day(
    folder: Path,
    prefix: str,
    day: dt.date,
    seed: int,
    *,
    faces: tuple[tuple[int, ...], ...] = EVERYONE,
    **lesson: object,
) -> None:
    date = f"{day.month}月{day.day}日"
    # People line up in another order every day: two days' face rolls are not the same footage.
    faces = (*(_line_up(row, seed + k) for k, row in enumerate(faces[:2])), *faces[2:])
    for slot, (hour, minute) in enumerate(((9, 50), (15, 20))):  # the morning and afternoon breaks
        start, clip_seed = _at(day, hour, minute), seed + slot
        write_clip(
            folder / f"{prefix}{date}课间人脸识别视频{slot + 1}.mp4",
            ClipSpec(
                ROLL_SECONDS,
                ROLL_FPS,
                start=start,
                seed=clip_seed,
                faces=FaceShot("roll", faces[slot], seed=clip_seed),
                clock=sample_clock(start, clip_seed),
            ),
        )
    spec = ClipSpec(
        LESSON_SECONDS,
        LESSON_FPS,
        start=_at(day, 10, 5),
        seed=seed + 2,
        faces=FaceShot("lesson", faces[2], seed=seed + 2),
        clock=sample_clock(_at(day, 10, 5), seed + 2),
    )
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
    # Face roll 2 also shows someone nobody enrolled (PP03).
    d = dt.date(2024, 5, 20)
    shown: tuple[tuple[int, ...], ...] = (
        EVERYONE[0],
        (*EVERYONE[1][:3], UNKNOWN, *EVERYONE[1][3:]),
        EVERYONE[2],
    )
    _standard_day(cls / "5月20日", p, d, seed=100, width=640, height=480, faces=shown)
    (cls / "5月20日" / f"{p}5月20日课间人脸识别视频1.mp4").rename(
        cls / "5月20日" / f"{p}05月20日课间人脸识别视频1.mp4"
    )
    expected |= {
        ("FM02", f"{name}/5月20日/{p}5月20日授课过程.mp4"),
        ("NM04", f"{name}/5月20日/{p}05月20日课间人脸识别视频1.mp4"),
        ("PP03", f"{name}/5月20日"),
    }

    # 5月21日: no face-roll clip 2 (CT01); a 5-minute lesson clip (FM03).
    # Trainee 刘洋 (3) is missing all day (PP02); the lesson shows 3 of 4 trainees (PP05).
    d = dt.date(2024, 5, 21)
    shown = ((0, 1, 2, 4, 5), (5, 4, 2, 1, 0), (0, 1, 2))
    _standard_day(cls / "5月21日", p, d, seed=110, seconds=300, faces=shown)
    (cls / "5月21日" / f"{p}5月21日课间人脸识别视频2.mp4").unlink()
    expected |= {("CT01", f"{name}/5月21日"), ("FM03", f"{name}/5月21日/{p}5月21日授课过程.mp4")}
    expected |= {("PP02", f"{name}/5月21日"), ("PP05", f"{name}/5月21日/{p}5月21日授课过程.mp4")}

    # 第三天: a day folder whose name has no date (LY02); a Thumbs.db left behind (LY03).
    # The manager (5) is seen in neither face roll (PP04).
    d = dt.date(2024, 5, 22)
    shown = ((0, 1, 2, 3, 4), (4, 3, 2, 1, 0), EVERYONE[2])
    # Its lesson clip is black for 40 s, a covered lens (QA03); face-roll clip 2 is clip 1
    # re-encoded at another size, its metadata time moved to the afternoon (QA05 on both, each
    # naming the other) — but the camera's clock burned into the picture still says 09:50 (QA07,
    # from the clock).
    _standard_day(cls / "第三天", p, d, seed=120, faces=shown, black=(200.0, 240.0))
    reencode(
        cls / "第三天" / f"{p}5月22日课间人脸识别视频1.mp4",
        cls / "第三天" / f"{p}5月22日课间人脸识别视频2.mp4",
        1280,
        960,
        _at(d, 15, 20),
    )
    expected |= {
        ("QA03", f"{name}/第三天/{p}5月22日授课过程.mp4"),
        ("QA05", f"{name}/第三天/{p}5月22日课间人脸识别视频1.mp4"),
        ("QA05", f"{name}/第三天/{p}5月22日课间人脸识别视频2.mp4"),
        ("QA07", f"{name}/第三天/{p}5月22日课间人脸识别视频2.mp4"),
    }
    (cls / "第三天" / "Thumbs.db").write_bytes(b"\x00" * 64)
    expected |= {("LY02", f"{name}/第三天"), ("LY03", f"{name}/第三天/Thumbs.db")}
    expected.add(("PP04", f"{name}/第三天"))

    # 5月23日: clip 1 carries tomorrow's date (NM03); clip 2 is an AVI renamed .mp4 (FM01),
    # from a camera without the class's on-screen clock (QA08: every other clip shows one).
    # The lesson picture freezes for 40 s while the camera's clock runs on (QA04).
    d = dt.date(2024, 5, 23)
    _standard_day(cls / "5月23日", p, d, seed=130, frozen=(300.0, 340.0))
    expected.add(("QA04", f"{name}/5月23日/{p}5月23日授课过程.mp4"))
    folder = cls / "5月23日"
    (folder / f"{p}5月23日课间人脸识别视频1.mp4").rename(
        folder / f"{p}5月24日课间人脸识别视频1.mp4"
    )
    write_clip(
        folder / f"{p}5月23日课间人脸识别视频2.mp4",
        # …whose faces are too small and blurred to identify (PP01).
        ClipSpec(
            ROLL_SECONDS,
            ROLL_FPS,
            container="avi",
            seed=131,
            faces=FaceShot("roll", EVERYONE[1], seed=131, blur=5.0, face_share=0.05),
        ),
    )
    expected |= {
        ("NM03", f"{name}/5月23日/{p}5月24日课间人脸识别视频1.mp4"),
        ("FM01", f"{name}/5月23日/{p}5月23日课间人脸识别视频2.mp4"),
        ("PP01", f"{name}/5月23日/{p}5月23日课间人脸识别视频2.mp4"),
        ("QA08", f"{name}/5月23日/{p}5月23日课间人脸识别视频2.mp4"),
    }

    # 5月24日: clip 2 cut short by an interrupted copy (FM04); an extra clip named freely (NM01),
    # without the on-screen clock the class's other clips show (QA08).
    # Clip 1 is yesterday's footage re-exported today: its metadata says 5月24日, the camera's
    # on-screen clock says 5月23日 (QA07, from the clock).
    d = dt.date(2024, 5, 24)
    _standard_day(cls / "5月24日", p, d, seed=140)
    write_clip(
        cls / "5月24日" / f"{p}5月24日课间人脸识别视频1.mp4",
        ClipSpec(
            ROLL_SECONDS,
            ROLL_FPS,
            start=_at(d, 9, 50),
            seed=140,
            faces=FaceShot("roll", EVERYONE[0], seed=140),
            clock=sample_clock(_at(d - dt.timedelta(days=1), 9, 50), 140),
        ),
    )
    expected.add(("QA07", f"{name}/5月24日/{p}5月24日课间人脸识别视频1.mp4"))
    truncate(cls / "5月24日" / f"{p}5月24日课间人脸识别视频2.mp4")
    write_clip(cls / "5月24日" / "课堂录像.mp4", ClipSpec(ROLL_SECONDS, ROLL_FPS, seed=141))
    expected |= {
        ("FM04", f"{name}/5月24日/{p}5月24日课间人脸识别视频2.mp4"),
        ("NM01", f"{name}/5月24日/课堂录像.mp4"),
        ("QA08", f"{name}/5月24日/课堂录像.mp4"),
    }
    return SampleClass(cls, expected)


def write_samples(out: Path) -> tuple[SampleClass, SampleClass]:
    """Both demo classes under OUT (existing sample classes are replaced)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for prefix in (GOOD_PREFIX, BAD_PREFIX):
        shutil.rmtree(out / prefix, ignore_errors=True)
    return write_compliant(out), write_faulty(out)
