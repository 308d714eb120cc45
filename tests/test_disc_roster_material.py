"""What institutions put beside the footage: rosters and photo folders are roster material, never
days; day folders named without a year take the year the disc itself gives (its clip names)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PREFIX
from tests.rosters import write_xls, write_xlsx
from video_audit.audit import AuditReport, run_audit
from video_audit.disc import DiscWalker
from video_audit.report import html, json_report, text
from video_audit.samples.discs import GOOD_PREFIX, _standard_day, _write_roster
from video_audit.samples.faces import roster_photo
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile

MAKE = Callable[..., Path]


@pytest.fixture
def walker() -> DiscWalker:
    return DiscWalker(load_profile())


def test_photo_folders_without_a_roster_are_roster_material(
    tmp_path: Path, make_day: MAKE, walker: DiscWalker
) -> None:
    cls = tmp_path / PREFIX
    make_day(cls / "5月24日", "5月24日")
    (cls / "照片").mkdir()
    (cls / "照片" / "王芳.jpg").write_bytes(roster_photo(0))
    (cls / "证件照片").mkdir()  # no usual name, but nothing in it except pictures
    (cls / "证件照片" / "140423199001011234.png").write_bytes(b"png")
    (cls / "证件照片" / "Thumbs.db").write_bytes(b"windows")
    disc = walker.walk(cls)
    (one,) = disc.classes
    assert [d.folder for d in one.days] == ["5月24日"]
    assert one.photo_dirs == ["照片", "证件照片"] and one.roster is None
    assert one.roster_material and disc.strays == []


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        (["学员名单.xlsx", "名册.csv"], "名册.csv"),
        (["2024年第1期电工班花名册.xls"], "2024年第1期电工班花名册.xls"),
        (["学员花名册.XLSX", "教师名单.xlsx"], "学员花名册.XLSX"),
    ],
)
def test_roster_files_under_their_usual_names(
    tmp_path: Path, make_day: MAKE, walker: DiscWalker, files: list[str], chosen: str
) -> None:
    cls = tmp_path / "电工班"
    make_day(cls / "5月24日", "5月24日")
    for name in files:
        write_xlsx(cls / name, ["姓名", "身份证号"], [("王芳", "140423199001011234")])
    # A roster beside one day folder is enough to tell a class folder from a disc root.
    assert walker.is_class_dir(cls)
    disc = walker.walk(tmp_path)
    (one,) = disc.classes
    assert one.roster == cls / chosen
    assert sorted(one.roster_files) == sorted(f"电工班/{n}" for n in files)
    assert disc.strays == []


def test_year_sources_in_order(tmp_path: Path, make_day: MAKE) -> None:
    make_day(tmp_path / "第一期电工班" / "5月24日", "5月24日")
    make_day(tmp_path / "第一期电工班" / "2023-05-25", "5月25日")
    profile = load_profile()
    (cls,) = DiscWalker(profile).walk(tmp_path).classes
    assert cls.names_years == {2024: 6}
    assert [(d.date, d.year_source) for d in cls.days] == [
        (dt.date(2023, 5, 25), "folder"),
        (dt.date(2024, 5, 24), "clip_names"),
    ]
    (cls,) = DiscWalker(profile, year=2022).walk(tmp_path).classes
    assert cls.days[1].date == dt.date(2022, 5, 24) and cls.days[1].year_source == "option"


@pytest.fixture(scope="module")
def renamed_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditReport]:
    """One day of the compliant sample class, its roster file left behind and its folder renamed
    `第一期面点班` by the institution: the photo folder stays, no name says the year."""
    out = tmp_path_factory.mktemp("renamed")
    sample = out / GOOD_PREFIX
    sample.mkdir()
    _write_roster(sample, [("140423199001011234", "王芳", "学员")])
    _standard_day(sample / "6月3日", GOOD_PREFIX, dt.date(2024, 6, 3), seed=0)
    cls = out / "第一期面点班"
    shutil.copytree(sample, cls)
    (cls / "名册.csv").unlink()
    return cls, run_audit(cls)


def test_renamed_compliant_class_is_dated_by_its_clip_names(
    renamed_class: tuple[Path, AuditReport],
) -> None:
    _, report = renamed_class
    codes = [f.code for f in report.findings]
    assert "QA07" not in codes and "NM05" not in codes
    assert [f.to_dict() for f in report.findings if f.severity == "error"] == []
    (day,) = json.loads(json_report.render(report))["classes"][0]["days"]
    assert (day["date"], day["year_source"]) == ("2024-06-03", "clip_names")
    # Where the year came from is said where an inspector reads it.
    said = "日期中的年份：2024 年（由视频文件名中的班级名称得出）"
    assert said in text.render(report, "zh") and said in html.render(report, "zh")
    assert "Year of the dates: 2024 (from the class name" in text.render(report, "en")


def test_photos_without_a_roster_give_one_warning_and_no_footage_errors(
    renamed_class: tuple[Path, AuditReport],
) -> None:
    _, report = renamed_class
    (pp07,) = [f for f in report.findings if f.code == "PP07"]
    assert pp07.path == "." and pp07.severity == "warning"
    message = pp07.to_dict("zh")["message"]
    assert "考勤未核对" in message and "照片" in message and "名册" in message
    assert not {"CT01", "CT02", "LY02", "LY03"} & {f.code for f in report.findings}
    assert report.attendance(report.disc.classes[0]) is None


def test_an_xls_roster_beside_the_renamed_class_brings_attendance_back(
    renamed_class: tuple[Path, AuditReport], tmp_path: Path
) -> None:
    cls, _ = renamed_class
    copy = tmp_path / cls.name
    shutil.copytree(cls, copy)
    # The photo is found by name in 照片/; the ID column holds text, as it should.
    write_xls(copy / "花名册.xls", ["姓名", "身份证号码"], [("王芳", "140423199001011234")])
    report = run_audit(copy, AuditSettings())
    assert "PP07" not in {f.code for f in report.findings}
    attendance = report.attendance(report.disc.classes[0])
    assert attendance is not None
    assert [p["name"] for p in attendance["roster"]] == ["王芳"]
