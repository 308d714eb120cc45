"""`video-audit scan` on the command line, and the morning summary in text, HTML and XLSX."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.test_scan_tree import clip_pair, write_class, write_scan_profile, write_tree
from video_audit.cli import main


@pytest.fixture(scope="module")
def scan_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan_profile(tmp_path_factory.mktemp("profile"))


def test_two_nights_on_the_command_line(tmp_path: Path, scan_profile: Path) -> None:
    clips = clip_pair(tmp_path / "clips")
    root, db = tmp_path / "discs", tmp_path / "state" / "audits.db"
    passing = write_tree(root, clips, 1)[0]
    write_class(
        root / "长治市华森职业培训学校" / "长治市华森职业培训学校2024年第9期电工培训班",
        clips,
        dt.date(2024, 12, 2),
        roll2=False,
    )
    args = ["scan", str(root), "--db", str(db), "--settle", "0", "--standard", str(scan_profile)]
    runner = CliRunner()
    first = runner.invoke(main, [*args, "--workers", "1"])
    assert first.exit_code == 1, first.output  # one class fails (CT01)
    assert "[不通过] 长治市华森职业培训学校/" in first.stderr
    assert "夜间扫描 #1 完成：班级 2，本次审核 2（不通过 1）" in first.stderr

    html_path = next(db.parent.glob("audits-*.html"))
    html = html_path.read_text("utf-8")
    assert "夜间审核摘要" in html and "长治市华森职业培训学校2024年第9期电工培训班" in html
    assert "CT01" in html and "<script" not in html
    book = load_workbook(io.BytesIO(html_path.with_suffix(".xlsx").read_bytes()))
    assert {"按规则", "按机构", "近期趋势", "统计年度"} <= set(book.sheetnames)
    by_rule = [row for row in book["按规则"].iter_rows(values_only=True)][1:]
    assert ("CT01", "缺少课间人脸识别视频", "error", 1, 1) in by_rule
    years = [row[:2] for row in book["统计年度"].iter_rows(values_only=True)][1:]
    assert years == [(2024, 1), (2025, 1)]  # the December class counts toward 2025

    shutil.rmtree(passing)
    second = runner.invoke(main, [*args, "--summary", "--workers", "0"])
    assert second.exit_code == 1  # RT01 for the removed class
    assert "已删除: 壶关县第1职业培训学校/" in second.stdout
    assert "留存问题(RT01): 3" in second.stdout
    assert "本次审核: 0 (-2)" in second.stdout  # the trend against the night before
    assert "#1: 本次审核 2, 通过 1, 不通过 1" in second.stdout

    printed = runner.invoke(main, ["scan", "--db", str(db), "--summary", "--lang", "en"])
    assert printed.exit_code == 0
    assert printed.stdout.startswith("Nightly audit summary — ")
    assert "removed: 1" in printed.stdout and "Retention (RT01): 3" in printed.stdout


def test_command_line_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, expected in (
        (["scan", "--db", str(tmp_path / "none.db"), "--summary"], "no such database"),
        (["scan", "--db", str(tmp_path / "x.db")], "ROOT"),
        (["scan", str(tmp_path / "missing"), "--db", str(tmp_path / "x.db")], "no such folder"),
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
