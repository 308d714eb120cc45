"""The attendance matrix in every format: present (machine), present (confirmed, by whom),
review, absent, no footage; XLSX states as data; HTML thumbnails embedded (or left out)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.cli import main
from video_audit.faces.matrix import attendance_matrix
from video_audit.report import html, text, xlsx
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.settings import AuditSettings

JPEG = b"\xff\xd8\xff\xe0 a face \xff\xd9"
BY = {"by": "王检查", "at": "2024-06-05T10:12:33+08:00", "kind": "confirm"}
STRANGER = {"by": "=王检查", "at": "2024-06-05T10:15:00+08:00", "kind": "stranger"}


def _attendance() -> dict[str, Any]:
    """王芳 (r2): present by the machine on day 1, confirmed by an inspector on day 2 (person
    p1); 李娜 (r3): in review on day 1 (p2), ruled out on day 2 (p3: 名册外人员); day 3 no
    footage. Masked IDs equal on purpose: names keep the rows apart."""
    face = {"thumbnail": "faces/a.jpg", "seen_in": ["6月3日/x.mp4"]}
    return {
        "engine": "embedded",
        "roster": [
            {"key": "r2", "id": "140***********1234", "name": "王芳", "role": "trainee"},
            {"key": "r3", "id": "140***********1234", "name": "李娜", "role": "trainee"},
        ],
        "days": [
            {
                "path": "6月3日",
                "date": "2024-06-03",
                "present": ["r2"],
                "matches": [{"key": "r2", "similarity": 0.81, "person": "p0", **face}],
                "absent": [],
                "review": [{"candidates": ["r3"], "reason": "distance", "person": "p2"}],
                "unknown": [],
            },
            {
                "path": "6月4日",
                "date": "2024-06-04",
                "present": ["r2"],
                "matches": [{"key": "r2", "similarity": 0.55, "person": "p1", **face}],
                "absent": ["r3"],
                "review": [],
                "unknown": [{"person": "p3", **face}],
            },
            {"path": "6月5日", "date": "2024-06-05", "footage": False},
        ],
        "people": [
            {"person": "p1", "days": ["6月4日"], "state": "present", "key": "r2",
             "candidates": ["r2"], "decided_by": BY, "faces": [{"day": "6月4日", **face}]},
            {"person": "p2", "days": ["6月3日"], "state": "review", "key": None,
             "candidates": ["r3"], "distances": [0.5], "photos": ["faces/b.jpg"],
             "reason": "distance", "decided_by": None, "faces": [{"day": "6月3日", **face}]},
            {"person": "p3", "days": ["6月4日"], "state": "unknown", "key": None,
             "candidates": ["r3"], "decided_by": STRANGER, "faces": [{"day": "6月4日", **face}]},
        ],
    }  # fmt: skip


def test_matrix_tells_machine_from_inspector_on_every_day() -> None:
    m = attendance_matrix(_attendance(), "zh")
    assert m is not None
    wang, li = m["rows"]
    assert [c["state"] for c in wang["cells"]] == ["present", "present", "no_footage"]
    assert [c["label"] for c in wang["cells"]] == ["到课", "到课（人工确认）", "无视频"]
    assert (
        wang["cells"][0]["basis"]
        == "机器判定：与名册照片的相似度 0.81（1 为完全相同），达到自动认定标准"
    )
    assert wang["cells"][1]["basis"] == "人工确认：王检查 2024-06-05 10:12"
    assert [c["state"] for c in li["cells"]] == ["review", "absent", "no_footage"]
    assert li["cells"][0]["basis"] == "与名册照片的差距超出自动判定范围"
    assert li["cells"][1]["basis"] == "名册外人员 · 人工确认：=王检查 2024-06-05 10:15"
    assert [d["person"] for d in m["decisions"]] == ["p1", "p3"]
    assert m["decisions"][0]["who"] == "王芳 140***********1234"
    en = attendance_matrix(_attendance(), "en")
    assert en is not None
    assert en["rows"][0]["cells"][1]["label"] == "present (confirmed)"
    assert en["rows"][0]["cells"][1]["decided"].startswith("confirmed by an inspector: 王检查")


def test_text_marks_confirmed_days_and_lists_the_decisions() -> None:
    lines = text._attendance_lines(_attendance(), "zh")
    legend = next(line for line in lines if "☑" in line and "✓" in line)
    assert "✓ 到课（机器判定）" in legend and "☑ 到课（人工确认）" in legend
    wang = next(line for line in lines if line.strip().startswith("王芳 140***********1234"))
    assert wang.split()[-3:] == ["✓", "☑", "—"]
    li = next(line for line in lines if line.strip().startswith("李娜 140***********1234"))
    assert li.split()[-3:] == ["?", "✗", "—"]
    assert any("人工核实结果：2" in line for line in lines)
    assert any("王芳 140***********1234 · 人工确认：王检查 2024-06-05 10:12" in s for s in lines)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    """A real audit of a one-clip class; its attendance is replaced per test."""
    cls = tmp_path_factory.mktemp("fmt") / PREFIX
    write_clip(cls / "6月3日" / f"{PREFIX}6月3日课间人脸识别视频1.mp4", ClipSpec(2, 2))
    return run_audit(cls, AuditSettings())


@pytest.fixture
def with_faces(report: AuditReport, monkeypatch: pytest.MonkeyPatch) -> AuditReport:
    data = report.to_dict("zh")
    data["classes"][0]["attendance"] = _attendance()
    monkeypatch.setattr(report, "to_dict", lambda lang="zh": data)
    images = {"faces/a.jpg": JPEG, "faces/b.jpg": JPEG + b"b"}
    monkeypatch.setitem(report.extras, "faces", {".": SimpleNamespace(images=images)})
    return report


def test_xlsx_holds_state_and_reason_as_data(with_faces: AuditReport) -> None:
    book = load_workbook(io.BytesIO(xlsx.render(with_faces, "zh")))
    sheet = book["出勤明细"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1:] == ("人员", "证件号（部分隐藏）", "角色", "日期", "状态",
                           "机器判定 / 人工确认", "依据")  # fmt: skip
    table = {(r[1], r[4]): r[5:] for r in rows[1:]}
    assert table[("王芳", "2024-06-03")] == (
        "到课",
        "机器判定",
        "机器判定：与名册照片的相似度 0.81（1 为完全相同），达到自动认定标准",
    )
    assert table[("王芳", "2024-06-04")] == (
        "到课（人工确认）",
        "人工确认",
        "人工确认：王检查 2024-06-05 10:12",
    )
    assert table[("王芳", "2024-06-05")] == ("无视频", None, None)
    assert table[("李娜", "2024-06-03")][0] == "待核实"
    assert table[("李娜", "2024-06-04")][0] == "缺勤"
    # The decider's login starts with "=": text, never a formula.
    basis = next(c for c in sheet["H"] if c.value and "=王检查" in str(c.value))
    assert basis.data_type == "s"
    assert all(r[2] == "140***********1234" and r[1] for r in rows[1:])  # name beside the ID
    assert sheet.auto_filter.ref == f"A1:H{len(rows)}"
    grid = {r[0]: r for r in book["出勤"].iter_rows(values_only=True) if r and r[0]}
    assert grid["王芳"][3:6] == ("到课", "到课（人工确认）", "无视频")  # state only; why: 出勤明细


def test_html_embeds_its_thumbnails_or_leaves_them_out(with_faces: AuditReport) -> None:
    page = html.render(with_faces, "zh")
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert "faces/" not in page
    assert "到课（人工确认）" in page and "人工确认：王检查 2024-06-05 10:12" in page
    assert "机器判定" in page and "无视频" in page and "待核实" in page
    bare = html.render(with_faces, "zh", faces=False)
    assert "<img" not in bare and "faces/" not in bare and "人工确认：王检查" in bare


def test_cli_no_faces(
    with_faces: AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_audit.cli as cli

    monkeypatch.setattr(cli, "run_audit", lambda *args, **kwargs: with_faces)
    runner = CliRunner()

    def check(out: Path, *args: str) -> None:
        out.parent.mkdir()
        got = runner.invoke(main, ["check", str(with_faces.root), "--out", str(out), *args])
        assert got.exit_code in (0, 1), got.output

    check(tmp_path / "a" / "r.html", "--format", "html")
    assert "data:image/jpeg;base64," in (tmp_path / "a" / "r.html").read_text("utf-8")
    assert not (tmp_path / "a" / "faces").exists()  # the HTML report is one file
    check(tmp_path / "b" / "r.html", "--format", "html", "--no-faces")
    assert "<img" not in (tmp_path / "b" / "r.html").read_text("utf-8")
    check(tmp_path / "c" / "r.json", "--format", "json")
    assert (tmp_path / "c" / "faces" / "a.jpg").read_bytes() == JPEG  # JSON names them
    check(tmp_path / "d" / "r.json", "--format", "json", "--no-faces")
    assert not (tmp_path / "d" / "faces").exists()
