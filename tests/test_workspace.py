"""One workspace for every command: found by one rule, said aloud, never silently made anew."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.web_fixtures import CLI, serving
from video_audit.workspace import Workspace

PASSWORD = "correct horse 8"


def run(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None):
    return subprocess.run(
        [*CLI, *args], input=stdin, text=True, capture_output=True, cwd=cwd, env=env, timeout=120
    )


def add_inspector(cwd: Path, env: dict[str, str]):
    """`users add 王检查 --role inspector`, the password on stdin, as docs/web.md does it."""
    added = run(
        "users",
        "add",
        "王检查",
        "--role",
        "inspector",
        "--password-stdin",
        cwd=cwd,
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    return added


def test_the_rule_option_then_variable_then_the_per_user_default(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert Workspace.locate(None, env) == Workspace(tmp_path / "xdg" / "video-audit", "default")
    env["VIDEO_AUDIT_DATA_DIR"] = str(tmp_path / "old-name")
    assert Workspace.locate(None, env).source == "legacy_env"
    env["VIDEO_AUDIT_DATA"] = str(tmp_path / "ws")
    assert Workspace.locate(None, env) == Workspace(tmp_path / "ws", "env")
    chosen = Workspace.locate(Path("rel"), env)
    assert chosen.source == "option" and chosen.root == Path.cwd() / "rel"  # made absolute
    assert "工作区" in chosen.describe("zh") and "--data" in chosen.describe("en")


def test_evidence_verify_without_a_workspace_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    elsewhere = tmp_path / "some-folder"
    elsewhere.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = run("evidence", "verify", cwd=elsewhere, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "xdg" / "video-audit") in lines[0]
    assert "完好" not in result.stdout + result.stderr
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "xdg").exists()
    listed = run("users", "list", "--data", str(tmp_path / "nowhere"), cwd=elsewhere, env=env)
    assert listed.returncode == 2 and str(tmp_path / "nowhere") in listed.stderr
    assert not (tmp_path / "nowhere").exists()


def test_an_empty_evidence_log_is_not_called_intact(tmp_path: Path) -> None:
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(tmp_path / "ws")}
    added = add_inspector(tmp_path, env)
    assert f"工作区：{tmp_path / 'ws'}" in added.stderr and "新建" in added.stderr
    result = run("evidence", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "完好" not in result.stdout and "还没有任何记录" in result.stdout


def _login(base: str, name: str, password: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/token",
        data=json.dumps({"name": name, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return int(res.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_following_docs_web_md_the_inspector_logs_in(tmp_path: Path) -> None:
    """docs/web.md: export VIDEO_AUDIT_DATA, users add, serve (from another folder) — log in."""
    docs = (Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8")
    assert "export VIDEO_AUDIT_DATA=/srv/video-audit" in docs
    assert "video-audit serve --host 0.0.0.0 --port 8000\n" in docs
    here, there = tmp_path / "admin-shell", tmp_path / "service-unit"
    here.mkdir()
    there.mkdir()
    env = {
        **os.environ,
        "VIDEO_AUDIT_DATA": str(tmp_path / "srv"),
        "VIDEO_AUDIT_AUDIT_WORKERS": "1",
    }
    add_inspector(here, env)
    with serving([], there, env) as (base, said):
        assert any(str(tmp_path / "srv") in line for line in said)
        assert not any("没有任何账号" in line for line in said)
        assert _login(base, "王检查", PASSWORD) == 200
        assert _login(base, "王检查", "wrong password") == 401
    assert list(here.iterdir()) == []  # nothing written where the command ran


def test_serve_on_a_workspace_without_accounts_says_how_to_add_one(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    data = tmp_path / "new ws"
    with serving(["--data", str(data)], tmp_path, env) as (_, said):
        text = "\n".join(said)
        assert "没有任何账号" in text
        assert f"video-audit users add 名字 --role admin --data '{data}'" in text
    assert (data / "video-audit.sqlite").is_file()


def test_an_older_data_folder_here_is_pointed_at_not_used(tmp_path: Path) -> None:
    """Earlier versions kept ./video-audit-data: the command names it, and neither uses it nor
    silently starts another chain."""
    old = tmp_path / "video-audit-data"
    old.mkdir()
    (old / "video-audit.sqlite").write_bytes(b"")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = run("evidence", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert f"--data {old}" in result.stderr and len(result.stderr.strip().splitlines()) == 1
