"""`video-audit sites import|list` and `video-audit patrol-run`: the workspace's training sites,
cameras and class sessions, and the random patrols due now (for cron or a systemd timer)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, workspace_store


@click.group()
def sites() -> None:
    """培训场所与摄像头：导入课表、查看 / training sites, cameras and class sessions."""


@sites.command("import")
@click.argument("schedule", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--by", default=None, help="操作人（默认当前用户）/ who imports")
@data_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def import_(schedule: Path, by: str | None, data: Path | None, fmt: str, lang: str) -> None:
    """导入课表（CSV/XLSX/XLS）：场所、摄像头、课次 / import a class schedule: sites, cameras,
    sessions (0 ok, 1 rows that cannot be used, 2 cannot run)."""
    from video_audit.patrol.plan import ScheduleError
    from video_audit.patrol.schedule import import_schedule

    with workspace_store(data, create=True, lang=lang) as (_, store, _said):
        try:
            added, errors = import_schedule(store, schedule, by or getpass.getuser())
        except ScheduleError as exc:
            fail(str(exc))
    out = {
        "schedule": schedule.name,
        "sites": added.sites,
        "cameras": added.cameras,
        "sessions": added.sessions,
        "unchanged": added.unchanged,
        "errors": errors,
    }
    if fmt == "json":
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        zh = lang == "zh"
        click.echo(
            f"新增场所 {added.sites} 个，摄像头 {added.cameras} 个，课次 {added.sessions} 个"
            f"（已有未变 {added.unchanged} 个）"
            if zh
            else f"added {added.sites} sites, {added.cameras} cameras, {added.sessions} "
            f"sessions ({added.unchanged} already there)"
        )
    for error in errors:
        click.echo(error, err=True)
    sys.exit(1 if errors else 0)


@sites.command("add-camera")
@click.argument("site_id", type=int)
@click.argument("url")
@click.option("--name", default="", help="名称 / a name")
@click.option("--by", default=None, help="操作人（默认当前用户）/ who adds it")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def add_camera_(
    site_id: int, url: str, name: str, by: str | None, data: Path | None, lang: str
) -> None:
    """给场所添加摄像头（同一地址换密码、重新启用）/ add a camera to a site (credentials never
    shown; the same URL with a new password replaces the old, and brings it back in service)."""
    from video_audit.patrol.schedule import add_camera

    with workspace_store(data, create=False, lang=lang) as (_, store, _said):
        try:
            camera_id = add_camera(store, site_id, url, name, by or getpass.getuser())
        except KeyError:
            fail(f"场所 #{site_id} 不存在 / no site {site_id}")
        except ValueError as exc:
            fail(str(exc))
        cam = store.camera(camera_id)
    assert cam is not None
    click.echo(f"摄像头 #{camera_id} {cam['shown_url']}" if lang == "zh" else
               f"camera #{camera_id} {cam['shown_url']}")  # fmt: skip


@sites.command("retire-camera")
@click.argument("camera_id", type=int)
@click.option("--by", default=None, help="操作人（默认当前用户）/ who retires it")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def retire_camera_(camera_id: int, by: str | None, data: Path | None, lang: str) -> None:
    """停用摄像头：巡查记录保留，随机计划不再抽到 / take a camera out of service (its patrols
    kept; adding the same URL again brings it back)."""
    with workspace_store(data, create=False, lang=lang) as (_, store, _said):
        if store.camera(camera_id) is None:
            fail(f"摄像头 #{camera_id} 不存在 / no camera {camera_id}")
        if not store.retire_camera(camera_id, by or getpass.getuser()):
            fail(f"摄像头 #{camera_id} 已停用 / camera {camera_id} is out of service already")
    click.echo(f"摄像头 #{camera_id} 已停用" if lang == "zh" else f"camera #{camera_id} retired")


@sites.command("list")
@data_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def list_(data: Path | None, fmt: str, lang: str) -> None:
    """列出场所、摄像头（不显示账号密码）及其最近一次巡查 / sites, cameras, last patrols."""
    from video_audit.patrol.views import site_views

    with workspace_store(data, create=False, lang=lang) as (_, store, _said):
        views = site_views(store)
    if fmt == "json":
        click.echo(json.dumps(views, ensure_ascii=False, indent=2))
        return
    zh = lang == "zh"
    if not views:
        click.echo("还没有登记场所（用 video-audit sites import 课表.xlsx）" if zh else "no sites")
    for site in views:
        click.echo(f"#{site['id']} {site['institution']} · {site['name']}")
        for cam in site["cameras"]:
            last = cam["last_patrol"]
            said = _last_text(last, zh) if last else ("未巡查" if zh else "never patrolled")
            camera = "摄像头" if zh else "camera"
            if cam["retired"]:
                said = ("已停用  " if zh else "out of service  ") + said
            click.echo(f"    {camera} #{cam['id']} {cam['url']}    {said}")


def _last_text(last: dict[str, Any], zh: bool) -> str:
    """A patrol in one line: when, the verdict, the heads, and what was wrong in words."""
    state = last["verdict_zh"] if zh else last["verdict_en"]
    heads = last.get("heads")
    if heads is not None:
        state += f"，人数 {heads}" if zh else f", {heads} heads"
    found = last["findings"] if zh else last.get("findings_en", last["findings"])
    said = [f"{f['code']} {f['message']}" for f in found]
    if last.get("error"):
        said.append(str(last["error"]))
    when = str(last["started"]).replace("T", " ")[:16]
    return (
        f"{when} {state}"
        + (f"（{'；'.join(said)}）" if zh and said else "")
        + (f" ({'; '.join(said)})" if not zh and said else "")
    )


@sites.command("plan")
@click.option(
    "--check",
    is_flag=True,
    help="核对每份计划：与证据记录一致，并按种子重新抽取 / check each plan against its record",
)
@data_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def plan_(check: bool, data: Path | None, fmt: str, lang: str) -> None:
    """随机巡查计划：种子、抽取时间、每个时刻及其巡查结果 / the random patrol plans, their
    seeds and moments with each one's patrol (--check: against the evidence record and drawn
    again from the seed; 0 as drawn, 1 differs)."""
    from video_audit.patrol.schedule import check_plan
    from video_audit.patrol.views import plan_views

    with workspace_store(data, create=False, lang=lang) as (_, store, _said):
        plans = plan_views(store)
        if check:
            for plan, row in zip(plans, store.plans(), strict=True):
                plan["check"] = check_plan(store, row)
    bad = any(not p["check"]["ok"] for p in plans) if check else False
    if fmt == "json":
        click.echo(json.dumps(plans, ensure_ascii=False, indent=2))
        sys.exit(1 if bad else 0)
    zh = lang == "zh"
    if not plans:
        click.echo("还没有巡查计划（video-audit patrol-run 会自动抽取）" if zh else "no plan yet")
    for plan in plans:
        drawn = str(plan["drawn"]).replace("T", " ")[:16]
        click.echo(
            f"计划 #{plan['id']}  种子 {plan['seed']}  {drawn} 由 {plan['drawn_by']} 抽取  "
            f"证据记录 #{plan['evidence_seq']}  课表摘要 {plan['schedule_sha256'][:16]}…"
            if zh
            else f"plan #{plan['id']}  seed {plan['seed']}  drawn {drawn} by "
            f"{plan['drawn_by']}  evidence #{plan['evidence_seq']}"
        )
        for m in plan["moments"]:
            p = m["patrol"]
            if p:
                said = _last_text(p, zh)
            elif m.get("before_drawn"):
                said = "抽取时已过，不巡查" if zh else "past when drawn: not patrolled"
            else:
                said = "待巡查" if zh else "to do"
            when = str(m["at"]).replace("T", " ")
            click.echo(f"  {m['seq']:>3}  {when}  {m['site']}  {m['class']}  {m['camera']}  {said}")
        if check:
            click.echo("  " + _check_text(plan["check"], zh))
    sys.exit(1 if bad else 0)


def _check_text(found: dict[str, Any], zh: bool) -> str:
    from video_audit.patrol.plan import PLAN_METHOD

    if found["problems"]:
        return ("核对：不符——" if zh else "check: differs — ") + "；".join(found["problems"])
    if found["redrawn"]:
        return (
            "核对：与证据记录一致；按种子重新抽取，时刻相同"
            if zh
            else "check: as its evidence record says; drawn again from its seed, the same"
        )
    if found["method"] != PLAN_METHOD:
        method = found["method"] or "—"
        return (
            f"核对：与证据记录一致（由另一版本的抽取方法 {method} 抽取，不重新抽取）"
            if zh
            else f"check: as its evidence record says (drawn by another method, {method}: "
            "not drawn again)"
        )
    return (
        "核对：与证据记录一致（课次已变，已由新计划取代，不再重新抽取）"
        if zh
        else "check: as its evidence record says (its sessions changed since: not drawn again)"
    )


@click.command("patrol-run")
@click.option(
    "--now",
    "at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    default=None,
    help="按此时刻运行（默认现在）/ run as of this time",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="同时巡查的摄像头数（默认标准配置 [patrol] workers）/ cameras read at once",
)
@data_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def patrol_run(
    at: dt.datetime | None, workers: int | None, data: Path | None, fmt: str, lang: str
) -> None:
    """运行到期的随机巡查（供 cron / systemd 定时调用）/ run the random patrols now due (for
    cron or a systemd timer; 0 ok, 1 a patrol did not pass, 2 cannot run)."""
    import dataclasses

    from video_audit.evidence import EvidenceKeyError, EvidenceLog
    from video_audit.patrol.schedule import PatrolRunner, PatrolSettings
    from video_audit.patrol.views import patrol_view
    from video_audit.standard import ProfileError, load_profile

    try:
        profile = load_profile()
    except ProfileError as exc:
        fail(str(exc))
    settings = PatrolSettings.of(profile)
    if workers is not None:
        settings = dataclasses.replace(settings, workers=workers)
    with workspace_store(data, create=False, lang=lang) as (workspace, store, _said):
        log = EvidenceLog(store, workspace.evidence_dir)
        runner = PatrolRunner(store, log, workspace.root, profile, settings)
        try:
            outcome = runner.run_due(at or dt.datetime.now())
        except EvidenceKeyError as exc:
            fail(exc.message(lang))
        views = [
            patrol_view(row)
            for pid in outcome.patrolled + outcome.missed
            if (row := store.patrol_row(pid)) is not None
        ]
    bad = [v for v in views if v["failed"]]
    if fmt == "json":
        click.echo(
            json.dumps({**outcome.to_dict(), "patrols": views}, ensure_ascii=False, indent=2)
        )
    else:
        zh = lang == "zh"
        if outcome.plan is None:
            click.echo("没有待巡查的课次（先导入课表）" if zh else "no sessions ahead to patrol")
        else:
            plan = outcome.plan
            drawn = str(plan["drawn"]).replace("T", " ")[:16]
            click.echo(
                f"巡查计划 #{plan['id']}（{drawn} 抽取，"
                f"证据记录 #{plan['evidence_seq']}）："
                f"本次巡查 {len(outcome.patrolled)} 次，错过 {len(outcome.missed)} 次"
                if zh
                else f"plan #{plan['id']}: {len(outcome.patrolled)} patrolled, "
                f"{len(outcome.missed)} missed"
            )
        for v in views:
            click.echo(
                f"  #{v['id']} {v['site']} {v['url']} {v['class'] or ''}  {_last_text(v, zh)}"
            )
    sys.exit(1 if bad else 0)
