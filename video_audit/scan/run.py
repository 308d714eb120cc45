"""Nightly scan: finds class folders under a root, audits only new or changed ones, remembers all.

Each class is fingerprinted (file list, sizes, mtimes, hashes of file heads); a class whose files
changed less than `settle` seconds ago is still being copied and waits for the next night. Audits
run in worker processes (a local pool, or a Dask cluster); only this process writes the store,
one transaction per class, so a scan killed at any moment resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit import __version__
from video_audit.disc import DiscWalker
from video_audit.findings import finding
from video_audit.naming import split_extension
from video_audit.scan.walk import ClassSpot, Fingerprint, find_classes, fingerprint
from video_audit.scan.workers import (
    AuditRunner,
    DaskRunner,
    InlineRunner,
    LocalRunner,
    RunnerError,
)
from video_audit.settings import AuditSettings
from video_audit.standard import Profile, ProfileError, load_profile
from video_audit.store.scan import AuditRecord, FileRecord, FileState, KnownClass, ScanStore

_INSTITUTION = re.compile(r"^(.+?(?:学校|学院|中心|公司|协会|机构|培训部))")


class ScanError(Exception):
    """The scan cannot run at all (exit 2): a missing root, a database in use or not ours."""


# --- small domain rules ----------------------------------------------------------------------
def statistics_year(day: dt.date, first_month: int = 12) -> int:
    """The statistics year a training day counts toward (四(三): December → the next year)."""
    return day.year + 1 if first_month > 1 and day.month >= first_month else day.year


def institution_of(rel: str, prefix: str | None) -> str:
    """The institution of a class: its parent folder under the root, else from its prefix."""
    parts = rel.split("/")
    if len(parts) > 1:
        return parts[0]
    match = _INSTITUTION.match(prefix or parts[0])
    return match.group(1) if match else "—"


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day YEARS later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def audit_key(settings: AuditSettings, profile: Profile) -> str:
    """What else decides an audit's result: tool version, standard profile, year, engine."""
    profile_hash = hashlib.sha256(profile.source.read_bytes()).hexdigest()
    key = {
        "version": __version__,
        "profile": profile_hash,
        "year": settings.year,
        "engine": settings.engine,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


# --- retention (RT01) ------------------------------------------------------------------------
def retention_findings(
    before: dict[str, FileRecord],
    now_files: dict[str, FileState],
    first_audited: str | None,
    profile: Profile,
    now: dt.datetime,
    lang: str,
) -> list[dict[str, Any]]:
    """RT01 for each retained file (video or roster) removed or rewritten within retention."""
    if not first_audited:
        return []
    years = int(profile.section("retention").get("years", 2))
    until = add_years(dt.datetime.fromisoformat(first_audited).date(), years)
    if now.date() >= until:
        return []
    walker = DiscWalker(profile)  # the walk's own test of what is a roster (花名册.xlsx …)
    out: list[dict[str, Any]] = []
    for rel, was in sorted(before.items()):
        name = rel.rsplit("/", 1)[-1]
        if split_extension(name)[1] not in profile.format.video_extensions and (
            walker.roster_rank(name) is None
        ):
            continue
        details: dict[str, Any] = {
            "file": rel,
            "size": was.size,
            "mtime": _when(was.mtime_ns),
            "first_seen": was.first_seen,
            "until": until.isoformat(),
        }
        current = now_files.get(rel)
        if current is None:
            out.append(finding("RT01", rel, "removed", **details).to_dict(lang))
        elif current.size != was.size or current.head != was.head:
            details |= {"now_size": current.size, "now_mtime": _when(current.mtime_ns)}
            out.append(finding("RT01", rel, "changed", **details).to_dict(lang))
    return out


def _when(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9).astimezone().isoformat(timespec="seconds")


# --- the night's scan ------------------------------------------------------------------------
@dataclass
class ScanResult:
    """What one scan did: its run id and how many classes ended how."""

    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    rt01: int = 0
    summaries: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """2 when a class could not be audited, 1 when one has error findings, else 0."""
        if self.counts.get("error"):
            return 2
        return 1 if self.failed or self.rt01 else 0


Log = Callable[[str, dict[str, Any]], None]
"""Called as (event, fields) while the scan runs: 'class', 'pending', 'error', 'removed'."""


@dataclass
class _Job:
    spot: ClassSpot
    print_: Fingerprint
    known: KnownClass | None
    outcome: str


@contextmanager
def _exclusive(db: Path) -> Iterator[None]:
    """One scan per database at a time (the lock dies with its process, even on kill -9)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(db.with_name(db.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ScanError(f"{db}: another scan is using this database") from exc
        yield
    finally:
        os.close(fd)


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


class NightScan:
    """One scan of ROOT into a store: decide, audit, commit class by class."""

    def __init__(
        self,
        root: Path,
        store: ScanStore,
        settings: AuditSettings,
        workers: int = 1,
        cluster: str | None = None,
        log: Log | None = None,
        cluster_timeout: float = 20.0,
    ) -> None:
        self.root = root.resolve()
        self.cluster_timeout = cluster_timeout
        self.store = store
        self.settings = settings
        self.workers = workers
        self.cluster = cluster
        self.log: Log = log or (lambda event, fields: None)
        self.profile = load_profile(settings.standard)
        self.walker = DiscWalker(self.profile, year=settings.year)
        self.key = audit_key(settings, self.profile)
        self.first_month = int(self.profile.section("statistics").get("first_month", 12))

    def run(self) -> ScanResult:
        """Scan once; raises ScanError when it cannot run at all."""
        if not self.root.is_dir():
            raise ScanError(f"{self.root}: no such folder")
        stored_root = self.store.meta("root")
        if stored_root is not None and stored_root != str(self.root):
            raise ScanError(f"{self.store.path}: this database belongs to {stored_root}")
        spots, unreadable = find_classes(self.root, self.walker)
        known = self.store.known_classes()
        audited = {rel: k for rel, k in known.items() if k.status == "audited"}
        if not spots and audited:
            raise ScanError(
                f"{self.root}: no class folder found, yet {len(audited)} were audited before"
                " (is the share mounted?); nothing recorded"
            )
        try:
            runner: AuditRunner
            if self.cluster:
                runner = DaskRunner(self.cluster, self.cluster_timeout)
            else:
                runner = LocalRunner(self.workers) if self.workers > 0 else InlineRunner()
        except RunnerError as exc:
            raise ScanError(str(exc)) from exc
        try:
            if stored_root is None:
                self.store.set_meta("root", str(self.root))
            started = _now()
            run_id = self.store.start_run(
                str(self.root),
                _iso(started),
                None if self.cluster else self.workers,
                self.cluster,
                self.settings.scan_settle_seconds,
            )
            result = ScanResult(run_id)
            jobs = self._decide(run_id, spots, known, started, result)
            self._removed(run_id, spots, unreadable, audited, result)
            # --roster names one class's roster; in a scan each class brings its own.
            payload = self.settings.model_dump(mode="json") | {"roster": None}
            paths = [str(j.spot.path) for j in jobs]
            for i, outcome in runner.results(paths, payload, self.settings.lang):
                self._commit(run_id, jobs[i], outcome, result)
            self.store.finish_run(run_id, _iso(_now()), unreadable)
        finally:
            runner.close()
        return result

    def _count(self, result: ScanResult, outcome: str) -> None:
        result.counts[outcome] = result.counts.get(outcome, 0) + 1

    def _decide(
        self,
        run_id: int,
        spots: list[ClassSpot],
        known: dict[str, KnownClass],
        started: dt.datetime,
        result: ScanResult,
    ) -> list[_Job]:
        def safe(spot: ClassSpot) -> Fingerprint | OSError:
            try:
                return fingerprint(spot.path)
            except OSError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=8) as pool:
            prints = list(pool.map(safe, spots))
        jobs: list[_Job] = []
        unchanged: list[str] = []
        settle = self.settings.scan_settle_seconds
        for spot, fp in zip(spots, prints, strict=True):
            k = known.get(spot.rel)
            if isinstance(fp, OSError):
                self._note(run_id, spot.rel, "error", {"error": f"{fp.strerror or fp}"}, result)
                continue
            age = started.timestamp() - fp.newest_ns / 1e9
            if age < settle:
                detail = {"reason": "copying", "newest": _when(fp.newest_ns), "age": round(age)}
                self._note(run_id, spot.rel, "pending", detail, result)
                continue
            if k and k.status == "audited" and k.fingerprint == fp.digest:
                if k.audit_key == self.key:
                    unchanged.append(spot.rel)
                    continue
                outcome = "reaudit"
            else:
                outcome = "changed" if k and k.fingerprint else "new"
            jobs.append(_Job(spot, fp, k, outcome))
        self.store.record_unchanged(run_id, unchanged)
        result.counts["unchanged"] = len(unchanged)
        return jobs

    def _note(
        self, run_id: int, rel: str, outcome: str, detail: dict[str, Any], result: ScanResult
    ) -> None:
        institution = institution_of(rel, None)
        self.store.record_outcome(run_id, rel, institution, outcome, detail, _iso(_now()))
        self._count(result, outcome)
        self.log(outcome, {"class": rel, **detail})

    def _removed(
        self,
        run_id: int,
        spots: list[ClassSpot],
        unreadable: list[str],
        audited: dict[str, KnownClass],
        result: ScanResult,
    ) -> None:
        found = {s.rel for s in spots}
        for rel, k in sorted(audited.items()):
            if rel in found or any(
                u == "." or rel == u or rel.startswith(u + "/") for u in unreadable
            ):
                continue
            before = self.store.class_files(k.id)
            rt01 = retention_findings(
                before, {}, k.first_audited, self.profile, _now(), self.settings.lang
            )
            self.store.record_removed(run_id, k, rt01, _iso(_now()))
            self._count(result, "removed")
            result.rt01 += len(rt01)
            self.log("removed", {"class": rel, "rt01": len(rt01)})

    def _commit(self, run_id: int, job: _Job, out: dict[str, Any], result: ScanResult) -> None:
        rel = job.spot.rel
        if out.get("error") or out.get("report") is None:
            self._note(run_id, rel, "error", {"error": out.get("error")}, result)
            return
        try:
            after = fingerprint(job.spot.path, heads=False).stats
        except OSError:
            after = None
        if after != job.print_.stats:
            self._note(run_id, rel, "pending", {"reason": "changed_during_audit"}, result)
            return
        report: dict[str, Any] = out["report"]
        cls = report["classes"][0] if report.get("classes") else {}
        dates = sorted(d["date"] for d in cls.get("days", []) if d.get("date"))
        start = dates[0] if dates else None
        now = _now()
        retention: list[dict[str, Any]] = []
        if job.known is not None and job.known.fingerprint:
            retention = retention_findings(
                self.store.class_files(job.known.id),
                {f.rel: f for f in job.print_.files},
                job.known.first_audited,
                self.profile,
                now,
                self.settings.lang,
            )
        record = AuditRecord(
            rel=rel,
            institution=institution_of(rel, cls.get("prefix")),
            prefix=cls.get("prefix"),
            fingerprint=job.print_.digest,
            audit_key=self.key,
            files=job.print_.files,
            report=report,
            worker=out.get("worker"),
            outcome=job.outcome,
            start_date=start,
            stat_year=statistics_year(dt.date.fromisoformat(start), self.first_month)
            if start
            else None,
            retention=retention,
        )
        self.store.commit_audit(run_id, record, _iso(now))
        self._count(result, job.outcome)
        errors = int(report["summary"]["errors"]) + len(retention)
        result.failed += bool(errors)
        result.rt01 += len(retention)
        self.log(
            "class",
            {
                "class": rel,
                "outcome": job.outcome,
                "verdict": "fail" if errors else "pass",
                "errors": errors,
                "warnings": int(report["summary"]["warnings"]),
                "rt01": len(retention),
            },
        )
        if self.settings.scan_pause_seconds > 0:
            time.sleep(self.settings.scan_pause_seconds)


def scan(
    root: Path,
    db: Path,
    settings: AuditSettings | None = None,
    workers: int = 1,
    cluster: str | None = None,
    log: Log | None = None,
    cluster_timeout: float = 20.0,
) -> ScanResult:
    """Scan ROOT into the database DB once (one scan per database at a time)."""
    from video_audit.scan.summary import write_night
    from video_audit.store.scan import StoreError

    settings = settings or AuditSettings()
    if settings.fingerprint_db is None:  # footage reused across classes, remembered in the DB
        settings = settings.model_copy(update={"fingerprint_db": db})
    with _exclusive(db):
        try:
            store = ScanStore.open(db)
        except StoreError as exc:
            raise ScanError(str(exc)) from exc
        try:
            try:
                result = NightScan(
                    root, store, settings, workers, cluster, log, cluster_timeout
                ).run()
            except ProfileError as exc:
                raise ScanError(str(exc)) from exc
            try:
                result.summaries = write_night(store, result.run_id, db, settings.lang)
            except OSError as exc:
                (log or (lambda e, f: None))("error", {"class": "", "error": f"summary: {exc}"})
            return result
        finally:
            store.close()
