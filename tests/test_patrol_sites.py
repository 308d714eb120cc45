"""Sites, cameras and sessions in the workspace, and random patrols run by `patrol-run`: a live
HTTP-TS camera and a dead one, patrolled at drawn moments, stored, in the evidence chain, with
no credential anywhere but the cameras table's own column."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.streams import serve_dir, silent_camera
from tests.web_fixtures import free_port
from video_audit.cli import main
from video_audit.evidence import EvidenceLog
from video_audit.patrol.schedule import (
    CameraRetired,
    PatrolRunner,
    PatrolSettings,
    import_schedule,
)
from video_audit.standard import load_profile
from video_audit.store import Store

SECRET = "Pa55word9"
DAY = "2026-12-01"


def _schedule(path: Path, host: str, dead: int, extra: str = "") -> Path:
    path.write_text(
        "班级,培训机构,地点,摄像头,日期,时段\n"
        f"第一期面点班,湖关县阳光职业培训学校,一楼教室,http://admin:{SECRET}@{host}/room.ts,"
        f"{DAY},全天\n"
        f"第二期电工班,湖关县阳光职业培训学校,二楼实训室,rtsp://admin:{SECRET}@127.0.0.1:{dead}/x,"
        f"{DAY},全天\n" + extra,
        encoding="utf-8",
    )
    return path


def _run(ws: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--data", str(ws)])
    return result.exit_code, result.stdout, result.stderr


def test_sessions_import_plan_and_patrols(tmp_path: Path, camera: str) -> None:
    ws = tmp_path / "ws"
    sched = _schedule(tmp_path / "课表.csv", camera, free_port())
    code, out, err = _run(ws, "sites", "import", str(sched), "--format", "json")
    assert code == 0, out + err
    assert json.loads(out) | {"errors": []} == {
        "schedule": "课表.csv",
        "sites": 2,
        "cameras": 2,
        "sessions": 4,  # 全天: a morning and an afternoon session per row
        "unchanged": 0,
        "errors": [],
    }
    # Importing again adds nothing.
    code, out, _ = _run(ws, "sites", "import", str(sched), "--format", "json")
    assert json.loads(out)["sessions"] == 0 and json.loads(out)["unchanged"] == 4

    # Early in the day the plan is drawn (recorded), nothing is due yet.
    code, out, err = _run(ws, "patrol-run", "--now", f"{DAY}T00:01", "--format", "json")
    assert code == 0, out + err
    first = json.loads(out)
    assert first["patrolled"] == [] and first["missed"] == []
    plan = first["plan"]
    assert plan["first_day"] == DAY and plan["per_day"] == 2

    # The plan, shown afterwards: two moments (a morning's, an afternoon's), one per site.
    code, out, _ = _run(ws, "sites", "plan", "--format", "json")
    (shown,) = json.loads(out)
    assert shown["seed"] == plan["seed"] and shown["evidence_seq"] == plan["evidence_seq"]
    moments = shown["moments"]
    assert [m["half"] for m in moments] == ["am", "pm"]
    assert {m["site"] for m in moments} == {"一楼教室", "二楼实训室"}  # sites spread
    assert all(m["patrol"] is None for m in moments)
    assert SECRET not in out

    # A minute after each moment, `patrol-run` (cron) patrols it.
    views = []
    for m in moments:
        at = dt.datetime.fromisoformat(m["at"]) + dt.timedelta(minutes=1)
        code, out, err = _run(ws, "patrol-run", "--now", at.isoformat(), "--format", "json")
        run = json.loads(out)
        assert run["plan"]["id"] == plan["id"] and len(run["patrolled"]) == 1, out + err
        assert code == (1 if m["site"] == "二楼实训室" else 0), out + err
        views += run["patrols"]
    states = {v["site"]: v for v in views}
    live, dead = states["一楼教室"], states["二楼实训室"]
    assert live["state"] == "done" and live["findings"] == [] and live["heads"] is not None
    assert len(live["frames"]) == 3 and live["measures"]["width"] == 1024
    assert live["class"] == "第一期面点班" and live["plan_id"] == plan["id"]
    assert dead["state"] == "done" and [f["code"] for f in dead["findings"]] == ["LV01"]
    assert dead["failed"] and dead["verdict_zh"] == "视频调阅不通"
    # Run again: nothing twice.
    code, out, _ = _run(ws, "patrol-run", "--now", f"{DAY}T17:00", "--format", "json")
    assert json.loads(out)["patrolled"] == [] and json.loads(out)["missed"] == []

    # Credentials: in the cameras table's url column only.
    code, listed, _ = _run(ws, "sites", "list", "--format", "json")
    assert code == 0 and SECRET not in listed and "***@" in listed
    conn = sqlite3.connect(ws / "video-audit.sqlite")
    try:
        for table in [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]:
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            text = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
            assert (SECRET in text) == (table == "cameras"), table
        plans = conn.execute("SELECT seed, evidence_seq FROM patrol_plans").fetchall()
        captions = [r[0] for r in conn.execute("SELECT caption FROM evidence WHERE kind IS NULL")]
        kinds = [r[0] for r in conn.execute("SELECT kind FROM evidence ORDER BY seq")]
    finally:
        conn.close()
    assert len(plans) == 1 and "patrol_plan" in kinds
    assert len(captions) == 3 and all(
        "远程巡查 湖关县阳光职业培训学校  场所 一楼教室  摄像头 http://***@" in c
        and "班级 第一期面点班" in c
        for c in captions
    ), captions
    assert SECRET not in out + listed
    # Nor in any file the patrols wrote: recordings, frames, captions, thumbnails, the key.
    written = [p for p in ws.rglob("*") if p.is_file() and "video-audit.sqlite" not in p.name]
    assert any(p.suffix == ".mkv" for p in written) and any(p.suffix == ".png" for p in written)
    assert not list((ws / "patrols").rglob("*.png"))  # frames live in the evidence store only
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    verify = CliRunner().invoke(main, ["evidence", "verify", "--data", str(ws)])
    assert verify.exit_code == 0, verify.stdout + verify.stderr


def test_a_changed_schedule_draws_a_new_plan_and_late_moments_are_missed(
    tmp_path: Path, camera: str
) -> None:
    ws = tmp_path / "ws"
    dead = free_port()
    _run(ws, "sites", "import", str(_schedule(tmp_path / "a.csv", camera, dead)))
    code, out, _ = _run(ws, "patrol-run", "--now", f"{DAY}T00:01", "--format", "json")
    first = json.loads(out)["plan"]
    extra = (
        f"第一期面点班,湖关县阳光职业培训学校,一楼教室,http://{camera}/room.ts,2026-12-02,上午\n"
    )
    _run(ws, "sites", "import", str(_schedule(tmp_path / "b.csv", camera, dead, extra)))
    # The next day: a new plan over the changed sessions; the day before's moments are gone
    # with the old plan, and today's are not due yet.
    code, out, _ = _run(ws, "patrol-run", "--now", "2026-12-02T06:00", "--format", "json")
    second = json.loads(out)["plan"]
    assert second["id"] != first["id"] and second["first_day"] == "2026-12-02"
    # Far too late (past the 30-minute grace): recorded as missed, never patrolled late.
    code, out, _ = _run(ws, "patrol-run", "--now", "2026-12-02T23:00", "--format", "json")
    late = json.loads(out)
    assert late["patrolled"] == [] and len(late["missed"]) == 2 and code == 1
    assert {p["state"] for p in late["patrols"]} == {"missed"}


def test_hung_cameras_never_hold_up_the_others(tmp_path: Path, camera: str) -> None:
    """Four moments due at once over one live camera and one that accepts and never answers,
    four workers: all four are done within about one hung camera's guard, not two of them, and
    the hung camera's patrols say LV01."""
    store = Store(tmp_path / "ws" / "video-audit.sqlite")
    try:
        with silent_camera() as hung:
            import_schedule(store, _schedule(tmp_path / "s.csv", camera, hung), "张三")
            settings = PatrolSettings(
                seconds=2, timeout=3, workers=4, per_day=4, grace_minutes=1440
            )
            log = EvidenceLog(store, tmp_path / "ws" / "evidence")
            runner = PatrolRunner(store, log, tmp_path / "ws", load_profile(), settings)
            assert runner.run_due(dt.datetime.fromisoformat(f"{DAY}T00:00:01")).patrolled == []
            started = time.monotonic()
            outcome = runner.run_due(dt.datetime.fromisoformat(f"{DAY}T23:59:00"))
            took = time.monotonic() - started
        rows = [r for p in outcome.patrolled if (r := store.patrol_row(p)) is not None]
    finally:
        store.close()
    assert len(rows) == 4 and {r["state"] for r in rows} == {"done"}
    errors = sorted((r["site"], r["errors"]) for r in rows)
    assert errors == [("一楼教室", 0)] * 2 + [("二楼实训室", 1)] * 2
    # A hung camera's guard is 2 × 3 + 2 + 2 s; one after another, two would take twice that.
    assert took < 2 * 3 + 2 + 2 + 6, took


