"""Real faces for the sample discs and the tests: crops of insightface's installed sample photos
composited into classroom face-roll clips (the camera pans along a row) and lesson wide shots.

t1.jpg shows six people; Tom_Hanks_54745.png a seventh (an aligned 112×112 crop), used here as
the person nobody enrolled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

Frame = Callable[[int], np.ndarray]

# Face centres (x, y) and sizes in t1.jpg (1280×886), left to right, as dlib finds them.
T1_FACES = ((121, 336, 108), (319, 220, 89), (503, 348, 107), (778, 420, 108), (934, 131, 129),
            (1172, 336, 108))  # fmt: skip
UNKNOWN = 6
"""Index of the seventh person (Tom_Hanks_54745.png) among portraits()."""


def images_dir() -> Path:
    """insightface's installed sample photos."""
    import insightface

    return Path(insightface.__file__).parent / "data" / "images"


def _read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"{path}: sample photo missing (is insightface installed?)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@cache
def portraits() -> tuple[np.ndarray, ...]:
    """Head crops (RGB, face ≈ 60% of the side): six from t1.jpg, then one more."""
    t1 = _read(images_dir() / "t1.jpg")
    pad = 200
    big = cv2.copyMakeBorder(t1, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    out = []
    for cx, cy, size in T1_FACES:
        side = int(size * 1.7)  # t1.jpg's backgrounds are out of focus: crop close
        x0, y0 = cx + pad - side // 2, cy + pad - int(side * 0.45)
        out.append(np.ascontiguousarray(big[y0 : y0 + side, x0 : x0 + side]))
    tom = _read(images_dir() / "Tom_Hanks_54745.png")
    tom = cv2.resize(tom, (224, 224), interpolation=cv2.INTER_CUBIC)
    b = 40
    out.append(cv2.copyMakeBorder(tom, b, b, b, b, cv2.BORDER_REPLICATE))
    return tuple(out)


def augment(
    img: np.ndarray, *, scale: float = 1.0, blur: float = 0.0, light: float = 1.0, jpeg: int = 0
) -> np.ndarray:
    """The same face as another camera would show it: scale, blur, lighting, compression."""
    out = img
    if scale != 1.0:
        out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if light != 1.0:
        out = np.clip(out.astype(np.float32) * light, 0, 255).astype(np.uint8)
    if jpeg:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:
            out = np.asarray(decoded)
    return np.ascontiguousarray(out)


def roster_photo(person: int) -> bytes:
    """A roster (ID) photo of a person: brighter, recompressed, not the pixels the clips show."""
    img = augment(portraits()[person], scale=0.8, light=1.08, jpeg=80)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def _paste(canvas: np.ndarray, img: np.ndarray, x: int, y: int) -> None:
    """Paste with feathered edges so no hard rectangle frames the face."""
    h, w = img.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = _feather(h, w)
    src = img[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    a = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    dst = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (a * src + (1 - a) * dst).astype(np.uint8)


@cache
def _feather(h: int, w: int) -> np.ndarray:
    flat = np.zeros((h, w), np.float32)
    m = max(2, w // 40)
    flat[m:-m, m:-m] = 1.0
    return np.asarray(cv2.GaussianBlur(flat, (0, 0), m / 2), np.float32)[..., None]


def _wall(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    wall = np.empty((h, w, 3), np.uint8)
    tint = rng.integers(150, 200, size=3)
    wall[..., 0] = np.clip(tint[0] - 40 * yy / h, 0, 255)
    wall[..., 1] = np.clip(tint[1] - 30 * yy / h + 10 * np.sin(xx / 90), 0, 255)
    wall[..., 2] = np.clip(tint[2] - 50 * yy / h, 0, 255)
    wall[int(h * 0.72) :, :] = (120, 85, 55)  # desks
    # Sharp things a real classroom has (panel joints, posters, desk edges, books): the picture
    # checks judge focus by edges, and a bare gradient wall would pass for a blurred picture.
    for x in range(int(rng.integers(0, 60)), w, 97):
        wall[: int(h * 0.72), x : x + 3] = (90, 90, 95)
    for row, y in enumerate(range(0, int(h * 0.72), 26)):  # tiled wall
        wall[y : y + 2, :] = (110, 105, 100)
        for x in range(13 * (row % 2), w, 52):
            wall[y : y + 26, x : x + 2] = (110, 105, 100)
    for x in range(int(rng.integers(0, 200)), w - 160, 230):
        y = int(h * 0.05)
        wall[y : y + h // 7, x : x + 140] = rng.integers(40, 230, size=3)
        for line in range(y + 12, y + h // 7 - 8, 14):
            wall[line : line + 4, x + 12 : x + 12 + int(rng.integers(40, 116))] = 20
    for y in range(int(h * 0.72), h, h // 12):
        wall[y : y + 3, :] = (60, 40, 25)
    for x in range(int(rng.integers(0, 40)), w - 40, 61):
        y = int(h * 0.72) + int(rng.integers(10, h // 6))
        wall[y : y + 14, x : x + 36] = rng.integers(30, 240, size=3)
    noise = rng.integers(0, 10, size=(h, w, 1), dtype=np.uint8)
    return np.asarray(np.clip(wall.astype(np.int16) + noise - 5, 0, 255).astype(np.uint8))


def pan(faces: list[np.ndarray], w: int, h: int, count: int, seed: int = 0) -> Frame:
    """A face roll: the faces along a classroom wall, the camera panning past them in COUNT
    frames of w×h (faces are pasted as given: scale them first)."""
    side = max((f.shape[1] for f in faces), default=w // 4)
    spacing = int(side * 1.5)
    strip_w = max(w, spacing * len(faces) + w // 2)
    strip = _wall(h, strip_w, seed)
    rng = np.random.default_rng(seed + 1)
    for k, img in enumerate(faces):
        x = w // 4 + k * spacing
        y = int(h * 0.22 + rng.integers(-h // 20, h // 20))
        _paste(strip, img, x, y)
    travel = strip_w - w

    def frame(i: int) -> np.ndarray:
        x = int(travel * i / max(1, count - 1))
        view = strip[:, x : x + w].copy()
        view[: h // 40, : int(w * ((i % 25) / 25))] = 235  # a running clock bar
        return view

    return frame


@dataclass(frozen=True)
class FaceShot:
    """Who a clip shows and how: a panning face roll or a static lesson wide shot."""

    kind: str
    """"roll" (close-up, the camera pans along the row) or "lesson" (wide shot)."""
    people: tuple[int, ...]
    """Indexes into portraits(), in order along the row."""
    seed: int = 0
    blur: float = 0.0
    face_share: float = 0.0
    """Face size as a share of the frame width (0: 0.15 for rolls, 0.09 for lessons)."""

    def frames(self, width: int, height: int, count: int, scene: Frame | None = None) -> Frame:
        """The clip's frame function (RGB); lesson shots paste the faces onto scene(i)."""
        if self.kind == "lesson":
            return self._lesson(width, height, scene)
        return self._roll(width, height, count)

    def _faces(self, face_px: float) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        out = []
        for p in self.people:
            img = portraits()[p]
            scale = face_px / (img.shape[0] * 0.6)
            light = float(rng.uniform(0.85, 1.1))
            face = augment(img, scale=scale, blur=self.blur, light=light)
            if not self.blur and scale > 1:  # upscaled photos look soft; a camera would not
                soft = cv2.GaussianBlur(face, (0, 0), 1.2 * scale)
                face = cv2.addWeighted(face, 2.0, soft, -1.0, 0)
            out.append(face)
        return out

    def _roll(self, w: int, h: int, count: int) -> Frame:
        faces = self._faces(w * (self.face_share or 0.15))
        return pan(faces, w, h, count, self.seed)

    def _lesson(self, w: int, h: int, scene: Frame | None) -> Frame:
        face_px = w * (self.face_share or 0.09)
        faces = self._faces(face_px)
        base = _wall(h, w, self.seed) if scene is None else None
        spots = []
        n = max(1, len(faces))
        for k, img in enumerate(faces):
            spots.append((int(w * (0.08 + 0.84 * k / n)), int(h * 0.40), img))

        def frame(i: int) -> np.ndarray:
            img = scene(i) if scene is not None else base.copy()  # type: ignore[union-attr]
            for x, y, face in spots:
                _paste(img, face, x, y)
            return img

        return frame
