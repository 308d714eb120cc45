"""The demo discs: the compliant class passes, the faulty one shows exactly its built-in faults."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from video_audit.audit import AuditReport, run_audit
from video_audit.report import text
from video_audit.samples.discs import SampleClass, write_samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleClass, SampleClass]:
    return write_samples(tmp_path_factory.mktemp("sample_videos"))


@pytest.fixture(scope="module")
def disc_report(samples: tuple[SampleClass, SampleClass]) -> AuditReport:
    """One audit of the whole sample disc (expected paths are relative to it)."""
    return run_audit(samples[1].path.parent)


def test_faulty_class_shows_every_fault_and_nothing_else(
    samples: tuple[SampleClass, SampleClass], disc_report: AuditReport
) -> None:
    good, bad = samples
    got = Counter((f.code, f.path) for f in disc_report.findings)
    assert got == Counter(bad.expected | good.expected)
    codes = {code for code, _ in bad.expected}
    assert codes >= {"LY02", "NM01", "NM03", "CT01", "FM01", "FM02", "FM03", "FM04"}
    report_text = text.render(disc_report)
    for code in codes:
        assert code in report_text
    # The terminal report carries the attendance matrix: the trainee missing on 5月21日 is ✗.
    assert "出勤情况" in report_text
    # zh: the engine's plain label (its own description is for English readers and the JSON).
    assert "识别引擎：内置引擎\n" in report_text and "待核实，不会判为到课" in report_text
    assert "built-in engine (embedded" in text.render(disc_report, "en")
    lines = report_text.splitlines()
    header = next(i for i, line in enumerate(lines) if "05-21" in line and "05-20" in line)
    column = lines[header].split().index("05-21")
    missing = next(line for line in lines[header:] if "刘洋" in line)
    assert missing.split()[3 + column] == "✗"
    assert missing.count("✗") == 1


def test_compliant_class_passes_alone(
    samples: tuple[SampleClass, SampleClass], disc_report: AuditReport
) -> None:
    good, _ = samples
    in_good = [f for f in disc_report.findings if f.path.startswith(good.path.name + "/")]
    assert [f.to_dict() for f in in_good if f.severity == "error"] == []
    cli = [sys.executable, "-m", "video_audit.cli", "check", str(good.path)]
    alone = subprocess.run(cli, capture_output=True, text=True)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "通过" in alone.stdout


def test_sample_command_writes_both_classes(samples: tuple[SampleClass, SampleClass]) -> None:
    good, bad = samples
    for cls in (good, bad):
        assert len(list(cls.path.rglob("*.mp4"))) >= 9
        rows = (cls.path / "名册.csv").read_text(encoding="utf-8").splitlines()[1:]
        assert rows and all((cls.path / row.split(",")[3]).is_file() for row in rows)


def test_reports_read_in_words_with_what_to_do(disc_report: AuditReport) -> None:
    """zh text, HTML and XLSX: no raw detail key, no English decoder message, a remedy for each
    rule found; the XLSX opens on 汇总 and names no file outside it; an undated day is headed by
    its folder's own name; the English text has no full-width colon."""
    import io
    import re

    from openpyxl import load_workbook

    from video_audit.findings import rule
    from video_audit.report import html, xlsx

    page = html.render(disc_report, "zh")
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S))
    book = load_workbook(io.BytesIO(xlsx.render(disc_report, "zh")))
    cells = " ".join(
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    )
    terminal = text.render(disc_report, "zh")
    for shown in (words, cells, terminal):
        for raw in ("stretches", "recorded_iso", "offset", "Invalid data", "embedded ("):
            assert raw not in shown, raw
        assert re.findall(r"\b[a-z]+_[a-z_]+\b", shown) == []
        for code in {f.code for f in disc_report.findings}:
            assert rule(code).remedy["zh"] in shown, code
    assert book.sheetnames[0] == "汇总" and ".jpg" not in cells
    assert not re.search(r"\s训班/第三天", terminal) and re.search(r"\s第三天\s", terminal)
    assert "：" not in text.render(disc_report, "en")
