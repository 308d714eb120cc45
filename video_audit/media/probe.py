"""PyAV: what a clip really is (container by content, display size, duration), read cheaply."""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import av.error

# Brands of the ISO base media file format that are MP4 proper (not QuickTime, not 3GPP).
_MOV_BRANDS = {b"qt  "}
_3GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3g2a", b"3g2b", b"3g2c"}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass
class MediaInfo:
    """What probing found; `problem` is set (an FM04 variant) when the clip cannot be played."""

    size: int
    container: str | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0
    duration: float | None = None
    codec: str | None = None
    fps: float | None = None
    creation_time: str | None = None
    problem: str | None = None
    error: str | None = None
    modified_seconds_ago: float | None = None
    # (size, mtime in ns) when probing began: a later look compares against it (not reported).
    stamp: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def is_mp4(self) -> bool:
        return self.container == "mp4"

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width×height as shown, with a 90°/270° rotation applied."""
        if self.width is None or self.height is None:
            return None
        if self.rotation % 180 == 90:
            return self.height, self.width
        return self.width, self.height

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["stamp"]
        size = self.display_size
        data["display_width"], data["display_height"] = size if size else (None, None)
        return data


# Still images and documents that FFmpeg would happily open as one-frame "videos".
_NOT_VIDEO = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG": "png",
    b"GIF8": "gif",
    b"BM": "bmp",
    b"%PDF": "pdf",
    b"PK\x03\x04": "zip",
}


MAX_PICTURE_PIXELS = 36_000_000
"""A picture larger than this (8K UHD is 33.2 million) is not decoded: a small file can declare
a frame of gigabytes, and the pass decodes several at once."""


def sniff_container(head: bytes) -> str | None:
    """The container named by a file's first bytes, or None when unknown."""
    for magic, kind in _NOT_VIDEO.items():
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _MOV_BRANDS:
            return "mov"
        if brand in _3GP_BRANDS:
            return "3gp"
        return "mp4"
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return "mov"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:3] == b"FLV":
        return "flv"
    if head[:4] == b"\x30\x26\xb2\x75":
        return "asf"
    if head[:1] == b"\x47" and len(head) > 188 and head[188:189] == b"\x47":
        return "mpegts"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "mpeg"
    return None


def _format_creation_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.isoformat()


def probe(path: Path, now: float | None = None) -> MediaInfo:
    """Probe one clip: never raises for bad media, sets `problem` instead."""
    try:
        before = os.stat(path)
    except OSError as exc:
        return MediaInfo(size=0, problem="unreadable", error=exc.strerror or str(exc))
    ago = (now if now is not None else dt.datetime.now().timestamp()) - before.st_mtime
    info = MediaInfo(
        size=before.st_size,
        modified_seconds_ago=round(ago, 1),
        stamp=(before.st_size, before.st_mtime_ns),
    )
    if not stat.S_ISREG(before.st_mode):
        info.problem, info.error = "unreadable", "not a regular file"
        return info
    if before.st_size == 0:
        info.problem = "empty"
        return info
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        info.problem, info.error = "unreadable", exc.strerror or str(exc)
        return info
    info.container = sniff_container(head)
    if info.container in _NOT_VIDEO.values():
        info.problem, info.error = "no_video", info.container
        return info
    try:
        _probe_stream(path, info)
    except Exception as exc:  # whatever else a hostile file does: a problem of this clip only
        info.problem, info.error = "corrupt", _short(exc) or type(exc).__name__
    if info.problem is None and info.container in ("mp4", "mov", "3gp"):
        try:
            if not iso_boxes_complete(path, before.st_size):
                info.problem = "truncated"
        except OSError as exc:
            info.problem, info.error = "unreadable", exc.strerror or str(exc)
    try:
        after = os.stat(path)
    except OSError:
        after = before
    if (after.st_size, after.st_mtime_ns) != info.stamp:
        info.problem, info.error = "being_written", None
    return info


def changed_since_probe(path: Path, info: MediaInfo) -> bool:
    """True when the file's size or modification time moved after `probe` first looked.

    The probe itself takes milliseconds; a copy still in progress is caught reliably only by
    looking again once the clip has been decoded, seconds later.
    """
    if info.stamp is None:
        return False
    try:
        now = os.stat(path)
    except OSError:
        return True
    return (now.st_size, now.st_mtime_ns) != info.stamp


def _probe_stream(path: Path, info: MediaInfo) -> None:
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if info.container is None:
                info.container = container.format.name.split(",")[0]
            if not container.streams.video:
                info.problem = "no_video"
                return
            stream = container.streams.video[0]
            if stream.codec_context is None:  # a sample entry FFmpeg has no decoder for
                info.problem, info.error = "corrupt", "unknown video codec / 未知的视频编码"
                return
            info.codec = stream.codec_context.name
            info.width, info.height = stream.width or None, stream.height or None
            if (info.width or 0) * (info.height or 0) > MAX_PICTURE_PIXELS:
                info.problem = "oversized"  # not decoded: one picture would take gigabytes
                return
            if stream.average_rate:
                info.fps = round(float(stream.average_rate), 3)
            if container.duration is not None:
                info.duration = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                info.duration = float(stream.duration * stream.time_base)
            created = container.metadata.get("creation_time") or stream.metadata.get(
                "creation_time"
            )
            info.creation_time = _format_creation_time(created)
            _check_decodes(container, stream, info)
    except av.error.InvalidDataError as exc:
        info.problem = "truncated" if info.container == "mp4" else "corrupt"
        info.error = _short(exc)
        if info.container is None:
            info.problem = "no_video"
    except (av.error.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        info.problem, info.error = "corrupt", _short(exc)


def _check_decodes(container: Any, stream: Any, info: MediaInfo) -> None:
    """Decode the first keyframe: it proves the clip plays and carries the display rotation."""
    stream.codec_context.skip_frame = "NONKEY"
    first = next(container.decode(stream), None)
    if first is None:
        info.problem = "truncated" if info.container in ("mp4", "mov", "3gp") else "corrupt"
        return
    info.rotation = int(getattr(first, "rotation", 0) or 0) % 360
    if info.width is None:
        info.width, info.height = first.width, first.height


def iso_boxes_complete(path: Path, size: int) -> bool:
    """Whether the top-level boxes of an MP4/MOV file fit inside it (a cut-off copy does not)."""
    offset = 0
    with open(path, "rb") as fh:
        for _ in range(100_000):
            if offset >= size:
                return offset == size
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1:
                if len(header) < 16:
                    return False
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                return True  # the last box runs to the end of the file
            if box_size < 8:
                return False
            offset += box_size
    return True


def _short(exc: BaseException) -> str:
    """One line, without FFmpeg's errno and the file path (the finding already names the file)."""
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return str(text).splitlines()[0][:200]
