"""Ordered, versioned migrations of the workspace database (table schema_migrations).

Every database video-audit has written opens here: a workspace of the web service as it was
before migrations (its own schema, version 1 in table meta), a nightly-scan database given with
`scan --db` (its tables unprefixed, PRAGMA user_version 1), a standalone fingerprint store
(tables clips and bands), or a new file. Each is upgraded in place, in one transaction, keeping
its data; the migrations applied are recorded with when. A database written by a newer
video-audit is refused, and so is an SQLite file that is not ours.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from video_audit.store.base import StoreError, now, transaction
from video_audit.store.class_index import FACT_COLUMNS, report_facts

# The web service's schema as it was at version 1 of its meta table (keep it as it was: a
# workspace of that time is adopted as it stands).
_SERVICE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('inspector', 'institution', 'admin')),
    institution TEXT, password_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL, csrf TEXT NOT NULL, created TEXT NOT NULL, expires TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, institution TEXT NOT NULL,
    folder TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users(id), uploaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    state TEXT NOT NULL, created TEXT NOT NULL, started TEXT, finished TEXT,
    error TEXT, summary TEXT, report TEXT, files TEXT);
CREATE TABLE IF NOT EXISTS findings (
    audit_id INTEGER NOT NULL REFERENCES audits(id), code TEXT NOT NULL,
    severity TEXT NOT NULL, path TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_audit ON findings(audit_id);
CREATE TABLE IF NOT EXISTS spotchecks (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    seed INTEGER NOT NULL, count INTEGER NOT NULL, moments TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id), created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY, class_id INTEGER, source_path TEXT NOT NULL,
    source_sha256 TEXT NOT NULL, clip TEXT NOT NULL, frame_time REAL NOT NULL,
    pts INTEGER NOT NULL, time_base TEXT NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, taken_by TEXT NOT NULL, note TEXT NOT NULL, taken_at TEXT NOT NULL,
    png TEXT NOT NULL, png_sha256 TEXT NOT NULL, caption_png TEXT NOT NULL,
    caption_sha256 TEXT NOT NULL, caption TEXT NOT NULL, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
"""

# The nightly scan: runs, the classes it found, their files, audits, findings and outcomes.
_SCAN = """
CREATE TABLE IF NOT EXISTS scan_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scan_runs (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
    workers INTEGER,
    cluster TEXT,
    settle_seconds REAL,
    unreadable TEXT
);
CREATE TABLE IF NOT EXISTS scan_classes (
    id INTEGER PRIMARY KEY,
    rel TEXT NOT NULL UNIQUE,
    institution TEXT NOT NULL,
    prefix TEXT,
    status TEXT NOT NULL CHECK (status IN ('seen', 'audited', 'removed')),
    fingerprint TEXT,
    audit_key TEXT,
    last_audit_id INTEGER,
    first_seen TEXT NOT NULL,
    first_audited TEXT,
    last_audited TEXT,
    removed TEXT,
    start_date TEXT,
    stat_year INTEGER,
    verdict TEXT,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS scan_files (
    class_id INTEGER NOT NULL REFERENCES scan_classes(id),
    rel TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    head TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (class_id, rel)
);
CREATE TABLE IF NOT EXISTS scan_audits (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES scan_classes(id),
    run_id INTEGER NOT NULL REFERENCES scan_runs(id),
    fingerprint TEXT NOT NULL,
    audit_key TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    worker TEXT,
    verdict TEXT NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    report_json TEXT NOT NULL,
    UNIQUE (class_id, run_id)
);
CREATE TABLE IF NOT EXISTS scan_findings (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES scan_classes(id),
    run_id INTEGER NOT NULL REFERENCES scan_runs(id),
    audit_id INTEGER REFERENCES scan_audits(id),
    source TEXT NOT NULL CHECK (source IN ('audit', 'retention')),
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    path TEXT NOT NULL,
    message TEXT NOT NULL,
    details_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scan_findings_by_audit ON scan_findings(audit_id);
CREATE INDEX IF NOT EXISTS scan_findings_by_run ON scan_findings(run_id, code);
CREATE TABLE IF NOT EXISTS scan_outcomes (
    run_id INTEGER NOT NULL REFERENCES scan_runs(id),
    class_id INTEGER NOT NULL REFERENCES scan_classes(id),
    outcome TEXT NOT NULL CHECK (outcome IN
        ('new', 'changed', 'reaudit', 'unchanged', 'pending', 'removed', 'error')),
    detail TEXT,
    audit_id INTEGER REFERENCES scan_audits(id),
    PRIMARY KEY (run_id, class_id)
);
"""

