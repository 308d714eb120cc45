"""Patrols over the workspace: sites, cameras and class sessions imported from a schedule, one
standing random plan over them (seed recorded in the evidence chain), and the patrols that
are due run with bounded concurrency, each stored as it goes.

Used by `video-audit sites import`, `video-audit patrol-run` (cron / systemd timer) and the
web service (its timer and the site page's 立即巡查). Nothing here shows a camera's
credentials: the store hands out `shown_url`, and only `run_camera` reads the real URL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.evidence import EvidenceLog
from video_audit.naming import visible
from video_audit.patrol.plan import (
    PLAN_METHOD,
    Plan,
    Schedule,
    Session,
    draw_plan,
    read_schedule,
)
from video_audit.patrol.stream import is_stream_url, public_url, scrub
from video_audit.patrol.views import plan_dict
from video_audit.standard import Profile, section_values
from video_audit.store import Store
from video_audit.store.patrols import Imported, SessionRow


@dataclass(frozen=True)
class PatrolSettings:
    """How patrols run: seconds read, connect timeout, parallel cameras, moments per day, and
    how late a planned moment may still be patrolled (after that it is recorded as missed)."""

    seconds: float = 8.0
    timeout: float = 10.0
    workers: int = 4
    per_day: int = 2
    grace_minutes: float = 30.0

    @property
    def longest_seconds(self) -> float:
        """The longest one patrol can run: the read's guard (2 × timeout + seconds + 2), and
        generously for capturing, counting and matching; a patrol still 'running' after that
        was cut short (its process stopped)."""
        return 2 * self.timeout + self.seconds + 300

    @classmethod
    def of(cls, profile: Profile) -> PatrolSettings:
        keys = ("seconds", "timeout", "workers", "per_day", "grace_minutes")
        return cls(**section_values(profile.section("patrol"), cls(), keys))


def import_schedule(store: Store, path: Path, by: str) -> tuple[Imported, list[str]]:
    """The schedule file's sessions into the workspace; (what was added, the rows refused)."""
    schedule = read_schedule(path)
    rows = [
        SessionRow(
            institution=s.institution,
            site=s.site,
            camera_url=s.camera,
            camera_shown=public_url(s.camera),
            class_name=s.class_name,
            date=s.date.isoformat(),
            start=f"{s.start:%H:%M}",
            end=f"{s.end:%H:%M}",
            source=path.name,
            source_row=s.row,
        )
        for s in schedule.sessions
    ]
    return store.import_sessions(rows, by), list(schedule.errors)


def stored_schedule(store: Store, first: dt.date | None = None) -> Schedule:
    """The workspace's sessions from FIRST on as a Schedule: each session's row is its id, its
    camera the shown URL; the digest is over what a plan depends on."""
    rows = store.site_sessions(first.isoformat() if first else None, in_service=True)
    sessions = [
        Session(
            row=int(r["id"]),
            class_name=str(r["class_name"]),
            institution=str(r["institution"]),
            site=f"{r['institution']}·{r['site']}",
            camera=str(r["shown_url"]),
            date=dt.date.fromisoformat(r["date"]),
            start=dt.time.fromisoformat(r["start"]),
            end=dt.time.fromisoformat(r["end"]),
        )
        for r in rows
    ]
    canon = [
        [s.row, s.class_name, s.site, s.date.isoformat(), f"{s.start:%H:%M}", f"{s.end:%H:%M}"]
        for s in sessions
    ]
    digest = hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()
    return Schedule(Path("workspace"), digest, sessions)


