"""Face detection: dlib HOG (as the embedded engine runs it) against MTCNN on onnxruntime.

Run: `.venv/bin/python -m bench.detect [--repeats 3] [--fit]`.

Inputs (1024×768 frames): the sample face roll bench/faces.py times (10 s, 5 fps, six people from
insightface's t1.jpg), and face rolls panned past heads made from ../shared/eval photos
(faces-east-asian: six "days", one photo of each of the seven people per day, faces 100–200 px;
faces: the six photos of two people in one row). Where each face is, is known from how the
frames were made (sample_faces.pan), so recall and false detections are counted against that.

Reported per detector setting: median time per frame (one thread; medians over frames of the
per-frame median over REPEATS passes), recall, false detections; and, for faces both found,
how far apart dlib's 128-d descriptors are when the aligned chip comes from HOG's box (what the
embedded engine does now) or from MTCNN's: its box straight into dlib's 5-point shape predictor,
its box mapped to HOG's framing first (HOG_FRAMING), or its own five landmarks (face_chip).

--fit: refit HOG_FRAMING and CHIP_TEMPLATE (video_audit/faces/mtcnn.py) on the eval photos.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.faces import CACHE, EVAL
from video_audit.faces.mtcnn import ROLL_NMS, ROLL_THRESHOLDS, Mtcnn, face_chip, hog_framed
from video_audit.faces.roster import read_photo
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import T1_FACES, FaceShot, pan, portraits

W, H = 1024, 768
FAST = (ROLL_THRESHOLDS, ROLL_NMS)
"""'MTCNN fast': mtcnn.py's stricter stage and NMS thresholds (fewer R-Net / O-Net crops)."""
Box = tuple[float, float, float, float]


@dataclass
class Shot:
    """One frame and the faces in it (boxes framed like dlib's HOG boxes)."""

    set: str
    frame: np.ndarray
    truth: list[Box]
    partial: list[Box]
    """Faces cut by the frame edge: neither missed nor false when found."""


