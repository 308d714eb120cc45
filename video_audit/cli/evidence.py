"""`video-audit screenshot | evidence verify`: exact-frame evidence in the workspace's chain."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, workspace_store


@click.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--at", "at_text", required=True, help="时刻：秒、MM:SS 或 HH:MM:SS.mmm / time")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG 文件 / the PNG")
@click.option("--note", default="", help="备注 / note")
@click.option("--by", default=None, help="取证人（默认当前用户）/ who takes it")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def screenshot(
    video: Path,
    at_text: str,
    out: Path,
    note: str,
    by: str | None,
    data: Path | None,
    lang: str,
) -> None:
    """截图取证：取出 TIME 时刻的原始帧并记入证据链 / exact frame at TIME, logged as evidence."""
    from video_audit.evidence import EvidenceLog
    from video_audit.files import write_atomic
    from video_audit.media.grab import ScreenshotError, parse_time, time_code

    try:
        at = parse_time(at_text)
    except ValueError as exc:
        fail(str(exc))
    if not video.is_file():
        fail(f"{video}: no such file")
    with workspace_store(data, create=True, lang=lang, announce=False) as (workspace, store, said):
        try:
            log = EvidenceLog(store, workspace.evidence_dir)
            record = log.capture(video, at, by or getpass.getuser(), note)
            write_atomic(out, log.path_of(record["png"]).read_bytes())
        except ScreenshotError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or out}: {exc.strerror or exc}")
    click.echo(said, err=True)
    click.echo(
        f"#{record['seq']}  {time_code(record['frame_time'])}  pts {record['pts']}  "
        f"{video.name}  SHA-256 {record['source_sha256'][:16]}…  → {out}"
    )


@click.group()
def evidence() -> None:
    """证据链 / the evidence log."""


@evidence.command("verify")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def evidence_verify(data: Path | None, lang: str) -> None:
    """校验证据链（0 完好，1 被改动，2 找不到工作区）/ verify the log (0 intact, 1 tampered)."""
    from video_audit.evidence import EvidenceLog

    with workspace_store(data, create=False, lang=lang) as (workspace, store, _):
        verdict = EvidenceLog(store, workspace.evidence_dir).verify()
    click.echo(verdict.message(lang), err=not verdict.ok)
    sys.exit(0 if verdict.ok else 1)
