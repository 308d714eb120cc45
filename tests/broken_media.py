"""Broken media made from good clips, byte by byte, as field discs bring them (test helpers)."""

from __future__ import annotations

from pathlib import Path


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
