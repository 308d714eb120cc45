"""Attendance: per class and day, who on the roster was seen, who not, who nobody enrolled."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video_audit.disc import ClassFolder, Clip, Day
from video_audit.faces.analysis import HeadCount, RollResult
from video_audit.faces.clustering import EmbeddedTrack, Person, cluster
from video_audit.faces.engine import Face, FaceEngine, Metric, embedded, similarity
from video_audit.faces.matching import Match, MatchPolicy, match_day
from video_audit.faces.people import ABSENT_NEARBY, ClassPerson, decide
from video_audit.faces.roster import Roster, read_photo
from video_audit.faces.settings import FaceSettings

THUMBS = "faces"
THUMB = "thumbnail"
"""Face.extra key of a face's thumbnail name, once encoded."""
"""Thumbnails go in this folder beside the report (personal data: never into logs)."""


@dataclass
class DayAttendance:
    """One day's face analysis and its verdicts."""

    day: Day
    rolls: list[RollResult] = field(default_factory=list)
    lesson: HeadCount | None = None
    matches: list[Match] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    """The day's people (tracks clustered), linked into the class's people by decide()."""
    policy: MatchPolicy | None = None
    floor: float | None = None

    @property
    def footage(self) -> bool:
        """Whether any face-roll clip of the day could be analysed."""
        return any(r.error is None or r.frames > 0 for r in self.rolls)

    def with_status(self, status: str) -> list[Match]:
        return [m for m in self.matches if m.status == status]

    def seen(self, pid: str) -> bool:
        """Present, or a candidate of a review case (then not reported absent)."""
        return pid in self.present or any(
            pid in [c for c, _ in m.candidates] for m in self.with_status("review")
        )


