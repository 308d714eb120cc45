"""`video-audit serve | users`: the inspector web service and its accounts, in the workspace."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, workspace_store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / address")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@data_option
@click.option("--workers", type=click.IntRange(1, 64), help="同时审核数 / audits at once")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def serve(host: str, port: int, data: Path | None, workers: int | None, lang: str) -> None:
    """启动检查人员网页服务 / run the inspector web service."""
    import uvicorn

    from video_audit.settings import AuditSettings
    from video_audit.standard import ProfileError, load_profile

    try:  # the audits and the patrol timer use it: a broken one is one line, before starting
        load_profile(AuditSettings().standard)
    except ProfileError as exc:
        fail(str(exc))
    with workspace_store(data, create=True, lang=lang) as (workspace, _, _):
        pass  # made or upgraded here, so a problem is one line before the server starts
    # The app reads the same workspace: hand it over by the variable the rule reads second.
    os.environ["VIDEO_AUDIT_DATA"] = str(workspace.root)
    if workers is not None:
        os.environ["VIDEO_AUDIT_AUDIT_WORKERS"] = str(workers)
    click.echo(f"video-audit → http://{host}:{port}/", err=True)
    # The app lives in api/ (video_audit never imports it): uvicorn loads it by name.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info")


@click.group()
def users() -> None:
    """账号管理 / accounts of the web service."""


def _new_password(from_stdin: bool) -> str:
    """A new password from stdin or asked twice; at least 8 characters."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输入一次 / again: ") != password:
            fail("两次输入的密码不一致 / the passwords differ")
    if len(password) < 8:
        fail("密码至少 8 个字符 / a password needs at least 8 characters")
    return password


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
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def users_add(
    name: str,
    role: str,
    institution: str | None,
    password_stdin: bool,
    data: Path | None,
    lang: str,
) -> None:
    """新建账号 / add an account (the password is asked for, never given on the command line)."""
    from argon2 import PasswordHasher

    if role == "institution" and not institution:
        fail("institution 账号需要 --institution / an institution account needs --institution")
    password = _new_password(password_stdin)
    with workspace_store(data, create=True, lang=lang) as (_, store, _):
        try:
            store.add_user(name.strip(), role, institution, PasswordHasher().hash(password))
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"已创建账号 {name}（{role}）/ account {name} added")


@users.command("list")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def users_list(data: Path | None, lang: str) -> None:
    """列出账号 / list accounts."""
    with workspace_store(data, create=False, lang=lang) as (_, store, _):
        for row in store.users():
            click.echo(f"{row['name']}\t{row['role']}\t{row['institution'] or ''}")


def _account(store: Any, name: str) -> Any:
    row = store.user_by_name(name.strip())
    if row is None:
        fail(f"没有账号 {name} / no account {name}")
    return row


@users.command("revoke")
@click.argument("name")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def users_revoke(name: str, data: Path | None, lang: str) -> None:
    """吊销账号的全部令牌和登录会话 / revoke every token and session of an account."""
    with workspace_store(data, create=False, lang=lang) as (_, store, _):
        count = store.drop_sessions(_account(store, name)["id"])
    click.echo(f"已吊销 {name} 的 {count} 个令牌或会话 / revoked {count} of {name}'s sessions")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 / read it from stdin")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def users_passwd(name: str, password_stdin: bool, data: Path | None, lang: str) -> None:
    """更改密码并吊销该账号的全部令牌和会话 / change a password, revoking every session."""
    from argon2 import PasswordHasher

    password = _new_password(password_stdin)
    with workspace_store(data, create=False, lang=lang) as (_, store, _):
        count = store.change_password(_account(store, name)["id"], PasswordHasher().hash(password))
    click.echo(
        f"已更改 {name} 的密码，吊销 {count} 个令牌或会话 / password changed, {count} revoked"
    )
