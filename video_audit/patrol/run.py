"""One patrol: read a camera stream, judge it against the profile's [patrol] thresholds, keep
a few exact frames in the evidence chain and count the heads on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from video_audit.evidence import Caption, EvidenceLog
from video_audit.findings import Finding, finding
from video_audit.media.grab import Grab, time_code
from video_audit.patrol.stream import StreamReading, public_url, read_stream
from video_audit.standard import Profile, section_values

if TYPE_CHECKING:
    from video_audit.patrol.attendance import FrameFaces


@dataclass(frozen=True)
class PatrolRules:
    """The profile's [patrol] section: what a camera stream must reach (A4-1)."""

    min_width: int = 1024
    min_height: int = 768
    min_fps: float = 10.0
    max_stalls: int = 0
    stall_seconds: float = 2.0
    frames: int = 3

    @classmethod
    def of(cls, profile: Profile) -> PatrolRules:
        keys = ("min_width", "min_height", "min_fps", "max_stalls", "stall_seconds", "frames")
        return cls(**section_values(profile.section("patrol"), cls(), keys))


@dataclass(frozen=True)
class PatrolCaption(Caption):
    """A live frame's caption: the camera (never its credentials), the class, the time."""

    camera: str = ""
    site: str = ""

    def lines(self, grab_: Grab, taken_by: str, taken_at: str, source_sha256: str) -> list[str]:
        when = taken_at.replace("T", " ")
        return [
            "远程巡查 "
            + (f"{self.institution}  " if self.institution else "")
            + (f"场所 {self.site}  " if self.site else "")
            + f"摄像头 {self.camera}",
            f"班级 {self.class_name or '—'}    日期 {self.date or '—'}    "
            f"时间码 {time_code(grab_.time)}    pts {grab_.pts}",
            f"取证 {taken_by}  {when}    录像 SHA-256 {source_sha256[:16]}…",
        ]


@dataclass
class Patrol:
    """What a patrol found, in the shape of DESIGN.md's `patrol` contract."""

    url: str
    reading: StreamReading
    frames: list[dict[str, Any]]
    findings: list[Finding]
    class_name: str = ""
    attendance: dict[str, Any] | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        r = self.reading
        return {
            "url": self.url,
            "reachable": r.reachable,
            "first_frame_ms": r.first_frame_ms,
            "fps": r.fps,
            "width": r.width,
            "height": r.height,
            "seconds": r.seconds,
            "stalls": r.stalls,
            "longest_gap": r.longest_gap,
            "corrupt": r.corrupt,
            "bitrate_kbps": r.bitrate_kbps,
            "error": r.error,
            "class": self.class_name or None,
            "frames": self.frames,
            "attendance": self.attendance,
            "findings": [f.to_dict(lang) for f in self.findings],
        }


def judge(url: str, reading: StreamReading, rules: PatrolRules, timeout: float) -> list[Finding]:
    """LV01 for a stream that gave no frame, LV02 for one below the thresholds."""
    shown = public_url(url)
    if not reading.reachable:
        return [finding("LV01", shown, "unreachable", timeout=timeout, error=reading.error)]
    found = []
    if reading.width < rules.min_width or reading.height < rules.min_height:
        found.append(
            finding(
                "LV02",
                shown,
                "resolution",
                width=reading.width,
                height=reading.height,
                min_width=rules.min_width,
                min_height=rules.min_height,
            )
        )
    if reading.fps < rules.min_fps:
        found.append(finding("LV02", shown, "fps", fps=reading.fps, min_fps=rules.min_fps))
    if reading.recording is None:
        found.append(finding("LV02", shown, "no_keyframe", seconds=reading.seconds))
    if reading.stalls > rules.max_stalls:
        found.append(
            finding(
                "LV02",
                shown,
                "stalls",
                stalls=reading.stalls,
                max_stalls=rules.max_stalls,
                stall_seconds=rules.stall_seconds,
            )
        )
    return found