class Dlib:
    """dlib's detector, 5-point shape predictor and encoder, as the embedded engine uses them."""

    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shaper = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def hog(self, rgb: np.ndarray, width: int = 768, upsample: int = 0) -> list[Box]:
        """EmbeddedEngine._detect's boxes: HOG on a copy scaled to WIDTH, upsample 0."""
        h, w = rgb.shape[:2]
        s = min(1.0, width / w)
        small = rgb if s == 1.0 else cv2.resize(rgb, (round(w * s), round(h * s)), None, 0, 0,
                                                cv2.INTER_AREA)  # fmt: skip
        rects, _, _ = self.detector.run(np.ascontiguousarray(small), upsample, 0.0)
        return [
            (
                float(round(r.left() / s)),
                float(round(r.top() / s)),
                float(round(r.right() / s)),
                float(round(r.bottom() / s)),
            )
            for r in rects
        ]

    def shape(self, rgb: np.ndarray, box: Box) -> Any:
        rect = self.dlib.rectangle(*(round(v) for v in box))
        return self.shaper(rgb, rect)

    def chip(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        return np.asarray(self.dlib.get_face_chip(rgb, self.shape(rgb, box), 150, 0.25))

    def descriptor(self, chip: np.ndarray) -> np.ndarray:
        return np.asarray(self.encoder.compute_face_descriptor(np.ascontiguousarray(chip)))

    def to_chip(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        """The 2×3 affine taking frame pixels into dlib's 150 px chip for this box."""
        d = self.dlib.get_face_chip_details(self.shape(rgb, box), 150, 0.25)
        r = d.rect
        cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
        c, s = np.cos(d.angle), np.sin(d.angle)
        src = []
        for x, y in ((r.left(), r.top()), (r.right(), r.top()), (r.right(), r.bottom())):
            dx, dy = x - cx, y - cy
            src.append((cx + c * dx - s * dy, cy + s * dx + c * dy))
        dst = np.array([(0, 0), (d.cols - 1, 0), (d.cols - 1, d.rows - 1)], np.float32)
        return np.asarray(cv2.getAffineTransform(np.array(src, np.float32), dst))


def centre_in(det: Box, truth: Box) -> bool:
    """A detection is of a face when its centre lies in the face's box and its size is within
    a factor of two."""
    cx, cy = (det[0] + det[2]) / 2, (det[1] + det[3]) / 2
    ds, ts = det[2] - det[0], truth[2] - truth[0]
    return truth[0] <= cx <= truth[2] and truth[1] <= cy <= truth[3] and 0.5 <= ds / ts <= 2


# ---- inputs ---------------------------------------------------------------------------------


def roll_shots() -> list[Shot]:
    """The sample face roll (decoded from the MP4) and where its six faces are in each frame."""
    import av

    clip = CACHE / "faces" / "sample-roll-5.mp4"
    if not clip.exists():
        write_clip(clip, ClipSpec(10, 5, faces=FaceShot("roll", (0, 1, 2, 3, 4, 5), seed=1)))
    with av.open(str(clip)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    shot = FaceShot("roll", (0, 1, 2, 3, 4, 5), seed=1)
    heads = shot._faces(W * 0.15)
    boxes = []
    for k, (img, (_, _, size)) in enumerate(zip(heads, T1_FACES, strict=True)):
        side0 = portraits()[k].shape[1]
        sc = img.shape[1] / side0
        boxes.append((side0 // 2 * sc, int(side0 * 0.45) * sc, size * sc))
    return _placed(
        "sample roll", frames, [img.shape[1] for img in heads], boxes, len(frames), shot.seed
    )


def _placed(
    name: str,
    frames: list[np.ndarray],
    widths: list[int],
    faces: list[tuple[float, float, float]],
    count: int,
    seed: int,
) -> list[Shot]:
    """Truth boxes for frames made by sample_faces.pan: faces[k] = (centre x, centre y, size)
    inside head k, as placed along the strip the camera crosses."""
    side = max(widths)
    spacing = int(side * 1.5)
    strip_w = max(W, spacing * len(widths) + W // 2)
    rng = np.random.default_rng(seed + 1)
    strip = []
    for k, (fx, fy, size) in enumerate(faces):
        x = W // 4 + k * spacing
        y = int(H * 0.22 + rng.integers(-H // 20, H // 20))
        strip.append((x + fx - size / 2, y + fy - size / 2, x + fx + size / 2, y + fy + size / 2))
    out = []
    for i, frame in enumerate(frames):
        shift = int((strip_w - W) * i / max(1, count - 1))
        truth, partial = [], []
        for x0, y0, x1, y1 in strip:
            b = (x0 - shift, y0, x1 - shift, y1)
            if b[0] >= 0 and b[2] <= W:
                truth.append(b)
            elif b[2] > 0 and b[0] < W:
                partial.append(b)
        out.append(Shot(name, frame, truth, partial))
    return out


def lesson_shots() -> list[Shot]:
    """Wide lesson shots: the six t1.jpg people at 30–60 px faces on a classroom wall."""
    shots = []
    for seed, share in enumerate((0.03, 0.04, 0.05, 0.06)):
        shot = FaceShot("lesson", (0, 1, 2, 3, 4, 5), seed=seed, face_share=share)
        heads = shot._faces(W * share)
        truth: list[Box] = []
        for k, img in enumerate(heads):
            side0 = portraits()[k].shape[1]
            sc = img.shape[1] / side0
            x, y = int(W * (0.08 + 0.84 * k / len(heads))), int(H * 0.40)
            cx, cy, size = x + side0 // 2 * sc, y + int(side0 * 0.45) * sc, T1_FACES[k][2] * sc
            truth.append((cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2))
        shots.append(Shot(f"lesson {share * W:.0f} px", shot.frames(W, H, 1)(0), truth, []))
    return shots


def _photo_face(d: Dlib, photo: Path) -> tuple[np.ndarray, Box] | None:
    """The photo padded (the east Asian crops are tight) and its largest HOG face."""
    img = read_photo(photo)
    if img is None:
        return None
    pad = max(40, img.shape[0] // 4)
    img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    if max(img.shape[:2]) < 400:
        img = cv2.resize(img, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    boxes = d.hog(img, width=10_000, upsample=1)
    if not boxes:
        return None
    return img, max(boxes, key=lambda b: b[2] - b[0])


def _head(img: np.ndarray, box: Box, face_px: float) -> tuple[np.ndarray, tuple[float, ...]]:
    """bench/faces.py's head crop (face with hair and neck) scaled to a FACE_PX face; returns it
    and the face's (centre x, centre y, size) in it."""
    x0, y0, x1, y1 = box
    size = x1 - x0
    side = 1.7 * size
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    pad = int(side)
    big = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    top, left = int(cy - 0.45 * side) + pad, int(cx - side / 2) + pad
    crop = big[top : top + int(side), left : left + int(side)]
    s = face_px / size
    head = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", head, [cv2.IMWRITE_JPEG_QUALITY, 85])
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else None
    head = head if decoded is None else np.asarray(decoded)
    fx = (cx - (int(cx - side / 2))) * head.shape[1] / int(side)
    fy = (cy - (int(cy - 0.45 * side))) * head.shape[0] / int(side)
    return head, (fx, fy, size * head.shape[1] / int(side))


def eval_shots(d: Dlib, per_day: int = 8) -> list[Shot]:
    """Face rolls made from the eval photos (see the module docstring)."""
    shots: list[Shot] = []
    ea = EVAL / "faces-east-asian"
    if ea.is_dir():
        people = sorted(p for p in ea.iterdir() if p.is_dir())
        for day in range(6):
            heads, faces = [], []
            for k, who in enumerate(people):
                photo = sorted(who.iterdir())[day + 1]
                found = _photo_face(d, photo)
                if found is None:
                    continue
                head, face = _head(*found, face_px=(100, 130, 160, 200)[(day + k) % 4])
                heads.append(head)
                faces.append(face)
            shots += _pan_shots("east Asian rolls", heads, faces, per_day, day)
    west = EVAL / "faces"
    if west.is_dir():
        heads, faces = [], []
        for k, photo in enumerate(sorted(west.glob("*/*"))):
            found = _photo_face(d, photo)
            if found is not None:
                head, face = _head(*found, face_px=(110, 150, 190)[k % 3])
                heads.append(head)
                faces.append(face)
        shots += _pan_shots("western roll", heads, faces, per_day, 7)
    return shots


def _pan_shots(name: str, heads: list, faces: list, count: int, seed: int) -> list[Shot]:
    if not heads:
        return []
    frame = pan(heads, W, H, count, seed)
    frames = [frame(i) for i in range(count)]
    return _placed(name, frames, [h.shape[1] for h in heads], faces, count, seed)


# ---- measurements ---------------------------------------------------------------------------


def timed(fn: Any, shots: list[Shot], repeats: int) -> tuple[float, list[list[Box]]]:
    """Median seconds per frame (median of REPEATS per frame, then over frames), and boxes."""
    per: list[list[float]] = [[] for _ in shots]
    out: list[list[Box]] = []
    for r in range(repeats):
        for i, s in enumerate(shots):
            t = time.perf_counter()
            boxes = fn(s.frame)
            per[i].append(time.perf_counter() - t)
            if r == 0:
                out.append(boxes)
    return float(np.median([np.median(p) for p in per])), out


def recall(shots: list[Shot], found: list[list[Box]]) -> tuple[int, int, int]:
    """(faces found, faces, false detections)."""
    hit = total = false = 0
    for s, boxes in zip(shots, found, strict=True):
        total += len(s.truth)
        hit += sum(any(centre_in(b, t) for b in boxes) for t in s.truth)
        false += sum(not any(centre_in(b, t) for t in s.truth + s.partial) for b in boxes)
    return hit, total, false


def configs(m: Mtcnn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for width in (None, 768, 640, 512):
        for mf in (40, 60, 80):
            name = f"MTCNN min_face {mf}, {'full 1024' if width is None else width} px"

            def fn(rgb: np.ndarray, mf: int = mf, width: int | None = width) -> list[Box]:
                return [x.box for x in m.detect(rgb, mf, max_width=width)]

            out[name] = fn
    fast = Mtcnn(FAST[0], FAST[1])
    fast.load()
    for width, mf in ((None, 80), (640, 60), (512, 80)):
        name = f"MTCNN fast, min_face {mf}, {'full 1024' if width is None else width} px"

        def fn2(rgb: np.ndarray, mf: int = mf, width: int | None = width) -> list[Box]:
            return [x.box for x in fast.detect(rgb, mf, max_width=width)]

        out[name] = fn2
    return out


def descriptors(d: Dlib, m: Mtcnn, shots: list[Shot], every: int) -> dict[str, list[float]]:
    """Distances from the HOG-chip descriptor, for faces both found (every EVERY-th frame).

    For scale, "HOG box moved 3%" is the HOG box itself shifted right and down by 3% of its
    size (about the frame-to-frame wobble of a detector box)."""
    fast = Mtcnn(*FAST)
    keys = ("HOG box moved 3%", "box", "mapped box", "landmarks", "512 px, mapped box")
    dist: dict[str, list[float]] = {k: [] for k in (*keys, "fast 512 px mf 80, mapped box")}
    for s in shots[::every]:
        hog = d.hog(s.frame)
        dets = m.detect(s.frame, 40)
        small = m.detect(s.frame, 40, max_width=512)
        quick = fast.detect(s.frame, 80, max_width=512)
        for t in s.truth:
            hb = next((b for b in hog if centre_in(b, t)), None)
            md = next((x for x in dets if centre_in(x.box, t)), None)
            if hb is None or md is None:
                continue
            ref = d.descriptor(d.chip(s.frame, hb))
            j = 0.03 * (hb[2] - hb[0])
            chips = {
                "HOG box moved 3%": d.chip(s.frame, (hb[0] + j, hb[1] + j, hb[2] + j, hb[3] + j)),
                "box": d.chip(s.frame, md.box),
                "mapped box": d.chip(s.frame, hog_framed(md.box)),
                "landmarks": face_chip(s.frame, md.landmarks),
            }
            for key, found in (
                ("512 px, mapped box", small),
                ("fast 512 px mf 80, mapped box", quick),
            ):
                x = next((x for x in found if centre_in(x.box, t)), None)
                if x is not None:
                    chips[key] = d.chip(s.frame, hog_framed(x.box))
            for k, chip in chips.items():
                dist[k].append(float(np.linalg.norm(d.descriptor(chip) - ref)))
    return dist


def fit(d: Dlib, m: Mtcnn) -> None:
    """Refit HOG_FRAMING and CHIP_TEMPLATE on the eval photos (prints the constants)."""
    rel, marks = [], []
    for photo in sorted(EVAL.glob("*/*/*")):
        found = _photo_face(d, photo)
        if found is None:
            continue
        img, hb = found
        md = next((x for x in m.detect(img, 40) if centre_in(x.box, hb)), None)
        if md is None:
            continue
        x0, y0, x1, y1 = md.box
        w, h = x1 - x0, y1 - y0
        rel.append(((hb[0] - x0) / w, (hb[1] - y0) / h, (hb[2] - x1) / w, (hb[3] - y1) / h))
        affine = d.to_chip(img, hb)
        pts = np.hstack([md.landmarks, np.ones((5, 1))]) @ affine.T
        marks.append(pts)
    r = np.median(np.array(rel), axis=0)
    print(f"faces both found: {len(rel)}")
    print(f"HOG_FRAMING = ({r[0]:.3f}, {r[1]:.3f}, {r[2]:.3f}, {r[3]:.3f})")
    print("spread (IQR):", np.round(np.subtract(*np.percentile(rel, [75, 25], axis=0)), 3))
    t = np.median(np.array(marks), axis=0)
    print("CHIP_TEMPLATE =", np.round(t, 2).tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit", action="store_true", help="refit the box and chip constants")
    parser.add_argument("--timing-only", action="store_true", help="skip the descriptor check")
    parser.add_argument("--every", type=int, default=2, help="descriptor check: every Nth frame")
    args = parser.parse_args()
    d, m = Dlib(), Mtcnn()
    m.load()
    if args.fit:
        fit(d, m)
        return
    cv2.setNumThreads(1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    shots = roll_shots() + eval_shots(d)
    sets = list(dict.fromkeys(s.set for s in shots))
    print(f"frames: {', '.join(f'{n} {sum(s.set == n for s in shots)}' for n in sets)}")
    runs = {"HOG 768 px, upsample 0 (embedded engine)": lambda rgb: d.hog(rgb)}
    runs.update(configs(m))
    print("\n| detector | ms / frame | " + " | ".join(f"{n}: found / faces, false" for n in sets))
    print("|---|---|" + "---|" * len(sets))
    for name, fn in runs.items():
        sec, found = timed(fn, shots, args.repeats)
        cells = []
        for n in sets:
            idx = [i for i, s in enumerate(shots) if s.set == n]
            hit, total, false = recall([shots[i] for i in idx], [found[i] for i in idx])
            cells.append(f"{hit}/{total}, {false}")
        print(f"| {name} | {sec * 1000:.1f} | " + " | ".join(cells) + " |")
    print(f"load after timing: {os.getloadavg()[0]:.2f}")
    wide = lesson_shots()
    print("\nWide lesson shots (small faces), one frame each:")
    print("| detector | ms / frame | " + " | ".join(s.set for s in wide) + " |")
    print("|---|---|" + "---|" * len(wide))
    for name, fn in {
        "HOG 768 px, upsample 0": lambda rgb: d.hog(rgb),
        "HOG full 1024 px, upsample 1 (engine's tiled)": lambda rgb: d.hog(rgb, 10_000, 1),
        "MTCNN min_face 24, full 1024 px": lambda rgb: [x.box for x in m.detect(rgb, 24)],
        "MTCNN min_face 32, full 1024 px": lambda rgb: [x.box for x in m.detect(rgb, 32)],
    }.items():
        sec, found = timed(fn, wide, args.repeats)
        cells = ["{}/{}, {}".format(*recall([s], [f])) for s, f in zip(wide, found, strict=True)]
        print(f"| {name} | {sec * 1000:.1f} | " + " | ".join(cells) + " |")
    if args.timing_only:
        return
    print("\nDescriptor distance from the HOG chip's (dlib ResNet, Euclidean), faces both found:")
    print("| chip from | faces | median | 95th pct | max |")
    print("|---|---|---|---|---|")
    for set_name in sets:
        dist = descriptors(d, m, [s for s in shots if s.set == set_name], args.every)
        for k, v in dist.items():
            if v:
                print(f"| {set_name}: {k} | {len(v)} | {np.median(v):.3f} | "
                      f"{np.percentile(v, 95):.3f} | {max(v):.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
