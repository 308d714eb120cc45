"""`video-audit patrol-plan`: seeded, stratified, reproducible patrol moments from a schedule."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from video_audit.cli import main
from video_audit.patrol.plan import draw_plan, read_schedule

SECRET = "s3cretPW"
HEADER = ["班级", "培训机构", "地点", "摄像头", "日期", "时段"]


def _rows() -> list[list[str]]:
    """Three days; two classes at two sites; mornings and afternoons, one day morning only."""
    rows = []
    for day in ("2024-05-20", "2024-05-21", "2024-05-22"):
        for cls, site, cam in (
            ("电工1班", "一号教室", f"rtsp://admin:{SECRET}@10.0.0.1/ch1"),
            ("焊工2班", "二号教室", f"rtsp://op:{SECRET}@10.0.0.2/ch1"),
        ):
            rows.append([cls, "某某职业培训学校", site, cam, day, "上午"])
            if day != "2024-05-22":
                rows.append([cls, "某某职业培训学校", site, cam, day, "14:00-17:30"])
    return rows


def _csv(path: Path, rows: list[list[str]], encoding: str = "gbk") -> Path:
    text = "\r\n".join(",".join(r) for r in [["排课表"], HEADER, *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def test_same_seed_same_plan_other_seed_other_plan(tmp_path: Path) -> None:
    schedule = read_schedule(_csv(tmp_path / "课表.csv", _rows()))
    assert schedule.errors == [] and len(schedule.sessions) == 10
    one = draw_plan(schedule, 7, per_day=2).to_dict()
    assert one == draw_plan(read_schedule(schedule.path), 7, per_day=2).to_dict()
    assert one["moments"] != draw_plan(schedule, 8, per_day=2).to_dict()["moments"]
    assert one["seed"] == 7 and len(one["schedule_sha256"]) == 64


def test_days_and_half_days_covered_before_any_gets_two(tmp_path: Path) -> None:
    schedule = read_schedule(_csv(tmp_path / "课表.csv", _rows()))
    for seed in range(20):
        plan = draw_plan(schedule, seed, per_day=2)
        cells = {(m.at.date(), m.session.half) for m in plan.moments}
        assert cells == {(s.date, s.half) for s in schedule.sessions}  # each half-day once
        assert len(plan.moments) == 6
        three = draw_plan(schedule, seed, per_day=3)
        per_half: dict[tuple[dt.date, str], int] = {}
        for m in three.moments:
            key = (m.at.date(), m.session.half)
            per_half[key] = per_half.get(key, 0) + 1
        for day in {d for d, _ in per_half}:
            counts = [n for (d, _), n in per_half.items() if d == day]
            assert max(counts) - min(counts) <= 1 or len(counts) == 1
        # within a half-day with two sites and two moments, both sites are visited
        four = draw_plan(schedule, seed, per_day=4)
        for key in {(m.at.date(), m.session.half) for m in four.moments}:
            sites = [m.session.site for m in four.moments if (m.at.date(), m.session.half) == key]
            if len(sites) == 2:
                assert len(set(sites)) == 2


def test_moments_inside_session_hours_and_range(tmp_path: Path) -> None:
    schedule = read_schedule(_csv(tmp_path / "课表.csv", _rows()))
    plan = draw_plan(schedule, 3, 5, dt.date(2024, 5, 21), dt.date(2024, 5, 22))
    assert plan.moments and {m.at.date() for m in plan.moments} == {
        dt.date(2024, 5, 21),
        dt.date(2024, 5, 22),
    }
    for m in plan.moments:
        s = m.session
        assert s.date == m.at.date() and s.start <= m.at.time() < s.end
        assert (s.start, s.end) in {
            (dt.time(8, 30), dt.time(11, 30)),
            (dt.time(14), dt.time(17, 30)),
        }
    assert [m.seq for m in plan.moments] == list(range(1, len(plan.moments) + 1))


def test_xlsx_schedule_with_start_and_end_columns(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["班级", "地点", "摄像头", "日期", "开始时间", "结束时间"])
    ws.append(["电工1班", "一号教室", "http://10.0.0.1/live.ts", dt.date(2024, 5, 20),
               dt.time(9, 0), dt.time(10, 0)])  # fmt: skip
    ws.append(["电工1班", "一号教室", "http://10.0.0.1/live.ts", "2024年5月21日", "13:30", "15:00"])
    book.save(tmp_path / "课表.xlsx")
    schedule = read_schedule(tmp_path / "课表.xlsx")
    assert schedule.errors == []
    assert [(s.date, s.start, s.end, s.half) for s in schedule.sessions] == [
        (dt.date(2024, 5, 20), dt.time(9), dt.time(10), "am"),
        (dt.date(2024, 5, 21), dt.time(13, 30), dt.time(15), "pm"),
    ]
    assert len(draw_plan(schedule, 1, per_day=1).moments) == 2


def test_bad_rows_named_by_number_and_credentials_never_shown(tmp_path: Path) -> None:
    rows = _rows()
    rows.insert(2, ["电工1班", "某某职业培训学校", "一号教室", rows[0][3], "五月二十日", "上午"])
    rows.insert(4, ["", "某某职业培训学校", "一号教室", rows[0][3], "2024-05-20", "上午"])
    rows.insert(
        5, ["焊工2班", "某某职业培训学校", "二号教室", rows[0][3], "2024-05-20", "17:00-9:00"]
    )
    path = _csv(tmp_path / "课表.csv", rows, encoding="utf-8-sig")
    runner = CliRunner()
    result = runner.invoke(main, ["patrol-plan", str(path), "--seed", "5", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    errors = data["errors"]
    # the title row is row 1, the header row 2: the inserted rows are 5, 7 and 8
    assert len(errors) == 3
    assert "第 5 行" in errors[0] and "五月二十日" in errors[0]
    assert "第 7 行" in errors[1] and "班级" in errors[1]
    assert "第 8 行" in errors[2]
    assert data["moments"] and all("***@" in m["camera"] for m in data["moments"])
    text = runner.invoke(main, ["patrol-plan", str(path), "--seed", "5"])
    out = tmp_path / "plan.json"
    saved = runner.invoke(main, ["patrol-plan", str(path), "--seed", "5", "--format", "json",
                                 "--out", str(out)])  # fmt: skip
    assert json.loads(out.read_text("utf-8")) == data and saved.exit_code == 1
    for shown in (result.output, text.output, saved.output, out.read_text("utf-8")):
        assert SECRET not in shown and "admin:" not in shown
    assert "第 5 行" in text.output and "种子 5" in text.output


def test_unreadable_schedule_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", "utf-8")
    result = CliRunner().invoke(main, ["patrol-plan", str(path), "--seed", "1"])
    assert result.exit_code == 2 and "表头" in result.output


def test_moments_of_one_session_are_spread_over_its_hours(tmp_path: Path) -> None:
    """One session, three moments a day: one in each third of its hours, for any seed."""
    sched = tmp_path / "课表.csv"
    sched.write_text(
        "班级,摄像头,日期,时段\n班,rtsp://10.0.0.5/1,2026-12-01,09:00-12:00\n", encoding="utf-8"
    )
    schedule = read_schedule(sched)
    for seed in range(20):
        moments = draw_plan(schedule, seed, per_day=3).moments
        hours = [m.at.hour + m.at.minute / 60 + m.at.second / 3600 for m in moments]
        assert [int(h - 9) for h in hours] == [0, 1, 2], (seed, hours)


def test_names_that_would_act_print_as_they_are(tmp_path: Path) -> None:
    """A schedule's class, site or institution with an ESC sequence or a bidi control shows it
    as <U+XXXX> (never a terminal command); a camera URL with one is refused."""
    sched = tmp_path / "课表.csv"
    sched.write_text(
        "班级,培训机构,地点,摄像头,日期,时段\n"
        '面点\x1b[2J班,阳光\u202e学校,"一楼\n教室",rtsp://10.0.0.5/1,2026-12-01,上午\n'
        "电工班,阳光学校,二楼,rtsp://10.0.0.5/\x1b[1m2,2026-12-01,上午\n",
        encoding="utf-8",
    )
    schedule = read_schedule(sched)
    (session,) = schedule.sessions
    assert session.class_name == "面点<U+001B>[2J班"
    assert session.institution == "阳光<U+202E>学校" and session.site == "一楼<U+000A>教室"
    (error,) = schedule.errors
    assert "第 3 行" in error and "\x1b" not in error and "<U+001B>" in error
