"""Burning a camera-style clock into generated frames (sample discs, tests, benchmarks).

ASCII layouts are drawn with OpenCV's own fonts; layouts with Chinese characters need a CJK
font from the system (`fc-list :lang=zh`; Debian: fonts-noto-cjk or fonts-wqy-microhei, which
`make demo`, `make test` (tools/system-packages) and the Docker image install) and are drawn
with Pillow.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

STYLES: dict[str, str] = {
    "iso-zh": "{Y}-{m}-{d} 星期{zw} {H}:{M}:{S}",
    "iso": "{Y}-{m}-{d} {H}:{M}:{S}",
    "iso-slash": "{Y}/{m}/{d} {H}:{M}:{S}",
    "us": "{m}-{d}-{Y} {ew} {H}:{M}:{S}",
    "us-12h": "{m}/{d}/{Y} {ew} {I}:{M}:{S} {p}",
    "eu": "{d}/{m}/{Y} {H}:{M}:{S}",
    "cjk": "{Y}年{m}月{d}日 星期{zw} {H}:{M}:{S}",
    "cjk-12h": "{Y}年{m}月{d}日 {zp} {I}:{M}:{S}",
}
"""Clock layouts seen on cameras and recorders, by name."""

CORNERS = ("tl", "tr", "bl", "br")

HERSHEY: dict[str, int] = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "plain": cv2.FONT_HERSHEY_PLAIN,
    "duplex": cv2.FONT_HERSHEY_DUPLEX,
    "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "complex-small": cv2.FONT_HERSHEY_COMPLEX_SMALL,
    "script": cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
}
"""OpenCV's own stroke fonts by name (`font="hershey-duplex"`)."""

LOOKS = ("outlined", "light", "dark", "light-box", "dark-box")
"""How the clock stands out: light text with a dark outline (the default), light or dark text
alone, or light text on a dark box / dark text on a light box (common on recorders)."""


def clock_text(style: str, when: dt.datetime) -> str:
    """The clock as a camera of STYLE shows WHEN."""
    hour12 = when.hour % 12 or 12
    return STYLES[style].format(
        Y=f"{when.year:04d}",
        m=f"{when.month:02d}",
        d=f"{when.day:02d}",
        H=f"{when.hour:02d}",
        I=f"{hour12:02d}",
        M=f"{when.minute:02d}",
        S=f"{when.second:02d}",
        p="PM" if when.hour >= 12 else "AM",
        zp="下午" if when.hour >= 12 else "上午",
        zw=_ZH_WEEKDAYS[when.weekday()],
        ew=_EN_WEEKDAYS[when.weekday()],
    )


def needs_cjk(style: str) -> bool:
    return not STYLES[style].isascii()


