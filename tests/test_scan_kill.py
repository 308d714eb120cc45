"""kill -9 of a real `video-audit scan` mid-run, then a rerun: nothing lost, doubled or redone."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.test_scan_tree import clip_pair, write_scan_profile, write_tree

CLASSES = 10


@pytest.fixture(scope="module")
def scan_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan_profile(tmp_path_factory.mktemp("profile"))


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM scan_audits").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def scan_command(root: Path, db: Path, profile: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "video_audit.cli",
        "scan",
        str(root),
        "--db",
        str(db),
        "--workers",
        "2",
        "--settle",
        "0",
        "--standard",
        str(profile),
    ]


def test_kill_9_mid_scan_then_resume(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, scan_profile: Path
) -> None:
    clips = clip_pair(tmp_path_factory.mktemp("killclips"))
    root, db = tmp_path / "root", tmp_path / "audits.db"
    write_tree(root, clips, CLASSES, full=False)
    # A pause after each commit makes the scan slow enough to be killed half-way, every time.
    env = {**os.environ, "VIDEO_AUDIT_SCAN_PAUSE_SECONDS": "0.3"}
    proc = subprocess.Popen(
        scan_command(root, db, scan_profile),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while committed(db) < 2:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the scan never committed a class"
        time.sleep(0.05)
    helpers = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    if proc.stderr:
        proc.stderr.close()

    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("SELECT class_id, id FROM scan_audits").fetchall())
        status = conn.execute("SELECT status FROM scan_runs").fetchall()
    assert 2 <= len(before) < CLASSES, "kill landed after the end: the scan was not slowed"
    assert status == [("running",)]
    # The worker processes do not outlive the scan that started them.
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, f"left behind: {[p.pid for p in alive]}"

    rerun = subprocess.run(
        scan_command(root, db, scan_profile), capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 1, rerun.stderr  # one-clip classes fail CT01/CT02
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT id, status FROM scan_runs ORDER BY id").fetchall()
        audits = conn.execute(
            "SELECT class_id, id, run_id, report_json FROM scan_audits"
        ).fetchall()
        outcome = dict(conn.execute("SELECT class_id, outcome FROM scan_outcomes WHERE run_id = 2"))
        per_audit = dict(
            conn.execute(
                "SELECT audit_id, count(*) FROM scan_findings GROUP BY audit_id"
            ).fetchall()
        )
        classes = conn.execute("SELECT count(*), count(DISTINCT rel) FROM scan_classes").fetchone()
    assert runs == [(1, "interrupted"), (2, "done")]
    assert classes == (CLASSES, CLASSES)
    assert len(audits) == CLASSES  # every class audited exactly once over the two runs
    assert len({a[0] for a in audits}) == CLASSES
    for class_id, audit_id, run_id, report in audits:
        if class_id in before:  # finished before the kill: kept, not redone
            assert (audit_id, run_id) == (before[class_id], 1)
            assert outcome[class_id] == "unchanged"
        else:
            assert run_id == 2 and outcome[class_id] == "new"
        assert per_audit.get(audit_id, 0) == len(json.loads(report)["findings"])


def test_a_worker_killed_mid_audit_costs_only_its_class(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, scan_profile: Path
) -> None:
    clips = clip_pair(tmp_path_factory.mktemp("crashclips"))
    root, db = tmp_path / "root", tmp_path / "audits.db"
    write_tree(root, clips, 5, full=False)
    env = {**os.environ, "VIDEO_AUDIT_SCAN_PAUSE_SECONDS": "0.3"}
    command = [*scan_command(root, db, scan_profile)]
    command[command.index("--workers") + 1] = "1"
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while committed(db) < 1:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    workers = [
        p
        for p in psutil.Process(proc.pid).children()
        if "--multiprocessing-fork" in p.cmdline()
        and "resource_tracker" not in " ".join(p.cmdline())
    ]
    assert len(workers) == 1
    workers[0].kill()  # as the kernel's OOM killer or a crashing decoder would
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr.decode()  # a class could not be audited
    with sqlite3.connect(db) as conn:
        night = dict(conn.execute("SELECT outcome, count(*) FROM scan_outcomes GROUP BY outcome"))
        detail = conn.execute("SELECT detail FROM scan_outcomes WHERE outcome = 'error'").fetchone()
    assert night == {"new": 4, "error": 1}
    assert "worker process died" in json.loads(detail[0])["error"]
    assert "[无法审核]" in stderr.decode()

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr  # the class is audited the next night
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT outcome, count(*) FROM scan_outcomes WHERE run_id = 2 GROUP BY outcome"
        ).fetchall() == [("new", 1), ("unchanged", 4)]