def test_a_planned_patrol_matches_the_uploaded_class_roster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule names the class by its short name; the class was uploaded under its whole
    name: the patrol finds its roster and matches the faces on the live frames."""
    from video_audit.samples.faces import UNKNOWN
    from video_audit.samples.live import write_class, write_live

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # roster enrolment cache
    ws = tmp_path / "ws"
    cams = tmp_path / "cams"
    write_live(cams / "class.ts", (0, 2, UNKNOWN), seconds=3)
    folder = "t1/湖关县阳光职业培训学校2026年第一期面点班"
    write_class(ws / "classes" / folder)
    store = Store(ws / "video-audit.sqlite")
    try:
        user = store.add_user("王检查", "inspector", None, "hash")
        class_id = store.add_class(
            folder.split("/")[1], "湖关县阳光职业培训学校", folder, 1, 1, user
        )
        with serve_dir(cams) as host:
            camera = store.add_camera(
                "湖关县阳光职业培训学校",
                "一楼教室",
                f"http://{host}/class.ts",
                f"http://{host}/class.ts",
                "",
                "王检查",
            )
            settings = PatrolSettings(seconds=2, timeout=5)
            log = EvidenceLog(store, ws / "evidence")
            runner = PatrolRunner(store, log, ws, load_profile(), settings)
            pid = runner.start(camera, "王检查", "第一期面点班")
            assert pid is not None
            runner.run(pid)
        row = store.patrol_row(pid)
    finally:
        store.close()
    assert row is not None and row["class_id"] == class_id and row["state"] == "done"
    result = json.loads(row["result"])
    att = result["attendance"]
    assert att["state"] == "checked"
    names = {e["key"]: e["name"] for e in att["roster"]}
    (day,) = att["days"]
    assert {names[k] for k in day["present"]} == {"王芳", "张伟"} and day["review"] == []
    assert len(day["unknown"]) == 1 and row["heads"] == 3


def test_a_new_password_for_a_camera_replaces_the_old(tmp_path: Path, camera: str) -> None:
    ws = tmp_path / "ws"
    dead = free_port()
    _run(ws, "sites", "import", str(_schedule(tmp_path / "a.csv", camera, dead)))
    changed = _schedule(tmp_path / "b.csv", camera, dead).read_text(encoding="utf-8")
    (tmp_path / "b.csv").write_text(changed.replace(SECRET, "N3wSecret"), encoding="utf-8")
    code, out, _ = _run(ws, "sites", "import", str(tmp_path / "b.csv"), "--format", "json")
    assert code == 0 and json.loads(out)["cameras"] == 0 and json.loads(out)["sessions"] == 0
    store = Store(ws / "video-audit.sqlite")
    try:
        urls = [store.camera_url(c["id"]) for s in store.sites() for c in store.cameras(s["id"])]
    finally:
        store.close()
    assert len(urls) == 2 and all(u and "N3wSecret" in u and SECRET not in u for u in urls)


def test_two_runners_drawing_at_once_keep_one_plan(tmp_path: Path, camera: str) -> None:
    """serve's timer and cron drawing the plan at the same moment: one plan, one record."""
    import threading

    ws = tmp_path / "ws"
    _run(ws, "sites", "import", str(_schedule(tmp_path / "a.csv", camera, free_port())))
    stores = [Store(ws / "video-audit.sqlite") for _ in range(4)]
    plans: list[int] = []
    try:
        runners = [
            PatrolRunner(s, EvidenceLog(s, ws / "evidence"), ws, load_profile(), PatrolSettings())
            for s in stores
        ]
        start = threading.Barrier(len(runners))

        def draw(runner: PatrolRunner) -> None:
            start.wait()
            outcome = runner.run_due(dt.datetime.fromisoformat(f"{DAY}T00:00:05"))
            assert outcome.plan is not None
            plans.append(outcome.plan["id"])

        threads = [threading.Thread(target=draw, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        kinds = [r["kind"] for r in stores[0].evidence(every_kind=True)]
        stored = stores[0].plans()
    finally:
        for s in stores:
            s.close()
    assert len(plans) == 4 and len(set(plans)) == 1
    assert len(stored) == 1 and kinds.count("patrol_plan") == 1


def test_serve_with_a_broken_standard_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audits and the patrol timer need the standard: serve says so before it starts."""
    monkeypatch.setenv("VIDEO_AUDIT_STANDARD", str(tmp_path / "没有这个.toml"))
    result = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "没有这个.toml" in result.stderr


def test_a_plan_is_checked_against_its_record_and_drawn_again_from_its_seed(
    tmp_path: Path, camera: str
) -> None:
    ws = tmp_path / "ws"
    _run(ws, "sites", "import", str(_schedule(tmp_path / "a.csv", camera, free_port())))
    _run(ws, "patrol-run", "--now", f"{DAY}T00:01")
    code, out, _ = _run(ws, "sites", "plan", "--check", "--format", "json")
    (plan,) = json.loads(out)
    assert code == 0 and plan["check"] == {
        "id": plan["id"],
        "method": "stratified-2",
        "redrawn": True,
        "problems": [],
        "ok": True,
    }
    code, out, _ = _run(ws, "sites", "plan", "--check")
    assert code == 0 and "按种子重新抽取，时刻相同" in out

    # Someone moves a drawn moment in the database: the plan no longer is what was drawn.
    conn = sqlite3.connect(ws / "video-audit.sqlite")
    with conn:
        (moments,) = conn.execute("SELECT moments FROM patrol_plans").fetchone()
        moved = json.loads(moments)
        moved[0]["at"] = f"{DAY}T10:00:00"
        conn.execute("UPDATE patrol_plans SET moments = ?", (json.dumps(moved),))
    conn.close()
    code, out, _ = _run(ws, "sites", "plan", "--check")
    assert code == 1
    assert "moments_sha256 与证据记录不符" in out and "按种子重新抽取的时刻与记录不同" in out


def test_cameras_are_added_and_taken_out_of_service(tmp_path: Path, camera: str) -> None:
    """A camera added to a site by hand; one taken out of service is never planned or
    patrolled again, keeps its patrols, and comes back when added again."""
    ws = tmp_path / "ws"
    dead = free_port()
    _run(ws, "sites", "import", str(_schedule(tmp_path / "a.csv", camera, dead)))
    code, out, _ = _run(ws, "sites", "list", "--format", "json")
    sites = {s["name"]: s for s in json.loads(out)}
    room = sites["一楼教室"]
    (dead_cam,) = sites["二楼实训室"]["cameras"]

    code, out, err = _run(
        ws, "sites", "add-camera", str(room["id"]), f"rtsp://u:{SECRET}@10.9.9.9/2"
    )
    assert code == 0 and "rtsp://***@10.9.9.9/2" in out and SECRET not in out + err
    for bad in ("file:///etc/passwd", "/srv/x.mp4", "rtsp://h/\x1b[2J"):
        code, out, err = _run(ws, "sites", "add-camera", str(room["id"]), bad)
        assert code == 2 and "不是视频流地址" in err and "\x1b" not in err
    assert _run(ws, "sites", "add-camera", "999", "rtsp://h/1")[0] == 2

    code, _, _ = _run(ws, "sites", "retire-camera", str(dead_cam["id"]))
    assert code == 0
    assert _run(ws, "sites", "retire-camera", str(dead_cam["id"]))[0] == 2  # already
    code, out, _ = _run(ws, "sites", "list")
    assert "已停用" in out
    _run(ws, "patrol-run", "--now", f"{DAY}T00:01")
    code, out, _ = _run(ws, "sites", "plan", "--format", "json")
    (plan,) = json.loads(out)
    assert plan["moments"] and {m["site"] for m in plan["moments"]} == {"一楼教室"}

    store = Store(ws / "video-audit.sqlite")
    try:
        runner = PatrolRunner(
            store, EvidenceLog(store, ws / "evidence"), ws, load_profile(), PatrolSettings()
        )
        with pytest.raises(CameraRetired):
            runner.start(int(dead_cam["id"]), "王检查")
    finally:
        store.close()
    # Imported again, the camera is back in service, and the next run draws a new plan.
    _run(ws, "sites", "import", str(_schedule(tmp_path / "b.csv", camera, dead)))
    code, out, _ = _run(ws, "patrol-run", "--now", f"{DAY}T00:02", "--format", "json")
    assert json.loads(out)["plan"]["id"] != plan["id"]


def test_a_planned_patrol_knows_its_uploaded_class(tmp_path: Path, camera: str) -> None:
    """The plan's patrol of a class uploaded before it runs is tied to that class (class_id),
    as a patrol started by hand is."""
    ws = tmp_path / "ws"
    store = Store(ws / "video-audit.sqlite")
    try:
        user = store.add_user("王检查", "inspector", None, "hash")
        folder = "t1/湖关县阳光职业培训学校2026年第一期面点班"
        (ws / "classes" / folder).mkdir(parents=True)
        class_id = store.add_class(
            folder.split("/")[1], "湖关县阳光职业培训学校", folder, 1, 1, user
        )
        import_schedule(store, _schedule(tmp_path / "s.csv", camera, free_port()), "王检查")
        settings = PatrolSettings(seconds=1, timeout=2, per_day=2, grace_minutes=1440)
        runner = PatrolRunner(
            store, EvidenceLog(store, ws / "evidence"), ws, load_profile(), settings
        )
        runner.run_due(dt.datetime.fromisoformat(f"{DAY}T00:00:01"))
        outcome = runner.run_due(dt.datetime.fromisoformat(f"{DAY}T23:59:00"))
        rows = [r for p in outcome.patrolled if (r := store.patrol_row(p)) is not None]
    finally:
        store.close()
    by_class = {r["class_name"]: r["class_id"] for r in rows}
    assert by_class.get("第一期面点班") == class_id and by_class.get("第二期电工班") is None
