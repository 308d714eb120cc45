"""`video-audit serve | users | screenshot | evidence`: the web service and the evidence log."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from video_audit.cli.common import LANGS, default_lang, fail
from video_audit.settings import ServiceSettings

if TYPE_CHECKING:
    from video_audit.store.service import Store

DATA_HELP = "数据目录 / data folder (default $VIDEO_AUDIT_DATA_DIR or ./video-audit-data)"


def _data_dir(data: Path | None) -> Path:
    return data if data is not None else ServiceSettings().data_dir


def _store(data: Path | None) -> Store:
    from video_audit.store.service import Store, StoreError

    folder = _data_dir(data)
    try:
        return Store(folder / "video-audit.sqlite")
    except (StoreError, OSError) as exc:
        fail(f"{folder}: cannot open the data folder ({exc})")
    except Exception as exc:  # sqlite3.DatabaseError: not a database, locked
        fail(f"{folder / 'video-audit.sqlite'}: {exc}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP)
@click.option("--workers", type=click.IntRange(1, 64), help="同时审核数 / audits at once")
def serve(host: str, port: int, data: Path | None, workers: int | None) -> None:
    """启动检查人员网页服务 / run the inspector web service."""
    import uvicorn

    if data is not None:
        os.environ["VIDEO_AUDIT_DATA_DIR"] = str(data.resolve())
    if workers is not None:
        os.environ["VIDEO_AUDIT_AUDIT_WORKERS"] = str(workers)
    click.echo(f"video-audit: {_data_dir(data).resolve()} → http://{host}:{port}/", err=True)
    # The app lives in api/ (video_audit never imports it): uvicorn loads it by name.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info")


@click.group()
def users() -> None:
    """账号管理 / accounts of the web service."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["inspector", "institution", "admin"]),
    required=True,
    help="inspector 检查人员 / institution 培训机构 / admin 管理员",
)
@click.option("--institution", help="机构名称（institution 账号必填）/ the institution's name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 / read it from stdin")
@click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP)
def users_add(
    name: str, role: str, institution: str | None, password_stdin: bool, data: Path | None
) -> None:
    """新建账号 / add an account (the password is asked for, never given on the command line)."""
    from argon2 import PasswordHasher

    if role == "institution" and not institution:
        fail("institution 账号需要 --institution / an institution account needs --institution")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输入一次 / again: ") != password:
            fail("两次输入的密码不一致 / the passwords differ")
    if len(password) < 8:
        fail("密码至少 8 个字符 / a password needs at least 8 characters")
    store = _store(data)
    try:
        store.add_user(name.strip(), role, institution, PasswordHasher().hash(password))
    except ValueError as exc:
        fail(str(exc))
    finally:
        store.close()
    click.echo(f"已创建账号 {name}（{role}）/ account {name} added")


@users.command("list")
@click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP)
def users_list(data: Path | None) -> None:
    """列出账号 / list accounts."""
    store = _store(data)
    try:
        for row in store.users():
            click.echo(f"{row['name']}\t{row['role']}\t{row['institution'] or ''}")
    finally:
        store.close()


@click.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--at", "at_text", required=True, help="时刻：秒、MM:SS 或 HH:MM:SS.mmm / time")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG 文件 / the PNG")
@click.option("--note", default="", help="备注 / note")
@click.option("--by", default=None, help="取证人（默认当前用户）/ who takes it")
@click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP)
def screenshot(
    video: Path, at_text: str, out: Path, note: str, by: str | None, data: Path | None
) -> None:
    """截图取证：取出 TIME 时刻的原始帧并记入证据链 / exact frame at TIME, logged as evidence."""
    from video_audit.evidence import EvidenceLog
    from video_audit.media.grab import ScreenshotError, parse_time, time_code
    from video_audit.report import write_atomic

    try:
        at = parse_time(at_text)
    except ValueError as exc:
        fail(str(exc))
        return
    if not video.is_file():
        fail(f"{video}: no such file")
    store = _store(data)
    try:
        log = EvidenceLog(store, _data_dir(data) / "evidence")
        record = log.capture(video, at, by or getpass.getuser(), note)
        write_atomic(out, log.path_of(record["png"]).read_bytes())
    except ScreenshotError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"{exc.filename or out}: {exc.strerror or exc}")
        return
    finally:
        store.close()
    click.echo(
        f"#{record['seq']}  {time_code(record['frame_time'])}  pts {record['pts']}  "
        f"{video.name}  SHA-256 {record['source_sha256'][:16]}…  → {out}"
    )


@click.group()
def evidence() -> None:
    """证据链 / the evidence log."""


@evidence.command("verify")
@click.option("--data", type=click.Path(path_type=Path), help=DATA_HELP)
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def evidence_verify(data: Path | None, lang: str) -> None:
    """校验证据链（0 完好，1 被改动）/ verify the log (exit 0 intact, 1 tampered)."""
    from video_audit.evidence import EvidenceLog

    store = _store(data)
    try:
        verdict = EvidenceLog(store, _data_dir(data) / "evidence").verify()
    finally:
        store.close()
    click.echo(verdict.message(lang), err=not verdict.ok)
    sys.exit(0 if verdict.ok else 1)
