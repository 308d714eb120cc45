"""Documents for the bureau: remedies in the catalogue, the 公示 period, the PDFs, HTML and XLSX."""

from __future__ import annotations

from video_audit.findings import catalogue


def test_every_rule_has_a_remedy_in_both_languages() -> None:
    for code, rule in catalogue().items():
        assert rule.remedy.get("zh", "").strip(), f"{code} has no Chinese remedy"
        assert rule.remedy.get("en", "").strip(), f"{code} has no English remedy"


# -- the documents, from plain dicts shaped as report.to_dict("zh") and a ledger dict --------

import datetime as dt  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from video_audit.documents import (  # noqa: E402
    CalendarError,
    DocumentError,
    build_document,
    render_document,
)
from video_audit.documents.calendar import load_calendar, publicity_period  # noqa: E402

PREFIX = "壶关县鑫达职业培训学校2024年第1期中式面点师培训班"
INSTITUTION = "壶关县鑫达职业培训学校"
MASKED = "140***********1234"
A4 = (595.3, 841.9)


def _report() -> dict[str, Any]:
    day = {"present": ["k1"], "absent": ["k2"], "review": [{"person": "p3"}]}
    return {
        "standard": {"id": "huguan-2024", "name": "壶关县2024年职业技能培训"},
        "path": "/discs/disc1",
        "finished": "2024-09-20T10:00:00+08:00",
        "summary": {"errors": 2, "warnings": 1, "infos": 0, "verdict": "fail"},
        "findings": [
            {
                "code": "NM04",
                "severity": "warning",
                "path": f"{PREFIX}/5月25日/b.mp4",
                "message": "名称需规范化",
                "title": "名称需规范化才符合",
            },
            {
                "code": "CT02",
                "severity": "error",
                "path": f"{PREFIX}/5月24日",
                "message": "缺少授课过程视频",
                "title": "缺少授课过程视频",
            },
            {
                "code": "QA05",
                "severity": "error",
                "path": f"{PREFIX}/5月25日/a.mp4",
                "message": "与5月24日视频1相同",
                "title": "同一段录像重复使用",
            },
            {
                "code": "LY01",
                "severity": "error",
                "path": "另一个班级",
                "message": "not this class",
                "title": "缺少班级或日文件夹",
            },
        ],
        "classes": [
            {
                "path": PREFIX,
                "folder": PREFIX,
                "prefix": PREFIX,
                "summary": {"errors": 2, "warnings": 1, "infos": 0, "verdict": "fail"},
                "attendance": {
                    "roster": [
                        {"key": "k1", "id": MASKED, "name": "张三", "role": "trainee"},
                        {
                            "key": "k2",
                            "id": "140***********5678",
                            "name": "李四",
                            "role": "trainee",
                        },
                    ],
                    "days": [day, {"present": ["k1", "k2"], "absent": [], "review": []}],
                },
            },
            {"path": "另一个班级", "folder": "另一个班级", "prefix": None},
        ],
    }


def _ledger() -> dict[str, Any]:
    return {
        "class": PREFIX,
        "rule": "full",
        "employment_rate": 0.85,
        "total": 1700,
        "hash": "ab" * 32,
        "standard": {"first_days": 10, "first_rate": 150, "later_rate": 100, "cap": 5000},
        "trainees": [
            {
                "key": "k1",
                "name": "张三",
                "id": MASKED,
                "verified_days": 12,
                "pending_days": 0,
                "amount": 1700,
                "days": [{"date": "2024-05-24", "state": "verified", "amount": 150}],
            },
            {
                "key": "k2",
                "name": '=HYPERLINK("http://x")',
                "id": "140***********5678",
                "verified_days": 0,
                "pending_days": 1,
                "amount": 0,
                "days": [{"date": "2024-05-24", "state": "=1+2", "amount": 0}],
            },
        ],
        "findings": [],
        "inputs": {},
    }


def test_publicity_period_before_national_day_runs_past_the_holiday() -> None:
    period = publicity_period(dt.date(2024, 9, 27))
    assert period.start == dt.date(2024, 9, 27)
    assert period.end == dt.date(2024, 10, 9)  # after 国庆 (10月1日–7日)
    assert len(period.working_days) == 5
    assert dt.date(2024, 9, 29) in period.working_days  # a Sunday worked (调休)
    assert not any(dt.date(2024, 10, 1) <= d <= dt.date(2024, 10, 7) for d in period.working_days)


def test_an_adjusted_saturday_counts_and_a_start_on_a_holiday_moves() -> None:
    period = publicity_period(dt.date(2024, 10, 9))
    assert dt.date(2024, 10, 12) in period.working_days  # Saturday worked (调休)
    assert period.end == dt.date(2024, 10, 14)
    assert publicity_period(dt.date(2024, 10, 3)).start == dt.date(2024, 10, 8)
    spring = publicity_period(dt.date(2025, 1, 27))  # 春节 2025: 1月28日–2月4日, 2月8日 worked
    assert spring.working_days[1:] == tuple(dt.date(2025, 2, d) for d in (5, 6, 7, 8))