# Footage fingerprints of every audited class, to find footage reused across classes (QA05).
_FOOTAGE = """
CREATE TABLE IF NOT EXISTS footage_clips (
    id INTEGER PRIMARY KEY,
    class_key TEXT NOT NULL,
    class_folder TEXT NOT NULL,
    path TEXT NOT NULL,
    audited TEXT NOT NULL,
    fingerprint BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS footage_clips_class ON footage_clips(class_key);
CREATE TABLE IF NOT EXISTS footage_bands (
    key INTEGER NOT NULL,
    clip INTEGER NOT NULL REFERENCES footage_clips(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS footage_bands_key ON footage_bands(key);
"""

# Tables of the databases that came before one workspace database, renamed on adoption.
_LEGACY_SCAN = ("meta", "runs", "classes", "files", "audits", "findings", "outcomes")
_LEGACY_FOOTAGE = {"clips": "footage_clips", "bands": "footage_bands"}


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_")}


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return apply


def _adopt(conn: sqlite3.Connection) -> None:
    """Rename the tables of a nightly-scan database or a fingerprint store to their new names."""
    tables = _tables(conn)
    if {"runs", "outcomes"} <= tables and "users" not in tables:
        conn.execute("DROP INDEX IF EXISTS findings_by_audit")
        conn.execute("DROP INDEX IF EXISTS findings_by_run")
        for name in _LEGACY_SCAN:
            if name in tables:
                conn.execute(f"ALTER TABLE {name} RENAME TO scan_{name}")
    if set(_LEGACY_FOOTAGE) <= tables and "users" not in tables:
        conn.execute("DROP INDEX IF EXISTS clips_class")
        conn.execute("DROP INDEX IF EXISTS bands_key")
        for old, new in _LEGACY_FOOTAGE.items():
            conn.execute(f"ALTER TABLE {old} RENAME TO {new}")


def _evidence_macs(conn: sqlite3.Connection) -> None:
    """Each evidence record's HMAC and the id of the key that made it (NULL: made before)."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(evidence)")}
    for name in ("mac", "key_id"):
        if name not in columns:  # a file adopted a second time may have them already
            conn.execute(f"ALTER TABLE evidence ADD COLUMN {name} TEXT")


def _class_contents(conn: sqlite3.Connection) -> None:
    """Each uploaded class's content digest, to find the same content uploaded again."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(classes)")}
    if "content_sha256" not in columns:
        conn.execute("ALTER TABLE classes ADD COLUMN content_sha256 TEXT")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS classes_by_content ON classes (institution, content_sha256)"
    )


# Attendance review: inspectors' decisions per class person (with the person's face embeddings:
# biometric data, kept only here), the people each audit saw (what decisions are mapped by), and
# evidence records of another kind than a capture (a decision or its revocation).
_ATTENDANCE = """
CREATE TABLE IF NOT EXISTS attendance_decisions (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL,
    class_key TEXT NOT NULL,
    audit_id INTEGER,
    person TEXT NOT NULL,
    descriptor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('confirm', 'stranger', 'undecidable')),
    key TEXT,
    name TEXT,
    days TEXT NOT NULL,
    thumbnails TEXT NOT NULL,
    centre BLOB,
    faces BLOB,
    dim INTEGER,
    engine TEXT,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    evidence_seq INTEGER,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_seq INTEGER
);
CREATE INDEX IF NOT EXISTS attendance_decisions_class ON attendance_decisions(class_id);
CREATE INDEX IF NOT EXISTS attendance_decisions_key ON attendance_decisions(class_key);
CREATE TABLE IF NOT EXISTS attendance_people (
    descriptor TEXT PRIMARY KEY,
    class_key TEXT NOT NULL,
    person TEXT NOT NULL,
    days TEXT NOT NULL,
    thumbnails TEXT NOT NULL,
    centre BLOB NOT NULL,
    faces BLOB NOT NULL,
    dim INTEGER NOT NULL,
    metric TEXT NOT NULL,
    threshold REAL NOT NULL,
    engine TEXT NOT NULL,
    recorded TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attendance_people_class ON attendance_people(class_key);
"""


def _attendance(conn: sqlite3.Connection) -> None:
    _script(_ATTENDANCE)(conn)
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(evidence)")}
    for name in ("kind", "body"):  # NULL kind: a capture (every record made before)
        if name not in columns:
            conn.execute(f"ALTER TABLE evidence ADD COLUMN {name} TEXT")


