"""HTML and XLSX reports: rendered from real audits of small generated discs."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.cli import main
from video_audit.findings import rule
from video_audit.report import html, xlsx
from video_audit.report.texts import t
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.settings import AuditSettings

GOOD = "2024年合格班"
HOSTILE = '2024年<script>alert("x&y")班'  # a folder name cannot hold "/"
STRAY = "<img src=x onerror=alert(2)>.txt"
FORMULA = "=HYPERLINK(1).txt"
ROLL = ClipSpec(2, 2, seed=1)
LESSON = ClipSpec(4, 2, seed=3)  # the short profile asks for 3 s
SHORT_LESSON = ClipSpec(2, 2, seed=4)
SMALL = ClipSpec(2, 2, width=640, height=480, seed=5)


def _clip(cache: Path, path: Path, spec: ClipSpec) -> None:
    cached = cache / f"{spec.seconds}-{spec.width}x{spec.height}-{spec.seed}.mp4"
    if not cached.exists():
        write_clip(cached, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, path)


def _day(cache: Path, folder: Path, date: str, **specs: ClipSpec | None) -> None:
    """A day folder; pass roll1/roll2/lesson=None to leave a slot empty, or a spec to swap one."""
    chosen = {"roll1": ROLL, "roll2": ROLL, "lesson": LESSON, **specs}
    folder.mkdir(parents=True, exist_ok=True)
    for slot, spec in chosen.items():
        if spec is None:
            continue
        name = (
            f"{PREFIX}{date}授课过程.mp4"
            if slot == "lesson"
            else f"{PREFIX}{date}课间人脸识别视频{slot[-1]}.mp4"
        )
        _clip(cache, folder / name, spec)


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compliant class and a faulty one (FM03, FM02, CT01, two hostile stray files)."""
    cache = tmp_path_factory.mktemp("report_clips")
    root = tmp_path_factory.mktemp("report_disc")
    for date in ("5月20日", "5月21日"):
        _day(cache, root / GOOD / date, date)
    bad = root / HOSTILE
    _day(cache, bad / "5月20日", "5月20日", lesson=SHORT_LESSON)
    _day(cache, bad / "5月21日", "5月21日", roll2=SMALL)
    _day(cache, bad / "5月22日", "5月22日", roll2=None)
    (bad / "5月22日" / STRAY).write_text("x", encoding="utf-8")
    (bad / FORMULA).write_text("x", encoding="utf-8")  # a cell starting "=" stays text
    return root


@pytest.fixture(scope="module")
def report(disc: Path, short_profile: Path) -> AuditReport:
    return run_audit(disc, AuditSettings(standard=short_profile))


class _Text(HTMLParser):
    """The text a reader sees, and the tags the page holds."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _parse(doc: str) -> _Text:
    parser = _Text()
    parser.feed(doc)
    return parser


def _sections(doc: str) -> dict[str, str]:
    """Each class section's markup, keyed by the (unescaped) class folder name."""
    out = {}
    for chunk in doc.split('<section class="class ')[1:]:
        chunk = chunk.split("</section>")[0]
        heading = "".join(_parse(chunk.split("<h2>")[1].split("</h2>")[0]).parts)
        out[heading.split("：", 1)[-1].split(": ", 1)[-1]] = chunk
    return out


def test_the_faulty_disc_has_the_findings_it_was_built_with(report: AuditReport) -> None:
    found = {(f.code, f.path.split("/")[1] if "/" in f.path else f.path) for f in report.findings}
    assert {("FM03", "5月20日"), ("FM02", "5月21日"), ("CT01", "5月22日")} <= found
    assert {f.code for f in report.findings} == {"FM03", "FM02", "CT01", "LY03"}


def test_html_is_self_contained(report: AuditReport) -> None:
    doc = html.render(report)
    assert doc.startswith("<!DOCTYPE html>")
    page = _parse(doc)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "img", "object"), tag
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), value
            assert not value or value.startswith("#"), value
    assert "@import" not in doc and "url(" not in doc
    assert "<style>" in doc


