"""On-screen clock read accuracy over fonts and looks, not one font.

Run: `.venv/bin/python -m bench.clock_fonts [--clips 12] [--seed 7] [--font NAME]`.

Cameras and recorders draw their clock in many fonts: plain and outlined, thin and bold,
smooth and blocky (bitmap), light on dark and dark on light. For every font below that this
machine has (TrueType faces found with fontconfig's `fc-list`, and OpenCV's Hershey stroke
fonts), CLIPS short clips (6 s, 2 fps, 1024×768; the sample discs' classroom scene, and every
other clip their face-roll scene, where notices with lines of text hang on the wall beside the
clock) are drawn with that font, each in another layout, look and corner, at a random time
and text height (20–34 px); some Hershey clips with one-pixel strokes, some blocky. Each clip
goes through the clock analyzer as an audit runs it (detection on the first frames, crops kept,
tracker reads).

A clip counts as read when its clock is found and its start is exact to the second. Day-first
dates are drawn with days above 12: "03/06/2024" alone cannot say which is the month (in an
audit the clip's name settles it; bench/clock.py reports that case).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from video_audit.clock import ClipClock, ClockAnalyzer, ClockConfig
from video_audit.disc import Clip
from video_audit.media.frames import sample_clip
from video_audit.media.probe import probe
from video_audit.samples.clock_overlay import CORNERS, HERSHEY, LOOKS, STYLES, ClockOverlay
from video_audit.samples.discs import EVERYONE, ClipSpec, write_clip
from video_audit.samples.faces import FaceShot

# (label, fontconfig family, style) of the TrueType faces tried, when the machine has them.
TRUETYPE = (
    ("DejaVu Sans", "DejaVu Sans", "Book"),
    ("DejaVu Sans Bold", "DejaVu Sans", "Bold"),
    ("DejaVu Sans ExtraLight (thin)", "DejaVu Sans", "ExtraLight"),
    ("DejaVu Sans Mono", "DejaVu Sans Mono", "Book"),
    ("DejaVu Serif", "DejaVu Serif", "Book"),
    ("Liberation Sans", "Liberation Sans", "Regular"),
    ("Liberation Mono", "Liberation Mono", "Regular"),
    ("WenQuanYi Micro Hei", "WenQuanYi Micro Hei", "Regular"),
    ("Noto Sans CJK SC", "Noto Sans CJK SC", "Regular"),
)
ASCII = [s for s in STYLES if STYLES[s].isascii()]
CJK = [s for s in STYLES if not STYLES[s].isascii()]


@dataclass(frozen=True)
class Font:
    label: str
    spec: str
    """ClockOverlay.font: a file, or "hershey-NAME"."""
    cjk: bool = False


def truetype_fonts() -> tuple[list[Font], list[str]]:
    """The TRUETYPE faces this machine has, and the labels of those it lacks."""
    listed = ""
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", "--format", "%{file}|%{family}|%{style}|%{lang}\n"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    faces = []
    for line in listed.splitlines():
        parts = line.split("|", 3)  # the languages are |-separated too
        if len(parts) == 4:
            faces.append((parts[0], parts[1].split(","), parts[2].split(","), parts[3]))
    found, missing = [], []
    for label, family, style in TRUETYPE:
        match = sorted(f for f, fams, styles, _ in faces if family in fams and style in styles)
        if not match:
            missing.append(label)
            continue
        langs = next(lang for f, _, _, lang in faces if f == match[0])
        found.append(Font(label, match[0], cjk=any(x.startswith("zh") for x in langs.split("|"))))
    return found, missing


def hershey_fonts() -> list[Font]:
    return [Font(f"Hershey {name}", f"hershey-{name}") for name in HERSHEY]


def random_when(rng: random.Random, style: str) -> dt.datetime:
    day = rng.randrange(13, 29) if style == "eu" else rng.randrange(1, 29)
    return dt.datetime(
        rng.choice((2023, 2024, 2025)),
        rng.randrange(1, 13),
        day,
        rng.randrange(24),
        rng.randrange(60),
        rng.randrange(60),
    )


def read_clip(analyzer: ClockAnalyzer, path: Path) -> tuple[ClipClock, float]:
    """The clip's clock as an audit reads it, and the analyzer's own seconds (decode excluded)."""
    clip = Clip(path=path, rel=path.name, filename=path.name, name=None)
    clip.media = probe(path)
    sampling = analyzer.sampling(clip)
    assert sampling is not None
    sink = analyzer.begin(clip)
    spent = 0.0

    def add(frame: object) -> None:
        nonlocal spent
        begin = time.perf_counter()
        sink.add(frame)  # type: ignore[arg-type]
        spent += time.perf_counter() - begin

    timeline = sample_clip(path, sampling, add)
    begin = time.perf_counter()
    result = sink.finish(timeline)
    return result, spent + time.perf_counter() - begin


def run_font(
    font: Font, clips: int, rng: random.Random, analyzer: ClockAnalyzer, tmp: Path, show: bool
) -> tuple[int, int, list[float], list[str]]:
    """(found, exact start, analyzer seconds per clip, misses) over CLIPS clips of FONT."""
    layouts = ASCII + (CJK if font.cjk else [])
    found = exact = 0
    seconds: list[float] = []
    misses: list[str] = []
    hershey = font.spec.startswith("hershey-")
    for n in range(clips):
        style = layouts[n % len(layouts)]
        look = LOOKS[n % len(LOOKS)]
        when = random_when(rng, style)
        overlay = ClockOverlay(
            when,
            style,
            rng.choice(CORNERS),
            size=rng.randrange(20, 35),
            font=font.spec,
            look=look,
            thin=hershey and n % 3 == 1,
            bitmap=n % 4 == 3,
        )
        path = tmp / f"{n}.mp4"
        seed = rng.randrange(1000)
        # Every other clip is a face roll: notices with lines of text hang beside the clock.
        faces = FaceShot("roll", EVERYONE[0], seed=seed) if n % 2 else None
        write_clip(path, ClipSpec(6, 2, seed=seed, faces=faces, clock=overlay))
        result, spent = read_clip(analyzer, path)
        seconds.append(spent)
        found += result.found
        ok = result.start is not None and result.start.replace(tzinfo=None) == when
        exact += ok
        if not ok:
            how = f"{look}{' thin' if overlay.thin else ''}{' bitmap' if overlay.bitmap else ''}"
            state = "found" if result.found else "seen" if result.seen else "not found"
            misses.append(
                f"{overlay.text(0)!r} ({how}, {overlay.size} px, {overlay.corner}): {state}, "
                f"start {result.start:%Y-%m-%d %H:%M:%S}"
                if result.start
                else f"{overlay.text(0)!r} ({how}, {overlay.size} px, {overlay.corner}): "
                f"{state} {result.text!r}"
            )
        if show:
            shutil.copyfile(path, tmp.parent / f"{font.label.replace(' ', '_')}-{n}.mp4")
    return found, exact, seconds, misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12, help="clips per font")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--font", action="append", help="only fonts whose label has this")
    parser.add_argument("--keep", action="store_true", help="keep the clips (beside the tmp dir)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    truetype, missing = truetype_fonts()
    fonts = truetype + hershey_fonts()
    if args.font:
        fonts = [f for f in fonts if any(w.lower() in f.label.lower() for w in args.font)]
    if missing:
        print(f"not on this machine (skipped): {', '.join(missing)}")
    analyzer = ClockAnalyzer(ClockConfig())
    total_found = total_exact = total = 0
    every: list[float] = []
    print(f"{args.clips} clips per font; looks cycle through {', '.join(LOOKS)}")
    print("| font | found | start exact | median s/clip |")
    print("|---|---|---|---|")
    all_misses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "clips"
        work.mkdir()
        for font in fonts:
            rng = random.Random(f"{args.seed}:{font.label}")  # the same clips alone or not
            found, exact, seconds, misses = run_font(
                font, args.clips, rng, analyzer, work, args.keep
            )
            total_found += found
            total_exact += exact
            total += args.clips
            every += seconds
            all_misses += [f"{font.label}: {m}" for m in misses]
            print(
                f"| {font.label} | {found}/{args.clips} | {exact}/{args.clips} | "
                f"{statistics.median(seconds):.2f} |",
                flush=True,
            )
    print(
        f"| **all** | **{total_found}/{total}** | **{total_exact}/{total} = "
        f"{100 * total_exact / max(total, 1):.1f} %** | {statistics.median(every):.2f} |"
    )
    for miss in all_misses:
        print(f"  missed: {miss}")


if __name__ == "__main__":
    main()
