"""Live classroom footage for patrol demos and tests: a camera's MPEG-TS of a lesson wide shot
showing chosen people of the demo roster (video_audit.samples.faces), and a class folder holding
that roster with its photos, as `video-audit patrol --class` reads it."""

from __future__ import annotations

from pathlib import Path

import av

from video_audit.samples.discs import PEOPLE, ClipSpec, _write_roster, write_clip
from video_audit.samples.faces import FaceShot


def write_class(folder: Path) -> Path:
    """A class folder with the demo roster (名册.csv, 照片/): PEOPLE, in portraits() order."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_roster(folder, PEOPLE)
    return folder


def write_live(
    ts: Path,
    people: tuple[int, ...],
    *,
    seconds: float = 4,
    fps: int = 25,
    width: int = 1024,
    height: int = 768,
    seed: int = 0,
    face_share: float = 0.0,
    keyframe_seconds: float = 10,
) -> Path:
    """A camera's live stream as MPEG-TS (H.264): the classroom wide shot with PEOPLE (indexes
    into portraits(); UNKNOWN is nobody on the roster) sitting in a row, one face each."""
    mp4 = ts.with_suffix(".mp4")
    shot = FaceShot("lesson", people, seed=seed, face_share=face_share)
    spec = ClipSpec(
        seconds, fps, width, height, seed=seed, faces=shot, keyframe_seconds=keyframe_seconds
    )
    write_clip(mp4, spec)
    try:
        remux(mp4, ts, "mpegts")
    finally:
        mp4.unlink(missing_ok=True)
    return ts


def remux(source: Path, target: Path, fmt: str, options: dict[str, str] | None = None) -> Path:
    """SOURCE's video into TARGET in container FMT (mpegts, hls …) without re-encoding, as a
    camera or a streaming platform sends it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        av.open(str(source)) as src,
        av.open(str(target), "w", format=fmt, options=options or {}) as dst,
    ):
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = out
            dst.mux(packet)
    return target