@cache
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs ($VIDEO_AUDIT_CJK_FONT, else fontconfig's first), or None.

    VIDEO_AUDIT_CJK_FONT=none draws as a machine without one would (ASCII layouts only).
    """
    chosen = os.environ.get("VIDEO_AUDIT_CJK_FONT")
    if chosen == "none":
        return None
    if chosen and Path(chosen).is_file():
        return Path(chosen)
    if shutil.which("fc-list"):
        try:
            listed = subprocess.run(
                ["fc-list", ":lang=zh", "file"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
        # Prefer sans faces: they look like a recorder's OSD.
        files.sort(key=lambda f: ("Serif" in f, "Mono" in f))
        for name in files:
            if Path(name).is_file():
                return Path(name)
    return None


@dataclass(frozen=True)
class ClockOverlay:
    """A burned-in clock: starts at START, runs with stream time, may jump at set moments."""

    start: dt.datetime
    style: str = "iso-zh"
    corner: str = "tl"
    size: int = 28
    """Text height in pixels."""
    jumps: tuple[tuple[float, float], ...] = ()
    """(stream second, seconds the clock jumps by there): a splice of footage from another time."""
    rate: float = 1.0
    """Clock seconds per stream second (0.5: footage slowed down to last twice as long)."""
    font: str = ""
    """"" (OpenCV's simplex for ASCII layouts, the CJK font for Chinese ones), "hershey-NAME"
    (HERSHEY), or a TrueType/OpenType file (it must hold the layout's glyphs)."""
    look: str = "outlined"
    """One of LOOKS."""
    thin: bool = False
    """One-pixel strokes (Hershey fonts; a TrueType font is as thin as its face)."""
    bitmap: bool = False
    """Drawn at half size without smoothing and doubled: the blocky font of many recorders."""

    def shown(self, seconds: float) -> dt.datetime:
        """The clock's time at SECONDS into the clip (whole seconds, as cameras show)."""
        moved = sum(delta for at, delta in self.jumps if seconds >= at)
        return (self.start + dt.timedelta(seconds=seconds * self.rate + moved)).replace(
            microsecond=0
        )

    def text(self, seconds: float) -> str:
        return clock_text(self.style, self.shown(seconds))

    def painter(self) -> ClockPainter:
        return ClockPainter(self)


class ClockPainter:
    """Draws one overlay on frames in order, rendering each distinct text once."""

    def __init__(self, overlay: ClockOverlay) -> None:
        if overlay.look not in LOOKS:
            raise ValueError(f"clock look {overlay.look!r} is not one of {', '.join(LOOKS)}")
        self.overlay = overlay
        self._last: tuple[str, np.ndarray, np.ndarray] | None = None
        self._font: Any = None
        self._face = cv2.FONT_HERSHEY_SIMPLEX
        path: Path | None = None
        if overlay.font.startswith("hershey-"):
            self._face = HERSHEY[overlay.font.removeprefix("hershey-")]
        elif overlay.font:
            path = Path(overlay.font)
        elif needs_cjk(overlay.style):
            path = cjk_font()
            if path is None:
                raise RuntimeError(
                    f"clock style {overlay.style!r} needs a CJK font: install fonts-noto-cjk"
                )
        if path is not None:
            from PIL import ImageFont

            size = overlay.size // 2 if overlay.bitmap else overlay.size
            self._font = ImageFont.truetype(str(path), size)

    def _glyphs(self, text: str) -> tuple[np.ndarray, int]:
        """(the text as a 0–255 mask on a padded canvas, the outline width that fits it)."""
        if "\n" in text:  # a date line over a time line: each drawn alone, left-aligned
            lines = [self._glyphs(line)[0] for line in text.split("\n")]
            wide = max(m.shape[1] for m in lines)
            stacked = np.vstack([np.pad(m, ((0, 0), (0, wide - m.shape[1]))) for m in lines])
            return stacked, max(1, self.overlay.size // 14)
        o = self.overlay
        size = o.size // 2 if o.bitmap else o.size
        if self._font is None:
            height = cv2.getTextSize("0", self._face, 1.0, 1)[0][1]
            scale = 0.75 * size / height if o.font else size / 22.0
            thick = 1 if o.thin or o.bitmap else max(1, round(size / 14))
            (w, h), base = cv2.getTextSize(text, self._face, scale, thick)
            pad = thick + 3
            mask = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
            line = cv2.LINE_8 if o.bitmap else cv2.LINE_AA
            cv2.putText(mask, text, (pad, pad + h), self._face, scale, 255, thick, line)
        else:
            from PIL import Image, ImageDraw

            x0, y0, x1, y1 = self._font.getbbox(text)
            pad = max(3, size // 8)
            canvas = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 0)
            draw = ImageDraw.Draw(canvas)
            if o.bitmap:
                draw.fontmode = "1"
            draw.text((pad - x0, pad - y0), text, font=self._font, fill=255)
            mask = np.asarray(canvas).copy()
        if o.bitmap:
            mask = np.asarray(
                cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST), np.uint8
            )
        return mask, max(1, o.size // 14)

    def _render(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(value, alpha) patches of the clock in the overlay's look."""
        o = self.overlay
        plain = not o.font and not o.thin and not o.bitmap and "\n" not in text
        if plain and o.look == "outlined":
            return self._render_default(text)
        mask, stroke = self._glyphs(text)
        light = o.look in ("outlined", "light", "light-box")
        value = mask if light else 255 - mask
        if o.look == "outlined":
            ring = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * stroke + 1, 2 * stroke + 1))
            alpha = cv2.dilate(mask, ring)
        elif o.look.endswith("-box"):
            alpha = np.full_like(mask, 230)  # a box the picture shows through a little
            alpha = np.maximum(alpha, mask)
        else:
            alpha = mask
        return np.ascontiguousarray(value), alpha

    def _render_default(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """White text with a black outline, as the sample discs have always drawn it."""
        size = self.overlay.size
        if self._font is None:
            scale = size / 22.0
            thick = max(1, round(size / 14))
            (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            pad = thick + 2
            alpha = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
            value = np.zeros_like(alpha)
            org = (pad, pad + h)
            cv2.putText(
                alpha, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick + 2, cv2.LINE_AA
            )
            cv2.putText(value, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
            return value, alpha
        from PIL import Image, ImageDraw

        stroke = max(1, size // 14)
        x0, y0, x1, y1 = self._font.getbbox(text, stroke_width=stroke)
        canvas = Image.new("LA", (x1 - x0 + 4, y1 - y0 + 4), (0, 0))
        ImageDraw.Draw(canvas).text(
            (2 - x0, 2 - y0),
            text,
            font=self._font,
            fill=(255, 255),
            stroke_width=stroke,
            stroke_fill=(0, 255),
        )
        patch = np.asarray(canvas)
        return patch[..., 0].copy(), patch[..., 1].copy()

    def draw(self, image: np.ndarray, seconds: float) -> np.ndarray:
        """IMAGE (H×W×3, modified in place and returned) with the clock at SECONDS."""
        text = self.overlay.text(seconds)
        if self._last is None or self._last[0] != text:
            self._last = (text, *self._render(text))
        _, value, alpha = self._last
        h, w = image.shape[:2]
        ph, pw = value.shape
        margin = max(6, self.overlay.size // 2)
        left = self.overlay.corner.endswith("l")
        top = self.overlay.corner.startswith("t")
        x = margin if left else max(0, w - pw - margin)
        y = margin if top else max(0, h - ph - margin)
        ph, pw = min(ph, h - y), min(pw, w - x)
        region = image[y : y + ph, x : x + pw].astype(np.float32)
        a = alpha[:ph, :pw, None].astype(np.float32) / 255.0
        v = value[:ph, :pw, None].astype(np.float32)
        image[y : y + ph, x : x + pw] = (region * (1 - a) + v * a).astype(np.uint8)
        return image
