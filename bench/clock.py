"""On-screen clock: its added cost on a full audit of a 10-minute lesson clip, and read accuracy.

Run: `.venv/bin/python -m bench.clock [--runs 3] [--accuracy-clips 14]`.

Cost: `run_audit` of a class folder holding one 10-minute 1024×768 25 fps H.264 lesson clip with
a burned-in clock (generated once into the bench cache), with the profile's [clock] enabled and
disabled, alternating, medians of RUNS each. The first audit with the clock also loads the OCR
models; it is reported apart (cold).

Accuracy: short clips in every generated clock layout and corner, at random times of day; every
kept crop of every clip is read (recognition only, as the tracker does) and compared with the
second drawn on that frame; and each clip's start as the tracker reports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from video_audit.audit import run_audit
from video_audit.clock import ClockAnalyzer, ClockConfig
from video_audit.clock.parse import parse_clock
from video_audit.disc import Clip
from video_audit.media.frames import sample_clip
from video_audit.media.probe import probe
from video_audit.samples.clock_overlay import CORNERS, STYLES, ClockOverlay, cjk_font, needs_cjk
from video_audit.samples.discs import CHINA, ClipSpec, write_clip
from video_audit.settings import AuditSettings
from video_audit.standard import DEFAULT_PROFILE

CACHE = Path(os.environ.get("VIDEO_AUDIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "va-bench"))
PREFIX = "壶关县鑫达职业培训学校2024年第1期中式面点师培训班"
START = dt.datetime(2024, 6, 3, 10, 5, 0)


def lesson_clip() -> Path:
    path = CACHE / "lesson-10min-25fps-clock.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        clock = ClockOverlay(START, "iso-zh" if cjk_font() else "iso", "tl")
        spec = ClipSpec(600, 25, seed=1, start=START.replace(tzinfo=CHINA), clock=clock)
        tmp = write_clip(CACHE / f".lesson-10min-25fps-clock.{os.getpid()}.tmp.mp4", spec)
        tmp.rename(path)
    return path


def build_class(root: Path) -> Path:
    folder = root / PREFIX / "6月3日"
    folder.mkdir(parents=True)
    shutil.copyfile(lesson_clip(), folder / f"{PREFIX}6月3日授课过程.mp4")
    return root / PREFIX


def profiles(root: Path) -> tuple[Path, Path]:
    """The shipped profile, and a copy with the clock switched off."""
    on = root / "with-clock.toml"
    off = root / "without-clock.toml"
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    on.write_text(text, encoding="utf-8")
    head, tail = text.split("[clock]\n", 1)
    tail = tail.replace("enabled = true", "enabled = false", 1)
    off.write_text(f"{head}[clock]\n{tail}", encoding="utf-8")
    return on, off


def audit_seconds(cls: Path, profile: Path) -> tuple[float, float, dict[str, object] | None]:
    """(wall seconds, CPU seconds of the whole process, the clip's clock) of one audit."""
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_audit(cls, AuditSettings(standard=profile))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    clocks = report.extras.get("clock", {})
    found = next(iter(clocks.values())).to_dict() if clocks else None
    return wall, cpu, found


def cost(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cls = build_class(root)
        on, off = profiles(root)
        cold_wall, cold_cpu, clock = audit_seconds(cls, on)
        with_clock: list[tuple[float, float]] = []
        without: list[tuple[float, float]] = []
        for _ in range(runs):
            without.append(audit_seconds(cls, off)[:2])
            with_clock.append(audit_seconds(cls, on)[:2])
    print(f"clock read on the lesson clip: {clock}")
    print(f"full audit, 10-min 1024×768 25 fps lesson clip, medians of {runs}:")
    for k, what in ((1, "CPU"), (0, "wall")):
        a = statistics.median(x[k] for x in with_clock)
        b = statistics.median(x[k] for x in without)
        cold = (cold_cpu, cold_wall)[k == 0]
        print(
            f"  {what}: without clock {b:.2f} s, with clock {a:.2f} s: +{a - b:.2f} s"
            f" = +{100 * (a - b) / b:.1f} %; cold (OCR models loaded) {cold:.2f} s"
            f" = +{100 * (cold - b) / b:.1f} %"
        )


def accuracy(count: int, seed: int) -> None:
    rng = random.Random(seed)
    styles = [s for s in STYLES if not needs_cjk(s) or cjk_font() is not None]
    analyzer = ClockAnalyzer(ClockConfig())
    reads = exact = unparsed = wrong = starts = found = 0
    per_style: dict[str, list[int]] = {s: [0, 0] for s in styles}
    read_time = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(count):
            style, corner = styles[n % len(styles)], CORNERS[n % len(CORNERS)]
            when = START.replace(hour=rng.randrange(24), minute=rng.randrange(60))
            when += dt.timedelta(days=rng.randrange(365), seconds=rng.randrange(60))
            overlay = ClockOverlay(when, style, corner, size=rng.choice((22, 28, 34)))
            path = Path(tmp) / f"{n}.mp4"
            write_clip(path, ClipSpec(20, 2, seed=n, clock=overlay))
            clip = Clip(path=path, rel=path.name, filename=path.name, name=None)
            clip.media = probe(path)
            sampling = analyzer.sampling(clip)
            assert sampling is not None
            sink = analyzer.begin(clip)
            timeline = sample_clip(path, sampling, sink.add)
            result = sink.finish(timeline)
            found += result.found
            exact_start = result.start is not None and result.start.replace(tzinfo=None) == when
            starts += exact_start
            if not exact_start:
                print(
                    f"  start missed: {overlay.text(0)!r} read as {result.start} ({result.text!r})"
                )
            if sink.region is None:
                continue
            begin = time.perf_counter()
            texts = analyzer.engine.read(sink.crops)
            read_time += time.perf_counter() - begin
            for t, (text, _) in zip(sink.times, texts, strict=True):
                reads += 1
                parsed = parse_clock(text)
                truth = overlay.shown(t)
                if parsed is None:
                    unparsed += 1
                elif truth in (parsed.value, parsed.swapped):
                    exact += 1
                    per_style[style][0] += 1
                else:
                    wrong += 1
                per_style[style][1] += 1
    print(f"read accuracy over {count} clips (20 s, 1024×768, text 22–34 px, all corners):")
    print(f"  clock found in {found}/{count} clips; start exact to the second in {starts}/{count}")
    print(f"  single reads: {reads}, exact second {exact} ({100 * exact / max(reads, 1):.1f} %),")
    print(f"  unparsed {unparsed}, wrong {wrong}; {1000 * read_time / max(reads, 1):.1f} ms a read")
    for style, (ok, total) in per_style.items():
        print(f"    {style:8s} {ok}/{total}  e.g. {ClockOverlay(START, style).text(0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--accuracy-clips", type=int, default=28)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if not args.skip_cost:
        cost(args.runs)
    if not args.skip_accuracy:
        accuracy(args.accuracy_clips, args.seed)


if __name__ == "__main__":
    main()