def moments_digest(moments: list[dict[str, Any]]) -> str:
    """The SHA-256 a plan's evidence record holds of its moments as drawn."""
    text = json.dumps(moments, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def check_plan(store: Store, row: Any) -> dict[str, Any]:
    """Whether a stored plan is the one drawn: its moments, seed and session digest as its
    signed evidence record says (the chain's own check covers the record), and, while the
    sessions it was drawn over are unchanged, the same moments drawn again from its seed.
    `problems` lists what differs, in words (zh / en); empty when all holds."""
    plan = plan_dict(row)
    problems: list[str] = []
    record = store.evidence_record(plan["evidence_seq"])
    body = json.loads(record["body"] or "{}") if record is not None else {}
    if record is None or record["kind"] != "patrol_plan":
        problems.append(
            f"证据记录 #{plan['evidence_seq']} 不是这份计划的记录 / its evidence record is missing"
        )
    else:
        for key, value in (
            ("seed", plan["seed"]),
            ("schedule_sha256", plan["schedule_sha256"]),
            ("moments_sha256", moments_digest(plan["moments"])),
        ):
            if body.get(key) != value:
                problems.append(f"{key} 与证据记录不符 / {key} differs from its evidence record")
    schedule = stored_schedule(store, dt.date.fromisoformat(plan["first_day"]))
    redrawn: bool | None = None
    same_method = body.get("method") == PLAN_METHOD
    if schedule.sha256 == plan["schedule_sha256"] and same_method:
        drawn = dt.datetime.fromisoformat(plan["drawn"])
        again = draw_plan(schedule, plan["seed"], plan["per_day"], drawn.date(), None)
        redrawn = _moment_dict(again, drawn) == plan["moments"]
        if not redrawn:
            problems.append(
                "按种子重新抽取的时刻与记录不同 / drawn again from its seed, the moments differ"
            )
    return {
        "id": plan["id"],
        "method": body.get("method"),
        "redrawn": redrawn,
        "problems": problems,
        "ok": not problems,
    }


def _moment_dict(plan: Plan, drawn: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for m in plan.moments:
        d = m.to_dict()
        d["session_id"] = d.pop("row")
        d["site"] = m.session.site.split("·", 1)[-1]
        d["before_drawn"] = m.at < drawn
        out.append(d)
    return out


def current_plan(
    store: Store, log: EvidenceLog, today: dt.datetime, per_day: int, by: str
) -> dict[str, Any] | None:
    """The standing plan; a new one is drawn (seed from the system's randomness, recorded with
    the schedule's digest in the evidence chain) when there is none or the sessions it was
    drawn over have changed. None when no session lies ahead."""
    latest = store.latest_plan()
    if latest is not None:
        first = dt.date.fromisoformat(latest["first_day"])
        if stored_schedule(store, first).sha256 == latest["schedule_sha256"]:
            return plan_dict(latest)
    schedule = stored_schedule(store, today.date())
    if not schedule.sessions:
        return None
    seed = secrets.randbits(48)
    plan = draw_plan(schedule, seed, per_day, today.date(), None)
    moments = _moment_dict(plan, today)
    first_day = today.date().isoformat()
    last = max(s.date for s in schedule.sessions).isoformat()
    at = today.isoformat(timespec="seconds")
    body = {
        "at": at,
        "seed": seed,
        "per_day": per_day,
        "first_day": first_day,
        "last_day": last,
        "schedule_sha256": schedule.sha256,
        "moments": len(moments),
        "moments_sha256": moments_digest(moments),
        "method": PLAN_METHOD,
    }

    def alongside(conn: Any, record: dict[str, Any]) -> int:
        # Another process (serve and cron both running) drew the plan for these sessions while
        # this one did: keep that one; raising rolls this record and plan back together.
        if conn.execute(
            "SELECT 1 FROM patrol_plans WHERE first_day = ? AND schedule_sha256 = ?",
            (first_day, schedule.sha256),
        ).fetchone():
            raise _DrawnMeanwhile
        return store.insert_plan(
            conn, seed, per_day, first_day, last, schedule.sha256, moments, by, at,
            int(record["seq"]),
        )  # fmt: skip

    with contextlib.suppress(_DrawnMeanwhile):
        log.record_decision(
            "patrol_plan", body, by, "随机巡查计划 / random patrol plan", None, alongside
        )
    standing = store.plan_for(first_day, schedule.sha256)
    return plan_dict(standing) if standing is not None else None


class CameraRetired(Exception):
    """The camera is out of service (停用): it is not patrolled."""


def add_camera(store: Store, site_id: int, url: str, name: str, by: str) -> int:
    """A camera for a registered site (a network stream URL; ValueError says why not)."""
    site = store.site(site_id)
    if site is None:
        raise KeyError(site_id)
    url = url.strip()
    if not is_stream_url(url) or visible(url) != url:
        raise ValueError(
            f"“{visible(public_url(url))}”不是视频流地址（应为 rtsp://、http(s)://、rtmp:// 等）"
            " / not a stream URL (rtsp, http(s), rtmp, srt)"
        )
    shown = public_url(url)
    return store.add_camera(site["institution"], site["name"], url, shown, visible(name), by)


class _DrawnMeanwhile(Exception):
    """The same plan was drawn by another process while this one drew it."""


def class_folder(
    store: Store, classes_dir: Path, institution: str, name: str
) -> tuple[int, Path] | None:
    """The uploaded class a session names, newest first (its roster is matched on the frames):
    the same name, or the institution's class whose name ends with it."""
    for row in store.classes_named(name, institution) if name else []:
        folder = classes_dir / str(row["folder"])
        if folder.is_dir():
            return int(row["id"]), folder
    return None


@dataclass
class Outcome:
    """What one run of the due patrols did."""

    plan: dict[str, Any] | None
    patrolled: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": None
            if self.plan is None
            else {k: v for k, v in self.plan.items() if k != "moments"},
            "patrolled": self.patrolled,
            "missed": self.missed,
        }


class PatrolRunner:
    """Runs patrols of the workspace's cameras: one by hand, or those of the plan now due."""

    def __init__(
        self,
        store: Store,
        log: EvidenceLog,
        root: Path,
        profile: Profile,
        settings: PatrolSettings,
    ) -> None:
        self.store = store
        self.log = log
        self.root = root
        self.profile = profile
        self.settings = settings
        self.progress: dict[int, dict[str, Any]] = {}
        """How the reads of the patrols running here go ({frames, seconds, of}), by patrol."""

    def start(
        self,
        camera_id: int,
        by: str,
        class_name: str = "",
        plan_id: int | None = None,
        moment: int | None = None,
        due: str | None = None,
    ) -> int | None:
        """The patrol's row (None when the moment is taken); run it with run(id)."""
        camera = self.store.camera(camera_id)
        if camera is None:
            raise KeyError(camera_id)
        if camera["retired"]:
            raise CameraRetired(camera_id)
        return self.store.start_patrol(
            camera_id, by, class_name, self._class_id(camera["institution"], class_name),
            plan_id, moment, due,
        )  # fmt: skip

    def _class_id(self, institution: str, class_name: str) -> int | None:
        """The uploaded class a patrol's class name means, if it is uploaded yet."""
        found = class_folder(self.store, self.root / "classes", institution, class_name)
        return found[0] if found else None

    def run(self, patrol_id: int, on_frame: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Read the camera of a started patrol and store what it found; never raises."""
        from video_audit.patrol.run import patrol

        row = self.store.patrol_row(patrol_id)
        assert row is not None
        url = self.store.camera_url(int(row["camera_id"])) or ""
        try:
            classes = self.root / "classes"
            found = class_folder(self.store, classes, row["institution"], row["class_name"])

            def arrived(frame: dict[str, Any]) -> None:
                self.store.add_patrol_frame(patrol_id, frame)
                if on_frame is not None:
                    on_frame(frame)

            result = patrol(
                url,
                self.root / "patrols" / str(patrol_id),
                self.log,
                self.profile,
                str(row["started_by"]),
                seconds=self.settings.seconds,
                timeout=self.settings.timeout,
                class_name=str(row["class_name"]),
                class_dir=found[1] if found else None,
                on_frame=arrived,
                site=str(row["site"]),
                institution=str(row["institution"]),
                copy_frames=False,  # the frames are in the evidence store; no second copy
                on_progress=lambda so_far: self.progress.__setitem__(patrol_id, so_far),
            )
            data = result.to_dict("zh")
            data["findings_en"] = [f.to_dict("en") for f in result.findings]
            self.store.finish_patrol(patrol_id, "done", data)
        except Exception as exc:  # the tool's own fault: said on the patrol, never a crash
            error = scrub(f"{type(exc).__name__}: {exc}", url) if url else str(exc)
            self.store.finish_patrol(patrol_id, "failed", None, error)
        finally:
            self.progress.pop(patrol_id, None)

    def run_due(self, now: dt.datetime, by: str = "定时巡查") -> Outcome:
        """Draw the plan if needed, then patrol every moment due by NOW and not yet patrolled,
        up to `workers` cameras at a time; moments later than the grace are recorded missed."""
        plan = current_plan(self.store, self.log, now, self.settings.per_day, by)
        outcome = Outcome(plan)
        if plan is None:
            return outcome
        taken = {int(r["moment"]) for r in self.store.patrol_rows(plan_id=plan["id"], limit=100000)}
        grace = dt.timedelta(minutes=self.settings.grace_minutes)
        sessions = {int(r["id"]): r for r in self.store.site_sessions(plan["first_day"])}
        todo: list[int] = []
        for m in plan["moments"]:
            at = dt.datetime.fromisoformat(m["at"])
            session = sessions.get(int(m["session_id"]))
            if m["seq"] in taken or at > now or m.get("before_drawn") or session is None:
                continue
            state = "missed" if now - at > grace else "running"
            class_id = self._class_id(str(session["institution"]), m["class"])
            pid = self.store.start_patrol(
                int(session["camera_id"]), by, m["class"], class_id, plan["id"], m["seq"],
                m["at"], state,
            )  # fmt: skip
            if pid is None:
                continue
            if state == "missed":
                late = f"错过：计划 {m['at']}，到 {now:%Y-%m-%d %H:%M} 才运行 / run too late"
                self.store.finish_patrol(pid, "missed", None, late)
                outcome.missed.append(pid)
            else:
                todo.append(pid)
        with ThreadPoolExecutor(max(1, self.settings.workers), "patrol") as pool:
            list(pool.map(self.run, todo))
        outcome.patrolled = todo
        return outcome
