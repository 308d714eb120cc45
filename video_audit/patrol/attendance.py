"""Attendance on a patrol's frames: the faces on the live frames matched to the class roster the
way face rolls are (faces.matching's policy, the profile's [faces] thresholds).

Each frame is one "clip" of a one-day attendance: every face on it is its own track, so the day's
clustering joins one person across frames and never two faces of one frame. The result is the
attendance object of `check` (DESIGN.md) with one day — present only for confident matches,
review (待核实) for close ones, unknown for faces that match nobody, absent for trainees not
seen — plus `state`, which says when there was nothing to match against (no roster, an
unreadable roster, no face engine) instead of leaving the field empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from video_audit.disc import ClassFolder, Day, DiscWalker
from video_audit.faces.analysis import HeadCount, RollResult
from video_audit.faces.attendance import ClassAttendance, attend_day, begin_attendance
from video_audit.faces.engine import EngineError, Face, FaceEngine, rate
from video_audit.faces.roster import (
    PHOTO_DIRS,
    Roster,
    RosterError,
    enrol,
    parse_roster,
    stranger_floor,
)
from video_audit.faces.run import cache_dir
from video_audit.faces.select import select_engine
from video_audit.faces.settings import FaceSettings, face_settings
from video_audit.faces.tracking import Sighting, Track
from video_audit.files import write_atomic
from video_audit.findings import Finding, finding
from video_audit.standard import Profile

State = Literal["checked", "no_frames", "roster_missing", "roster_unreadable", "engine_error"]
NO_ROSTER = (
    "no roster in the class folder (名册.csv, 花名册.xlsx … with ID numbers, names and photos)"
)


@dataclass
class FrameFaces:
    """One captured frame: its file name (in --out when frames are copied there), time, and
    the faces on it (tiled detection, as the head count sees them)."""

    file: str
    at: float
    faces: list[Face] = field(default_factory=list)


def find_roster(class_dir: Path, profile: Profile) -> Path | None:
    """The class folder's roster as an audit finds it (the profile's [names] roster_files, in
    their order; a check-in or employment list is not a roster)."""
    walker = DiscWalker(profile)
    try:
        files = [p for p in class_dir.iterdir() if p.is_file() and not p.is_symlink()]
    except OSError:
        return None
    ranked = sorted(
        (rank, p.name, p)
        for p in files
        if walker.ledger_kind(p.name) is None and (rank := walker.roster_rank(p.name)) is not None
    )
    return ranked[0][2] if ranked else None


def patrol_attendance(
    class_dir: Path,
    frames: Sequence[FrameFaces],
    profile: Profile,
    out: Path,
    path: str,
    engine: FaceEngine | None = None,
) -> tuple[dict[str, Any], list[Finding]]:
    """The attendance object for a patrol of CLASS_DIR, and its PP06 findings (a roster or its
    photos that cannot be used). Face thumbnails are written under OUT; PATH names the patrol's
    footage (the day's `path`). ENGINE: the one that found FRAMES' faces (else loaded here)."""
    roster_path = find_roster(class_dir, profile)
    if roster_path is None:
        return _unmatched("roster_missing", NO_ROSTER), []
    where = f"{class_dir.resolve().name}/{roster_path.name}"
    names = profile.section("names")
    try:
        roster = parse_roster(
            roster_path, tuple(str(d) for d in names.get("photo_dirs", PHOTO_DIRS))
        )
    except RosterError as exc:
        error = str(exc)
        return _unmatched("roster_unreadable", error), [
            finding("PP06", where, "file", problem=error)
        ]
    fs = face_settings(profile.section("faces"))
    try:
        if engine is None:
            engine = select_engine("embedded", fs)
            engine.load()
        att = _attend(class_dir, roster, frames, engine, fs, path)
    except EngineError as exc:
        error = str(exc)
        return _unmatched("engine_error", error), [finding("PP06", where, "engine", problem=error)]
    result = att.to_dict()
    for name, data in att.images.items():
        write_atomic(out / name, data)
    state: State = "checked" if frames else "no_frames"
    result = {"state": state, "roster_file": roster_path.name, **result}
    return result, [finding("PP06", where, "photo", problem=p) for p in att.problems]


def _attend(
    class_dir: Path,
    roster: Roster,
    frames: Sequence[FrameFaces],
    engine: FaceEngine,
    fs: FaceSettings,
    path: str,
) -> ClassAttendance:
    problems = enrol(roster, engine, cache_dir())
    floor = stranger_floor(roster, engine)
    folder = ClassFolder(class_dir, ".", class_dir.resolve().name, None)
    att, policy = begin_attendance(folder, roster, engine, fs, problems, floor)
    today = dt.date.today()
    day = Day(Path(path), path, path, None, today, None)
    rolls = [_as_roll(n, frame, fs) for n, frame in enumerate(frames)]
    busiest = max(frames, key=lambda f: len(f.faces), default=None)
    heads = (
        HeadCount(busiest.file, len(busiest.faces), len(frames), busiest.at) if busiest else None
    )
    att.days.append(attend_day(day, roster, engine, fs, policy, floor, rolls=rolls, lesson=heads))
    return att


def _as_roll(sample: int, frame: FrameFaces, fs: FaceSettings) -> RollResult:
    """A frame as a one-frame face roll: each face rated as face rolls rate them (too small or
    blurred to identify: counted, not matched) and its own track."""
    tracks = []
    for k, face in enumerate(frame.faces):
        rate(face, fs.roll.min_face, fs.roll.min_sharpness)
        track = Track(frame.file, k, [Sighting(sample, frame.at, face)], face.box, sample)
        tracks.append(track)
    return RollResult(frame.file, tracks, frames=1, faces=len(frame.faces))


def _unmatched(state: State, error: str) -> dict[str, Any]:
    """No matching could be done: the reason, in check's shape for a roster failure."""
    return {
        "state": state,
        "engine": None,
        "engine_name": None,
        "error": error,
        "roster": [],
        "problems": [],
        "days": [],
        "people": [],
    }
