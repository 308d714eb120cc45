"""Picture checks: speed of the sparse frame pass against a full-decode reference.

    python -m bench.picture [--cache DIR] [--runs N]

1. A 10-minute 1024×768 lesson clip at 25 fps (H.264, a keyframe every 2 s as classroom
   cameras write it; sensor noise; a 30 s black and a 30 s frozen stretch) is made once in
   the cache directory ($VIDEO_AUDIT_BENCH_CACHE, default /tmp/va-bench).
2. The picture checks (frame pass + QA rules) run on it sparsely, several times (median), and
   once as the reference that decodes and checks every frame.
3. Both run over a corpus of short clips with each fault injected; their findings must agree.
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
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from video_audit.context import AuditContext
from video_audit.disc import DiscWalker
from video_audit.media.frames import run_passes
from video_audit.media.probe import probe
from video_audit.picture.measures import PictureAnalyzer, PictureConfig
from video_audit.rules import picture as picture_rules
from video_audit.samples.discs import ClipSpec, _scene
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile

PREFIX = "壶关县测试职业培训学校2024年第1期电工培训班"
SECONDS, FPS, GOP = 600, 25, 50
BLACK, FROZEN = (120.0, 150.0), (300.0, 330.0)


def _write(path: Path, frame: Callable[[int], np.ndarray], count: int, fps: int, gop: int) -> None:
    tmp = path.with_suffix(".part")
    with av.open(str(tmp), "w", format="mp4") as out:
        options = {"preset": "ultrafast", "crf": "23", "g": str(gop)}
        stream = out.add_stream("libx264", rate=fps, options=options)
        stream.codec_context.time_base = Fraction(1, fps)
        first = frame(0)
        stream.width, stream.height, stream.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
        for i in range(count):
            picture = av.VideoFrame.from_ndarray(frame(i), format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    tmp.rename(path)


def _camera(
    seed: int, width: int, height: int, fps: int, faults: bool
) -> Callable[[int], np.ndarray]:
    """The sample classroom with sensor noise (a few noise fields, cycled), faults optional."""
    scene = _scene(ClipSpec(seconds=1, fps=fps, width=width, height=height, seed=seed))
    rng = np.random.default_rng(seed)
    fields = [rng.normal(0, 2.0, (height, width, 1)).astype(np.int16) for _ in range(7)]
    black = np.full((height, width, 3), 6, np.uint8)
    frozen = np.clip(scene(int(FROZEN[0] * fps)).astype(np.int16) + fields[0], 0, 255)

    def frame(i: int) -> np.ndarray:
        t = i / fps
        if faults and BLACK[0] <= t < BLACK[1]:
            return black
        if faults and FROZEN[0] <= t < FROZEN[1]:
            return frozen.astype(np.uint8)
        # People move at a walking pace: the scene advances a step every 5 frames.
        return np.clip(scene(i // 5).astype(np.int16) + fields[i % 7], 0, 255).astype(np.uint8)

    return frame


def lesson_clip(cache: Path) -> Path:
    """The 10-minute benchmark lesson (made once)."""
    path = cache / f"lesson-{SECONDS}s-1024x768-{FPS}fps-g{GOP}.mp4"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"making {path} (once, a few minutes)…", flush=True)
        _write(path, _camera(7, 1024, 768, FPS, True), SECONDS * FPS, FPS, GOP)
    return path


def _class(root: Path, lesson: Path) -> Path:
    cls = root / PREFIX
    day = cls / "5月24日"
    day.mkdir(parents=True, exist_ok=True)
    target = day / f"{PREFIX}5月24日授课过程.mp4"
    if not target.exists():
        try:
            os.link(lesson, target)  # same file, no copy (the audit never writes to it)
        except OSError:
            shutil.copyfile(lesson, target)
    return cls


def checks(
    cls: Path, reference: bool, dense: bool = True
) -> tuple[float, set[tuple[str, str, str]], int, float]:
    """Seconds for the frame pass + QA rules over CLS, findings, frames decoded, CPU seconds.

    DENSE False treats short clips as long ones (keyframes only), as real lessons are.
    """
    settings = AuditSettings()
    profile = load_profile(None)
    disc = DiscWalker(profile).walk(cls)
    for clip in disc.clips:
        clip.media = probe(clip.path)
    config = PictureConfig.from_profile(profile)
    if not dense:
        config = replace(config, dense_seconds=0.0)
    analyzer = PictureAnalyzer(config, reference=reference)
    started, cpu = time.perf_counter(), time.process_time()
    ctx = AuditContext(disc=disc, profile=profile, settings=settings)
    ctx.frames = run_passes(list(disc.clips), [analyzer], threads=1)
    found = {(f.code, f.path, f.variant) for f in picture_rules.check(ctx)}
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    decoded = sum(p.timeline.decoded for p in ctx.frames.values())
    return seconds, found, decoded, cpu


def corpus(root: Path) -> Path:
    """Short clips with each fault (and clean ones), as one class folder."""
    cls = root / PREFIX
    w, h, fps = 640, 480, 10

    def day(n: int) -> Path:
        return cls / f"5月{n}日"

    def lesson(n: int) -> Path:
        return day(n) / f"{PREFIX}5月{n}日授课过程.mp4"

    cam = {seed: _camera(seed, w, h, fps, False) for seed in (1, 2, 3, 4, 5, 6, 60)}
    clean = cam[1]
    noisy_fields = [np.random.default_rng(k).normal(0, 14, (h, w, 1)) for k in range(3)]
    still = cam[5](80)
    cases: dict[int, Callable[[int], np.ndarray]] = {
        10: clean,  # clean
        11: lambda i: np.clip(cam[2](i) + noisy_fields[i % 3], 0, 255).astype(np.uint8),  # QA01
        12: lambda i: cv2.GaussianBlur(cam[3](i), (0, 0), 4.0),  # QA02
        13: lambda i: np.full((h, w, 3), 5, np.uint8) if 8 <= i / fps < 22 else cam[4](i),  # QA03
        14: lambda i: still if 8 <= i / fps < 22 else cam[5](i),  # QA04
        15: lambda i: cam[6](i) if i / fps < 15 else cam[60](i),  # QA06 spliced
    }
    for n, frame in cases.items():
        lesson(n).parent.mkdir(parents=True, exist_ok=True)
        _write(lesson(n), frame, 30 * fps, fps, 20)
    # Day 16's lesson is day 10's, again (QA05).
    lesson(16).parent.mkdir(parents=True, exist_ok=True)
    _write(lesson(16), clean, 30 * fps, fps, 7)
    return cls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cache = Path(os.environ.get("VIDEO_AUDIT_BENCH_CACHE", "/tmp/va-bench"))
    parser.add_argument("--cache", type=Path, default=cache)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}")
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print("load average at start (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    lesson = lesson_clip(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        cls = _class(Path(tmp), lesson)
        runs = [checks(cls, reference=False) for _ in range(args.runs)]
        sparse = statistics.median(r[0] for r in runs)
        ref_seconds, ref_found, ref_decoded, ref_cpu = checks(cls, reference=True)
        sparse_cpu = statistics.median(r[3] for r in runs)
        found, decoded = runs[0][1], runs[0][2]
        print(f"lesson: {SECONDS} s, 1024×768, {FPS} fps, keyframe every {GOP / FPS:g} s")
        print(
            f"sparse pass: median {sparse:.2f} s of {args.runs} "
            f"({SECONDS / sparse:.0f}× real time), {decoded} frames decoded; "
            f"CPU {sparse_cpu:.2f} s"
        )
        print(
            f"full-decode reference: {ref_seconds:.2f} s ({SECONDS / ref_seconds:.0f}× real time), "
            f"{ref_decoded} frames decoded; CPU {ref_cpu:.1f} s; "
            f"sparse is {ref_seconds / sparse:.1f}× faster"
        )
        print("load average now (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        print(f"findings sparse:    {sorted((c, v) for c, _, v in found)}")
        print(f"findings reference: {sorted((c, v) for c, _, v in ref_found)}")
        assert found == ref_found, "sparse and reference disagree on the lesson"

        corpus_cls = corpus(Path(tmp) / "corpus")
        c_sparse = checks(corpus_cls, reference=False, dense=False)[1]
        c_ref = checks(corpus_cls, reference=True)[1]
        print("corpus findings (sparse):")
        for code, path, variant in sorted(c_sparse):
            print(f"  {code} {variant:<8} {path.rsplit('/', 1)[-1]}")
        same = c_sparse == c_ref
        print(f"corpus: sparse and reference {'agree' if same else 'DISAGREE'}")
        if not same:
            print(f"  only sparse: {sorted(c_sparse - c_ref)}")
            print(f"  only reference: {sorted(c_ref - c_sparse)}")


if __name__ == "__main__":
    main()
