"""The shared frame pass: sparse decoding, the sampling grid, timestamps, analyzers, bad media."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.conftest import PREFIX
from tests.test_picture_clips import Footage, encode, lesson_path, picture_profile
from video_audit.audit import run_audit
from video_audit.disc import Clip
from video_audit.media.frames import (
    SampledFrame,
    Sampling,
    Timeline,
    run_pass,
    run_passes,
    sample_clip,
)
from video_audit.media.probe import probe
from video_audit.picture.measures import PictureAnalyzer, PictureConfig, pair_runs, stretches
from video_audit.settings import AuditSettings


def _sample(path: Path, sampling: Sampling) -> tuple[list[SampledFrame], Timeline]:
    got: list[SampledFrame] = []
    timeline = sample_clip(path, sampling, got.append)
    return got, timeline


def test_keyframes_alone_when_they_come_often(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=10, fps=10, gop=10))  # a keyframe a second
    frames, timeline = _sample(path, Sampling(every=1.0, keyframe_gap=2.0))
    assert timeline.decoded == 10 == len(frames)  # 100 frames in the file, 10 decoded
    assert all(f.keyframe for f in frames)
    assert [round(f.time, 1) for f in frames] == [float(t) for t in range(10)]
    assert timeline.packet_times.size == 100 and timeline.keyframe_times.size == 10
    assert timeline.rate == 10.0 and timeline.error is None


def test_sparse_keyframes_are_thinned_to_the_grid(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=6, fps=10, gop=2))  # 5 keyframes a second
    frames, timeline = _sample(path, Sampling(every=1.0, keyframe_gap=2.0))
    assert [round(f.time, 1) for f in frames] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert timeline.decoded == len(frames)


def test_long_groups_are_decoded_and_sampled_on_the_grid(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=10, fps=10, gop=100))  # one keyframe
    frames, timeline = _sample(path, Sampling(every=1.0, keyframe_gap=2.0))
    assert timeline.decoded == 100
    assert [round(f.time, 1) for f in frames] == [float(t) for t in range(10)]


def test_dense_grid_and_full_reference(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=4, fps=10, gop=20))
    frames, _ = _sample(path, Sampling(every=0.5, keyframe_gap=0.0))
    assert [round(f.time, 2) for f in frames] == [t / 2 for t in range(8)]
    every, timeline = _sample(path, Sampling(every=0.0))
    assert len(every) == timeline.decoded == 40


def test_reduced_images_keep_the_aspect_and_luma_is_full_size(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=2, fps=2, gop=2, scale=(640, 360)))
    frames, _ = _sample(path, Sampling(every=1.0, width=320, color=True, luma=True))
    first = frames[0]
    assert first.gray.shape == (180, 320) and first.rgb is not None
    assert first.rgb.shape == (180, 320, 3)
    assert first.luma is not None and first.luma.shape == (360, 640)
    frames, _ = _sample(path, Sampling(every=1.0, width=320))
    assert frames[0].luma is None


def test_timestamps_gap_is_seen(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=4, fps=5, pts_jump=(2.0, 10.0)))
    _, timeline = _sample(path, Sampling())
    steps = np.diff(np.sort(timeline.packet_times))
    assert steps.max() > 9.0 and abs(np.median(steps) - 0.2) < 1e-6


@dataclass
class _Recorder:
    """A second analyzer: what it asked for, and every frame it was given."""

    name: str = "recorder"
    want: Sampling = field(default_factory=lambda: Sampling(every=0.5, width=160, color=True))
    seen: list[tuple[float, tuple[int, ...], bool]] = field(default_factory=list)

    def sampling(self, clip: Clip) -> Sampling | None:
        return self.want

    def begin(self, clip: Clip) -> _Recorder:
        return self

    def add(self, frame: SampledFrame) -> None:
        self.seen.append((frame.time, frame.gray.shape, frame.rgb is not None))

    def finish(self, timeline: Timeline) -> Any:
        return len(self.seen)


def test_one_decode_feeds_every_analyzer(tmp_path: Path) -> None:
    cls = tmp_path / PREFIX
    path = encode(lesson_path(cls), Footage(seconds=8, fps=10, gop=20))
    clip = Clip(path=path, rel="x", filename=path.name, name=None, media=probe(path))
    picture = PictureAnalyzer(PictureConfig())
    recorder = _Recorder()
    result = run_pass(clip, [picture, recorder])
    assert result is not None
    # Merged needs: the finer grid (0.5 s), the larger picture (320), colour for whoever asked.
    assert [t for t, _, _ in recorder.seen] == [t / 2 for t in range(16)]
    assert {shape for _, shape, _ in recorder.seen} == {(240, 320)}
    assert all(color for _, _, color in recorder.seen)
    assert result.results["recorder"] == 16
    assert result.results["picture"].times.size == 16
    assert result.timeline.decoded == 80  # each frame decoded once, for both


def test_picture_checks_measure_the_same_beside_a_denser_wider_analyzer(tmp_path: Path) -> None:
    """Face rolls of a class with a roster share their pass with face analysis (every 0.25 s, at
    1024 px): the picture checks must still see their own frames at their own width."""
    cls = tmp_path / PREFIX
    path = encode(lesson_path(cls), Footage(seconds=6, fps=10, gop=30, width=640, height=480))
    clip = Clip(path=path, rel="x", filename=path.name, name=None, media=probe(path))
    picture = PictureAnalyzer(PictureConfig())
    alone = run_pass(clip, [picture])
    dense = _Recorder(want=Sampling(every=0.25, keyframe_gap=0.0, width=640, color=True))
    shared = run_pass(clip, [picture, dense])
    assert alone is not None and shared is not None
    assert len(dense.seen) == 24 and {shape for _, shape, _ in dense.seen} == {(480, 640)}
    a, b = alone.results["picture"], shared.results["picture"]
    for name, value in vars(a).items():
        if isinstance(value, np.ndarray):
            assert value.shape == getattr(b, name).shape, name
            assert np.allclose(value, getattr(b, name), equal_nan=True), name


def test_analyzers_may_skip_a_clip(tmp_path: Path) -> None:
    path = encode(tmp_path / "a.mp4", Footage(seconds=2))
    clip = Clip(path=path, rel="x", filename=path.name, name=None, media=None)
    assert run_pass(clip, [PictureAnalyzer(PictureConfig())]) is None  # not probed: skipped
    assert run_passes([clip], [PictureAnalyzer(PictureConfig())]) == {}


def test_progress_counts_probing_then_decoding(tmp_path: Path) -> None:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), Footage(seconds=3))
    encode(lesson_path(cls, "5月25日"), Footage(seconds=3, seed=2))
    calls: list[tuple[int, int]] = []
    run_audit(
        cls,
        AuditSettings(standard=picture_profile(tmp_path)),
        progress=lambda done, total, what: calls.append((done, total)),
    )
    assert calls[:2] == [(1, 2), (2, 2)]
    assert calls[-1] == (4, 4) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_bad_media_never_raises(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(2000))
    frames, timeline = _sample(junk, Sampling())
    assert frames == [] and timeline.error
    missing, timeline = _sample(tmp_path / "missing.mp4", Sampling())
    assert missing == [] and timeline.error


def test_stretch_helpers() -> None:
    times = np.arange(8, dtype=float)
    flags = np.array([0, 1, 1, 0, 1, 1, 1, 0], dtype=bool)
    assert stretches(times, flags) == [(1.0, 2.0), (4.0, 6.0)]
    # Pair k joins frames k-1 and k: pairs 1-2 cover frames 0..2.
    assert pair_runs(times, flags) == [(0.0, 2.0), (3.0, 6.0)]
