"""The one workspace database: earlier workspaces, scan databases and fingerprint stores are
upgraded in place and keep their data; newer or foreign databases are refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from video_audit.evidence import EvidenceLog
from video_audit.picture.fingerprints import Fingerprint
from video_audit.store import Store, StoreError
from video_audit.store.fingerprints import FingerprintStore
from video_audit.store.migrations import _SCAN, LATEST, MIGRATIONS
from video_audit.store.scan import ScanStore

CLI = [sys.executable, "-m", "video_audit.cli"]
# The tables of a web-service data folder before migrations (its schema at meta version 1).
SERVICE_V1 = {
    "meta",
    "users",
    "sessions",
    "classes",
    "audits",
    "findings",
    "spotchecks",
    "evidence",
}


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows if not r[0].startswith("sqlite_")}


def old_workspace(root: Path, clip: Path) -> None:
    """A data folder as the previous version left it: accounts, an audit, two evidence records."""
    store = Store(root / "video-audit.sqlite")
    user = store.add_user("王检查", "inspector", None, "argon2-hash")
    class_id = store.add_class("某班", "某学校", "c1", 3, 1000, user)
    audit = store.add_audit(class_id)
    report = {"summary": {"errors": 0, "warnings": 0, "verdict": "pass"}, "findings": []}
    store.audit_done(audit, report, {"json-zh": "report-zh.json"})
    log = EvidenceLog(store, root / "evidence")
    log.capture(clip, 0.5, "王检查", "第一次")
    log.capture(clip, 1.5, "王检查", "第二次")
    store.close()
    with sqlite3.connect(root / "video-audit.sqlite") as conn:  # back to the old layout
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (name,) in names:
            if name.startswith(
                ("scan_", "footage_", "attendance_", "ledger_", "spotcheck_", "patrol")
            ) or name in ("schema_migrations", "sites", "cameras", "site_sessions"):
                conn.execute(f"DROP TABLE {name}")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        conn.execute("PRAGMA user_version = 0")
    assert tables(root / "video-audit.sqlite") == SERVICE_V1


def test_an_earlier_workspace_is_upgraded_in_place_and_keeps_everything(
    tmp_path: Path, make_clip: Callable[[Path, str], Path]
) -> None:
    root = tmp_path / "video-audit-data"
    clip = make_clip(tmp_path / "lesson.mp4", "lesson")
    old_workspace(root, clip)
    store = Store(root / "video-audit.sqlite")
    try:
        assert [u["name"] for u in store.users()] == ["王检查"]
        audit = store.latest_audit(1)
        assert audit is not None and audit["state"] == "done"
        versions = [r["version"] for r in store.read("SELECT version FROM schema_migrations")]
        assert versions == [m.version for m in MIGRATIONS] and versions[-1] == LATEST
        verdict = EvidenceLog(store, root / "evidence").verify()
        assert verdict.ok and verdict.records == 2
        meta = store.read("SELECT value FROM meta WHERE key = 'schema_version'")
        assert [r[0] for r in meta] == [str(LATEST)]
    finally:
        store.close()
    assert {"scan_runs", "footage_clips"} <= tables(root / "video-audit.sqlite")
    # The command line reads the upgraded folder as its workspace.
    result = subprocess.run(
        [*CLI, "evidence", "verify", "--data", str(root)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "共 2 条" in result.stdout, result.stderr


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    for _ in range(2):
        Store(tmp_path / "w.sqlite").close()
    with sqlite3.connect(tmp_path / "w.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == LATEST


def test_an_earlier_scan_database_is_adopted_with_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "nightly.db"
    legacy = _SCAN.replace("IF NOT EXISTS ", "").replace("scan_", "")
    with sqlite3.connect(db) as conn:
        conn.executescript(legacy)
        conn.execute("INSERT INTO meta VALUES ('root', '/srv/discs')")
        conn.execute("INSERT INTO runs (root, started, status) VALUES ('/srv/discs', 't', 'done')")
        conn.execute(
            "INSERT INTO classes (rel, institution, status, first_seen) VALUES ('甲/班', '甲', "
            "'seen', 't')"
        )
        conn.execute("INSERT INTO outcomes (run_id, class_id, outcome) VALUES (1, 1, 'pending')")
        conn.execute("PRAGMA user_version = 1")
    store = ScanStore.open(db)
    try:
        assert store.meta("root") == "/srv/discs"
        assert [tuple(r) for r in store.rows("SELECT rel, status FROM scan_classes")] == [
            ("甲/班", "seen")
        ]
        assert store.rows("PRAGMA foreign_key_check") == []
        assert store.rows("SELECT outcome FROM scan_outcomes")[0][0] == "pending"
    finally:
        store.close()
    assert not {"runs", "outcomes", "files"} & tables(db)  # renamed (classes is the web's now)
    Store(db).close()  # the same file serves as a whole workspace database too


def test_an_earlier_fingerprint_store_is_adopted(tmp_path: Path) -> None:
    db = tmp_path / "prints.sqlite"
    times = np.arange(40, dtype=np.float64)
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, 40, dtype=np.uint64)
    fp = Fingerprint(times, hashes, hashes.copy(), np.full(40, 9, np.float32))
    store = FingerprintStore(db)
    store.remember([("old-key", "旧班", [("旧班/5月1日/课.mp4", fp)])])
    with sqlite3.connect(db) as conn:  # as the previous version wrote it
        conn.execute("DROP TABLE schema_migrations")
        conn.execute("DROP TABLE meta")
        conn.execute("ALTER TABLE footage_clips RENAME TO clips")
        conn.execute("ALTER TABLE footage_bands RENAME TO bands")
        for name in (
            "users",
            "sessions",
            "spotcheck_results",
            "spotchecks",
            "evidence",
            "findings",
            "audits",
            "classes",
            "scan_outcomes",
            "scan_findings",
            "scan_audits",
            "scan_files",
            "scan_classes",
            "scan_runs",
            "scan_meta",
            "attendance_decisions",
            "attendance_people",
            "ledger_inputs",
            "ledger_signatures",
            "patrols",
            "patrol_plans",
            "site_sessions",
            "cameras",
            "sites",
        ):
            conn.execute(f"DROP TABLE {name}")
        conn.execute("PRAGMA user_version = 0")
    assert tables(db) == {"clips", "bands"}
    found = FingerprintStore(db).candidates(fp, "new-key")
    assert [(c.class_folder, c.path) for c in found] == [("旧班", "旧班/5月1日/课.mp4")]


def test_a_newer_or_foreign_database_is_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    Store(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, 'from the future', 't')", (LATEST + 1,)
        )
    with pytest.raises(StoreError, match="newer"):
        Store(newer)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="not one of video-audit"):
        ScanStore.open(foreign)
    assert tables(foreign) == {"invoices"}  # untouched
