"""Broken media made from good clips, byte by byte, as field discs bring them (test helpers)."""

from __future__ import annotations

import struct
from pathlib import Path

_CONTAINERS = {b"moov", b"trak", b"mdia", b"edts"}


def _boxes(data: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the ISO boxes between START and END (32-bit sizes only)."""
    found = []
    offset = start
    while offset + 8 <= end:
        size = struct.unpack(">I", data[offset : offset + 4])[0]
        kind = bytes(data[offset + 4 : offset + 8])
        if size < 8 or offset + size > end:
            break
        found.append((kind, offset, size))
        offset += size
    return found


def _walk(data: bytearray, start: int, end: int) -> list[tuple[bytes, int, int]]:
    every = []
    for kind, offset, size in _boxes(data, start, end):
        every.append((kind, offset, size))
        if kind in _CONTAINERS:
            every += _walk(data, offset + 8, offset + size)
    return every


def claim_duration(path: Path | str, seconds: float) -> None:
    """Rewrite the durations an MP4's headers claim (movie, track, media, edit list) to SECONDS;
    the pictures stay as they are."""
    data = bytearray(Path(path).read_bytes())
    boxes = _walk(data, 0, len(data))
    movie_scale = 1000
    for kind, offset, _ in boxes:
        body = offset + 8
        version = data[body]
        if kind == b"mvhd":
            at = body + (20 if version == 1 else 12)
            movie_scale = struct.unpack(">I", data[at : at + 4])[0]
    for kind, offset, _ in boxes:
        body = offset + 8
        version = data[body]
        if kind == b"mvhd":
            _put(data, body + (24 if version == 1 else 16), version, seconds * movie_scale)
        elif kind == b"tkhd":
            _put(data, body + (28 if version == 1 else 20), version, seconds * movie_scale)
        elif kind == b"mdhd":
            scale_at = body + (20 if version == 1 else 12)
            scale = struct.unpack(">I", data[scale_at : scale_at + 4])[0]
            _put(data, scale_at + 4, version, seconds * scale)
        elif kind == b"elst":
            count = struct.unpack(">I", data[body + 4 : body + 8])[0]
            if count:
                _put(data, body + 8, version, seconds * movie_scale)
    Path(path).write_bytes(bytes(data))


def _put(data: bytearray, at: int, version: int, value: float) -> None:
    if version == 1:
        data[at : at + 8] = struct.pack(">Q", int(value))
    else:
        data[at : at + 4] = struct.pack(">I", min(int(value), 0xFFFFFFFF))


def retime(
    source: Path | str, target: Path | str, factor: float = 1.0, last_at: float | None = None
):
    """Remux SOURCE to TARGET without decoding, its timestamps stretched by FACTOR, or with the
    last picture moved to LAST_AT seconds (a header that claims hours the pictures do not fill)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", format="mp4") as out:
        video = src.streams.video[0]
        stream = out.add_stream_from_template(video)
        packets = [p for p in src.demux(video) if p.size]
        tb = video.time_base
        for n, packet in enumerate(packets):
            assert packet.pts is not None and tb is not None
            if last_at is not None and n == len(packets) - 1:
                shift = int(last_at / tb) - packet.pts
                packet.pts += shift
                packet.dts = (packet.dts or 0) + shift
            elif factor != 1.0:
                packet.pts = int(packet.pts * factor)
                packet.dts = int((packet.dts or 0) * factor)
            packet.stream = stream
            out.mux(packet)
