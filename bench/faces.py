"""Faces: accuracy of attendance decisions and speed of face-roll analysis (embedded engine).

Run: `.venv/bin/python -m bench.faces [--sets DIR ...] [--clips N] [--sweep]`.

Accuracy, on the photo sets of ../shared/eval (one folder per person): each person's photo r is
the roster photo; a "day" shows photo d of everyone (d ≠ r), with one person (in turn) left off
the roster so that a stranger is among them; the day's faces are matched as the audit does
(one-to-one, accept + margin + frame agreement + class calibration, review band). Every roster
photo is used in turn. Reported: precision of `present` (false presents are the costly error),
the share sent to review, recall (attendees present, or in review with the right candidate).

Synthetic classroom clips: the same photos composited into 10 s 1024×768 face-roll clips (the
camera pans along the row), run through the whole pipeline (decode, detect, track, embed,
cluster, match); also timed: seconds of footage analysed per second (× real time).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from video_audit.disc import Clip
from video_audit.faces.analysis import RollAnalyzer
from video_audit.faces.attendance import day_people
from video_audit.faces.clustering import EmbeddedTrack, Person
from video_audit.faces.engine import Face, FaceEngine, Metric, Thresholds, distances
from video_audit.faces.matching import Match, MatchPolicy, match_day
from video_audit.faces.people import decide
from video_audit.faces.roster import RosterEntry, read_photo
from video_audit.faces.select import select_engine
from video_audit.faces.settings import face_settings
from video_audit.faces.tracking import Sighting, Track
from video_audit.faces.video import drive
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import FaceShot, augment, pan
from video_audit.standard import load_profile

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CACHE = Path(os.environ.get("VIDEO_AUDIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "va-bench"))
FS = face_settings(load_profile().section("faces"))


@dataclass
class Tally:
    """Counts over many simulated days."""

    attendees: int = 0
    strangers: int = 0
    present_right: int = 0
    present_wrong: int = 0
    review: int = 0
    review_right: int = 0
    missed: int = 0
    undetected: int = 0
    wrong: list[str] = field(default_factory=list)

    def line(self) -> str:
        present = self.present_right + self.present_wrong
        precision = self.present_right / present if present else float("nan")
        seen = self.attendees + self.strangers
        recall = (self.present_right + self.review_right) / self.attendees if self.attendees else 0
        return (
            f"| {precision:.3f} ({self.present_wrong} false) | {self.review / max(1, seen):.2f} "
            f"| {recall:.3f} | {self.present_right / max(1, self.attendees):.2f} "
            f"| {self.attendees}+{self.strangers} |"
        )


def person(vectors: list[np.ndarray], tag: str, sample: int) -> Person:
    track = Track(tag, sample)
    return Person([EmbeddedTrack(track, [], vectors)])


def embed_photos(folder: Path, engine: FaceEngine) -> dict[str, list[np.ndarray | None]]:
    """Each person's photos embedded in name order (None: no face found)."""
    out: dict[str, list[np.ndarray | None]] = {}
    for who in sorted(p for p in folder.iterdir() if p.is_dir()):
        vectors: list[np.ndarray | None] = []
        for photo in sorted(who.iterdir()):
            img = read_photo(photo)
            faces = [] if img is None else engine.detect(img) or engine.detect(img, tiled=True)
            best = max(faces, key=lambda f: f.size) if faces else None
            vectors.append(engine.embed(best) if best else None)
        out[who.name] = vectors
    return out


def floor(vectors: list[np.ndarray], metric: Metric = "euclidean") -> float | None:
    if len(vectors) < 2:
        return None
    d = distances(metric, np.array(vectors), np.array(vectors))
    return float(d[~np.eye(len(vectors), dtype=bool)].min())