def test_a_year_not_in_the_calendar_is_an_error_not_a_guess() -> None:
    assert 2024 in load_calendar().years
    with pytest.raises(CalendarError, match="2023"):
        publicity_period(dt.date(2023, 6, 1))
    last = max(load_calendar().years)
    with pytest.raises(CalendarError, match=str(last + 1)):
        publicity_period(dt.date(last, 12, 29), working_days=10)


def _pdf_pages(data: bytes, tmp_path: Path, name: str) -> list[tuple[str, int]]:
    """Each page: its text, and how many dark pixels its PNG rendering has (A4 checked)."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pages = []
    pdf = pdfium.PdfDocument(data)
    for n in range(len(pdf)):
        page = pdf[n]
        width, height = page.get_size()
        assert abs(width - A4[0]) < 1 and abs(height - A4[1]) < 1, (width, height)
        png = tmp_path / f"{name}-{n}.png"
        page.render(scale=1).to_pil().save(png)
        pixels = np.asarray(Image.open(png).convert("L"))
        text = page.get_textpage().get_text_range()
        pages.append((text, int((pixels < 128).sum())))
    pdf.close()
    # The CJK face travels in the file (a viewer or printer without Chinese fonts shows it).
    assert b"/FontFile" in data
    return pages


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("opinion", ("审核意见表", INSTITUTION, MASKED, "复核人", "补交当天的授课过程视频")),
        ("notice", ("整改通知", INSTITUTION, "补交当天的授课过程视频", "2024年10月31日")),
        ("publicity", ("公示", INSTITUTION, MASKED, "中式面点师培训班", "2024年10月9日")),
    ],
)
def test_pdf_pages_render_with_chinese_text_on_a4(
    kind: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    doc = build_document(
        kind,
        _report(),
        ledger=_ledger(),
        start=dt.date(2024, 9, 27),
        deadline=dt.date(2024, 10, 31),
        spot_checks=[{"time": "2024-09-20 10:00", "what": "5月24日 授课过程 00:12:30"}],
        evidence=[{"seq": 7, "time": "2024-09-20 10:05", "what": "截图 5月25日 视频1"}],
    )
    pages = _pdf_pages(render_document(doc, "pdf"), tmp_path, kind)
    assert pages[0][1] > 5000, "the first page rendered (nearly) blank"
    assert all(dark > 300 for _, dark in pages), "a page rendered blank"
    text = "".join(t for t, _ in pages).replace("\r", "").replace("\n", "")
    for word in words:
        assert word in text, f"{word} not on the {kind} PDF"
    if kind != "publicity":
        assert "not this class" not in text and "LY01" not in text  # another class's finding


def test_errors_come_first_and_other_classes_stay_out() -> None:
    doc = build_document("notice", _report(), class_path=PREFIX)
    table = next(b for b in doc.sections[0].blocks if not isinstance(b, str))
    assert [row[1].split("（")[1][:4] for row in table.rows] == ["CT02", "QA05", "NM04"]


def test_xlsx_has_no_formula_cells(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    doc = build_document("publicity", _report(), ledger=_ledger(), start=dt.date(2024, 9, 27))
    path = tmp_path / "公示.xlsx"
    path.write_bytes(render_document(doc, "xlsx", _ledger()))
    wb = load_workbook(path)
    assert wb.sheetnames == ["公示名单", "补贴台账", "台账明细"]
    values = []
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                values.append(cell.value)
    assert '=HYPERLINK("http://x")' in values and MASKED in values and 1700 in values


def test_html_is_printable_a4_and_escaped() -> None:
    doc = build_document("publicity", _report(), ledger=_ledger(), start=dt.date(2024, 9, 27))
    html = render_document(doc, "html").decode("utf-8")
    assert "size: A4" in html and INSTITUTION in html and MASKED in html
    assert "&quot;http://x&quot;" in html and '"http://x"' not in html


def test_publicity_needs_a_ledger_and_xlsx_is_for_publicity() -> None:
    with pytest.raises(DocumentError):
        build_document("publicity", _report(), class_path=PREFIX)
    doc = build_document("opinion", _report(), class_path=PREFIX)
    with pytest.raises(DocumentError):
        render_document(doc, "xlsx")


def test_cli_writes_documents_and_names_a_missing_year(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from video_audit.cli import main

    audit, ledger = tmp_path / "audit.json", tmp_path / "ledger.json"
    audit.write_text(json.dumps(_report(), ensure_ascii=False), encoding="utf-8")
    ledger.write_text(json.dumps(_ledger(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "公示.pdf"
    args = [
        "documents",
        str(audit),
        "--ledger",
        str(ledger),
        "--kind",
        "publicity",
        "--format",
        "pdf",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, [*args, "--start", "2024-09-27"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    result = CliRunner().invoke(main, [*args, "--start", "2023-06-01"])
    assert result.exit_code == 2 and "2023" in result.output
