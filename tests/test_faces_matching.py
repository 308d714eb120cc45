"""Tracking, clustering and matching on controlled inputs: the decisions, one rule at a time."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from video_audit.faces.clustering import EmbeddedTrack, Person, cluster
from video_audit.faces.engine import Face, Thresholds, distances
from video_audit.faces.matching import MatchPolicy, match_day
from video_audit.faces.roster import Role, RosterEntry
from video_audit.faces.tracking import Sighting, Track, Tracker, global_shift, iou, shift_gray

T = Thresholds(accept=0.45, review=0.6, margin=0.08, cluster=0.5)
POLICY = MatchPolicy(T, agreement=0.6, calibration=0.8)


def face(x: float, y: float, size: float = 100, quality: float = 0.8) -> Face:
    chip = np.zeros((150, 150, 3), np.uint8)
    return Face((x, y, x + size, y + size), np.zeros((5, 2)), 1.0, chip, quality=quality)


def unit(seed: int, dim: int = 128) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim)
    return v / np.linalg.norm(v) * 0.5


def near(v: np.ndarray, d: float, seed: int) -> np.ndarray:
    """A vector at Euclidean distance d from v."""
    step = np.random.default_rng(seed).normal(size=v.shape)
    step -= step.dot(v) / v.dot(v) * v  # orthogonal, so the distance is exact
    return v + step / np.linalg.norm(step) * d


def track(clip: str, tid: int, samples: list[int], vectors: list[np.ndarray]) -> EmbeddedTrack:
    t = Track(clip, tid)
    t.sightings = [Sighting(s, s * 0.5, face(0, 0)) for s in samples]
    return EmbeddedTrack(t, [face(0, 0) for _ in vectors], vectors)


def entry(pid: str, vectors: list[np.ndarray], role: Role = "trainee") -> RosterEntry:
    return RosterEntry(pid, pid, role, [Path(f"{pid}.jpg")], [2], [2], list(vectors))


# --- tracking ---------------------------------------------------------------------------------


def test_two_faces_in_one_frame_are_two_tracks_and_follow_a_pan() -> None:
    tracker = Tracker("clip")
    # Two people 300 px apart; the camera pans 120 px left per sample (faces move 120 px).
    for k in range(6):
        dx = -120.0 * k
        tracker.update(k, k * 0.5, [face(500 + dx, 200), face(800 + dx, 220)], (-120.0, 0.0))
    assert len(tracker.tracks) == 2
    assert all(len(t.sightings) == 6 for t in tracker.tracks)
    assert tracker.tracks[0].overlaps(tracker.tracks[1])


def test_without_the_pan_shift_tracks_break() -> None:
    tracker = Tracker("clip")
    for k in range(4):
        tracker.update(k, k * 0.5, [face(500 - 150.0 * k, 200)], (0.0, 0.0))
    assert len(tracker.tracks) == 4  # the shift is what keeps a fast pan in one track


def test_global_shift_measures_a_pan() -> None:
    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (768, 2600, 3), dtype=np.uint8), (0, 0), 3)
    a, b = scene[:, 400:1424], scene[:, 480:1504]  # the camera moved right: content moves left
    shift = global_shift(shift_gray(a), shift_gray(b), 1024)
    assert shift is not None
    dx, dy = shift
    assert dx == pytest.approx(-80, abs=6) and abs(dy) < 6
    far = scene[:, 1500:2524]  # nothing in common
    assert global_shift(shift_gray(a), shift_gray(far), 1024) is None


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_best_sightings_skip_unusable_faces() -> None:
    t = Track("c", 0)
    t.sightings = [
        Sighting(i, i, face(0, 0, quality=q)) for i, q in enumerate([0.0, 0.5, 0.9, 0.3])
    ]
    assert [s.face.quality for s in t.best(2)] == [0.9, 0.5]
    t.sightings = [Sighting(0, 0, face(0, 0, quality=0.0))]
    assert t.best(2) == [] and t.quality == 0.0


# --- clustering -------------------------------------------------------------------------------


def test_clustering_joins_a_person_across_clips() -> None:
    a, b = unit(1), unit(2)
    tracks = [
        track("roll1", 0, [0, 1], [a, near(a, 0.2, 1)]),
        track("roll1", 1, [0, 1], [b, near(b, 0.2, 2)]),
        track("roll2", 0, [3], [near(a, 0.25, 3)]),
        track("roll2", 1, [7], [near(b, 0.25, 4)]),
    ]
    people = cluster(tracks, "euclidean", T.cluster)
    assert len(people) == 2
    assert sorted(len(p.tracks) for p in people) == [2, 2]
    assert all(p.clips == ["roll1", "roll2"] for p in people)


def test_two_faces_in_one_frame_are_never_one_person() -> None:
    v = unit(5)
    # Identical embeddings (twins, or a poster of the same face) seen in the same frame.
    tracks = [track("roll1", 0, [2, 3], [v]), track("roll1", 1, [3, 4], [v])]
    assert len(cluster(tracks, "euclidean", T.cluster)) == 2
    # The same two tracks one after the other are one person.
    tracks = [track("roll1", 0, [1, 2], [v]), track("roll1", 1, [3, 4], [v])]
    assert len(cluster(tracks, "euclidean", T.cluster)) == 1


# --- matching and the review band -------------------------------------------------------------


def people_for(*vectors: list[np.ndarray]) -> list[Person]:
    return cluster(
        [track(f"c{i}", 0, [i * 10], vs) for i, vs in enumerate(vectors)], "euclidean", 0.0
    )


def test_clear_matches_are_present_one_to_one() -> None:
    roster = [entry("A", [unit(1)]), entry("B", [unit(2)]), entry("C", [unit(3)])]
    seen = people_for([near(unit(1), 0.2, 9), near(unit(1), 0.25, 8)], [near(unit(2), 0.3, 7)])
    matches = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert sorted((m.status, m.entry) for m in matches) == [("present", "A"), ("present", "B")]


def test_distance_between_accept_and_review_goes_to_review() -> None:
    roster = [entry("A", [unit(1)]), entry("B", [unit(2)])]
    seen = people_for([near(unit(1), 0.52, 1)] * 2)
    (m,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert m.status == "review" and "distance" in m.reasons
    assert m.candidates[0][0] == "A"


def test_no_margin_over_the_next_best_goes_to_review() -> None:
    a = unit(1)
    look_alike = near(a, 0.12, 3)  # two roster people who look alike
    roster = [entry("A", [a]), entry("A2", [look_alike])]
    seen = people_for([near(a, 0.15, 4), near(a, 0.15, 5)])
    (m,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert m.status == "review" and "margin" in m.reasons
    assert {c for c, _ in m.candidates} == {"A", "A2"}


def test_frames_that_disagree_go_to_review() -> None:
    a, b = unit(1), unit(2)
    roster = [entry("A", [a]), entry("B", [b])]
    middle = (a + b) / 2
    # The centre is near A, but most single frames are nearer B.
    frames = [near(a, 0.1, 1), near(middle, 0.05, 2), near(middle, 0.05, 3)]
    frames += [near(b + (a - b) * 0.45, 0.02, 4)]
    seen = people_for(frames)
    (m,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert m.status != "present"


def test_far_faces_are_unknown() -> None:
    roster = [entry("A", [unit(1)])]
    seen = people_for([unit(42)])
    (m,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert m.status == "unknown" and m.candidates == []


def test_class_calibration_tightens_accept() -> None:
    # Two roster strangers only 0.5 apart: accept becomes 0.8 × 0.5 = 0.4.
    assert POLICY.accept_for(0.5) == pytest.approx(0.4)
    assert POLICY.accept_for(0.9) == T.accept
    roster = [entry("A", [unit(1)]), entry("Z", [unit(9)])]
    seen = people_for([near(unit(1), 0.42, 1)] * 2)
    (loose,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    (tight,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=0.5)
    assert loose.status == "present" and tight.status == "review"


def test_a_rival_person_as_close_sends_both_to_review() -> None:
    a = unit(1)
    roster = [entry("A", [a]), entry("B", [unit(2)])]
    seen = people_for([near(a, 0.2, 1)], [near(a, 0.22, 2)])
    matches = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert not any(
        m.status == "present" and m.entry == "A" for m in matches if "rival" in m.reasons
    )
    assert sum(m.status == "present" for m in matches) <= 1
    assert any(m.status == "review" for m in matches)


def test_several_photos_per_person_use_the_closest() -> None:
    a_old, a_new = unit(1), unit(11)
    roster = [entry("A", [a_old, a_new]), entry("B", [unit(2)])]
    seen = people_for([near(a_new, 0.2, 1), near(a_new, 0.2, 2)])
    (m,) = match_day(seen, roster, "euclidean", POLICY, stranger_floor=None)
    assert (m.status, m.entry) == ("present", "A")


def test_distances_helpers_agree() -> None:
    a, b = unit(1), unit(2)
    d = distances("euclidean", np.array([a]), np.array([a, b]))
    assert d[0, 0] == pytest.approx(0, abs=1e-6)
    assert d[0, 1] == pytest.approx(float(np.linalg.norm(a - b)))
    c = distances("cosine", np.array([a]), np.array([a, -a]))
    assert c[0, 0] == pytest.approx(0, abs=1e-9) and c[0, 1] == pytest.approx(2)