def test_html_shows_every_finding_with_its_reason_and_file(report: AuditReport) -> None:
    text = "".join(_parse(html.render(report)).parts)
    for f in report.findings:
        assert f.code in text
        assert f.message("zh") in text
        assert f.rule.title["zh"] in text
        assert f.path.split("/", 1)[1] in text  # the file, relative to its class
    fm02 = next(f for f in report.findings if f.code == "FM02")
    assert html.details_text(fm02, "zh") == "实测 640×480；要求 ≥ 1024×768"
    assert "实测 640×480；要求 ≥ 1024×768" in text
    assert "实测 0:02；要求 ≥ 0:03" in text  # FM03's measured length and minimum


def test_html_escapes_hostile_names(report: AuditReport) -> None:
    doc = html.render(report)
    assert "<script" not in doc and "<img" not in doc
    assert "&lt;script&gt;alert(&#34;x&amp;y&#34;)班" in doc
    text = "".join(_parse(doc).parts)
    assert HOSTILE in text and STRAY in text


def test_html_verdict_per_class_and_per_day_cells(report: AuditReport) -> None:
    sections = _sections(html.render(report))
    assert set(sections) == {GOOD, HOSTILE}
    good, bad = sections[GOOD], sections[HOSTILE]
    assert good.startswith("pass") and '<span class="badge pass">通过</span>' in good
    assert "未发现问题" in good and 'class="cell ok"' in good
    assert 'class="cell error' not in good and 'class="cell missing' not in good
    assert bad.startswith("fail") and '<span class="badge fail">不通过</span>' in bad
    rows = {r.split("</td>")[0]: r for r in bad.split('<td class="day-date">')[1:]}
    assert set(rows) == {"2024-05-20", "2024-05-21", "2024-05-22"}
    cells = {d: re.findall(r'class="cell (\w+)"', row) for d, row in rows.items()}
    assert cells == {
        "2024-05-20": ["ok", "ok", "error"],
        "2024-05-21": ["ok", "error", "ok"],
        "2024-05-22": ["ok", "missing", "ok"],
    }
    assert "FM03" in rows["2024-05-20"] and "0:02 · 1024×768 · MP4" in rows["2024-05-20"]
    assert "640×480" in rows["2024-05-21"] and ">缺<" in rows["2024-05-22"]


def test_html_in_english(report: AuditReport) -> None:
    doc = html.render(report, "en")
    text = "".join(_parse(doc).parts)
    assert '<html lang="en">' in doc
    assert "Training-video audit report" in text and "培训视频资料审核报告" not in text
    assert "PASS" in text and "FAIL" in text and "通过" not in text
    for f in report.findings:
        assert f.message("en") in text and f.rule.title["en"] in text
    assert "measured 640×480; required ≥ 1024×768" in text


def test_html_attendance_block_only_when_faces_filled_it(
    report: AuditReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert t("zh", "attendance") not in html.render(report)
    data: dict[str, Any] = report.to_dict("zh")
    bad = next(c for c in data["classes"] if c["folder"] == HOSTILE)
    bad["attendance"] = {
        "engine": "insightface",
        "days": [
            {
                "path": f"{HOSTILE}/5月20日",
                "date": "2024-05-20",
                "present": ["A1", "A2", "A3"],
                "absent": ["B<7>"],
                "review": [{"candidates": ["A4"], "distance": 0.5}],
                "unknown": [],
                "head_count": {"path": "x.mp4", "count": 5, "at": 12.0},
            }
        ],
    }
    good = next(c for c in data["classes"] if c["folder"] == GOOD)
    good["attendance"] = {"error": "名册无法使用 <roster>"}
    monkeypatch.setattr(report, "to_dict", lambda lang="zh": data)
    sections = _sections(html.render(report))
    assert t("zh", "attendance") in sections[HOSTILE]
    assert "名册无法使用 &lt;roster&gt;" in sections[GOOD].split('<div class="attendance">')[1]
    block = sections[HOSTILE].split('<div class="attendance">')[1]
    cells = re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]*)", block)
    assert cells[:7] == ["2024-05-20", "5月20日", "3", "1", "1", "0", "5"]
    # A Chinese reader gets the engine's plain label, not its internal description.
    assert "识别引擎：insightface 模型包<" in block and "B&lt;7&gt;" in block


