"""run_audit(path, settings) -> AuditReport: the one entry point every front end calls.

The orchestrator: it walks and probes the disc, runs the shared frame pass, opens what the rules
need (the fingerprint store), runs every rule group over one AuditContext, then writes back what
they asked to remember. Rules and analyzers import video_audit.context, never this module.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from video_audit import __version__
from video_audit.context import AuditContext, AuditError, Progress, RememberedClip, announce
from video_audit.disc import ClassFolder, Day, Disc, DiscWalker, date_by_metadata
from video_audit.findings import Finding, finding
from video_audit.media.frames import ClipPass, FrameAnalyzer, failure_text, run_passes
from video_audit.media.probe import MediaInfo, changed_since_probe, probe
from video_audit.rules import Check, checks
from video_audit.settings import AuditSettings
from video_audit.standard import Profile, load_profile

if TYPE_CHECKING:
    from video_audit.faces.run import FaceAudit
    from video_audit.picture.fingerprints import Fingerprint
    from video_audit.store.fingerprints import FingerprintStore


def _ancestors(path: str) -> Iterator[str]:
    """PATH and each folder above it, nearest first ("a/b/c", "a/b", "a")."""
    while path:
        yield path
        path = path.rpartition("/")[0]


def _summary(findings: list[Finding]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    infos = sum(f.severity == "info" for f in findings)
    return {
        "errors": errors,
        "warnings": warnings,
        "infos": infos,
        "verdict": "fail" if errors else "pass",
    }


@dataclass
class AuditReport:
    """Everything one audit found, ready for any renderer."""

    root: Path
    disc: Disc
    profile: Profile
    findings: list[Finding]
    started: dt.datetime
    finished: dt.datetime
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return _summary(self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.summary["errors"] else 0

    def class_findings(self, cls: ClassFolder) -> list[Finding]:
        """The findings inside CLS's folder, in report order."""
        if cls.rel == ".":
            return list(self.findings)
        return list(self._scopes()[0].get(cls.rel, ()))

    def day_findings(self, day: Day) -> list[Finding]:
        """The findings inside DAY's folder, in report order."""
        return list(self._scopes()[1].get(day.rel, ()))

    def _scopes(self) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
        """Findings by the class folder and the day folder they lie in, made once per set of
        findings: a disc of thousands of folders is reported in time linear in its size."""
        key = (id(self.findings), len(self.findings))
        cached = self.__dict__.get("_scope_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        classes = {c.rel for c in self.disc.classes}
        days = {d.rel for c in self.disc.classes for d in c.days}
        by_class: dict[str, list[Finding]] = {}
        by_day: dict[str, list[Finding]] = {}
        for f in self.findings:
            for folder in _ancestors(f.path):
                if folder in days:
                    by_day.setdefault(folder, []).append(f)
                if folder in classes:
                    by_class.setdefault(folder, []).append(f)
                    break
        self.__dict__["_scope_cache"] = (key, (by_class, by_day))
        return by_class, by_day

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON contract of DESIGN.md (findings, summary, classes), plus context."""
        return {
            "tool": {"name": "video-audit", "version": __version__},
            "standard": {"id": self.profile.id, "name": self.profile.name(lang)},
            "path": str(self.root),
            "kind": self.disc.kind,
            "lang": lang,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds"),
            "summary": self.summary,
            "findings": [f.to_dict(lang) for f in self.findings],
            "classes": [self._class_dict(cls, lang) for cls in self.disc.classes],
        }

    def _class_dict(self, cls: ClassFolder, lang: str) -> dict[str, Any]:
        found = self.class_findings(cls)
        days = []
        for day in cls.days:
            day_found = self.day_findings(day)
            days.append(
                {
                    "path": day.rel,
                    "folder": day.folder,
                    "date": day.date.isoformat() if day.date else None,
                    "year_source": day.year_source,
                    "summary": _summary(day_found),
                    "clips": [
                        {
                            "path": clip.rel,
                            "file": clip.filename,
                            "kind": clip.kind,
                            "slot": clip.name.slot if clip.name else None,
                            "media": clip.media.to_dict() if clip.media else None,
                            "codes": sorted({f.code for f in day_found if f.path == clip.rel}),
                            "picture": self.extras.get("picture", {}).get(clip.rel),
                            "clock": self.clock_dict(clip.rel),
                        }
                        for clip in day.clips
                    ],
                }
            )
        return {
            "path": cls.rel,
            "folder": cls.folder,
            "prefix": cls.prefix,
            "roster": cls.roster.name if cls.roster else None,
            "summary": _summary(found),
            "days": days,
            "attendance": self.attendance(cls),
        }

    def clock_dict(self, rel: str) -> dict[str, Any] | None:
        """The clip's on-screen clock (video_audit.clock): None when the clip was not decoded."""
        clock = self.extras.get("clock", {}).get(rel)
        return clock.to_dict() if clock is not None else None

    def attendance(self, cls: ClassFolder) -> dict[str, Any] | None:
        """The class's attendance (None without a roster: faces are not analysed then)."""
        result = self.extras.get("faces", {}).get(cls.rel)
        if result is None:
            return None
        to_dict = getattr(result, "to_dict", None)
        return to_dict() if to_dict else {"error": getattr(result, "error", "roster unusable")}


def _sort_key(f: Finding) -> tuple[str, str]:
    return (f.path, f.code)


def run_audit(
    path: Path, settings: AuditSettings | None = None, progress: Progress | None = None
) -> AuditReport:
    """Audit a disc root or a class folder; raises AuditError only when it cannot run at all."""
    settings = settings or AuditSettings()
    started = dt.datetime.now().astimezone()
    if not path.exists():
        raise AuditError(f"{path}: no such file or folder")
    if not path.is_dir():
        raise AuditError(f"{path}: not a folder (give a disc or a class folder)")
    try:
        profile = load_profile(settings.standard)
    except ValueError as exc:
        raise AuditError(str(exc)) from exc
    disc = DiscWalker(profile, year=settings.year).walk(path)
    clips = list(disc.clips)
    now = dt.datetime.now().timestamp()
    announce(progress, "probe", dict.fromkeys((c.rel for c in clips), None))
    with ThreadPoolExecutor(max_workers=max(1, settings.probe_threads)) as pool:
        for done, (clip, media) in enumerate(
            zip(clips, pool.map(lambda c: _probe(c.path, now), clips), strict=True), start=1
        ):
            clip.media = media
            if progress:
                progress(done, len(clips), clip.rel)
    date_by_metadata(disc)  # a year no name gives: the one the clips' metadata agree on
    probed_at = time.monotonic()
    ctx = AuditContext(disc=disc, profile=profile, settings=settings)
    faces = _faces(ctx)
    ctx.frames = _frame_pass(ctx, len(clips), progress, [faces.analyzer] if faces else [])
    _drop_changed(ctx, probed_at)
    failed: list[Finding] = []
    try:
        ctx.faces = dict(faces.finish(ctx.frames)) if faces else {}
    except Exception as exc:  # a fault of the face code: attendance unchecked, said so
        ctx.faces = {}
        failed += [
            finding("FM05", rel, "attendance", error=failure_text(exc))
            for rel in (faces.rosters if faces else {})
        ]
    store = _fingerprint_store(ctx)
    try:
        findings = failed + [f for group in checks() for f in _run_group(group, ctx)]
        if store is not None:
            with _store_errors(store):
                store.remember(ctx.remember)  # the whole audit in one transaction
    finally:
        if store is not None:
            store.close()
    findings.sort(key=_sort_key)
    report = AuditReport(
        root=disc.root,
        disc=disc,
        profile=profile,
        findings=findings,
        started=started,
        finished=dt.datetime.now().astimezone(),
        extras={"faces": ctx.faces} if ctx.faces else {},
    )
    report.extras["picture"] = {
        rel: p.results["picture"].to_dict()
        for rel, p in ctx.frames.items()
        if "picture" in p.results
    }
    report.extras["clock"] = {
        rel: p.results["clock"] for rel, p in ctx.frames.items() if "clock" in p.results
    }
    return report


def _probe(path: Path, now: float) -> MediaInfo:
    """probe() never raises for bad media; a fault of its own is this clip's problem only."""
    try:
        return probe(path, now)
    except Exception as exc:
        return MediaInfo(size=0, problem="unreadable", error=failure_text(exc))


def _run_group(group: Check, ctx: AuditContext) -> list[Finding]:
    """One rule group's findings; a fault inside it keeps what it found and adds FM05."""
    found: list[Finding] = []
    try:
        for f in group(ctx):
            found.append(f)
    except Exception as exc:
        name = getattr(group, "__module__", "").rsplit(".", 1)[-1]
        found.append(finding("FM05", ".", "rules", check=f"rules_{name}", error=failure_text(exc)))
    return found


def _frame_pass(
    ctx: AuditContext, probed: int, progress: Progress | None, more: list[FrameAnalyzer]
) -> dict[str, ClipPass]:
    """Decode each clip that probed fine once, sparsely, for every frame analyzer."""
    from video_audit.picture.measures import PictureAnalyzer, PictureConfig
    from video_audit.rules.picture import PictureRules

    try:
        analyzers = [PictureAnalyzer(PictureConfig.from_profile(ctx.profile)), *more]
        PictureRules.from_profile(ctx.profile)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"{ctx.profile.source} [picture]: {exc}") from exc
    clips = [c for c in ctx.disc.clips if c.media is not None and c.media.problem is None]

    def step(done: int, total: int, what: str) -> None:
        if progress:
            progress(probed + done, probed + total, what)

    every: list[FrameAnalyzer] = [*analyzers, _clock(ctx)]
    announce(progress, "decode", {c.rel: c.media.duration if c.media else None for c in clips})
    return run_passes(clips, every, ctx.settings.frame_threads, step)