# Ledgers (补贴核算): the check-in files and employment lists uploaded for a class, and the
# two signatures (经办, 复核) of its ledger; a void marks every signature it ends. The partial
# index keeps one standing signature per role and class, whatever the writers' timing.
_LEDGERS = """
CREATE TABLE IF NOT EXISTS ledger_inputs (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    kind TEXT NOT NULL CHECK (kind IN ('checkins', 'employment')),
    file TEXT, name TEXT, sha256 TEXT, employed INTEGER,
    uploaded_by TEXT NOT NULL, uploaded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_inputs_class ON ledger_inputs(class_id, kind);
CREATE TABLE IF NOT EXISTS ledger_signatures (
    id INTEGER PRIMARY KEY, class_id INTEGER NOT NULL REFERENCES classes(id),
    role TEXT NOT NULL CHECK (role IN ('first', 'second')),
    user_id INTEGER NOT NULL, signed_by TEXT NOT NULL, signed_at TEXT NOT NULL,
    ledger_hash TEXT NOT NULL, basis TEXT NOT NULL, total REAL,
    evidence_seq INTEGER NOT NULL,
    voided_at TEXT, voided_by TEXT, void_reason TEXT, void_seq INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_signatures_standing
    ON ledger_signatures(class_id, role) WHERE voided_at IS NULL;
"""


# Spot-check results: an inspector's 正常 / 异常 and note per drawn moment (index into the
# spot-check's moments), each with the evidence record written in the same transaction.
_SPOTCHECK_RESULTS = """
CREATE TABLE IF NOT EXISTS spotcheck_results (
    id INTEGER PRIMARY KEY, spotcheck_id INTEGER NOT NULL REFERENCES spotchecks(id),
    moment INTEGER NOT NULL, result TEXT NOT NULL CHECK (result IN ('normal', 'abnormal')),
    note TEXT NOT NULL, recorded_by INTEGER NOT NULL REFERENCES users(id),
    recorded TEXT NOT NULL, evidence_seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spotcheck_results_spotcheck ON spotcheck_results(spotcheck_id);
"""


# Live patrol (远程巡查): training sites per institution, their cameras (the stream URL with its
# credentials is kept in `url` and never read back by anything that shows or logs it: pages,
# reports and logs show `shown_url`, which is also what a camera is known by, so a new password
# imported for it replaces the old), the class sessions held there, the random plans drawn
# over them (seed recorded), and every patrol made, planned or by hand. UNIQUE (plan_id,
# moment) keeps a planned moment patrolled once, whoever runs the plan (serve or cron).
_PATROL = """
CREATE TABLE IF NOT EXISTS sites (
    id INTEGER PRIMARY KEY, institution TEXT NOT NULL, name TEXT NOT NULL,
    created_by TEXT NOT NULL, created TEXT NOT NULL, UNIQUE (institution, name));
CREATE TABLE IF NOT EXISTS cameras (
    id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL, shown_url TEXT NOT NULL, url TEXT NOT NULL, created TEXT NOT NULL,
    UNIQUE (site_id, shown_url));
CREATE TABLE IF NOT EXISTS site_sessions (
    id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id),
    camera_id INTEGER NOT NULL REFERENCES cameras(id), class_name TEXT NOT NULL,
    date TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
    source TEXT NOT NULL, source_row INTEGER NOT NULL, imported TEXT NOT NULL,
    UNIQUE (camera_id, class_name, date, start, end));
CREATE INDEX IF NOT EXISTS site_sessions_date ON site_sessions(date);
CREATE TABLE IF NOT EXISTS patrol_plans (
    id INTEGER PRIMARY KEY, seed INTEGER NOT NULL, per_day INTEGER NOT NULL,
    first_day TEXT, last_day TEXT, schedule_sha256 TEXT NOT NULL, moments TEXT NOT NULL,
    drawn_by TEXT NOT NULL, drawn TEXT NOT NULL, evidence_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS patrols (
    id INTEGER PRIMARY KEY, camera_id INTEGER NOT NULL REFERENCES cameras(id),
    class_name TEXT NOT NULL DEFAULT '', class_id INTEGER REFERENCES classes(id),
    plan_id INTEGER REFERENCES patrol_plans(id), moment INTEGER, due TEXT,
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'missed')),
    started TEXT NOT NULL, finished TEXT, started_by TEXT NOT NULL,
    reachable INTEGER, errors INTEGER NOT NULL DEFAULT 0, warnings INTEGER NOT NULL DEFAULT 0,
    heads INTEGER, frames TEXT NOT NULL DEFAULT '[]', result TEXT, error TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS patrols_planned ON patrols(plan_id, moment)
    WHERE plan_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS patrols_camera ON patrols(camera_id, id);
CREATE INDEX IF NOT EXISTS patrols_class ON patrols(class_name, id);
CREATE INDEX IF NOT EXISTS patrols_started ON patrols(started);
"""


