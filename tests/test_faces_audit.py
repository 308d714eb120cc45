"""PP01–PP06 and the attendance JSON on generated classes: real faces composited into clips."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.faces.images import write_face_images
from video_audit.samples.discs import PEOPLE, ClipSpec, write_clip
from video_audit.samples.faces import UNKNOWN, FaceShot, roster_photo
from video_audit.settings import AuditSettings

EVERYONE = (0, 1, 2, 3, 4, 5)


def write_roster(cls: Path, people: list[tuple[str, str, str, int]]) -> Path:
    (cls / "照片").mkdir(parents=True, exist_ok=True)
    with (cls / "名册.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["证件号", "姓名", "角色", "照片"])
        for pid, name, role, portrait in people:
            (cls / "照片" / f"{name}.jpg").write_bytes(roster_photo(portrait))
            out.writerow([pid, name, role, f"照片/{name}.jpg"])
    return cls / "名册.csv"


def write_day(cls: Path, date: str, roll1: FaceShot, roll2: FaceShot, lesson: FaceShot) -> str:
    day = cls / date
    write_clip(day / f"{PREFIX}{date}课间人脸识别视频1.mp4", ClipSpec(6, 5, faces=roll1))
    write_clip(day / f"{PREFIX}{date}课间人脸识别视频2.mp4", ClipSpec(6, 5, faces=roll2))
    write_clip(day / f"{PREFIX}{date}授课过程.mp4", ClipSpec(4, 2, faces=lesson))
    return f"{date}/{PREFIX}{date}"


@pytest.fixture(autouse=True, scope="module")
def enrolment_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Enrolment embeddings cached in a temporary folder, not the user's ~/.cache."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        yield cache


@pytest.fixture(scope="module")
def audited(
    tmp_path_factory: pytest.TempPathFactory, short_profile: Path, enrolment_cache: Path
) -> AuditReport:
    """Day 6月3日 as it should be; day 6月4日 with every PP fault (see expected below)."""
    cls = tmp_path_factory.mktemp("faces") / PREFIX
    write_roster(cls, [(*p, k) for k, p in enumerate(PEOPLE)])
    write_day(
        cls,
        "6月3日",
        FaceShot("roll", EVERYONE, seed=1),
        FaceShot("roll", EVERYONE[::-1], seed=2),
        FaceShot("lesson", (0, 1, 2, 3), seed=3),
    )
    write_day(
        cls,
        "6月4日",
        FaceShot("roll", (0, 1, UNKNOWN, 2, 4), seed=4),  # no 刘洋, no manager, a stranger
        FaceShot("roll", EVERYONE, seed=5, blur=5.0, face_share=0.05),  # unidentifiable
        FaceShot("lesson", (0, 1, 2), seed=6),
    )
    report = run_audit(cls, AuditSettings(standard=short_profile, engine="embedded"))
    cached = enrolment_cache / "video-audit" / "enrolment" / "embedded-mtcnn"  # the default
    assert len(list(cached.glob("*.npy"))) == 6
    return report


def test_pp_findings_are_exactly_the_built_faults(audited: AuditReport) -> None:
    got = {(f.code, f.path) for f in audited.findings if f.code.startswith("PP")}
    assert got == {
        ("PP01", f"6月4日/{PREFIX}6月4日课间人脸识别视频2.mp4"),
        ("PP02", "6月4日"),
        ("PP03", "6月4日"),
        ("PP04", "6月4日"),
        ("PP05", f"6月4日/{PREFIX}6月4日授课过程.mp4"),
    }
    by_code = {f.code: f for f in audited.findings if f.code.startswith("PP")}
    assert by_code["PP02"].details == {"id": "140***********4567", "name": "刘洋"}
    assert by_code["PP04"].variant == "manager"
    assert by_code["PP05"].details == {"count": 3, "expected": 4}
    assert (
        "刘洋" in by_code["PP02"].message("zh")
        and "140***********4567" in by_code["PP02"].message()
    )


def test_attendance_json_contract(audited: AuditReport) -> None:
    (cls,) = audited.to_dict("zh")["classes"]
    att = cls["attendance"]
    assert att["engine"].startswith("embedded") and att["engine_name"] == "embedded"
    day1, day2 = att["days"]
    masked = [f"{p[0][:3]}***********{p[0][-4:]}" for p in PEOPLE]
    keys = [f"r{row}" for row in range(2, 2 + len(PEOPLE))]  # the roster's rows
    assert [(r["key"], r["id"], r["name"]) for r in att["roster"]] == [
        (k, m, p[1]) for k, m, p in zip(keys, masked, PEOPLE, strict=True)
    ]
    assert (day1["path"], day1["date"]) == ("6月3日", "2024-06-03")
    assert sorted(day1["present"]) == sorted(keys)
    assert day1["absent"] == [] and day1["review"] == [] and day1["unknown"] == []
    assert sorted(day2["present"]) == sorted(keys[i] for i in (0, 1, 2, 4))
    assert day2["absent"] == [keys[3]]
    # One person of the class per person seen: the four seen on both days once, with both days.
    people = {p["key"]: p for p in att["people"] if p["state"] == "present"}
    assert sorted(people) == sorted(keys)
    assert people[keys[0]]["days"] == ["6月3日", "6月4日"] and people[keys[3]]["days"] == ["6月3日"]
    assert all(p["decided_by"] is None for p in att["people"])
    (stranger_person,) = [p for p in att["people"] if p["state"] == "unknown"]
    assert stranger_person["days"] == ["6月4日"] and stranger_person["key"] is None
    (stranger,) = day2["unknown"]
    assert stranger["thumbnail"].startswith("faces/") and stranger["seen_in"] == [
        f"6月4日/{PREFIX}6月4日课间人脸识别视频1.mp4"
    ]
    for match in day1["matches"]:
        assert 0 < match["similarity"] <= 1 and match["thumbnail"].startswith("faces/")
    # No full ID number anywhere in the report.
    assert not any(p[0] in str(audited.to_dict("zh")) for p in PEOPLE)


def test_thumbnails_are_written_beside_the_report(audited: AuditReport, tmp_path: Path) -> None:
    assert write_face_images(audited.extras, tmp_path) > 0
    att = audited.to_dict("en")["classes"][0]["attendance"]
    for case in att["days"][1]["unknown"] + att["days"][0]["matches"]:
        data = (tmp_path / case["thumbnail"]).read_bytes()
        assert data[:2] == b"\xff\xd8"  # a JPEG
    assert write_face_images(audited.extras, tmp_path) == 0  # content-named: kept, not rewritten


def test_look_alike_roster_entries_go_to_review_not_present(
    tmp_path: Path, short_profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = tmp_path / PREFIX
    # Two roster rows with photos of the same face (a data error, or twins): nobody can tell.
    write_roster(cls, [(*PEOPLE[0], 0), (*PEOPLE[1], 0), (*PEOPLE[2], 2)])
    day = cls / "6月3日"
    write_clip(
        day / f"{PREFIX}6月3日课间人脸识别视频1.mp4",
        ClipSpec(4, 5, faces=FaceShot("roll", (0, 2), seed=7)),
    )
    report = run_audit(cls, AuditSettings(standard=short_profile, engine="embedded"))
    (d,) = report.to_dict("zh")["classes"][0]["attendance"]["days"]
    twins = {"r2", "r3"}
    assert not twins & set(d["present"]) and not twins & set(d["absent"])
    assert any(set(r["candidates"]) >= twins for r in d["review"])
    review = next(r for r in d["review"] if set(r["candidates"]) >= twins)
    assert review["photos"][0].startswith("faces/") and review["distance"] is not None
    assert not any(f.code == "PP02" and "王芳" in f.message() for f in report.findings)
    # Every report format describes the attendance again: roster photos are read only once.
    from video_audit.faces import attendance

    def no_second_read(path: Path) -> None:
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(attendance, "read_photo", no_second_read)
    assert report.to_dict("zh")["classes"][0]["attendance"]["days"] == [d]


def test_without_a_roster_faces_are_not_analysed(tmp_path: Path, short_profile: Path) -> None:
    cls = tmp_path / PREFIX
    write_clip(cls / "6月3日" / f"{PREFIX}6月3日课间人脸识别视频1.mp4", ClipSpec(2, 2))
    report = run_audit(cls, AuditSettings(standard=short_profile))
    assert report.to_dict()["classes"][0]["attendance"] is None
    assert not [f for f in report.findings if f.code.startswith("PP")]


def test_unusable_roster_is_pp06_naming_the_row(tmp_path: Path, short_profile: Path) -> None:
    cls = tmp_path / PREFIX
    write_clip(cls / "6月3日" / f"{PREFIX}6月3日课间人脸识别视频1.mp4", ClipSpec(2, 2))
    cls.joinpath("名册.csv").write_text("证件号,姓名,角色\n1404,王芳,厨师\n", encoding="utf-8")
    report = run_audit(cls, AuditSettings(standard=short_profile))
    (pp06,) = [f for f in report.findings if f.code == "PP06"]
    assert pp06.path == "名册.csv" and "row 2" in pp06.message("en")
    assert report.to_dict()["classes"][0]["attendance"]["error"].endswith("(学员/教师/管理人员)")
    assert report.exit_code == 1

    # --roster given elsewhere: used instead, a photo problem names its row.
    other = tmp_path / "elsewhere"
    write_roster(other, [(*PEOPLE[0], 0)])
    (other / "照片" / "王芳.jpg").write_bytes(b"broken")
    report = run_audit(
        cls, AuditSettings(standard=short_profile, roster=other / "名册.csv", engine="embedded")
    )
    (pp06,) = [f for f in report.findings if f.code == "PP06"]
    assert pp06.variant == "photo" and "第 2 行：照片 王芳.jpg：不是图片" in pp06.message()
    assert "row 2: photo 王芳.jpg: not an image" in pp06.message("en")


def test_html_and_xlsx_show_the_attendance_matrix(audited: AuditReport, tmp_path: Path) -> None:
    import base64

    from openpyxl import load_workbook

    from video_audit.faces.images import face_images
    from video_audit.report import html, xlsx

    page = html.render(audited, "zh")
    att = audited.to_dict("zh")["classes"][0]["attendance"]
    images = face_images(audited.extras)
    for match in att["days"][0]["matches"]:  # embedded: the page is one file
        embedded = base64.b64encode(images[match["thumbnail"]]).decode("ascii")
        assert f'<img src="data:image/jpeg;base64,{embedded}"' in page
        assert match["thumbnail"] not in page
    assert "名册外人员（视频中出现" in page and "缺勤" in page
    assert "140423199512254567" not in page  # IDs masked
    (tmp_path / "r.xlsx").write_bytes(xlsx.render(audited, "en"))
    sheet = load_workbook(tmp_path / "r.xlsx")["Attendance"]
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert rows["刘洋"][3].startswith("present") and rows["刘洋"][4] == "absent"
    assert rows["赵磊"][4] == "not seen"  # the manager, missing on day 2