# A clip that failed its probe and was modified this recently is looked at again at least this
# long after probing: a copy in progress grows in that time, a cut-off file does not.
_GROWING_RECENT = 120.0
_GROWING_LOOK = 1.0


def _drop_changed(ctx: AuditContext, probed_at: float) -> None:
    """A clip whose file moved while it was audited is still being copied: FM04 being_written.

    Its frames describe a file that no longer exists as decoded, so no picture, clock or face
    result is kept for it; the clip is treated like one that failed its probe. A clip that
    failed its probe (truncated, corrupt) but grew meanwhile is also being written, not broken.
    """
    clips = [c for c in ctx.disc.clips if c.media is not None]
    recent = [
        c
        for c in clips
        if c.media is not None
        and c.media.problem not in (None, "being_written")
        and (c.media.modified_seconds_ago or _GROWING_RECENT) < _GROWING_RECENT
    ]
    if recent:
        time.sleep(max(0.0, probed_at + _GROWING_LOOK - time.monotonic()))
    for clip in clips:
        media = clip.media
        if media is None or media.problem == "being_written" or media.stamp is None:
            continue
        if changed_since_probe(clip.path, media):
            media.problem, media.error = "being_written", None
            ctx.frames.pop(clip.rel, None)


def _clock(ctx: AuditContext) -> FrameAnalyzer:
    """The on-screen clock reader (video_audit.clock), sharing the frame pass."""
    from video_audit.clock import ClockAnalyzer, ClockConfig

    try:
        return ClockAnalyzer(ClockConfig.from_profile(ctx.profile))
    except (TypeError, ValueError) as exc:
        raise AuditError(f"{ctx.profile.source} [clock]: {exc}") from exc