def _workbook(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def test_xlsx_findings_sheet(report: AuditReport) -> None:
    wb = _workbook(xlsx.render(report))
    assert wb.sheetnames == ["汇总", "问题清单", "每日情况"]
    ws = wb["问题清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (
        "班级", "日期", "文件", "级别", "规则", "规则名称", "原因", "测量值与阈值", "整改建议"
    )  # fmt: skip
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:I{len(rows)}"
    body = rows[1:]
    assert len(body) == len(report.findings)
    assert Counter(r[4] for r in body) == Counter(f.code for f in report.findings)
    fm02 = next(r for r in body if r[4] == "FM02")
    assert fm02[0] == HOSTILE and fm02[1].date().isoformat() == "2024-05-21"
    assert fm02[3] == "错误" and fm02[7] == "实测 640×480；要求 ≥ 1024×768"
    assert fm02[2] == f"5月21日/{PREFIX}5月21日课间人脸识别视频2.mp4"
    assert fm02[8] == rule("FM02").remedy["zh"]
    for n, row in enumerate(body, start=2):
        colour = ws.cell(row=n, column=1).fill.fgColor.rgb
        assert colour.endswith("FDE2E1" if row[3] == "错误" else "FFF2CC")
    formula = next(n for n, r in enumerate(body, start=2) if r[2] == FORMULA)
    assert ws.cell(row=formula, column=3).data_type == "s"
    assert ws.cell(row=formula, column=2).value is None  # a class-level finding has no day


def test_xlsx_matrix_and_summary(report: AuditReport) -> None:
    wb = _workbook(xlsx.render(report))
    matrix = list(wb["每日情况"].iter_rows(values_only=True))
    assert matrix[0] == ("班级", "日期", "文件夹", "人脸1", "人脸2", "授课", "错误", "警告")
    states = {(r[0], r[2]): r[3:] for r in matrix[1:]}
    assert states == {
        (GOOD, "5月20日"): ("✓", "✓", "✓", 0, 0),
        (GOOD, "5月21日"): ("✓", "✓", "✓", 0, 0),
        (HOSTILE, "5月20日"): ("✓", "✓", "✗ FM03", 1, 0),
        (HOSTILE, "5月21日"): ("✓", "✗ FM02", "✓", 1, 0),
        (HOSTILE, "5月22日"): ("✓", "缺", "✓", 1, 1),
    }
    summary = {r[0]: r[1:] for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    assert summary["结论"][0] == "不通过" and summary["错误"][0] == 3
    assert summary[GOOD][:3] == ("通过", 0, 0) and summary[HOSTILE][:3] == ("不通过", 3, 2)
    for code in ("FM02", "FM03", "CT01", "LY03", "NM01"):
        expected = sum(f.code == code for f in report.findings)
        assert summary[code][2] == expected


def test_xlsx_in_english(report: AuditReport) -> None:
    wb = _workbook(xlsx.render(report, "en"))
    assert wb.sheetnames == ["Summary", "Findings", "Per day"]
    header = next(wb["Findings"].iter_rows(values_only=True))
    assert header[:3] == ("Class", "Date", "File")


def test_cli_writes_html_and_xlsx(disc: Path, short_profile: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["check", str(disc), "--standard", str(short_profile)]
    result = runner.invoke(main, [*common, "--format", "html", "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = runner.invoke(main, [*common, "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 1, result.output
    assert _workbook((tmp_path / "r.xlsx").read_bytes()).sheetnames[0] == "汇总"
    good = ["check", str(disc / GOOD), "--standard", str(short_profile)]
    result = runner.invoke(main, [*good, "--format", "html", "--out", str(tmp_path / "g.html")])
    assert result.exit_code == 0, result.output
    assert '<span class="badge big pass">' in (tmp_path / "g.html").read_text(encoding="utf-8")


def test_cli_xlsx_needs_out(disc: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(disc), "--format", "xlsx"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0]


def test_disc_level_findings_of_an_empty_disc(tmp_path: Path) -> None:
    report = run_audit(tmp_path)
    assert [f.code for f in report.findings] == ["LY01"]
    text = "".join(_parse(html.render(report)).parts)
    assert "光盘层面的问题" in text and "（光盘根目录）" in text and "LY01" in text
    assert "不通过" in text and report.findings[0].message("zh") in text
    rows = list(_workbook(xlsx.render(report))["问题清单"].iter_rows(values_only=True))
    assert (
        rows[1][0] == "（光盘根目录）" and rows[1][2] == "（光盘根目录）" and rows[1][4] == "LY01"
    )
    matrix = list(_workbook(xlsx.render(report))["每日情况"].iter_rows(values_only=True))
    assert len(matrix) == 1  # the header only: no class, no day
