"""Detection, quality and per-clip tracking on real faces (insightface's installed photos)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from video_audit.faces.analysis import RollAnalyzer, RollSettings
from video_audit.faces.embedded import EmbeddedEngine
from video_audit.faces.engine import EngineError, Face, distance, rate
from video_audit.faces.select import select_engine
from video_audit.faces.settings import face_settings
from video_audit.faces.video import drive
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import T1_FACES, UNKNOWN, FaceShot, augment, portraits
from video_audit.standard import load_profile

FS = face_settings(load_profile().section("faces"))


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    e = EmbeddedEngine(FS.thresholds("embedded"), detect_width=FS.detect_width)
    e.load()
    return e


def test_finds_the_six_people_of_t1(engine: EmbeddedEngine, t1: np.ndarray) -> None:
    faces = sorted(engine.detect(t1, tiled=True), key=lambda f: f.box[0])
    assert len(faces) == 6
    for f, (cx, cy, size) in zip(faces, T1_FACES, strict=True):
        x0, y0, x1, y1 = f.box
        assert abs((x0 + x1) / 2 - cx) < size / 4 and abs((y0 + y1) / 2 - cy) < size / 4
        assert f.landmarks.shape == (5, 2) and f.chip.shape == (150, 150, 3)


@pytest.mark.parametrize(
    "change",
    [
        {"scale": 0.7},
        {"blur": 1.5},
        {"light": 0.6},
        {"light": 1.3},
        {"jpeg": 25},
        {"scale": 0.8, "blur": 1.0, "light": 0.8, "jpeg": 40},
    ],
)
def test_augmented_faces_are_found_and_stay_themselves(
    engine: EmbeddedEngine, change: dict[str, Any]
) -> None:
    clean = [engine.embed(_one(engine, p)) for p in portraits()[: UNKNOWN + 1]]
    for k, img in enumerate(portraits()[: UNKNOWN + 1]):
        seen = engine.embed(_one(engine, augment(img, **change)))
        own = distance("euclidean", seen, clean[k])
        others = [distance("euclidean", seen, c) for j, c in enumerate(clean) if j != k]
        assert own < engine.thresholds.accept, (k, change, own)
        # Never a stranger confidently: others stay beyond accept, and beyond own + margin.
        assert min(others) > engine.thresholds.accept, (k, change, min(others))
        assert min(others) - own > engine.thresholds.margin, (k, change)


def _one(engine: EmbeddedEngine, img: np.ndarray) -> Face:
    padded = cv2.copyMakeBorder(img, 80, 80, 80, 80, cv2.BORDER_REPLICATE)
    faces = engine.detect(padded) or engine.detect(padded, tiled=True)
    assert len(faces) == 1
    return faces[0]


def test_small_or_blurred_faces_are_not_identifiable(engine: EmbeddedEngine) -> None:
    img = cv2.copyMakeBorder(portraits()[0], 80, 80, 80, 80, cv2.BORDER_REPLICATE)
    (sharp,) = engine.detect(img)
    assert rate(sharp, FS.roll.min_face, FS.roll.min_sharpness).quality > 0
    (tiny,) = engine.detect(img)
    assert rate(tiny, sharp.size + 1, FS.roll.min_sharpness).quality == 0
    smeared = cv2.GaussianBlur(img, (0, 0), 4)
    found = engine.detect(smeared, tiled=True)
    assert all(rate(f, FS.roll.min_face, FS.roll.min_sharpness).quality == 0 for f in found)


def test_no_face_in_an_empty_room(engine: EmbeddedEngine) -> None:
    room = FaceShot("roll", ()).frames(1024, 768, 10)(3)
    assert engine.detect(room) == [] and engine.detect(room, tiled=True) == []


def roll_clip(tmp_path: Path, shot: FaceShot, seconds: float = 6) -> Path:
    return write_clip(tmp_path / "roll.mp4", ClipSpec(seconds, 5, faces=shot))


def test_a_panning_roll_gives_one_track_per_person(tmp_path: Path, engine: EmbeddedEngine) -> None:
    clip = roll_clip(tmp_path, FaceShot("roll", (0, 1, 2, 3), seed=4))
    analyzer = RollAnalyzer("roll.mp4", engine, FS.roll)
    assert drive(clip, analyzer) is None
    result = analyzer.finish()
    assert len(result.usable) == 4
    assert result.frames >= 4  # about one every 1.5 s (the profile's step) over 6 s
    assert all(len(t.sightings) >= 2 for t in result.usable)  # followed, not seen once each


def test_sampling_speeds_up_while_the_camera_pans(engine: EmbeddedEngine) -> None:
    strip = FaceShot("roll", (0, 1, 2, 3, 4, 5), seed=3).frames(1024, 768, 11)
    analyzer = RollAnalyzer("pan", engine, RollSettings(step=0.5, min_step=0.1))
    times = [i * 0.1 for i in range(11)]
    for i, t in enumerate(times):  # a whole pan in one second: ~250 px every 0.1 s
        if analyzer.wants(t):
            analyzer.feed(t, strip(i))
    assert analyzer.step < 0.5
    assert analyzer.result.frames >= 3


def test_sampling_slows_down_while_the_picture_is_steady(engine: EmbeddedEngine) -> None:
    still = FaceShot("roll", (0,), seed=1).frames(1024, 768, 2)(0)
    analyzer = RollAnalyzer("still", engine, RollSettings(step=0.5, min_step=0.1))
    times = [i * 0.1 for i in range(40)]
    for t in times:
        if analyzer.wants(t):
            analyzer.feed(t, still)
    assert analyzer.result.frames <= 9  # about every 0.5 s over 4 s, not 40 frames
    assert len(analyzer.finish().tracks) == 1


def test_a_broken_clip_keeps_what_was_seen(tmp_path: Path, engine: EmbeddedEngine) -> None:
    clip = roll_clip(tmp_path, FaceShot("roll", (0, 1), seed=2), seconds=4)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    analyzer = RollAnalyzer("roll.mp4", engine, FS.roll)
    drive(clip, analyzer)  # an error or a short read, never an exception
    (tmp_path / "junk.mp4").write_bytes(b"\x00" * 100)
    assert drive(tmp_path / "junk.mp4", RollAnalyzer("junk", engine, FS.roll)) is not None


def test_phone_clips_are_turned_upright_before_detection(engine: EmbeddedEngine) -> None:
    from video_audit.faces.passes import upright

    shown = cv2.copyMakeBorder(portraits()[1], 80, 80, 80, 80, cv2.BORDER_REPLICATE)
    # A phone held upright stores the picture turned 90° counter-clockwise and says -90.
    stored = np.rot90(shown, 1)
    assert engine.detect(np.ascontiguousarray(stored)) == []  # faces on their side: missed
    assert len(engine.detect(upright(stored, -90 % 360))) == 1
    assert upright(shown, 0) is shown


def test_the_hog_detector_remains_and_agrees_with_mtcnn(engine: EmbeddedEngine) -> None:
    """detector = "hog" (the first version) still works, and the MTCNN path's chips embed like
    HOG's: MTCNN's faces are re-found by HOG before alignment."""
    hog = EmbeddedEngine(FS.thresholds("embedded"), detect_width=768, detector="hog")
    assert hog.cache_key == "embedded" and engine.cache_key == "embedded-mtcnn"
    for img in portraits()[:4]:
        a = max(hog.detect(img) or hog.detect(img, tiled=True), key=lambda f: f.size)
        b = max(engine.detect(img) or engine.detect(img, tiled=True), key=lambda f: f.size)
        assert distance("euclidean", hog.embed(a), engine.embed(b)) < 0.15
    with pytest.raises(EngineError, match="unknown embedded detector"):
        EmbeddedEngine(FS.thresholds("embedded"), detector="cnn")


def test_sampling_speeds_up_when_people_come_and_go_faster_than_the_camera(
    engine: EmbeddedEngine,
) -> None:
    """A still camera, people stepping in and out one at a time (1.2 s each, each in their own
    place): the picture hardly moves, yet at the steady step most would be seen once."""
    rng = np.random.default_rng(3)
    room = cv2.GaussianBlur(rng.integers(40, 220, (768, 1024, 3), dtype=np.uint8), (0, 0), 1.5)
    shots = []
    for k in range(5):
        frame = room.copy()
        face = cv2.resize(portraits()[k], (180, 180))
        frame[250:430, 60 + 190 * k : 240 + 190 * k] = face
        shots.append(frame)
    analyzer = RollAnalyzer("step-in", engine, FS.roll)
    for i in range(60):  # 6 s at 10 fps
        t = i / 10
        if analyzer.wants(t):
            analyzer.feed(t, shots[min(4, int(t / 1.2))])
    assert analyzer.step < FS.roll.step
    tracks = analyzer.finish().usable
    assert len(tracks) == 5
    assert sum(len(t.sightings) >= 2 for t in tracks) >= 3


def test_people_taking_turns_in_one_spot_are_not_one_track(engine: EmbeddedEngine) -> None:
    """A still camera; one trainee stands before it, then another takes the same spot: position
    alone would make them one track (one person), and the second would be lost."""
    rng = np.random.default_rng(4)
    room = cv2.GaussianBlur(rng.integers(40, 220, (768, 1024, 3), dtype=np.uint8), (0, 0), 1.5)
    shots = []
    for k in (0, 1, 2):
        frame = room.copy()
        frame[250:450, 400:600] = cv2.resize(portraits()[k], (200, 200))
        shots.append(frame)
    analyzer = RollAnalyzer("turns", engine, FS.roll)
    for i in range(90):  # 9 s at 10 fps, 3 s each
        t = i / 10
        if analyzer.wants(t):
            analyzer.feed(t, shots[min(2, int(t / 3))])
    tracks = analyzer.finish().usable
    assert len(tracks) == 3
    first = [round(t.sightings[0].time) for t in sorted(tracks, key=lambda t: t.id)]
    assert first == [0, 3, 6]


def test_the_profile_chooses_the_detector_and_the_sampling() -> None:
    """[faces] detector, sizes and pan thresholds are data: read from the profile, used by the
    engine `auto` picks (here, with no pack, the embedded one)."""
    section = {
        **load_profile().section("faces"),
        "detector": "hog",
        "detect_width": 640,
        "detect_min_face": 80,
        "wide_min_face": 40,
        "fast_pan": 0.5,
        "slow_pan": 0.05,
    }
    fs = face_settings(section)
    assert (fs.roll.fast_pan, fs.roll.slow_pan) == (0.5, 0.05)
    engine = select_engine("embedded", fs)
    assert isinstance(engine, EmbeddedEngine)
    assert (engine.detector, engine.detect_width, engine.min_face, engine.wide_min_face) == (
        "hog",
        640,
        80.0,
        40.0,
    )
    assert engine.cache_key == "embedded"
    default = select_engine("embedded", FS)
    assert isinstance(default, EmbeddedEngine) and default.detector == "mtcnn"