def _faces(ctx: AuditContext) -> FaceAudit | None:
    """Face analysis of the classes with a roster; an engine that cannot run stops the audit."""
    from video_audit.faces.engine import EngineError
    from video_audit.faces.run import FaceAudit

    try:
        return FaceAudit.prepare(ctx)
    except EngineError as exc:
        raise AuditError(f"face engine: {exc}") from exc


def _fingerprint_store(ctx: AuditContext) -> FingerprintStore | None:
    """Open the settings' fingerprint store and hand the rules its read-only look-up."""
    if ctx.settings.fingerprint_db is None:
        return None
    from video_audit.store.fingerprints import FingerprintStore

    store = FingerprintStore(ctx.settings.fingerprint_db)

    def earlier(fingerprint: Fingerprint, class_key: str) -> Sequence[RememberedClip]:
        with _store_errors(store):
            return store.candidates(fingerprint, class_key)

    ctx.fingerprints = earlier
    return store


@contextmanager
def _store_errors(store: FingerprintStore) -> Iterator[None]:
    """A store that cannot be read or written stops the audit with one line (exit 2)."""
    from video_audit.store.base import StoreError

    try:
        yield
    except (sqlite3.Error, StoreError) as exc:
        raise AuditError(f"{store.path}: fingerprint store unusable: {exc}") from exc