def patrol(
    url: str,
    out: Path,
    log: EvidenceLog,
    profile: Profile,
    taken_by: str,
    seconds: float = 8.0,
    timeout: float = 10.0,
    class_name: str = "",
    count_heads: bool = True,
    class_dir: Path | None = None,
    on_frame: Callable[[dict[str, Any]], None] | None = None,
    site: str = "",
    copy_frames: bool = True,
    institution: str = "",
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> Patrol:
    """Read URL, judge it, capture frames evenly over the read into LOG and OUT.

    CLASS_DIR (a class folder with its roster) names the class on the captions and has the
    faces on the frames matched to its roster (patrol.attendance). ON_FRAME is called with each
    frame's entry as soon as it is captured and counted (the web shows frames as they arrive).
    COPY_FRAMES puts a PNG of each frame in OUT beside the recording (the command line's
    output); the workspace's patrols keep them in the evidence store only. ON_PROGRESS is told
    how the read goes ({frames, seconds, of}) about twice a second while it runs."""
    if class_dir is not None and not class_name:
        class_name = class_dir.name
    rules = PatrolRules.of(profile)
    shown = public_url(url)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    def reading_so_far(r: StreamReading) -> None:
        if on_progress is not None:
            on_progress({"frames": r.frames, "seconds": round(r.seconds, 1), "of": seconds})

    reading = read_stream(
        url, seconds, timeout, rules.stall_seconds, out / f"patrol-{stamp}.mkv", reading_so_far
    )
    frames: list[dict[str, Any]] = []
    # The class's attendance needs the faces on the frames even when heads are not counted.
    heads = _HeadCounter(profile) if count_heads or class_dir is not None else None
    failed: list[str] = []  # why heads could not be counted (then no attendance either)
    if reading.reachable and reading.recording is not None:

        def arrived(frame: dict[str, Any], png: Path) -> None:
            if heads is not None and not failed:
                try:
                    count = heads.count(png, frame["file"], frame["at"])
                except Exception as exc:  # the face engine's fault: the frames stand, said
                    failed.append(f"{type(exc).__name__}: {exc}")
                else:
                    if count_heads:
                        frame["head_count"] = count
            if on_frame is not None:
                on_frame(frame)

        where = (institution, site)
        frames = _capture(
            reading, out, log, taken_by, shown, class_name, rules.frames, where, arrived,
            copy_frames,
        )  # fmt: skip
    found = judge(url, reading, rules, timeout)
    attendance = None
    if failed:
        found.append(finding("FM05", shown, "analysis", check="check_faces", error=failed[0][:300]))
    elif class_dir is not None:
        from video_audit.patrol.attendance import patrol_attendance

        recording = reading.recording.name if reading.recording is not None else shown
        seen = heads.seen if heads is not None else []
        engine = heads.engine if heads is not None else None
        attendance, more = patrol_attendance(class_dir, seen, profile, out, recording, engine)
        found += more
    return Patrol(shown, reading, frames, found, class_name, attendance)


def _capture(
    reading: StreamReading,
    out: Path,
    log: EvidenceLog,
    taken_by: str,
    shown: str,
    class_name: str,
    count: int,
    where: tuple[str, str],
    arrived: Callable[[dict[str, Any], Path], None],
    copy_frames: bool,
) -> list[dict[str, Any]]:
    from video_audit.evidence import split_prefix
    from video_audit.files import write_atomic

    assert reading.recording is not None
    times = reading.frame_times
    n = max(1, min(count, len(times)))
    picks = sorted({times[int(len(times) * (i + 0.5) / n)] for i in range(n)})
    institution, site = where
    named, klass = split_prefix(class_name) if class_name else ("", "")
    caption = PatrolCaption(
        institution or named, klass, dt.date.today().isoformat(), camera=shown, site=site
    )
    frames = []
    for at in picks:
        record = log.capture(
            reading.recording, at, taken_by, f"远程巡查 {shown}", caption, clip=shown
        )
        name = f"frame-{record['seq']}-{time_code(record['frame_time']).replace(':', '')}.png"
        png = log.path_of(record["png"])
        if copy_frames:
            write_atomic(out / name, png.read_bytes())
            png = out / name
        frame = {
            "file": name,
            "at": round(float(record["frame_time"]), 3),
            "sha256": record["png_sha256"],
            "seq": record["seq"],
            "head_count": None,
        }
        arrived(frame, png)
        frames.append(frame)
    return frames


class _HeadCounter:
    """Heads on a frame, as the lesson head count does (embedded engine, tiled detection);
    the engine is loaded on the first frame."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.engine: Any = None
        self.seen: list[FrameFaces] = []
        """Each counted frame's faces: the class's attendance matches them (one detection)."""

    def count(self, png: Path, name: str, at: float = 0.0) -> int:
        import numpy as np
        from PIL import Image

        from video_audit.faces.select import select_engine
        from video_audit.faces.settings import face_settings
        from video_audit.patrol.attendance import FrameFaces

        if self.engine is None:
            faces = face_settings(self.profile.section("faces"))
            self.engine = select_engine("embedded", faces)
            self.engine.load()
        with Image.open(png) as image:
            rgb = np.asarray(image.convert("RGB"))
        faces = self.engine.detect(rgb, tiled=True)
        self.seen.append(FrameFaces(name, at, faces))
        return len(faces)
