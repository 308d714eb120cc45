"""Face analysis of a whole audit: each class with a roster, day by day.

prepare() reads the rosters and loads the engine, the shared frame pass runs FaceAudit.analyzer
over the face-roll and lesson clips of those classes, and finish() enrols, clusters and matches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from video_audit.disc import ClassFolder, Clip
from video_audit.faces.analysis import HeadCount, RollResult
from video_audit.faces.attendance import (
    ClassAttendance,
    analysable,
    attend_day,
    begin_attendance,
)
from video_audit.faces.decisions import descriptor_id
from video_audit.faces.engine import FaceEngine
from video_audit.faces.passes import FaceAnalyzer
from video_audit.faces.roster import (
    PHOTO_DIRS,
    Roster,
    RosterError,
    enrol,
    parse_roster,
    stranger_floor,
)
from video_audit.faces.select import select_engine
from video_audit.faces.settings import FaceSettings, face_settings

if TYPE_CHECKING:
    from video_audit.context import AuditContext
    from video_audit.media.frames import ClipPass


@dataclass
class RosterFailure:
    """A class whose roster could not be read at all: no attendance, one PP06 finding."""

    cls: ClassFolder
    roster: Path
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"engine": None, "engine_name": None, "error": self.error, "days": []}


ClassResult = ClassAttendance | RosterFailure


def cache_dir() -> Path:
    """Enrolment embeddings are cached here, by photo hash and engine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "video-audit" / "enrolment"


def roster_of(cls: ClassFolder, ctx: AuditContext) -> Path | None:
    """--roster when given, else the class folder's roster (名册.csv, 花名册.xlsx …)."""
    return ctx.settings.roster or cls.roster


def photo_dirs(ctx: AuditContext) -> tuple[str, ...]:
    """Folders beside a roster that hold photos named by ID number or name (profile [names])."""
    return tuple(str(d) for d in ctx.profile.section("names").get("photo_dirs", PHOTO_DIRS))


def settings_of(ctx: AuditContext) -> FaceSettings:
    return face_settings(ctx.profile.section("faces"), ctx.profile.names.roll_slots)


def _roll(clip: Clip, slots: tuple[int, ...]) -> bool:
    return bool(clip.name and clip.name.kind == "roll" and clip.name.slot in slots)


def _lesson(clip: Clip) -> bool:
    return bool(clip.name and clip.name.kind == "lesson")


@dataclass
class FaceAudit:
    """The face part of one audit: rosters read, engine loaded, clips chosen."""

    engine: FaceEngine
    settings: FaceSettings
    rosters: dict[str, tuple[ClassFolder, Roster | RosterFailure]]
    analyzer: FaceAnalyzer
    results: dict[str, ClassResult] = field(default_factory=dict)
    db: Path | None = None
    """The workspace database (web and scan audits): inspectors' confirmations are extra
    enrolment, and the class's people are remembered there to map decisions onto."""

    @classmethod
    def prepare(cls, ctx: AuditContext, engine: FaceEngine | None = None) -> FaceAudit | None:
        """None when no class has a roster (faces are slow: analysed only where matched)."""
        rosters: dict[str, tuple[ClassFolder, Roster | RosterFailure]] = {}
        for folder in ctx.disc.classes:
            path = roster_of(folder, ctx)
            if path is None:
                continue
            try:
                rosters[folder.rel] = (folder, parse_roster(path, photo_dirs(ctx)))
            except RosterError as exc:
                rosters[folder.rel] = (folder, RosterFailure(folder, path, str(exc)))
        if not rosters:
            return None
        fs = settings_of(ctx)
        engine = engine or select_engine(ctx.settings.engine, fs)
        engine.load()
        rolls: set[str] = set()
        lessons: set[str] = set()
        for folder, roster in rosters.values():
            if isinstance(roster, RosterFailure):
                continue
            for day in folder.days:
                chosen = [c for c in day.clips if analysable(c)]
                rolls |= {c.rel for c in chosen if _roll(c, fs.roll_slots)}
                if fs.lesson_samples > 0:
                    lessons |= {c.rel for c in chosen if _lesson(c)}
        analyzer = FaceAnalyzer(engine, fs, rolls, lessons)
        return cls(engine, fs, rosters, analyzer, db=ctx.settings.fingerprint_db)

    def finish(self, passes: Mapping[str, ClipPass]) -> dict[str, ClassResult]:
        """Enrol each roster and decide each day from the frame pass's results."""
        found = {rel: p.results["faces"] for rel, p in passes.items() if "faces" in p.results}
        for rel, (folder, roster) in self.rosters.items():
            if isinstance(roster, RosterFailure):
                self.results[rel] = roster
            else:
                self.results[rel] = self._attend_class(folder, roster, found)
        return self.results

    def _attend_class(
        self, folder: ClassFolder, roster: Roster, found: Mapping[str, Any]
    ) -> ClassAttendance:
        engine, fs = self.engine, self.settings
        problems = enrol(roster, engine, cache_dir())
        floor = stranger_floor(roster, engine)  # of the photos alone: enrolment is one person's
        self._enrol_confirmed(folder, roster)
        result, policy = begin_attendance(folder, roster, engine, fs, problems, floor)
        for day in folder.days:
            rolls = [
                r
                for c in day.clips
                if c.rel in self.analyzer.rolls and isinstance(r := found.get(c.rel), RollResult)
            ]
            lessons = [
                r
                for c in day.clips
                if c.rel in self.analyzer.lessons and isinstance(r := found.get(c.rel), HeadCount)
            ]
            lesson = max(lessons, key=lambda h: h.count) if lessons else None
            result.days.append(
                attend_day(day, roster, engine, fs, policy, floor, rolls=rolls, lesson=lesson)
            )
        result.decide()  # the days' people linked into the class's: verdicts follow the person
        if self.db is not None:
            self._remember_people(folder, result, policy.cluster_for(floor))
        return result

    def _enrol_confirmed(self, folder: ClassFolder, roster: Roster) -> None:
        """Faces inspectors confirmed as a trainee of this class: extra enrolment of that
        entry (the same camera and room: far closer than an ID photo). The accept and margin
        tests still decide every present."""
        if self.db is None:
            return
        from video_audit.store.decisions import confirmed_faces

        by_key = {e.key: e for e in roster.entries}
        for key, faces in confirmed_faces(self.db, class_key(folder), self.engine.name):
            entry = by_key.get(key)
            if entry is None or not entry.embeddings:  # no photo: nothing to check it against
                continue
            if faces.shape[1] == np.asarray(entry.embeddings[0]).shape[-1]:
                entry.embeddings.extend(np.array(f) for f in faces)

    def _remember_people(self, folder: ClassFolder, att: ClassAttendance, bound: float) -> None:
        """The class's people with their faces' embeddings, in the workspace database only."""
        assert self.db is not None
        from video_audit.store.decisions import SeenPerson, save_people

        key = class_key(folder)
        people = []
        for cp in att.people:
            thumbs = [att.face_thumbnail(p.best_face) for _, p in cp.members]
            faces = np.vstack([np.asarray(p.vectors, dtype=np.float32) for _, p in cp.members])
            people.append(
                SeenPerson(
                    descriptor_id(thumbs),
                    key,
                    cp.person,
                    [att.days[d].day.rel for d in cp.days],
                    thumbs,
                    faces,
                    str(self.engine.metric),
                    float(bound),
                    self.engine.name,
                )
            )
        save_people(self.db, people)


def class_key(folder: ClassFolder) -> str:
    """The class as the workspace knows it across audits (as footage fingerprints do)."""
    return folder.prefix or str(folder.path.resolve())
