"""`video-audit patrol-plan SCHEDULE`: seeded random patrol moments inside classes' hours."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, default_lang, fail


@click.command("patrol-plan")
@click.argument("schedule", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="随机种子（不给则随机生成并写入输出）/ seed (drawn and recorded when not given)",
)
@click.option("--per-day", type=click.IntRange(1, 48), default=2, show_default=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="起始日期")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="截止日期")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--out", type=click.Path(path_type=Path), help="写入文件 / write to FILE")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def patrol_plan(
    schedule: Path,
    seed: int | None,
    per_day: int,
    start: dt.datetime | None,
    end: dt.datetime | None,
    fmt: str,
    out: Path | None,
    lang: str,
) -> None:
    """随机巡查计划：按课表抽取可复现的巡查时刻（0 正常，1 有无法识别的行，2 无法运行）/ plan."""
    from video_audit.files import write_atomic
    from video_audit.patrol.plan import ScheduleError, draw_plan, read_schedule

    try:
        sched = read_schedule(schedule)
    except ScheduleError as exc:
        fail(str(exc))
    plan = draw_plan(
        sched,
        secrets.randbelow(2**53) if seed is None else seed,
        per_day,
        start.date() if start else None,
        end.date() if end else None,
    )
    data = plan.to_dict()
    text = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else _text(data, lang)
    if out is not None:
        try:
            write_atomic(out, (text + "\n").encode("utf-8"))
        except OSError as exc:
            fail(f"{out}: {exc.strerror or exc}")
        click.echo(f"{'已写入' if lang == 'zh' else 'written'} {out}", err=True)
    else:
        click.echo(text)
    for error in plan.schedule.errors:
        click.echo(error, err=True)
    sys.exit(1 if plan.schedule.errors else 0)


def _text(d: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    halves = {"am": "上午", "pm": "下午"} if zh else {"am": "am", "pm": "pm"}
    lines = [
        f"{'课表' if zh else 'schedule'} {d['schedule']}  SHA-256 {d['schedule_sha256']}",
        f"{'种子' if zh else 'seed'} {d['seed']}    "
        f"{'每天' if zh else 'per day'} {d['per_day']}    "
        f"{d['from'] or '…'} – {d['to'] or '…'}    "
        f"{'课次' if zh else 'sessions'} {d['sessions_in_range']}/{d['sessions']}",
    ]
    for m in d["moments"]:
        lines.append(
            f"  #{m['seq']}  {m['at'].replace('T', ' ')}  {halves[m['half']]}  {m['class']}  "
            f"{m['institution']}  {m['site']}  {m['camera']}  "
            f"({'第' if zh else 'row '}{m['row']}{'行' if zh else ''})"
        )
    for e in d["errors"]:
        lines.append(f"{'错误' if zh else 'error'}: {e}")
    return "\n".join(lines)