def _cameras_retired(conn: sqlite3.Connection) -> None:
    """A camera taken out of service (停用): kept with its patrols, never planned again."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(cameras)")}
    for name in ("retired", "retired_by"):
        if name not in columns:
            conn.execute(f"ALTER TABLE cameras ADD COLUMN {name} TEXT")


def _class_list(conn: sqlite3.Connection) -> None:
    """What the class list searches, filters and sorts by (video_audit/store/class_index.py),
    with its indexes; filled in from each class's latest finished audit stored before."""
    columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(classes)")}
    for name in FACT_COLUMNS:
        if name not in columns:
            kind = "INTEGER" if name in ("errors", "facts_audit") else "TEXT"
            conn.execute(f"ALTER TABLE classes ADD COLUMN {name} {kind}")
    for sql in (
        "CREATE INDEX IF NOT EXISTS audits_by_class ON audits (class_id, id)",
        "CREATE INDEX IF NOT EXISTS classes_by_upload ON classes (uploaded_at)",
        "CREATE INDEX IF NOT EXISTS classes_by_institution ON classes (institution, uploaded_at)",
        "CREATE INDEX IF NOT EXISTS classes_by_name ON classes (name)",
        "CREATE INDEX IF NOT EXISTS classes_by_start ON classes (start_date)",
        "CREATE INDEX IF NOT EXISTS classes_by_errors ON classes (errors)",
    ):
        conn.execute(sql)
    done = conn.execute(
        "SELECT a.id, a.class_id, a.report FROM audits a WHERE a.id = (SELECT MAX(b.id) FROM "
        "audits b WHERE b.class_id = a.class_id AND b.state = 'done' AND b.report IS NOT NULL)"
    ).fetchall()
    for audit_id, class_id, report in done:
        facts = report_facts(json.loads(report))
        conn.execute(
            "UPDATE classes SET trainees = ?, start_date = ?, verdict = ?, errors = ?, "
            "review = ?, facts_audit = ? WHERE id = ?",
            (*facts.values(int(audit_id)), class_id),
        )


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its version, a name for people, and what it does."""

    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "adopt the databases of earlier versions", _adopt),
    Migration(2, "web service: accounts, uploaded classes, audits, evidence", _script(_SERVICE)),
    Migration(3, "nightly scan state", _script(_SCAN)),
    Migration(4, "footage fingerprints", _script(_FOOTAGE)),
    Migration(5, "evidence: keyed signatures (mac, key_id)", _evidence_macs),
    Migration(6, "web service: content digests of uploaded classes", _class_contents),
    Migration(7, "attendance review: decisions, people seen, evidence of decisions", _attendance),
    Migration(8, "ledgers: check-ins, employment lists, two signatures", _script(_LEDGERS)),
    Migration(9, "web service: the class list's search, filters and indexes", _class_list),
    Migration(10, "spot-check results", _script(_SPOTCHECK_RESULTS)),
    Migration(11, "live patrol: sites, cameras, sessions, plans, patrols", _script(_PATROL)),
    Migration(12, "live patrol: cameras taken out of service", _cameras_retired),
)
LATEST = MIGRATIONS[-1].version


def version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of an open database (0: new or of an earlier version)."""
    tables = _tables(conn)
    if "schema_migrations" in tables:
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)
    ours = {"users", "runs", "clips", "meta"}
    if tables and not tables & ours:
        raise StoreError(f"{path}: an SQLite database, but not one of video-audit's")
    return 0


def check_current(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database this program cannot read as it stands (older or newer schema)."""
    found = version(conn, path)
    if found > LATEST:
        raise StoreError(_newer(path, found))
    if found < LATEST:
        raise StoreError(
            f"{path}: written by an earlier video-audit (schema {found}); any command that "
            "writes to the workspace (for example `video-audit users list`) upgrades it"
        )


def upgrade(conn: sqlite3.Connection, path: Path) -> list[Migration]:
    """Apply the migrations this database lacks, in order, in one transaction; those applied."""
    if version(conn, path) == LATEST:  # the common case: no write lock taken
        return []
    with transaction(conn):
        found = version(conn, path)  # again, under the lock: another process may have done it
        if found > LATEST:
            raise StoreError(_newer(path, found))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
        )
        applied = [m for m in MIGRATIONS if m.version > found]
        for step in applied:
            step.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
                (step.version, step.name, now()),
            )
        # Earlier versions read these two: they now refuse this database instead of misreading it.
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(LATEST),)
        )
        conn.execute(f"PRAGMA user_version = {LATEST}")
    return applied


def _newer(path: Path, found: int) -> str:
    return (
        f"{path}: written by a newer video-audit (schema {found}, this one knows {LATEST}); "
        "upgrade video-audit first"
    )
