"""The clock reader on real encoded clips: layouts, corners, jumps, misreads, no clock at all.

Clips are short, small and low-fps (PyAV, in tmp dirs); the OCR is the real PP-OCRv4 engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from video_audit.clock import ClipClock, ClockAnalyzer, ClockConfig
from video_audit.clock.analyzer import shared_engine
from video_audit.clock.ocr import OcrEngine, TextBox
from video_audit.clock.track import TrackRules
from video_audit.disc import Clip
from video_audit.media.frames import run_pass
from video_audit.media.probe import probe
from video_audit.picture.measures import PictureAnalyzer, PictureConfig
from video_audit.samples.clock_overlay import STYLES, ClockOverlay, cjk_font, needs_cjk
from video_audit.samples.discs import ClipSpec, write_clip

START = dt.datetime(2024, 5, 24, 9, 31, 5)
ZONE = dt.timezone(dt.timedelta(hours=8))


def make_clip(
    path: Path, seconds: float, fps: int, clock: ClockOverlay | None, seed: int = 3
) -> Clip:
    if clock is not None and needs_cjk(clock.style) and cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk; .ci/run installs one)")
    write_clip(path, ClipSpec(seconds, fps, width=640, height=480, seed=seed, clock=clock))
    clip = Clip(path=path, rel=path.name, filename=path.name, name=None)
    clip.media = probe(path)
    return clip


def read_clock(clip: Clip, analyzer: ClockAnalyzer | None = None) -> ClipClock:
    analyzer = analyzer or ClockAnalyzer(ClockConfig())
    clip_pass = run_pass(clip, [analyzer])
    assert clip_pass is not None
    result = clip_pass.results["clock"]
    assert isinstance(result, ClipClock)
    return result


@pytest.mark.parametrize(
    ("style", "corner"),
    [
        ("iso-zh", "tl"),
        ("us-12h", "br"),
        ("cjk", "tr"),
        ("eu", "bl"),
        ("cjk-12h", "bl"),
        ("us", "tr"),
    ],
)
def test_reads_each_layout_in_each_corner(tmp_path: Path, style: str, corner: str) -> None:
    when = START.replace(hour=15) if "12h" in style else START  # PM/下午 on the 12-hour clocks
    clip = make_clip(tmp_path / "c.mp4", 6, 2, ClockOverlay(when, style, corner))
    clock = read_clock(clip)
    assert clock.found and clock.usable and clock.confidence >= 0.6
    assert clock.start == when.replace(tzinfo=ZONE)  # the exact second
    assert clock.end is not None
    assert abs((clock.end - clock.start).total_seconds() - 5.5) <= 1
    assert not clock.jumps and clock.rate is None
    # The region is where the clock was drawn.
    x0, y0, x1, y1 = clock.region
    top, left = (y0 + y1) / 2 < 240, (x0 + x1) / 2 < 320
    assert (top, left) == (corner.startswith("t"), corner.endswith("l"))
    assert clock.to_dict()["found"] is True


def test_a_clip_without_a_clock(tmp_path: Path) -> None:
    clock = read_clock(make_clip(tmp_path / "plain.mp4", 6, 2, None))
    assert not clock.found and clock.start is None
    assert clock.to_dict() == {"found": False}


@pytest.mark.parametrize(
    ("jumps", "expected"),
    [
        ((), []),  # the clean twin
        (((17.0, 2.0),), []),  # a camera clock that corrects itself by 2 s: within tolerance
        (((17.0, -3600.0),), [(16.0, 17.0, -3600.0)]),  # back to footage an hour earlier
        (((23.0, 1800.0),), [(22.0, 23.0, 1800.0)]),  # half an hour cut out
        (((9.0, 600.0), (31.0, -1200.0)), [(8.0, 9.0, 600.0), (30.0, 31.0, -1200.0)]),
    ],
)
def test_jumps_are_located_to_the_second(
    tmp_path: Path,
    jumps: tuple[tuple[float, float], ...],
    expected: list[tuple[float, float, float]],
) -> None:
    clip = make_clip(
        tmp_path / "lesson.mp4", 40, 1, ClockOverlay(START, "iso-zh", "tl", jumps=jumps)
    )
    clock = read_clock(clip)
    assert clock.found and clock.usable
    assert clock.start == START.replace(tzinfo=ZONE)
    found = [(j.after, j.at, j.seconds) for j in clock.jumps]
    assert [(a, b) for a, b, _ in found] == [(a, b) for a, b, _ in expected]
    for (_, _, seconds), (_, _, want) in zip(found, expected, strict=True):
        assert abs(seconds - want) <= 1
    shown_end = ClockOverlay(START, jumps=jumps).shown(39.0)
    assert clock.end == shown_end.replace(tzinfo=ZONE)
    assert clock.reads <= 15  # a handful of reads, not one a frame


class Misreading:
    """The real engine, except that it reads one second of the clock wrong (a classic 1→7)."""

    name = "misreading"

    def __init__(self, real: OcrEngine, wrong: str, right: str) -> None:
        self.real, self.wrong, self.right = real, wrong, right

    def detect(self, gray: np.ndarray, width: int) -> list[TextBox]:
        return self.real.detect(gray, width)

    def read(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        return [(t.replace(self.right, self.wrong), s) for t, s in self.real.read(crops)]


@pytest.mark.parametrize(
    ("right", "wrong", "most_reads"),
    [
        ("09:31:44", "09:37:44", 10),  # the last crop (39 s): bisected, then outvoted
        ("09:31:25", "09:31:52", 7),  # a grid crop inside (20 s): one read beside settles it
    ],
)
def test_a_misread_is_voted_out(tmp_path: Path, right: str, wrong: str, most_reads: int) -> None:
    clip = make_clip(tmp_path / "lesson.mp4", 40, 1, ClockOverlay(START, "iso", "tl"))
    engine = Misreading(shared_engine(1), wrong, right)
    config = ClockConfig(track=TrackRules(read_seconds=10.0))
    clock = read_clock(clip, ClockAnalyzer(config, engine))
    assert clock.found and not clock.jumps
    assert clock.start == START.replace(tzinfo=ZONE)
    assert clock.end == START.replace(second=44, tzinfo=ZONE)
    assert clock.reads <= most_reads, clock.reads


def test_slowed_footage_runs_off_pace(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "slow.mp4", 80, 1, ClockOverlay(START, "us", "br", rate=0.5))
    config = ClockConfig(track=TrackRules(read_seconds=20.0))
    clock = read_clock(clip, ClockAnalyzer(config))
    assert clock.found and clock.rate is not None and abs(clock.rate - 0.5) < 0.05
    steady = read_clock(
        make_clip(tmp_path / "steady.mp4", 80, 1, ClockOverlay(START, "us", "br")),
        ClockAnalyzer(config),
    )
    assert steady.found and steady.rate is None and not steady.jumps


def test_one_decoding_pass_serves_picture_and_clock(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", 6, 2, ClockOverlay(START, "iso", "br"))
    clip_pass = run_pass(clip, [PictureAnalyzer(PictureConfig()), ClockAnalyzer(ClockConfig())])
    assert clip_pass is not None and set(clip_pass.results) == {"picture", "clock"}
    assert clip_pass.results["clock"].start == START.replace(tzinfo=ZONE)
    assert clip_pass.timeline.decoded <= 12  # each frame decoded at most once


@pytest.mark.parametrize(
    "layout",
    [
        "{Y}-{m}-{d}          {H}:{M}:{S}",  # date and time far apart: detected as two boxes
        "CH01 Classroom     {Y}/{m}/{d} {H}:{M}:{S}",  # the camera's name on the same line
        "{Y}-{m}-{d}\n{H}:{M}:{S}",  # the date on one line, the time below it
    ],
)
def test_spread_and_labelled_clock_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setitem(STYLES, "custom", layout)
    clip = make_clip(tmp_path / "c.mp4", 6, 2, ClockOverlay(START, "custom", "tl", size=24))
    clock = read_clock(clip)
    assert clock.found and clock.start == START.replace(tzinfo=ZONE)


DEJAVU_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


@pytest.mark.parametrize(
    ("font", "look", "thin", "bitmap"),
    [
        ("hershey-plain", "dark-box", True, False),  # thin dark strokes on a light box
        ("hershey-triplex", "light", False, True),  # blocky, no outline
        (str(DEJAVU_MONO), "dark", False, False),  # dark text on the picture itself
    ],
)
def test_other_fonts_and_looks(
    tmp_path: Path, font: str, look: str, thin: bool, bitmap: bool
) -> None:
    if not font.startswith("hershey-") and not Path(font).is_file():
        pytest.skip(f"{font} is not installed (Debian: fonts-dejavu-core)")
    overlay = ClockOverlay(
        START, "iso-slash", "br", size=26, font=font, look=look, thin=thin, bitmap=bitmap
    )
    clock = read_clock(make_clip(tmp_path / "c.mp4", 6, 2, overlay))
    assert clock.found and clock.start == START.replace(tzinfo=ZONE)
