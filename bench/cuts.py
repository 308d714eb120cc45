"""QA06 cuts: recall and false-cut rate of the cut score on generated lesson footage.

    python -m bench.cuts [--cache DIR] [--clips N] [--jobs N]

1. Generated classrooms (textured walls and floor, a board, windows, rows of desks, seated
   people who fidget, the lighting of windows and lamps, sensor noise, H.264 at several
   qualities, a keyframe every 1 or 2 s) are made once per kind in the cache directory
   ($VIDEO_AUDIT_BENCH_CACHE, default /tmp/va-bench/cuts): N clips of 40 s each.
2. Splices (one cut near 0:20): another room; the same room with people moved (a recording
   stopped and started again later); the same room under other lighting with some people
   moved. Clips without a cut: steady; the camera pans; people walking past, some close to
   the camera; the lights switched on; the whole class standing up (起立).
3. Each clip is sampled as a lesson is (keyframes, about one frame a second) and every step
   between sampled frames gets its cut score. A splice is found when the step across its cut
   scores at least the threshold; a clip without a cut is a false cut when any step does.
   Printed per kind, for several thresholds, with the old all-gates test beside.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from video_audit.media.frames import Sampling, sample_clip
from video_audit.picture.measures import ClipPicture, CutScore, PictureConfig, PictureSink
from video_audit.standard import load_profile

W, H = 640, 480
SECONDS, FPS = 40, 10
SPLICES = ("other_room", "people_moved", "lighting")
NO_CUTS = ("steady", "pan", "walk", "lights_on", "stand_up")
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


@dataclass
class Person:
    x: float
    y: float
    scale: float
    shirt: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    phase: float


@dataclass
class Room:
    """A classroom as wide as the camera can turn over; its seats and who sits where."""

    background: np.ndarray
    rows: list[list[tuple[int, int, int, int]]]
    people: list[Person]
    seats: list[tuple[float, float, float]]
    window: np.ndarray
    lamps: np.ndarray
    rng: np.random.Generator = field(repr=False)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    coarse = rng.normal(0, 1, (max(2, h // cell), max(2, w // cell))).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _colour(rng: np.random.Generator, low: int = 20, high: int = 230) -> tuple[int, int, int]:
    r, g, b = rng.integers(low, high, size=3)
    return int(r), int(g), int(b)


def _person(rng: np.random.Generator, x: float, y: float, scale: float) -> Person:
    skin = (int(rng.integers(170, 230)), int(rng.integers(130, 180)), int(rng.integers(100, 150)))
    hair = (int(rng.integers(10, 60)),) * 3
    return Person(x, y, scale, _colour(rng), skin, hair, float(rng.uniform(0, 6.3)))


def make_room(seed: int, width: int = int(W * 1.6), height: int = H) -> Room:
    rng = np.random.default_rng(seed)
    horizon = int(height * rng.uniform(0.38, 0.48))
    wall = np.empty((height, width, 3), np.float32)
    wall_tone, floor_tone = rng.uniform(120, 200, 3), rng.uniform(60, 140, 3)
    for c in range(3):
        wall[:horizon, :, c] = wall_tone[c]
        wall[horizon:, :, c] = floor_tone[c]
    wall += 8 * _smooth_noise(rng, height, width, 24)[..., None]
    wall[horizon:] += 6 * _smooth_noise(rng, height - horizon, width, 6)[..., None]
    # Floor tiles, a skirting board.
    for x in range(0, width, int(rng.integers(40, 70))):
        cv2.line(wall, (x, horizon), (int(width / 2 + (x - width / 2) * 2.5), height), (40, 40, 40))
    wall[horizon - 6 : horizon] = 50
    board_x = int(rng.uniform(0.25, 0.55) * width)
    cv2.rectangle(wall, (board_x, int(height * 0.08)), (board_x + width // 4, int(height * 0.3)),
                  (35, 70, 45), -1)  # fmt: skip
    cv2.rectangle(wall, (board_x - 4, int(height * 0.08) - 4),
                  (board_x + width // 4 + 4, int(height * 0.3) + 4), (150, 120, 90), 3)  # fmt: skip
    for _ in range(int(rng.integers(3, 9))):  # chalk on the board
        x = board_x + int(rng.integers(10, width // 4 - 60))
        y = int(height * rng.uniform(0.1, 0.27))
        cv2.line(wall, (x, y), (x + int(rng.integers(20, 60)), y), (200, 210, 200), 2)
    window_x = [int(x) for x in rng.uniform(0, 1, int(rng.integers(2, 4))) * width * 0.9]
    window = np.zeros((height, width), np.float32)
    for x in window_x:
        cv2.rectangle(wall, (x, int(height * 0.05)), (x + width // 12, int(height * 0.32)),
                      (225, 235, 240), -1)  # fmt: skip
        cv2.rectangle(window, (x - 80, 0), (x + width // 12 + 80, height), 1.0, -1)
    window = np.asarray(cv2.GaussianBlur(window, (0, 0), 90), np.float32)
    for _ in range(int(rng.integers(3, 8))):  # posters, a clock, a flag
        x, y = int(rng.integers(0, width - 60)), int(rng.integers(10, horizon - 70))
        cv2.rectangle(wall, (x, y), (x + int(rng.integers(20, 60)), y + int(rng.integers(20, 60))),
                      _colour(rng), -1)  # fmt: skip
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lamps = np.zeros((height, width), np.float32)
    for lx in np.linspace(0.15, 0.85, int(rng.integers(3, 6))) * width:
        lamps += np.exp(-((xx - lx) ** 2) / (2 * (width * 0.12) ** 2) - (yy**2) / (2 * 300.0**2))
    lamps /= lamps.max()
    rows: list[list[tuple[int, int, int, int]]] = []
    seats: list[tuple[float, float, float]] = []
    n_rows = int(rng.integers(3, 6))
    for r in range(n_rows):
        depth = (r + 1) / n_rows
        y = int(horizon + (height - horizon) * (0.15 + 0.75 * depth))
        scale = 0.5 + 0.8 * depth
        dw, dh = int(70 * scale), int(22 * scale)
        row: list[tuple[int, int, int, int]] = []
        for x in np.arange(rng.uniform(10, 40), width - dw, dw * rng.uniform(1.25, 1.5)).tolist():
            row.append((int(x), y, dw, dh))
            seats += [(float(x + dw * 0.3), y, scale), (float(x + dw * 0.75), y, scale)]
        rows.append(row)
    people = [_person(rng, x, y, s) for x, y, s in seats if rng.random() < 0.7]
    background = np.clip(wall + rng.normal(0, 3, wall.shape), 0, 255).astype(np.float32)
    return Room(background, rows, people, seats, window, lamps, rng)


def moved(room: Room, share: float, seed: int) -> list[Person]:
    """The room later: SHARE of the people gone, others (other clothes) in other seats."""
    rng = np.random.default_rng(seed)
    kept = [p for p in room.people if rng.random() >= share]
    taken = {(p.x, p.y) for p in kept}
    free = [s for s in room.seats if (s[0], s[1]) not in taken]
    order = rng.permutation(len(free)).tolist()
    arrived = [_person(rng, *free[k]) for k in order[: len(room.people) - len(kept)]]
    return kept + arrived


def _draw_person(img: np.ndarray, p: Person, t: float, rise: float = 0.0, walk: float = -1) -> None:
    s = p.scale
    dx = 2.0 * s * math.sin(1.3 * t + p.phase)  # fidgeting
    dy = 1.5 * s * math.sin(0.9 * t + 2 * p.phase) - rise * 45 * s
    x, y = p.x + dx, p.y + dy
    body_w, body_h, head = 26 * s, 34 * s, 10 * s
    if walk >= 0:  # standing, walking: legs swing
        body_h *= 1.6
        for side in (-1, 1):
            swing = side * 8 * s * math.sin(walk)
            cv2.line(img, (int(x), int(y)), (int(x + swing), int(y + 40 * s)), (40, 40, 60),
                     max(2, int(7 * s)))  # fmt: skip
    cv2.rectangle(img, (int(x - body_w / 2), int(y - body_h)), (int(x + body_w / 2), int(y)),
                  p.shirt, -1)  # fmt: skip
    centre = (int(x), int(y - body_h - head * 0.9))
    cv2.ellipse(img, centre, (int(head * 0.85), int(head)), 0, 0, 360, p.skin, -1)
    cv2.ellipse(img, centre, (int(head * 0.9), int(head * 0.6)), 0, 180, 360, p.hair, -1)


@dataclass(frozen=True)
class Scene:
    """One clip: a room, what happens in it, and how the camera writes it."""

    kind: str
    seed: int
    cut: float
    gop: int
    crf: int
    noise: float

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.seed}-g{self.gop}-q{self.crf}.mp4"


def scene(kind: str, n: int) -> Scene:
    rng = np.random.default_rng(1000 * (SPLICES + NO_CUTS).index(kind) + n)
    return Scene(
        kind,
        seed=int(rng.integers(1, 10**6)),
        cut=round(float(rng.uniform(17, 23)), 2),
        gop=int(rng.choice([FPS, 2 * FPS])),
        crf=int(rng.choice([23, 28, 32])),
        noise=float(rng.uniform(1.5, 4.0)),
    )


def painter(s: Scene) -> Callable[[int], np.ndarray]:
    """Frame I of the scene, RGB uint8."""
    room = make_room(s.seed)
    rng = np.random.default_rng(s.seed + 1)
    fields = [rng.normal(0, s.noise, (H, W, 1)).astype(np.float32) for _ in range(5)]
    width = room.background.shape[1]
    view = float(rng.uniform(0, width - W))
    after_room = make_room(s.seed + 7919) if s.kind == "other_room" else room
    after_people = {
        "other_room": after_room.people,
        "people_moved": moved(room, float(rng.uniform(0.3, 0.7)), s.seed + 2),
        "lighting": moved(room, float(rng.uniform(0.1, 0.3)), s.seed + 2),
    }.get(s.kind, room.people)
    day = float(rng.uniform(0.2, 0.6))  # window light against lamps
    pan = (float(rng.uniform(2.0, 5.0)), float(rng.choice([-1, 1])) * float(rng.uniform(0.3, 0.6)))
    walkers = [
        (float(rng.uniform(0.0, 2.5)), float(rng.uniform(0.9, 2.2)), float(rng.uniform(2.5, 6.0)),
         int(rng.choice([-1, 1])), _person(rng, 0, 0, 1.0))
        for _ in range(int(rng.integers(1, 4)))
    ]  # fmt: skip
    ramp = float(rng.uniform(0.1, 0.6))

    def gain(t: float, after: bool) -> np.ndarray:
        lamps_on = 1.0
        if s.kind == "lights_on":
            lamps_on = min(1.0, max(0.0, (t - s.cut) / ramp))
        light = day
        if s.kind == "lighting" and after:
            light = 1.0 - day  # another hour: the sun moved, lamps on or off
        field = 0.35 + 0.6 * light * room.window + lamps_on * (0.55 - 0.2 * light) * room.lamps
        return np.asarray(field, np.float32)

    def frame(i: int) -> np.ndarray:
        t = i / FPS
        after = t >= s.cut and s.kind in SPLICES
        here = after_room if after and s.kind == "other_room" else room
        img = here.background.copy()
        people = after_people if after else room.people
        rise = 0.0
        if s.kind == "stand_up":
            rise = min(1.0, max(0.0, (t - s.cut) / 1.2)) * (1.0 if t < s.cut + 5 else 0.0)
        by_row: dict[float, list[Person]] = {}
        for p in people:
            by_row.setdefault(p.y, []).append(p)
        for row in here.rows:
            y = row[0][1] if row else 0
            for p in by_row.get(y, []):
                _draw_person(img, p, t, rise)
            for dx, dy, dw, dh in row:
                cv2.rectangle(img, (dx, dy - dh // 3), (dx + dw, dy + dh), (150, 110, 70), -1)
        if s.kind == "walk":
            for k, (delay, scale, seconds, way, who) in enumerate(walkers):
                progress = (t - s.cut - delay) / seconds
                if 0 <= progress <= 1:
                    x0 = view + (progress if way > 0 else 1 - progress) * (W + 100) - 50
                    walker = Person(x0, H * (0.55 + 0.2 * scale / 2.2), 1.6 * scale, who.shirt,
                                    who.skin, who.hair, k)  # fmt: skip
                    _draw_person(img, walker, t, walk=t * 7)
        img *= gain(t, after)[..., None]
        x: float = view
        if s.kind == "pan":
            pan_seconds, share = pan
            progress = min(1.0, max(0.0, (t - s.cut) / pan_seconds))
            eased = 0.5 - 0.5 * math.cos(math.pi * progress)
            x = float(np.clip(view + share * W * eased * (1 if view < width / 2 - W / 2 else -1),
                              0, width - W))  # fmt: skip
        shift = np.array([[1, 0, -x], [0, 1, 0]], np.float32)
        picture = np.asarray(cv2.warpAffine(img, shift, (W, H), flags=cv2.INTER_LINEAR))
        return np.clip(picture + fields[i % len(fields)], 0, 255).astype(np.uint8)

    return frame


def write(path: Path, s: Scene) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    paint = painter(s)
    with av.open(str(tmp), "w", format="mp4") as out:
        options = {"preset": "veryfast", "crf": str(s.crf), "g": str(s.gop), "bf": "2"}
        stream = out.add_stream("libx264", rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for i in range(SECONDS * FPS):
            picture = av.VideoFrame.from_ndarray(paint(i), format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, FPS)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    tmp.rename(path)
    return path


def measure(path: Path) -> ClipPicture:
    """The picture pass as a lesson gets it: about a frame a second, keyframes alone."""
    config = PictureConfig()
    sink = PictureSink(config, 60.0, config.every)
    sampling = Sampling(every=config.every, keyframe_gap=config.keyframe_gap, width=config.width)
    return sink.finish(sample_clip(path, sampling, sink.add))


def old_test(p: ClipPicture) -> np.ndarray:
    """The cut test before the score: every gate at once (hash, then histogram or change)."""
    known = ~np.isnan(p.change)
    typical = float(np.median(p.change[known])) if known.any() else 0.0
    with np.errstate(invalid="ignore"):
        return (p.hash_change >= 24) & ((p.hist_change >= 0.5) | (p.change >= 4.0 * typical))


def _one(args: tuple[Path, Scene]) -> tuple[Scene, ClipPicture, float]:
    cache, s = args
    started = time.perf_counter()
    path = write(cache / s.name, s)
    made = time.perf_counter() - started
    return s, measure(path), made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cache = Path(os.environ.get("VIDEO_AUDIT_BENCH_CACHE", "/tmp/va-bench")) / "cuts"
    parser.add_argument("--cache", type=Path, default=cache)
    parser.add_argument("--clips", type=int, default=12, help="clips per kind")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--features", action="store_true", help="print each clip's measures")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}")
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print("load average at start (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    score = CutScore.from_profile(load_profile(None))
    jobs = [(args.cache, scene(kind, n)) for kind in SPLICES + NO_CUTS for n in range(args.clips)]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(_one, jobs))
    print(f"{len(results)} clips of {SECONDS} s, {W}×{H}, {FPS} fps, made and measured in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    # kind -> (score at the cut or the clip's highest, highest elsewhere, old test at the cut)
    table: dict[str, list[tuple[float, float, bool, bool]]] = {}
    timing: list[float] = []
    for s, p, _ in results:
        t0 = time.perf_counter()
        values = score.scores(p)
        timing.append(time.perf_counter() - t0)
        old = old_test(p)
        across = np.zeros(values.shape, bool)
        if s.kind in SPLICES:
            k = int(np.searchsorted(p.times, s.cut))
            across[max(k, 1) : k + 1] = True
        at_cut = float(values[across].max()) if across.any() else float(values.max())
        elsewhere = float(values[~across].max()) if (~across).any() else 0.0
        old_cut = bool(old[across].any()) if across.any() else bool(old.any())
        table.setdefault(s.kind, []).append((at_cut, elsewhere, old_cut, bool(old[~across].any())))
        if args.features:
            k = (
                int(np.argmax(np.where(across, values, -1)))
                if across.any()
                else int(np.argmax(values))
            )
            feats = {n: round(float(v[k]), 2) for n, v in score.features(p).items()}
            print(f"  {s.name:<34} at {p.times[k]:5.1f} score {values[k]:.2f} {feats}")
    print(f"score per clip (median): {1000 * statistics.median(timing):.2f} ms")
    head = (
        "kind".ljust(14)
        + "".join(f"{t:>7}" for t in THRESHOLDS)
        + "    old   scores (min/median/max)"
    )
    print("\nsplices: recall at each threshold (the step across the cut)")
    print(head)
    for kind in SPLICES:
        rows = table[kind]
        cut = [r[0] for r in rows]
        line = "".join(f"{np.mean([c >= t for c in cut]):7.2f}" for t in THRESHOLDS)
        old_rate = float(np.mean([r[2] for r in rows]))
        print(f"{kind:<14}{line}  {old_rate:5.2f}   {min(cut):.2f}/{statistics.median(cut):.2f}/"
              f"{max(cut):.2f}")  # fmt: skip
    print(
        "\nfalse-cut rate: share of clips with a step at or above the threshold (away from a cut)"
    )
    print(head)
    for kind in SPLICES + NO_CUTS:
        rows = table[kind]
        worst = [r[0] if kind in NO_CUTS else r[1] for r in rows]
        line = "".join(f"{np.mean([w >= t for w in worst]):7.2f}" for t in THRESHOLDS)
        old_rate = float(np.mean([r[2] if kind in NO_CUTS else r[3] for r in rows]))
        spread = f"{min(worst):.2f}/{statistics.median(worst):.2f}/{max(worst):.2f}"
        print(f"{kind:<14}{line}  {old_rate:5.2f}   {spread}")
    print("load average now (1/5/15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
