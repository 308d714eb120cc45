"""Probing real files: container by content, rotation, duration, and media that cannot play."""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from video_audit.media.probe import iso_boxes_complete, probe, sniff_container
from video_audit.samples.discs import ClipSpec, write_clip


def rotate_mp4(path: Path) -> None:
    """Set a 90° display matrix in the video track header, as phones and some NVRs do."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0
    version = data[at + 4]
    matrix = at + 4 + (52 if version == 1 else 40)
    values = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000]
    data[matrix : matrix + 36] = struct.pack(">9i", *values)
    path.write_bytes(bytes(data))


def test_mp4_probe_reads_size_duration_codec_and_creation_time(tmp_path: Path) -> None:
    start = dt.datetime(2024, 5, 24, 9, 31, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    clip = write_clip(tmp_path / "a.mp4", ClipSpec(3, 2, start=start))
    info = probe(clip)
    assert info.problem is None
    assert info.container == "mp4" and info.is_mp4
    assert (info.width, info.height, info.display_size) == (1024, 768, (1024, 768))
    assert info.codec == "h264" and info.fps == 2
    assert info.duration is not None and abs(info.duration - 3) < 0.6
    assert info.creation_time is not None
    assert dt.datetime.fromisoformat(info.creation_time) == start


def test_rotation_is_applied_to_display_size(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "r.mp4", ClipSpec(2, 2))
    rotate_mp4(clip)
    info = probe(clip)
    assert info.problem is None
    assert info.rotation in (90, 270)
    assert info.display_size == (768, 1024)


def test_container_is_judged_by_content_not_extension(tmp_path: Path) -> None:
    avi = write_clip(tmp_path / "x.avi", ClipSpec(2, 2, container="avi"))
    mov = write_clip(tmp_path / "x.mov", ClipSpec(2, 2, container="mov"))
    renamed_avi, renamed_mov = avi.rename(tmp_path / "a.mp4"), mov.rename(tmp_path / "b.mp4")
    assert probe(renamed_avi).container == "avi"
    assert probe(renamed_mov).container == "mov"
    assert sniff_container(b"\x1a\x45\xdf\xa3" + b"\0" * 20) == "matroska"


def test_mkv_renamed_mp4_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mpeg4", rate=2)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 1024, 768, "yuv420p"
        for _ in range(4):
            frame = av.VideoFrame.from_ndarray(np.zeros((768, 1024, 3), np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    info = probe(path)
    assert info.container == "matroska" and info.problem is None


def test_empty_truncated_and_non_video_files_are_problems_not_crashes(
    tmp_path: Path, make_clip: Callable[..., Path]
) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert probe(empty).problem == "empty"

    cut = make_clip(tmp_path / "cut.mp4", "roll")
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert probe(cut).problem == "truncated"

    text = tmp_path / "text.mp4"
    text.write_text("hello " * 100)
    assert probe(text).problem == "no_video"

    jpeg = tmp_path / "photo.mp4"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 500)
    info = probe(jpeg)
    assert info.problem == "no_video" and info.container == "jpeg"

    assert probe(tmp_path / "missing.mp4").problem == "unreadable"


def test_truncated_faststart_mp4_is_caught_by_box_sizes(tmp_path: Path) -> None:
    """moov first (web-optimised): FFmpeg opens the cut file; the box sizes give it away."""
    path = tmp_path / "fast.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=2, options={"preset": "ultrafast"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 1024, 768, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(8):
            img = rng.integers(0, 255, (768, 1024, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    assert iso_boxes_complete(path, len(data))
    path.write_bytes(data[: int(len(data) * 0.7)])
    assert not iso_boxes_complete(path, int(len(data) * 0.7))
    assert probe(path).problem == "truncated"


def test_audio_only_mp4_has_no_video(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=8000)
        assert isinstance(stream, av.audio.stream.AudioStream)
        samples = np.zeros((1, 1024), np.float32)
        for _ in range(10):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 8000
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert probe(path).problem == "no_video"


def test_an_unknown_codec_is_a_problem_of_that_clip_not_a_crash(
    tmp_path: Path, make_clip: Callable[[Path, str], Path]
) -> None:
    """A sample entry renamed from avc1 to an unknown fourcc: FFmpeg opens it, cannot decode it."""
    clip = make_clip(tmp_path / "ok.mp4", "roll")
    data = clip.read_bytes()
    assert data.count(b"avc1") >= 1
    broken = tmp_path / "zzzz.mp4"
    broken.write_bytes(data.replace(b"avc1", b"zzzz"))
    info = probe(broken)
    assert info.problem == "corrupt" and info.error
    assert "zzzz" in info.error or "codec" in info.error.lower()
