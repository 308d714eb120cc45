"""Scale-out: the same scan on a Dask LocalCluster with real worker processes."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

from tests.test_scan_tree import clip_pair, write_class, write_scan_profile, write_tree
from video_audit.scan.run import ScanError, scan
from video_audit.settings import AuditSettings


@pytest.fixture(scope="module")
def scan_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan_profile(tmp_path_factory.mktemp("profile"))


def findings(db: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return set(
            conn.execute(
                "SELECT c.rel, f.code, f.path FROM scan_findings f JOIN scan_classes c ON c.id ="
                " f.class_id"
            ).fetchall()
        )


def test_scan_on_a_dask_cluster_matches_the_local_pool(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, scan_profile: Path
) -> None:
    from distributed import Client, LocalCluster

    clips = clip_pair(tmp_path_factory.mktemp("daskclips"))
    root = tmp_path / "root"
    write_tree(root, clips, 2, full=False)
    faulty = write_class(
        root / "乙学校" / "乙学校2024年第2期电工培训班", clips, dt.date(2024, 6, 3)
    )
    next(faulty.rglob("*视频2.mp4")).unlink()
    (faulty / "6月3日" / "notes.txt").write_text("x", "utf-8")
    settings = AuditSettings(standard=scan_profile, scan_settle_seconds=0)

    local = scan(root, tmp_path / "local.db", settings, workers=0)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster, set_as_default=False) as client,  # the scan must not rely on it
    ):
        worker_pids = set(client.run(os.getpid).values())
        remote = scan(root, tmp_path / "dask.db", settings, cluster=cluster.scheduler_address)
        again = scan(root, tmp_path / "dask.db", settings, cluster=cluster.scheduler_address)

    assert remote.counts == local.counts == {"new": 3, "unchanged": 0}
    assert remote.failed == local.failed == 3
    assert again.counts == {"unchanged": 3}
    assert findings(tmp_path / "dask.db") == findings(tmp_path / "local.db")
    assert {("乙学校/乙学校2024年第2期电工培训班", "CT01", "6月3日")} <= findings(
        tmp_path / "dask.db"
    )
    with sqlite3.connect(tmp_path / "dask.db") as conn:
        workers = {
            int(w.rsplit(":", 1)[1]) for (w,) in conn.execute("SELECT worker FROM scan_audits")
        }
    assert workers <= worker_pids and os.getpid() not in workers  # audited in the cluster


def test_an_unreachable_cluster_is_one_clear_error(tmp_path: Path, scan_profile: Path) -> None:
    root = tmp_path / "root"
    write_tree(root, clip_pair(tmp_path / "clips"), 1)
    settings = AuditSettings(standard=scan_profile, scan_settle_seconds=0)
    with pytest.raises(ScanError, match="cannot reach the Dask scheduler"):
        scan(root, tmp_path / "a.db", settings, cluster="tcp://127.0.0.1:9", cluster_timeout=2)