@dataclass
class ClassAttendance:
    """A class's attendance over its days, the thumbnails it shows, and what ran."""

    cls: ClassFolder
    roster: Roster
    engine: str
    accept: float
    stranger_floor: float | None
    metric: Metric
    problems: list[str] = field(default_factory=list)
    engine_name: str = ""
    """The engine's short name (embedded, insightface): which words the report uses for it."""
    days: list[DayAttendance] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    """Thumbnail JPEGs by their name under THUMBS/ (written beside a report on request)."""
    _photos: dict[Path, str | None] = field(default_factory=dict, repr=False)
    """Roster photos' thumbnail names, each photo read once however often the report is made."""
    people: list[ClassPerson] = field(default_factory=list)
    """The class's people across its days (people.py), once decide() ran."""
    decided: bool = False

    def decide(self) -> None:
        """Link the days' people into the class's people and let each day's verdicts follow
        theirs (once; the days were each decided alone by attend_day until then)."""
        if self.decided:
            return
        self.decided = True
        policy = next((d.policy for d in self.days if d.policy is not None), None)
        if policy is None:
            return
        trainees = [e.id for e in self.roster.trainees]
        self.people, per_day = decide(
            [d.people for d in self.days],
            self.roster.entries,
            trainees,
            self.metric,
            policy,
            self.stranger_floor,
        )
        for day, matches in zip(self.days, per_day, strict=True):
            day.matches = matches
            day.present = [m.entry for m in matches if m.status == "present" and m.entry]
            day.absent = [pid for pid in trainees if not day.seen(pid)] if day.footage else []

    def thumbnail(self, rgb: np.ndarray) -> str:
        """Keep a face image and return its path relative to the report."""
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
        data = jpeg.tobytes() if ok else b""
        name = f"{THUMBS}/{hashlib.sha1(data).hexdigest()[:16]}.jpg"
        self.images[name] = data
        return name

    def face_thumbnail(self, face: Face) -> str:
        """The thumbnail of a face seen in a clip (encoded once, kept with the face)."""
        if THUMB not in face.extra:
            face.extra[THUMB] = self.thumbnail(face.chip)
        return str(face.extra[THUMB])

    def roster_thumbnail(self, photo: Path) -> str | None:
        """The thumbnail of a roster photo (None when it cannot be read), made once."""
        if photo not in self._photos:
            thumb = photo_thumbnail(photo)
            self._photos[photo] = self.thumbnail(thumb) if thumb is not None else None
        return self._photos[photo]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md attendance object (present/absent/review/unknown per day, the class's
        people) plus context; people are named by roster key, never by the masked ID."""
        self.decide()
        ids = {e.id: e for e in self.roster.entries}
        days = []
        for d in self.days:
            days.append(
                {
                    "path": d.day.rel,
                    "date": d.day.date.isoformat() if d.day.date else None,
                    "footage": d.footage,
                    "present": [ids[p].key for p in d.present],
                    "absent": [ids[p].key for p in d.absent],
                    "review": [describe_match(self, m) for m in d.with_status("review")],
                    "unknown": [describe_match(self, m) for m in d.with_status("unknown")],
                    "matches": [describe_match(self, m) for m in d.with_status("present")],
                    "clips": [
                        {
                            "path": r.clip,
                            "frames": r.frames,
                            "faces": r.faces,
                            "tracks": len(r.tracks),
                            "identifiable": len(r.usable),
                            "error": r.error,
                        }
                        for r in d.rolls
                    ],
                    "head_count": (
                        {"path": d.lesson.clip, "count": d.lesson.count, "at": d.lesson.at}
                        if d.lesson
                        else None
                    ),
                }
            )
        return {
            "engine": self.engine,
            "engine_name": self.engine_name,
            "roster": [
                {
                    "key": e.key,
                    "id": e.masked_id,
                    "name": e.name,
                    "role": e.role,
                    "photos": len(e.embeddings),
                }
                for e in self.roster.entries
            ],
            "thresholds": {
                "metric": self.metric,
                "accept": round(self.accept, 4),
                "stranger_floor": (
                    round(self.stranger_floor, 4) if self.stranger_floor is not None else None
                ),
            },
            "problems": self.problems,
            "thumbnails": THUMBS,
            "days": days,
            "people": [describe_person(self, cp) for cp in self.people],
        }


def begin_attendance(
    cls: ClassFolder,
    roster: Roster,
    engine: FaceEngine,
    fs: FaceSettings,
    problems: list[str],
    floor: float | None,
) -> tuple[ClassAttendance, MatchPolicy]:
    """A class's attendance before its days, and the policy its days are matched by (the
    engine's thresholds, the profile's agreement and calibration, accepting above FLOOR)."""
    policy = MatchPolicy(engine.thresholds, fs.agreement, fs.calibration)
    attendance = ClassAttendance(
        cls=cls,
        roster=roster,
        engine=engine.describe(),
        engine_name=engine.name,
        accept=policy.accept_for(floor),
        stranger_floor=floor,
        metric=engine.metric,
        problems=problems,
    )
    return attendance, policy


def embed_best(roll: RollResult, engine: FaceEngine) -> None:
    """Embed each usable track's best face now: called as a clip's frame pass ends, in its own
    thread, so that the two face rolls of a day are embedded on the two cores."""
    embedded(engine, [track.best(1)[0].face for track in roll.usable])


def embed_tracks(rolls: list[RollResult], engine: FaceEngine) -> list[EmbeddedTrack]:
    """Each usable track's best face, embedded (the recogniser is the slow part)."""
    picked = [(track, track.best(1)[0].face) for roll in rolls for track in roll.usable]
    vectors = embedded(engine, [face for _, face in picked])
    return [
        EmbeddedTrack(track, [face], [vector])
        for (track, face), vector in zip(picked, vectors, strict=True)
    ]


def top_up(person: Person, engine: FaceEngine, keep: int) -> None:
    """Embed more of a person's best faces until it has KEEP frames to agree (a person seen in
    both clips usually has them already: one face per track)."""
    for et in person.tracks:
        for sighting in et.track.best(keep)[len(et.faces) :]:
            if len(person.vectors) >= keep:
                return
            et.faces.append(sighting.face)
            et.vectors.append(embedded(engine, [sighting.face])[0])


