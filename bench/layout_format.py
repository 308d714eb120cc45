"""Layout + format checks of a generated 30-day class (90 clips): ms per clip, against bare opens.

Run: `make bench` or `.venv/bin/python -m bench.layout_format [--days 30] [--runs 5]`.
The clips are realistic in what probing reads: 25 fps H.264, a 10-minute lesson clip (15 000
samples in its index) and 1-minute face-roll clips, encoded once into a cache folder and copied.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

from video_audit.context import AuditContext
from video_audit.disc import DiscWalker
from video_audit.media.probe import probe
from video_audit.rules import content, format, layout, naming
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile

CACHE = Path(os.environ.get("VIDEO_AUDIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "va-bench"))
PREFIX = "壶关县鑫达职业培训学校2024年第1期中式面点师培训班"


def cached_clip(name: str, spec: ClipSpec) -> Path:
    path = CACHE / name
    if not path.exists():
        tmp = write_clip(CACHE / f".{name}.tmp.mp4", spec)
        tmp.rename(path)
    return path


def build_class(root: Path, days: int) -> Path:
    lesson = cached_clip("lesson-10min-25fps.mp4", ClipSpec(600, 25, seed=1))
    roll = cached_clip("roll-1min-25fps.mp4", ClipSpec(60, 25, seed=2))
    cls = root / PREFIX
    start = dt.date(2024, 3, 1)
    for n in range(days):
        day = start + dt.timedelta(days=n)
        folder = cls / f"{day.month}月{day.day}日"
        folder.mkdir(parents=True)
        date = f"{day.month}月{day.day}日"
        for slot in (1, 2):
            shutil.copyfile(roll, folder / f"{PREFIX}{date}课间人脸识别视频{slot}.mp4")
        shutil.copyfile(lesson, folder / f"{PREFIX}{date}授课过程.mp4")
    return cls


def layout_and_format(path: Path) -> int:
    """What `video-audit check` does for layout, naming, content and format: walk, probe, rules."""
    profile = load_profile()
    disc = DiscWalker(profile).walk(path)
    for clip in disc.clips:
        clip.media = probe(clip.path)
    ctx = AuditContext(disc=disc, profile=profile, settings=AuditSettings())
    return sum(1 for group in (layout, naming, content, format) for _ in group.check(ctx))


def bare_open(path: Path) -> int:
    """Baseline: open every MP4 with PyAV and read its stream header, nothing else."""
    n = 0
    for clip in sorted(path.rglob("*.mp4")):
        with av.open(str(clip)) as container:
            n += len(container.streams.video)
    return n


def median_seconds(fn: Callable[[Path], int], path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cls = build_class(Path(tmp), args.days)
        clips = 3 * args.days
        findings = layout_and_format(cls)  # warm-up, and proof that the class is clean
        ours = median_seconds(layout_and_format, cls, args.runs)
        base = median_seconds(bare_open, cls, args.runs)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"class: {args.days} days, {clips} clips (10-min lessons, 1-min face-roll clips, 25 fps)")
    print(f"findings: {findings}")
    per_clip, base_per_clip = 1000 * ours / clips, 1000 * base / clips
    print(f"layout+format: median {ours:.3f} s over {args.runs} runs = {per_clip:.1f} ms/clip")
    print(f"baseline (bare PyAV open): median {base:.3f} s = {base_per_clip:.1f} ms/clip")
    print(f"ratio ours/baseline: {ours / base:.2f}")


if __name__ == "__main__":
    main()
