"""PP01–PP07: who the face-roll clips show against the roster, and the lesson head count;
roster material without a usable roster (PP07)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.faces.attendance import ClassAttendance, DayAttendance
from video_audit.faces.run import RosterFailure, roster_of, settings_of
from video_audit.findings import Finding, finding

if TYPE_CHECKING:
    from video_audit.context import AuditContext


def _roster_rel(att: ClassAttendance | RosterFailure) -> str:
    path = att.roster if isinstance(att, RosterFailure) else att.roster.path
    try:
        inside = path.resolve().relative_to(att.cls.path.resolve()).as_posix()
    except ValueError:
        return att.cls.rel
    return inside if att.cls.rel == "." else f"{att.cls.rel}/{inside}"


def check(ctx: AuditContext) -> Iterator[Finding]:
    """Findings from the face analysis the audit ran (none for classes without a roster)."""
    for cls in ctx.disc.classes:
        if cls.photo_dirs and roster_of(cls, ctx) is None:
            # Photos show attendance was meant to be checked: say once that it was not.
            base = "" if cls.rel == "." else cls.rel + "/"
            folders = [d.removeprefix(base) for d in cls.photo_dirs]
            yield finding("PP07", cls.rel, "no_roster", photos="、".join(folders))
    results = ctx.faces
    if not results:
        return
    fs = settings_of(ctx)
    for att in results.values():
        if isinstance(att, RosterFailure):
            yield finding("PP06", _roster_rel(att), "file", problem=att.error)
            continue
        att.decide()  # each day's verdicts follow the class's people (faces/people.py)
        for problem in att.problems:
            yield finding("PP06", _roster_rel(att), "photo", problem=problem)
        for day in att.days:
            yield from _day(att, day, fs.roll.min_face, fs.lesson_share)


def _day(
    att: ClassAttendance, day: DayAttendance, min_face: float, lesson_share: float
) -> Iterator[Finding]:
    for roll in day.rolls:
        if roll.frames and not roll.usable:
            if roll.faces:
                yield finding(
                    "PP01",
                    roll.clip,
                    "unusable",
                    faces=roll.faces,
                    largest=round(roll.largest_face),
                    min_face=min_face,
                    frames=roll.frames,
                )
            else:
                yield finding("PP01", roll.clip, "none", frames=roll.frames)
    if not day.footage:
        return
    ids = {e.id: e for e in att.roster.entries}
    for pid in day.absent:
        yield finding("PP02", day.day.rel, "absent", id=ids[pid].masked_id, name=ids[pid].name)
    unknown = day.with_status("unknown")
    if unknown:
        clips = sorted({c.rsplit("/", 1)[-1] for m in unknown for c in m.person.clips})
        yield finding("PP03", day.day.rel, "unknown", count=len(unknown), clips=clips)
    for role in ("teacher", "manager"):
        staff = [e.id for e in att.roster.entries if e.role == role]
        if staff and not any(day.seen(pid) for pid in staff):
            yield finding("PP04", day.day.rel, role)
    trainees = len(att.roster.trainees)
    if day.lesson and day.lesson.frames and day.lesson.count < lesson_share * trainees:
        yield finding("PP05", day.lesson.clip, "fewer", count=day.lesson.count, expected=trainees)