def analysable(clip: Clip) -> bool:
    """A clip worth decoding: probed, and not broken (FM04 clips are skipped)."""
    return clip.media is not None and clip.media.problem is None


def day_people(
    rolls: list[RollResult], engine: FaceEngine, cluster_at: float, keep: int
) -> list[Person]:
    """The people of a day's face rolls: each track's best face embedded, tracks clustered
    (never looser than CLUSTER_AT), each person topped up to KEEP embedded faces."""
    people: list[Person] = cluster(embed_tracks(rolls, engine), engine.metric, cluster_at)
    for person in people:
        top_up(person, engine, keep)
    return people


def attend_day(
    day: Day,
    roster: Roster,
    engine: FaceEngine,
    settings: FaceSettings,
    policy: MatchPolicy,
    floor: float | None,
    rolls: list[RollResult],
    lesson: HeadCount | None = None,
) -> DayAttendance:
    """Cluster the people of a day's analysed face-roll clips and match them to the roster."""
    result = DayAttendance(day)
    result.rolls = rolls
    result.lesson = lesson
    people = day_people(rolls, engine, policy.cluster_for(floor), settings.roll.keep)
    result.people, result.policy, result.floor = people, policy, floor
    result.matches = match_day(people, roster.entries, engine.metric, policy, floor)
    result.present = [m.entry for m in result.matches if m.status == "present" and m.entry]
    result.absent = (
        [e.id for e in roster.trainees if not result.seen(e.id)] if result.footage else []
    )
    return result


def photo_thumbnail(path: Path) -> np.ndarray | None:
    """A small RGB copy of a roster photo, for review pairs."""
    img = read_photo(path)
    if img is None:
        return None
    h, w = img.shape[:2]
    f = 160 / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def describe_match(att: ClassAttendance, m: Match) -> dict[str, Any]:
    """A present / review / unknown case as the report shows it: roster keys, masked ids and
    names for display, the class-level person it belongs to."""
    face = m.person.best_face
    case: dict[str, Any] = {
        "thumbnail": att.face_thumbnail(face),
        "seen_in": m.person.clips,
        "frames": len(m.person.faces),
        "person": m.identity,
    }
    case.update(_verdict(att, m))
    return case


def describe_person(att: ClassAttendance, cp: ClassPerson) -> dict[str, Any]:
    """One of the class's people (DESIGN.md attendance.people): their days, the verdict, and
    their best face of each day (what an inspector compares with the candidates' photos)."""
    v = cp.verdict
    entry = att.roster.by_id(v.entry) if v.status == "present" and v.entry else None
    out: dict[str, Any] = {
        "person": cp.person,
        "days": [att.days[d].day.rel for d in cp.days],
        "state": v.status,
        "key": entry.key if entry else None,
        "candidates": [],
        "decided_by": None,
        "faces": [
            {
                "day": att.days[d].day.rel,
                "thumbnail": att.face_thumbnail(p.best_face),
                "seen_in": p.clips,
            }
            for d, p in cp.members
        ],
    }
    out.update(_verdict(att, v))
    return out


def _verdict(att: ClassAttendance, m: Match) -> dict[str, Any]:
    ids = {e.id: e for e in att.roster.entries}
    if m.status == "present" and m.entry:
        e = ids[m.entry]
        return {
            "key": e.key,
            "id": e.masked_id,
            "name": e.name,
            "distance": m.distance,
            "similarity": similarity(att.metric, m.distance or 0.0),
        }
    if m.status == "review":
        return {
            "candidates": [ids[c].key for c, _ in m.candidates],
            "ids": [ids[c].masked_id for c, _ in m.candidates],
            "names": [ids[c].name for c, _ in m.candidates],
            "distances": [d for _, d in m.candidates],
            "distance": m.candidates[0][1] if m.candidates else m.distance,
            "reasons": list(m.reasons),
            "reason": ABSENT_NEARBY if ABSENT_NEARBY in m.reasons else next(iter(m.reasons), None),
            "photos": [
                att.roster_thumbnail(ids[c].photos[0]) if ids[c].photos else None
                for c, _ in m.candidates
            ],
        }
    return {}
