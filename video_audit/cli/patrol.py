"""`video-audit patrol URL`: one live camera patrol, its frames kept in the evidence chain."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, workspace_store


@click.command()
@click.argument("url")
@click.option(
    "--class",
    "class_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="班级文件夹：写入截图说明，并按其名册核对画面中的人脸 / "
    "the class folder: named on the captions, its roster matched to the faces",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="输出目录 / folder")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text")
@click.option("--seconds", type=click.FloatRange(min=1, max=600), default=8.0, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=1, max=120), default=10.0, show_default=True)
@click.option("--by", default=None, help="巡查人（默认当前用户）/ who patrols")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def patrol(
    url: str,
    class_dir: Path | None,
    out: Path,
    fmt: str,
    seconds: float,
    timeout: float,
    by: str | None,
    data: Path | None,
    lang: str,
) -> None:
    """远程巡查：调阅摄像头视频流并截图取证（0 正常，1 有错误，2 无法运行）/ one live patrol."""
    from video_audit.evidence import EvidenceKeyError, EvidenceLog
    from video_audit.media.grab import ScreenshotError
    from video_audit.patrol.run import patrol as run_patrol
    from video_audit.patrol.stream import public_url, scrub
    from video_audit.standard import ProfileError, load_profile

    if "://" not in url and not Path(url).exists():
        fail(f"{public_url(url)}: 不是视频流地址 / not a stream URL")
    if class_dir is not None and not class_dir.is_dir():
        fail(f"{class_dir}: no such class folder")
    try:
        profile = load_profile()
    except ProfileError as exc:
        fail(str(exc))
    with workspace_store(data, create=True, lang=lang, announce=False) as (workspace, store, said):
        try:
            log = EvidenceLog(store, workspace.evidence_dir)
            result = run_patrol(
                url,
                out,
                log,
                profile,
                by or getpass.getuser(),
                seconds=seconds,
                timeout=timeout,
                class_name=class_dir.resolve().name if class_dir is not None else "",
                class_dir=class_dir,
            )
        except EvidenceKeyError as exc:
            fail(exc.message(lang))
        except (ScreenshotError, OSError) as exc:
            fail(scrub(str(exc), url))
    click.echo(said, err=True)
    data_out = result.to_dict(lang)
    if fmt == "json":
        click.echo(json.dumps(data_out, ensure_ascii=False, indent=2))
    else:
        click.echo(_text(data_out, lang))
    sys.exit(1 if result.errors else 0)


def _text(d: dict[str, object], lang: str) -> str:
    zh = lang == "zh"
    lines = [
        f"{'摄像头' if zh else 'camera'} {d['url']}",
        f"{'可调阅' if zh else 'reachable'} {d['reachable']}    "
        f"{'首帧' if zh else 'first frame'} {d['first_frame_ms']} ms    "
        f"{d['width']}×{d['height']}    {d['fps']} fps    {d['bitrate_kbps']} kbit/s    "
        f"{'卡顿' if zh else 'stalls'} {d['stalls']}    "
        f"{'坏帧' if zh else 'corrupt'} {d['corrupt']}",
    ]
    frames = d["frames"]
    assert isinstance(frames, list)
    for f in frames:
        lines.append(f"  #{f['seq']}  {f['at']} s  {f['file']}  {'人数' if zh else 'heads'} "
                     f"{f['head_count']}  SHA-256 {f['sha256'][:16]}…")  # fmt: skip
    attendance = d.get("attendance")
    if isinstance(attendance, dict):
        lines.append(attendance_line(attendance, zh))
    found = d["findings"]
    assert isinstance(found, list)
    for f in found:
        lines.append(f"{f['code']} {f['severity']}  {f['message']}")
    return "\n".join(lines)


_STATES = {
    "roster_missing": ("考勤未核对：班级文件夹中没有名册", "attendance not checked: no roster"),
    "roster_unreadable": ("考勤未核对：名册无法读取", "attendance not checked: roster unreadable"),
    "engine_error": ("考勤未核对：人脸引擎无法运行", "attendance not checked: no face engine"),
    "no_frames": ("考勤未核对：没有截到画面", "attendance not checked: no frames"),
}


def attendance_line(a: dict[str, Any], zh: bool) -> str:
    """One line: who on the roster the frames show (names, never ID numbers), who is in doubt,
    who was not seen, and how many faces match nobody."""
    state = a.get("state")
    if state in _STATES:
        return _STATES[state][0 if zh else 1]
    names = {p["key"]: p["name"] for p in a["roster"]}
    day = a["days"][0]
    present = "、".join(names[k] for k in day["present"]) or "—"
    absent = "、".join(names[k] for k in day["absent"]) or "—"
    if zh:
        return (
            f"考勤（名册 {len(names)} 人）  在场 {len(day['present'])}：{present}    "
            f"待核实 {len(day['review'])}    未见学员 {len(day['absent'])}：{absent}    "
            f"名册外 {len(day['unknown'])}"
        )
    return (
        f"attendance (roster {len(names)})  present {len(day['present'])}: {present}    "
        f"to review {len(day['review'])}    trainees not seen {len(day['absent'])}: {absent}    "
        f"unknown {len(day['unknown'])}"
    )