def photo_days(
    sets: dict[str, list[np.ndarray | None]], policy: MatchPolicy, metric: Metric = "euclidean"
) -> Tally:
    """Simulated days over one photo set (see the module docstring)."""
    tally = Tally()
    names = sorted(sets)
    most = max(len(v) for v in sets.values())
    for r in range(most):
        for d in range(most):
            if d == r:
                continue
            left_off = names[d % len(names)]
            roster = [
                RosterEntry(n, n, "trainee", [], [0], [0], [sets[n][r]])  # type: ignore[list-item]
                for n in names
                if n != left_off and r < len(sets[n]) and sets[n][r] is not None
            ]
            seen = [
                (n, person([sets[n][d]], n, i))  # type: ignore[list-item]
                for i, n in enumerate(names)
                if d < len(sets[n]) and sets[n][d] is not None
            ]
            tally.undetected += sum(1 for n in names if d < len(sets[n]) and sets[n][d] is None)
            if not roster or not seen:
                continue
            enrolled = {e.id for e in roster}
            f = floor([e.embeddings[0] for e in roster], metric)
            matches = match_day([p for _, p in seen], roster, metric, policy, f)
            truth = {id(p): n for n, p in seen}
            for m in matches:
                _score(tally, truth[id(m.person)], m, enrolled)
    return tally


def _score(tally: Tally, true: str, m: Match, enrolled: set[str]) -> None:
    status, entry = m.status, m.entry
    candidates = [c for c, _ in m.candidates]
    if true in enrolled:
        tally.attendees += 1
    else:
        tally.strangers += 1
    if status == "present":
        if entry == true:
            tally.present_right += 1
        else:
            tally.present_wrong += 1
            tally.wrong.append(f"{true}→{entry}")
    elif status == "review":
        tally.review += 1
        tally.review_right += true in enrolled and true in candidates
    elif true in enrolled:
        tally.missed += 1


def clip_days(
    folder: Path, engine: FaceEngine, policy: MatchPolicy, days: int, fps: int
) -> tuple[Tally, float, float]:
    """Whole-pipeline days on clips made from a photo set; returns the tally and the timing."""
    people = sorted(p for p in folder.iterdir() if p.is_dir())
    photos = {p.name: sorted(p.iterdir()) for p in people}
    roster = []
    for n, files in photos.items():
        img = read_photo(files[0])
        faces = engine.detect(img) if img is not None else []
        if faces:
            roster.append(RosterEntry(n, n, "trainee", [], [0], [0], [engine.embed(faces[0])]))
    f = floor([e.embeddings[0] for e in roster], engine.metric)
    tally, footage, spent = Tally(), 0.0, 0.0
    for d in range(1, days + 1):
        shown = [n for n in photos if d < len(photos[n])]
        heads: list[np.ndarray] = []
        kept: list[str] = []
        for n in shown:
            head = _head(photos[n][d], engine)
            if head is not None:
                heads.append(head)
                kept.append(n)
        tally.undetected += len(shown) - len(kept)
        shown = kept
        if not heads:
            continue
        clip = CACHE / "faces" / f"{folder.name}-{d}-{fps}.mp4"
        if not clip.exists():
            frame = pan(heads, 1024, 768, 10 * fps, seed=d)
            _write(clip, frame, fps)
        start = time.perf_counter()
        analyzer = RollAnalyzer(clip.name, engine, FS.roll)
        drive(clip, analyzer)
        result = analyzer.finish()
        found = day_people([result], engine, policy.cluster_for(f), FS.roll.keep)
        matches = match_day(found, roster, engine.metric, policy, f)
        spent += time.perf_counter() - start
        footage += 10.0
        # Who each found person is, from where the face was on the wall: sample_faces.pan puts
        # head k at x = w/4 + k × spacing along a strip the camera crosses at constant speed.
        side = max(h.shape[1] for h in heads)
        spacing = int(side * 1.5)
        travel = max(1024, spacing * len(heads) + 512) - 1024
        truth = {}
        for p in found:
            s0 = p.tracks[0].track.sightings[0]
            offset = travel * round(s0.time * fps) / max(1, 10 * fps - 1)
            centre = (s0.face.box[0] + s0.face.box[2]) / 2 + offset
            k = int(np.clip(round((centre - 256 - side / 2) / spacing), 0, len(shown) - 1))
            truth[id(p)] = shown[k]
        enrolled = {e.id for e in roster}
        tally.undetected += len(set(shown) - set(truth.values()))
        for m in matches:
            _score(tally, truth[id(m.person)], m, enrolled)
    return tally, footage, spent


