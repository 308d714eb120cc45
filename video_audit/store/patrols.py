"""Live patrol (远程巡查): sites, cameras, the class sessions held at them, random plans, patrols.

A camera's stream URL, credentials included, is in column `url`; only `camera_url()` reads it
(for the patrol itself). Every other query names its columns and returns `shown_url`
(`rtsp://***@host/…`), so nothing that lists, shows or logs a camera can leak its password.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from video_audit.store.base import now
from video_audit.store.db import Database

CAMERA_COLUMNS = "c.id, c.site_id, c.name, c.shown_url, c.created, c.retired, c.retired_by"
PATROL_STATES = ("running", "done", "failed", "missed")


@dataclass(frozen=True)
class SessionRow:
    """One class session to import: where (site, camera URL), which class, when."""

    institution: str
    site: str
    camera_url: str
    camera_shown: str
    class_name: str
    date: str  # YYYY-MM-DD
    start: str  # HH:MM
    end: str  # HH:MM
    source: str
    source_row: int


@dataclass(frozen=True)
class Imported:
    """What an import added: new sites, cameras and sessions (those already there are kept)."""

    sites: int
    cameras: int
    sessions: int
    unchanged: int


class Patrols(Database):
    """Sites, cameras, sessions, plans and patrols."""

    # -- sites and cameras -------------------------------------------------------------------

    @staticmethod
    def _site_id(
        conn: sqlite3.Connection, institution: str, name: str, by: str
    ) -> tuple[int, bool]:
        row = conn.execute(
            "SELECT id FROM sites WHERE institution = ? AND name = ?", (institution, name)
        ).fetchone()
        if row is not None:
            return int(row[0]), False
        cur = conn.execute(
            "INSERT INTO sites (institution, name, created_by, created) VALUES (?, ?, ?, ?)",
            (institution, name, by, now()),
        )
        return int(cur.lastrowid or 0), True

    @staticmethod
    def _camera_id(
        conn: sqlite3.Connection, site_id: int, url: str, shown: str, name: str
    ) -> tuple[int, bool]:
        """The site's camera at SHOWN (the URL without credentials), made when new; a URL with
        other credentials for it replaces the stored one (a changed password)."""
        row = conn.execute(
            "SELECT id, url FROM cameras WHERE site_id = ? AND shown_url = ?", (site_id, shown)
        ).fetchone()
        if row is not None:
            # Named again (a schedule, the site page): in service again, with this URL.
            conn.execute(
                "UPDATE cameras SET url = ?, retired = NULL, retired_by = NULL WHERE id = ?",
                (url, row[0]),
            )
            return int(row[0]), False
        cur = conn.execute(
            "INSERT INTO cameras (site_id, name, shown_url, url, created) VALUES (?, ?, ?, ?, ?)",
            (site_id, name or shown, shown, url, now()),
        )
        return int(cur.lastrowid or 0), True

    def add_camera(
        self, institution: str, site: str, url: str, shown: str, name: str, by: str
    ) -> int:
        """The camera URL at SITE of INSTITUTION (both made when new); its id."""

        def add(conn: sqlite3.Connection) -> int:
            site_id, _ = self._site_id(conn, institution, site, by)
            return self._camera_id(conn, site_id, url, shown, name)[0]

        return self.write(add)

    def import_sessions(self, rows: Iterable[SessionRow], by: str) -> Imported:
        """Add the sessions (with their sites and cameras) in one transaction."""
        rows = list(rows)

        def add(conn: sqlite3.Connection) -> Imported:
            sites = cameras = sessions = same = 0
            at = now()
            for r in rows:
                site_id, new_site = self._site_id(conn, r.institution, r.site, by)
                camera_id, new_camera = self._camera_id(
                    conn, site_id, r.camera_url, r.camera_shown, ""
                )
                cur = conn.execute(
                    "INSERT OR IGNORE INTO site_sessions (site_id, camera_id, class_name, date, "
                    "start, end, source, source_row, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (site_id, camera_id, r.class_name, r.date, r.start, r.end, r.source,
                     r.source_row, at),
                )  # fmt: skip
                sites += new_site
                cameras += new_camera
                sessions += cur.rowcount
                same += 1 - cur.rowcount
            return Imported(sites, cameras, sessions, same)

        return self.write(add)

    def sites(self, institution: str | None = None) -> list[sqlite3.Row]:
        """Every site (of one institution), with its number of cameras and its last patrol."""
        where, params = ("WHERE s.institution = ?", (institution,)) if institution else ("", ())
        return self.read(
            "SELECT s.id, s.institution, s.name, s.created, "
            "(SELECT count(*) FROM cameras c WHERE c.site_id = s.id) AS cameras, "
            "(SELECT max(p.id) FROM patrols p JOIN cameras c ON c.id = p.camera_id "
            " WHERE c.site_id = s.id) AS last_patrol "
            f"FROM sites s {where} ORDER BY s.institution, s.name",
            params,
        )

    def site(self, site_id: int) -> sqlite3.Row | None:
        return self.read_one(
            "SELECT id, institution, name, created_by, created FROM sites WHERE id = ?", (site_id,)
        )

    def cameras(self, site_id: int) -> list[sqlite3.Row]:
        """A site's cameras (shown URL only), each with its last patrol's id."""
        return self.read(
            f"SELECT {CAMERA_COLUMNS}, (SELECT max(p.id) FROM patrols p "
            "WHERE p.camera_id = c.id) AS last_patrol FROM cameras c WHERE c.site_id = ? "
            "ORDER BY c.id",
            (site_id,),
        )

    def camera(self, camera_id: int) -> sqlite3.Row | None:
        """A camera with its site's institution and name (shown URL only)."""
        return self.read_one(
            f"SELECT {CAMERA_COLUMNS}, s.institution, s.name AS site FROM cameras c "
            "JOIN sites s ON s.id = c.site_id WHERE c.id = ?",
            (camera_id,),
        )

    def retire_camera(self, camera_id: int, by: str) -> bool:
        """Take a camera out of service (its patrols stay; no plan draws it again); False
        when there is no such camera in service."""

        def retire(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE cameras SET retired = ?, retired_by = ? WHERE id = ? AND retired IS NULL",
                (now(), by, camera_id),
            )
            return cur.rowcount == 1

        return self.write(retire)

    def camera_url(self, camera_id: int) -> str | None:
        """The stream URL with its credentials: for the patrol only, never to show or log."""
        row = self.read_one("SELECT url FROM cameras WHERE id = ?", (camera_id,))
        return str(row[0]) if row is not None else None

    def classes_named(self, name: str, institution: str) -> list[sqlite3.Row]:
        """Uploaded classes a schedule's class name means, newest first: that name, or one of
        the institution's whose name ends with it (第一期面点班 → 某学校2024年第一期面点班)."""
        return self.read(
            "SELECT id, name, institution, folder FROM classes WHERE name = ? OR "
            "(institution = ? AND substr(name, -length(?)) = ?) ORDER BY id DESC",
            (name, institution, name, name),
        )

    # -- sessions and plans ------------------------------------------------------------------

    def site_sessions(
        self,
        first: str | None = None,
        last: str | None = None,
        site_id: int | None = None,
        in_service: bool = False,
    ) -> list[sqlite3.Row]:
        """Sessions with their site and camera (shown URL), by date and start; IN_SERVICE:
        only those whose camera is in service (what plans are drawn over)."""
        clauses, params = _filters(
            ("ss.date >= ?", first), ("ss.date <= ?", last), ("ss.site_id = ?", site_id)
        )
        if in_service:
            clauses.append("c.retired IS NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.read(
            "SELECT ss.id, ss.site_id, ss.camera_id, ss.class_name, ss.date, ss.start, ss.end, "
            "ss.source, ss.source_row, s.institution, s.name AS site, c.shown_url "
            "FROM site_sessions ss JOIN sites s ON s.id = ss.site_id "
            f"JOIN cameras c ON c.id = ss.camera_id {where} "
            "ORDER BY ss.date, ss.start, ss.id",
            tuple(params),
        )

    @staticmethod
    def insert_plan(
        conn: sqlite3.Connection,
        seed: int,
        per_day: int,
        first_day: str | None,
        last_day: str | None,
        schedule_sha256: str,
        moments: list[dict[str, Any]],
        by: str,
        at: str,
        evidence_seq: int,
    ) -> int:
        """Write a drawn plan inside the caller's transaction (its evidence record's)."""
        cur = conn.execute(
            "INSERT INTO patrol_plans (seed, per_day, first_day, last_day, schedule_sha256, "
            "moments, drawn_by, drawn, evidence_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seed, per_day, first_day, last_day, schedule_sha256,
             json.dumps(moments, ensure_ascii=False), by, at, evidence_seq),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    def latest_plan(self) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM patrol_plans ORDER BY id DESC LIMIT 1")

    def plan_for(self, first_day: str, schedule_sha256: str) -> sqlite3.Row | None:
        """The newest plan drawn from FIRST_DAY over sessions of this digest."""
        return self.read_one(
            "SELECT * FROM patrol_plans WHERE first_day = ? AND schedule_sha256 = ? "
            "ORDER BY id DESC LIMIT 1",
            (first_day, schedule_sha256),
        )

    def plans(self, limit: int = -1) -> list[sqlite3.Row]:
        """The drawn plans, newest first (the newest LIMIT; -1: all)."""
        return self.read("SELECT * FROM patrol_plans ORDER BY id DESC LIMIT ?", (limit,))

    # -- patrols -----------------------------------------------------------------------------

    def start_patrol(
        self,
        camera_id: int,
        by: str,
        class_name: str = "",
        class_id: int | None = None,
        plan_id: int | None = None,
        moment: int | None = None,
        due: str | None = None,
        state: str = "running",
    ) -> int | None:
        """A new patrol row (running); None when the plan's moment has one already."""

        def add(conn: sqlite3.Connection) -> int | None:
            cur = conn.execute(
                "INSERT OR IGNORE INTO patrols (camera_id, class_name, class_id, plan_id, "
                "moment, due, state, started, started_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (camera_id, class_name, class_id, plan_id, moment, due, state, now(), by),
            )
            return int(cur.lastrowid or 0) if cur.rowcount else None

        return self.write(add)

    def add_patrol_frame(self, patrol_id: int, frame: dict[str, Any]) -> None:
        """One more captured frame of a running patrol (the page shows it at once)."""

        def add(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT frames FROM patrols WHERE id = ?", (patrol_id,)).fetchone()
            frames = json.loads(row[0]) if row is not None else []
            frames.append(frame)
            conn.execute(
                "UPDATE patrols SET frames = ? WHERE id = ?",
                (json.dumps(frames, ensure_ascii=False), patrol_id),
            )

        self.write(add)

    def finish_patrol(
        self, patrol_id: int, state: str, result: dict[str, Any] | None, error: str = ""
    ) -> None:
        """The patrol's outcome: done (the stream was judged) or failed (it could not run)."""
        if state not in PATROL_STATES:
            raise ValueError(state)
        found = (result or {}).get("findings", [])
        frames = (result or {}).get("frames")
        heads = [f["head_count"] for f in frames or [] if f.get("head_count") is not None]

        def finish(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE patrols SET state = ?, finished = ?, reachable = ?, errors = ?, "
                "warnings = ?, heads = ?, result = ?, error = ?, "
                "frames = coalesce(?, frames) WHERE id = ?",
                (
                    state,
                    now(),
                    None if result is None else int(bool(result.get("reachable"))),
                    sum(1 for f in found if f.get("severity") == "error"),
                    sum(1 for f in found if f.get("severity") == "warning"),
                    max(heads) if heads else None,
                    None if result is None else json.dumps(result, ensure_ascii=False),
                    error,
                    None if frames is None else json.dumps(frames, ensure_ascii=False),
                    patrol_id,
                ),
            )

        self.write(finish)

    def patrol_row(self, patrol_id: int) -> sqlite3.Row | None:
        return self.read_one(PATROL_SELECT + "WHERE p.id = ?", (patrol_id,))

    def patrol_rows(
        self,
        camera_id: int | None = None,
        class_name: str | None = None,
        since: str | None = None,
        failed_only: bool = False,
        plan_id: int | None = None,
        limit: int = 200,
    ) -> list[sqlite3.Row]:
        """Patrols, newest first, filtered by camera, class, start time, outcome or plan."""
        clauses, params = _filters(
            ("p.camera_id = ?", camera_id),
            ("p.class_name = ?", class_name),
            ("p.started >= ?", since),
            ("p.plan_id = ?", plan_id),
        )
        if failed_only:
            clauses.append(FAILED)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        return self.read(PATROL_SELECT + where + "ORDER BY p.id DESC LIMIT ?", (*params, limit))

    def class_patrol_rows(self, class_id: int, name: str, institution: str) -> list[sqlite3.Row]:
        """Patrols of an uploaded class, newest first: by its id, or by a schedule's name for
        it (its whole name, or its name's end at a site of the same institution)."""
        return self.read(
            PATROL_SELECT + "WHERE p.class_id = ? OR p.class_name = ? OR (p.class_name != '' "
            "AND s.institution = ? AND substr(?, -length(p.class_name)) = p.class_name) "
            "ORDER BY p.id DESC LIMIT 500",
            (class_id, name, institution, name),
        )

    def stale_patrols(self, before: str) -> list[int]:
        """Patrols still 'running' that started before BEFORE (their process was stopped)."""
        rows = self.read(
            "SELECT id FROM patrols WHERE state = 'running' AND started < ?", (before,)
        )
        return [int(r[0]) for r in rows]


PATROL_SELECT = (  # a patrol with its camera (shown URL only) and site
    "SELECT p.id, p.camera_id, p.class_name, p.class_id, p.plan_id, p.moment, p.due, p.state, "
    "p.started, p.finished, p.started_by, p.reachable, p.errors, p.warnings, p.heads, "
    "p.frames, p.result, p.error, c.name AS camera, c.shown_url, c.site_id, s.name AS site, "
    "s.institution FROM patrols p JOIN cameras c ON c.id = p.camera_id "
    "JOIN sites s ON s.id = c.site_id "
)


FAILED = "(p.state IN ('failed', 'missed') OR p.errors > 0 OR p.warnings > 0)"
"""A patrol that could not run, was missed, or found LV01/LV02 (the morning summary's list)."""


def _filters(*pairs: tuple[str, Any]) -> tuple[list[str], list[Any]]:
    clauses, params = [], []
    for sql, value in pairs:
        if value is not None:
            clauses.append(sql)
            params.append(value)
    return clauses, params