def _head(photo: Path, engine: FaceEngine) -> np.ndarray | None:
    """The photo's face with some hair and neck, scaled to a 150 px face, as a camera shows it."""
    img = read_photo(photo)
    faces = [] if img is None else engine.detect(img) or engine.detect(img, tiled=True)
    if img is None or not faces:
        return None
    f = max(faces, key=lambda f: f.size)
    x0, y0, x1, y1 = f.box
    side = 1.7 * f.size
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    pad = int(side)
    big = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    top, left = int(cy - 0.45 * side) + pad, int(cx - side / 2) + pad
    crop = big[top : top + int(side), left : left + int(side)]
    return augment(crop, scale=150 / f.size, jpeg=85)


def _head_vector(head: np.ndarray, engine: FaceEngine) -> np.ndarray:
    padded = cv2.copyMakeBorder(head, 60, 60, 60, 60, cv2.BORDER_REPLICATE)
    faces = engine.detect(padded) or engine.detect(padded, tiled=True)
    if not faces:
        return np.full(512 if engine.metric == "cosine" else 128, 9.0)
    return engine.embed(max(faces, key=lambda f: f.size))


def _write(path: Path, frame: Callable[[int], np.ndarray], fps: int) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "28"})
        stream.width, stream.height, stream.pix_fmt = 1024, 768, "yuv420p"
        for i in range(10 * fps):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame(i), format="rgb24")))
        out.mux(stream.encode(None))


def speed(engine: FaceEngine, fps: int, runs: int = 3) -> tuple[float, float]:
    """× real time on a 10 s sample face roll (six people) at FPS, median of RUNS: by the wall
    clock, and by this process's CPU time (what it would be on an idle core)."""
    clip = CACHE / "faces" / f"sample-roll-{fps}.mp4"
    if not clip.exists():
        write_clip(clip, ClipSpec(10, fps, faces=FaceShot("roll", (0, 1, 2, 3, 4, 5), seed=1)))
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        analyzer = RollAnalyzer(clip.name, engine, FS.roll)
        drive(clip, analyzer)
        day_people([analyzer.finish()], engine, engine.thresholds.cluster, FS.roll.keep)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 10.0 / statistics.median(times), 10.0 / statistics.median(cpu)


def day_clips(fps: int, seconds: int = 10) -> list[Clip]:
    """A day's two sample face rolls (SECONDS each, six people every 10 s), made once."""
    from video_audit.media.probe import probe

    clips = []
    for slot, row in ((1, (0, 1, 2, 3, 4, 5)), (2, (5, 4, 3, 2, 1, 0))):
        people = row * max(1, seconds // 10)  # the same people again: speed only
        name = f"sample-day-roll{slot}-{fps}" + (f"-{seconds}s" if seconds != 10 else "")
        path = CACHE / "faces" / f"{name}.mp4"
        if not path.exists():
            write_clip(path, ClipSpec(seconds, fps, faces=FaceShot("roll", people, seed=slot)))
        clips.append(Clip(path, path.name, path.name, None, probe(path)))
    return clips


@dataclass
class DaySpeed:
    """Seconds (wall, CPU) of a day's face-roll analysis, medians, and the footage seconds."""

    footage: float
    faces_only: tuple[float, float]
    picture: tuple[float, float]
    both: tuple[float, float]

    def line(self) -> str:
        f, p, b = self.faces_only, self.picture, self.both
        added = (b[0] - p[0], b[1] - p[1])
        return (
            f"faces alone {self.footage / f[0]:.1f}× wall / {self.footage / f[1]:.1f}× CPU; "
            f"in the audit's pass, added to the picture checks' {p[0]:.2f} s wall / {p[1]:.2f} s "
            f"CPU: +{added[0]:.2f} s / +{added[1]:.2f} s = "
            f"{self.footage / max(added[0], 1e-3):.1f}× wall / "
            f"{self.footage / max(added[1], 1e-3):.1f}× CPU"
        )


def speed_day(engine: FaceEngine, fps: int, runs: int = 3, seconds: int = 10) -> DaySpeed:
    """A day's two face rolls through the shared frame pass as an audit runs them (two clips at
    once): faces alone (decoding included; then embedding and clustering), the picture checks
    alone, and both in one pass as an audit runs them — the difference is what face analysis
    adds. Runs alternate; medians of RUNS."""
    from video_audit.faces.passes import FaceAnalyzer
    from video_audit.media.frames import FrameAnalyzer, run_passes
    from video_audit.picture.measures import PictureAnalyzer, PictureConfig

    clips = day_clips(fps, seconds)
    picture = PictureAnalyzer(PictureConfig.from_profile(load_profile()))
    timed: dict[str, list[tuple[float, float]]] = {"faces": [], "picture": [], "both": []}
    for _ in range(runs):
        for kind in timed:
            start, start_cpu = time.perf_counter(), time.process_time()
            faces = FaceAnalyzer(engine, FS, rolls={c.rel for c in clips}, lessons=set())
            choice: dict[str, list[FrameAnalyzer]] = {
                "faces": [faces],
                "picture": [picture],
                "both": [picture, faces],
            }
            analyzers = choice[kind]
            passes = run_passes(clips, analyzers, threads=2)
            if kind != "picture":
                rolls = [p.results["faces"] for p in passes.values()]
                day_people(rolls, engine, engine.thresholds.cluster, FS.roll.keep)
            timed[kind].append((time.perf_counter() - start, time.process_time() - start_cpu))

    def median(kind: str) -> tuple[float, float]:
        return (
            statistics.median(w for w, _ in timed[kind]),
            statistics.median(c for _, c in timed[kind]),
        )

    return DaySpeed(float(seconds * len(clips)), median("faces"), median("picture"), median("both"))


@dataclass
class ReviewTally:
    """Inspector decisions a class needs, per day (before) and per class person (after)."""

    classes: int = 0
    days: int = 0
    attendees: int = 0
    review_cases_before: int = 0
    review_cells_before: int = 0
    present_before: int = 0
    wrong_before: int = 0
    review_people_after: int = 0
    people_after: int = 0
    review_cells_after: int = 0
    present_after: int = 0
    wrong_after: int = 0
    doubtful: int = 0
    absent_wrong: int = 0
    mixed: int = 0
    first_day_decisions: int = 0
    """Decisions an inspector makes on the class's first day (its people in review there)."""
    review_people_taught: int = 0
    """… and the review people of the other days once those confirmed faces enrol (item 4)."""
    review_people_untaught: int = 0
    present_taught: int = 0
    wrong_taught: int = 0
    link_cpu: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def prec(right: int, wrong: int) -> str:
            return f"{right / (right + wrong):.3f} ({wrong} false)" if right + wrong else "—"

        b, a = self.review_cases_before, self.review_people_after
        n = max(1, self.classes)
        return [
            f"{self.classes} classes × {self.days // max(1, self.classes)} days, "
            f"{self.attendees} attendee-days",
            f"before (per day): {b} review cases ({self.review_cells_before} review cells), "
            f"present {self.present_before} attendee-days, precision "
            f"{prec(self.present_before - self.wrong_before, self.wrong_before)}",
            f"after (per class person): {a} review people of {self.people_after} people "
            f"({self.review_cells_after} review cells), present {self.present_after} "
            f"attendee-days, precision "
            f"{prec(self.present_after - self.wrong_after, self.wrong_after)}"
            f", doubtful absences {self.doubtful}, trainees reported absent while there "
            f"{self.absent_wrong}, people joining two persons {self.mixed}",
            *self.wrong[:5],
            f"decisions per class: {b / max(1, self.classes):.1f} → {a / max(1, self.classes):.1f}"
            f" ({b / max(1, a):.1f}× fewer)",
            f"first day decided by an inspector ({self.first_day_decisions / n:.1f} decisions "
            f"per class), its confirmed faces enrolled: review people of the other days "
            f"{self.review_people_untaught / n:.1f} → {self.review_people_taught / n:.1f} per "
            f"class, present precision "
            f"{prec(self.present_taught - self.wrong_taught, self.wrong_taught)}",
        ]


def review_class(
    sets: dict[str, list[np.ndarray | None]],
    policy: MatchPolicy,
    metric: Metric,
    days: int = 11,
    absent_days: tuple[int, ...] = (3, 6, 9),
) -> ReviewTally:
    """Synthetic classes of DAYS days from one photo set: roster photo r (each photo in turn),
    day k shows photo (r + k) mod n of everyone; the last person is a stranger (not on the
    roster); the first trainee stays away on ABSENT_DAYS. Decisions before: each day's review
    cases; after: review people of the class (faces/people.py)."""
    tally = ReviewTally()
    names = sorted(sets)
    away = names[0]
    listed = names[:-1] if len(names) > 2 else names  # the last one a stranger, if there are 3+
    most = max(len(v) for v in sets.values())
    for r in range(most):
        roster = [
            RosterEntry(n, n, "trainee", [], [0], [0], [sets[n][r]])  # type: ignore[list-item]
            for n in listed
            if r < len(sets[n]) and sets[n][r] is not None
        ]
        if not roster:
            continue
        f = floor([e.embeddings[0] for e in roster], metric)
        truth: dict[int, str] = {}
        day_people: list[list[Person]] = []
        for k in range(1, days + 1):
            people = []
            for i, n in enumerate(names):
                photo = (r + k) % most
                if (n == away and k in absent_days) or photo >= len(sets[n]):
                    continue
                vector = sets[n][photo]
                if vector is None:
                    continue
                p = _photo_person(vector, f"day{k}", i)
                truth[id(p)] = n
                people.append(p)
            day_people.append(people)
        tally.classes += 1
        tally.days += days
        enrolled = {e.id for e in roster}
        for people in day_people:
            tally.attendees += sum(truth[id(p)] in enrolled for p in people)
            for m in match_day(people, roster, metric, policy, f):
                if m.status == "review":
                    tally.review_cases_before += 1
                    tally.review_cells_before += len(m.candidates)
                elif m.status == "present":
                    tally.present_before += 1
                    tally.wrong_before += m.entry != truth[id(m.person)]
        start = time.process_time()
        found, per_day = decide(day_people, roster, [e.id for e in roster], metric, policy, f)
        tally.link_cpu.append(time.process_time() - start)
        tally.people_after += len(found)
        for cp in found:
            who = [truth[id(p)] for _, p in cp.members]
            tally.mixed += len(set(who)) > 1
            if cp.verdict.status == "present" and set(who) != {cp.verdict.entry}:
                v = cp.verdict
                tally.wrong.append(f"{who}→{v.entry} d={v.distance} m={v.margin} a={v.agreement}")
        tally.review_people_after += sum(cp.verdict.status == "review" for cp in found)
        tally.doubtful += sum("absent_nearby" in cp.verdict.reasons for cp in found)
        for matches in per_day:
            present = {m.entry for m in matches if m.status == "present"}
            candidates = {c for m in matches if m.status == "review" for c, _ in m.candidates}
            here = {truth[id(m.person)] for m in matches}
            tally.review_cells_after += len(candidates - present)
            tally.absent_wrong += len((enrolled & here) - present - candidates)
            for m in matches:
                if m.status == "present":
                    tally.present_after += 1
                    tally.wrong_after += m.entry != truth[id(m.person)]
        _teach(tally, day_people, roster, truth, metric, policy, f)
    return tally


def _teach(
    tally: ReviewTally,
    day_people: list[list[Person]],
    roster: list[RosterEntry],
    truth: dict[int, str],
    metric: Metric,
    policy: MatchPolicy,
    stranger_floor: float | None,
) -> None:
    """Item 4: an inspector decides the review people of the first day (the truth: confirmed
    when on the roster, else a stranger); their faces then enrol their entry, as the audit does
    with confirmed faces (faces/run.py), and the other days are decided again without them."""
    first = match_day(day_people[0], roster, metric, policy, stranger_floor)
    review = [m for m in first if m.status == "review"]
    tally.first_day_decisions += len(review)
    listed = {e.id for e in roster}
    extra: dict[str, list[np.ndarray]] = {}
    for m in review:
        who = truth[id(m.person)]
        if who in listed:
            extra.setdefault(who, []).extend(np.asarray(v) for v in m.person.vectors)
    taught = [
        RosterEntry(e.id, e.name, e.role, [], [0], [0], [*e.embeddings, *extra.get(e.id, [])])
        for e in roster
    ]
    rest = day_people[1:]
    ids = [e.id for e in roster]
    untaught, _ = decide(rest, roster, ids, metric, policy, stranger_floor)
    found, per_day = decide(rest, taught, ids, metric, policy, stranger_floor)
    tally.review_people_untaught += sum(cp.verdict.status == "review" for cp in untaught)
    tally.review_people_taught += sum(cp.verdict.status == "review" for cp in found)
    for matches in per_day:
        for m in matches:
            if m.status == "present":
                tally.present_taught += 1
                tally.wrong_taught += m.entry != truth[id(m.person)]


def _photo_person(vector: np.ndarray, clip: str, sample: int) -> Person:
    track = Track(clip, sample, [Sighting(sample, float(sample), _NO_FACE)])
    return Person([EmbeddedTrack(track, [_NO_FACE], [vector])])


_NO_FACE = Face((0.0, 0.0, 1.0, 1.0), np.zeros((5, 2)), 1.0, np.zeros((1, 1, 3), np.uint8))


def link_speed(
    sets: dict[str, list[np.ndarray | None]],
    policy: MatchPolicy,
    metric: Metric,
    trainees: int = 30,
    days: int = 15,
    runs: int = 5,
) -> float:
    """CPU seconds (median of RUNS) of decide() for a class of TRAINEES + 1 stranger over DAYS
    days, each person two faces a day (photos of the set with noise: a size, not an accuracy)."""
    rng = np.random.default_rng(0)
    pool = [v for vs in sets.values() for v in vs if v is not None]
    base = [pool[i % len(pool)] + rng.normal(0, 0.02, pool[0].shape) for i in range(trainees + 1)]
    roster = [
        RosterEntry(f"t{i}", f"t{i}", "trainee", [], [i + 2], [i + 2], [base[i]])
        for i in range(trainees)
    ]
    day_people = [
        [
            _photo_person(base[i] + rng.normal(0, 0.02, base[i].shape), f"day{k}", i)
            for i in range(trainees + 1)
        ]
        for k in range(days)
    ]
    for day in day_people:
        for p in day:
            t = p.tracks[0]
            t.vectors.append(t.vectors[0] + rng.normal(0, 0.01, t.vectors[0].shape))
            t.faces.append(_NO_FACE)
    f = floor([e.embeddings[0] for e in roster], metric)
    times = []
    for _ in range(runs):
        start = time.process_time()
        decide(day_people, roster, [e.id for e in roster], metric, policy, f)
        times.append(time.process_time() - start)
    return statistics.median(times)


def _grid(t: Thresholds) -> list[tuple[float, float, float, float]]:
    """Thresholds tried by --sweep, around the engine's (cosine distances run larger)."""
    scale = 1.0 if t.accept < 0.5 else 1.3
    return [
        (round(a * scale, 2), round(m * scale, 2), round(r * scale, 2), c)
        for a in (0.35, 0.45, 0.55)
        for m in (0.04, 0.08, 0.12)
        for r in (0.6,)
        for c in (0.8, 1.0, 1.2)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", nargs="*", type=Path, default=[EVAL / "faces", EVAL / "faces-east-asian"]
    )
    parser.add_argument("--clips", type=int, default=4, help="synthetic clip days per set")
    parser.add_argument("--sweep", action="store_true", help="also try other thresholds")
    parser.add_argument("--engine", choices=["embedded", "insightface"], default="embedded")
    parser.add_argument("--speed", action="store_true", help="time face rolls even with --clips 0")
    parser.add_argument("--step", type=float, help="override the profile's roll step (seconds)")
    parser.add_argument("--min-step", type=float, help="override the profile's roll min_step")
    parser.add_argument(
        "--review", action="store_true", help="inspector decisions of multi-day classes only"
    )
    args = parser.parse_args()
    global FS
    if args.step or args.min_step:
        roll = replace(
            FS.roll, step=args.step or FS.roll.step, min_step=args.min_step or FS.roll.min_step
        )
        FS = replace(FS, roll=roll)
    print(f"roll sampling: step {FS.roll.step} s, min_step {FS.roll.min_step} s")
    engine = select_engine(args.engine, FS)
    engine.load()
    policy = MatchPolicy(engine.thresholds, FS.agreement, FS.calibration)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"thresholds: {engine.thresholds}, agreement {FS.agreement}, calibration {FS.calibration}"
    )
    print(
        "| set | test | precision of present | review share | recall (present or review) "
        "| present share | attendees+strangers |"
    )
    print("|---|---|---|---|---|---|---|")
    if args.review:
        review_report(args.sets, engine, policy)
        return
    embedded = {}
    for folder in args.sets:
        embedded[folder] = embed_photos(folder, engine)
        t = photo_days(embedded[folder], policy, engine.metric)
        print(f"| {folder.name} | photos | " + t.line().lstrip("| "), "false:", t.wrong[:5])
    for folder in args.sets if args.clips else []:
        t, footage, spent = clip_days(folder, engine, policy, args.clips, fps=5)
        print(
            f"| {folder.name} | clips ({args.clips} days) | " + t.line().lstrip("| "),
            f"undetected {t.undetected}, {footage / spent:.1f}× real time",
        )
    for fps in (5, 25) if args.clips or args.speed else ():
        wall, cpu = speed(engine, fps)
        print(
            f"speed, sample face roll 10 s 1024×768 {fps} fps, one clip, one thread: "
            f"{wall:.1f}× real time (wall clock), {cpu:.1f}× (process CPU time)"
        )
        for seconds in (10, 60) if fps == 25 else (10,):
            day = speed_day(engine, fps, seconds=seconds)
            print(f"speed, a day's two face rolls {seconds} s 1024×768 {fps} fps: {day.line()}")
    if args.sweep:
        print("\nsweep (photos, all sets together): accept margin review calibration → line")
        for accept, margin, review, calibration in _grid(engine.thresholds):
            th = Thresholds(accept, review, margin, engine.thresholds.cluster)
            p = replace(policy, thresholds=th, calibration=calibration)
            total = Tally()
            for sets in embedded.values():
                t = photo_days(sets, p, engine.metric)
                for k in (
                    "attendees",
                    "strangers",
                    "present_right",
                    "present_wrong",
                    "review",
                    "review_right",
                    "missed",
                ):
                    setattr(total, k, getattr(total, k) + getattr(t, k))
            print(f"{accept} {margin} {review} {calibration} {total.line()}")


def review_report(sets: list[Path], engine: FaceEngine, policy: MatchPolicy) -> None:
    """--review: decisions before/after on multi-day classes, and the linking's CPU time against
    the face analysis of a day (two 10 s rolls at 25 fps through the audit's frame pass)."""
    for folder in sets:
        vectors = embed_photos(folder, engine)
        t = review_class(vectors, policy, engine.metric)
        print(f"## {folder.name}")
        for line in t.lines():
            print("  " + line)
        if t.link_cpu:
            print(f"  linking CPU per class: median {statistics.median(t.link_cpu) * 1000:.1f} ms")
    vectors = embed_photos(sets[-1], engine)
    link = link_speed(vectors, policy, engine.metric)
    day = speed_day(engine, 25, runs=3, seconds=10)
    per_day = day.both[1] - day.picture[1]
    print(
        f"linking a class of 30 trainees + 1 stranger × 15 days (2 faces a person-day): "
        f"{link * 1000:.0f} ms CPU; face analysis of one day (two 10 s rolls, added to the "
        f"picture checks): {per_day:.2f} s CPU → linking adds {link / (15 * per_day) * 100:.2f} %"
        f" of the class's face analysis (60 s rolls: about a sixth of that)"
    )


if __name__ == "__main__":
    main()
