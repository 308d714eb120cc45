"""The roster: CSV / XLSX / XLS, Chinese / English headers, photos, bad rows named, IDs masked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.rosters import write_xls, write_xlsx
from video_audit.faces.embedded import EmbeddedEngine
from video_audit.faces.roster import RosterError, enrol, mask_id, parse_roster, stranger_floor
from video_audit.faces.settings import face_settings
from video_audit.samples.faces import images_dir, roster_photo
from video_audit.standard import load_profile

ROWS = [
    ("140423199001011234", "王芳", "学员", "照片/王芳.jpg"),
    ("140423199203052345", "李娜", "学员", "照片/李娜.jpg"),
    ("140423198002115678", "陈静", "教师", "照片/陈静.jpg"),
]


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    fs = face_settings(load_profile().section("faces"))
    e = EmbeddedEngine(fs.thresholds("embedded"), detect_width=fs.detect_width)
    e.load()
    return e


def write_csv(
    path: Path, header: list[str], rows: Sequence[tuple[str, ...]], encoding: str
) -> Path:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def with_photos(folder: Path, people: dict[str, int]) -> None:
    (folder / "照片").mkdir(parents=True, exist_ok=True)
    for name, k in people.items():
        (folder / "照片" / f"{name}.jpg").write_bytes(roster_photo(k))


def test_utf8_with_chinese_headers(tmp_path: Path) -> None:
    roster = parse_roster(
        write_csv(tmp_path / "名册.csv", ["证件号", "姓名", "角色", "照片"], ROWS, "utf-8-sig")
    )
    assert [(e.name, e.role) for e in roster.entries] == [
        ("王芳", "trainee"),
        ("李娜", "trainee"),
        ("陈静", "teacher"),
    ]
    assert roster.entries[0].photos == [tmp_path / "照片" / "王芳.jpg"]
    assert [e.name for e in roster.trainees] == ["王芳", "李娜"]


def test_gbk_with_english_headers_and_columns_in_any_order(tmp_path: Path) -> None:
    rows = [(r[1], r[3], r[0], {"学员": "trainee", "教师": "teacher"}[r[2]]) for r in ROWS]
    path = write_csv(tmp_path / "roster.csv", ["Name", "photo", "ID", "role"], rows, "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK
    roster = parse_roster(path)
    assert [e.name for e in roster.entries] == ["王芳", "李娜", "陈静"]
    assert roster.entries[2].role == "teacher" and roster.entries[0].id == ROWS[0][0]


def test_several_photos_per_person(tmp_path: Path) -> None:
    rows = [
        ("140423199001011234", "王芳", "学员", "照片/a.jpg；照片/b.jpg"),
        ("140423199001011234", "王芳", "学员", "照片/c.jpg"),
    ]
    roster = parse_roster(
        write_csv(tmp_path / "名册.csv", ["学号", "姓名", "角色", "照片"], rows, "utf-8")
    )
    (only,) = roster.entries
    assert [p.name for p in only.photos] == ["a.jpg", "b.jpg", "c.jpg"]
    assert only.photo_rows == [2, 2, 3]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["序号", "姓名", "照片"], [("1", "王芳", "")], "header lacks id"),
        (["证件号", "姓名", "角色", "照片"], [("1404", "王芳", "厨师", "")], "row 2: unknown role"),
        (["证件号", "姓名", "角色", "照片"], [("", "王芳", "学员", "")], "row 2: needs an ID"),
        (
            ["证件号", "姓名", "角色", "照片"],
            [("1404231990", "王芳", "学员", ""), ("1404231990", "李娜", "学员", "")],
            r"row 3: ID 140\*\*\*1990 names two people",
        ),
    ],
)
def test_bad_rosters_name_the_row(
    tmp_path: Path, header: list[str], rows: Sequence[tuple[str, ...]], message: str
) -> None:
    path = write_csv(tmp_path / "名册.csv", header, rows, "utf-8")
    with pytest.raises(RosterError, match=message) as err:
        parse_roster(path)
    assert str(path) in str(err.value)


def test_unreadable_roster_files(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="cannot read"):
        parse_roster(tmp_path / "missing.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81\x00" * 10)
    with pytest.raises(RosterError, match="not UTF-8 or GBK"):
        parse_roster(tmp_path / "bin.csv")
    (tmp_path / "empty.csv").write_text("\n\n", encoding="utf-8")
    with pytest.raises(RosterError, match="empty roster"):
        parse_roster(tmp_path / "empty.csv")


def test_id_masking() -> None:
    assert mask_id("140423199001011234") == "140***********1234"
    assert mask_id("20240001") == "******01"
    assert mask_id("7") == "7"


def test_enrolment_names_each_bad_photo_row(tmp_path: Path, engine: EmbeddedEngine) -> None:
    with_photos(tmp_path, {"王芳": 0, "李娜": 1})
    (tmp_path / "照片" / "空白.jpg").write_bytes(
        cv2.imencode(".jpg", np.full((300, 300, 3), 128, np.uint8))[1].tobytes()
    )
    (tmp_path / "照片" / "坏.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "照片" / "合影.jpg").write_bytes((images_dir() / "t1.jpg").read_bytes())
    rows = [
        ("140423199001011234", "王芳", "学员", "照片/王芳.jpg"),
        ("140423199203052345", "李娜", "学员", "照片/李娜.jpg"),
        ("140423198807153456", "张伟", "学员", "照片/空白.jpg"),
        ("140423199512254567", "刘洋", "学员", "照片/坏.jpg"),
        ("140423198002115678", "陈静", "教师", "照片/合影.jpg"),
        ("140423197906306789", "赵磊", "管理人员", "照片/没有.jpg"),
        ("140423197906300000", "孙丽", "学员", ""),
    ]
    roster = parse_roster(
        write_csv(tmp_path / "名册.csv", ["证件号", "姓名", "角色", "照片"], rows, "utf-8")
    )
    problems = enrol(roster, engine, tmp_path / "cache")
    assert len(problems) == 5
    text = "\n".join(problems)
    assert "row 4: photo 空白.jpg: no face found" in text
    assert "row 5: photo 坏.jpg: not an image" in text
    assert "row 6: photo 合影.jpg: 6 faces (one person per photo)" in text
    assert "row 7: photo 没有.jpg: missing or unreadable" in text
    assert "row 8: 孙丽 has no photo" in text
    assert [len(e.embeddings) for e in roster.entries] == [1, 1, 0, 0, 0, 0, 0]


def test_enrolment_is_cached_by_photo_hash_and_engine(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    with_photos(tmp_path, {"王芳": 0, "李娜": 1, "陈静": 4})
    path = write_csv(tmp_path / "名册.csv", ["证件号", "姓名", "角色", "照片"], ROWS, "utf-8")
    roster = parse_roster(path)
    assert enrol(roster, engine, tmp_path / "cache") == []
    cached = sorted((tmp_path / "cache" / engine.cache_key).glob("*.npy"))
    assert len(cached) == 3
    # A cached vector is what enrolment uses next time (here: altered on purpose).
    first = roster.entries[0].embeddings[0]
    for f in cached:
        np.save(f, np.load(f) * 0 + 7.0)
    again = parse_roster(path)
    enrol(again, engine, tmp_path / "cache")
    assert np.all(again.entries[0].embeddings[0] == 7.0)
    assert not np.all(first == 7.0)
    # Strangers on a roster are well apart: the class's calibration floor.
    floor = stranger_floor(roster, engine)
    assert floor is not None and floor > engine.thresholds.review


# --- rosters as institutions keep them: Excel and WPS workbooks --------------------------------
XL_HEADER = ["序号", "姓名", "性别", "身份证号码", "联系电话"]
XL_ROWS = [
    (1, "王芳", "女", "140423199001011234", "13800000001"),
    (2, "李  娜", "女", "'140423199203052345 ", "13800000002"),
    (None, None, None, None, None),
    (3, "陈静", "女", "14042319800211567x", "13800000003"),
]


def test_xlsx_with_a_title_row_and_no_role_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "花名册.xlsx", XL_HEADER, XL_ROWS)
    roster = parse_roster(path)
    # No role column: everyone on a sheet not named for staff is a trainee.
    assert [(e.name, e.id, e.role, e.rows) for e in roster.entries] == [
        ("王芳", "140423199001011234", "trainee", [3]),
        ("李娜", "140423199203052345", "trainee", [4]),
        ("陈静", "14042319800211567X", "trainee", [6]),
    ]


def test_xlsx_errors_name_the_sheets_own_row(tmp_path: Path) -> None:
    rows = [*XL_ROWS, (4, "张伟", "男", None, None)]
    path = write_xlsx(tmp_path / "学员名单.xlsx", XL_HEADER, rows)
    with pytest.raises(RosterError, match=r"学员名单\.xlsx: row 7: needs an ID and a name"):
        parse_roster(path)


def test_xls_with_a_title_row_and_photos_named_by_id_or_name(tmp_path: Path) -> None:
    header = ["学号", "姓名", "类别", "备注"]
    rows: list[tuple[object, ...]] = [(20240001.0, "王芳", "学员", None)]
    rows += [(20240002, "李娜", "学员", None), (20240003, "陈静", "教师", "外聘")]
    path = write_xls(tmp_path / "花名册.xls", header, rows)
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # a real BIFF compound file
    (tmp_path / "照片").mkdir()
    (tmp_path / "照片" / "20240001.jpg").write_bytes(roster_photo(0))
    (tmp_path / "照片" / "李娜.JPG").write_bytes(roster_photo(1))
    roster = parse_roster(path)
    assert [(e.id, e.name, e.role, e.rows) for e in roster.entries] == [
        ("20240001", "王芳", "trainee", [3]),
        ("20240002", "李娜", "trainee", [4]),
        ("20240003", "陈静", "teacher", [5]),
    ]
    assert [[p.name for p in e.photos] for e in roster.entries] == [
        ["20240001.jpg"],
        ["李娜.JPG"],
        [],
    ]


def test_content_decides_the_format_not_the_extension(tmp_path: Path) -> None:
    xls = write_xls(tmp_path / "a.xls", ["证件号", "姓名"], [("140423199001011234", "王芳")])
    renamed = tmp_path / "名册.xlsx"
    renamed.write_bytes(xls.read_bytes())
    assert [e.name for e in parse_roster(renamed).entries] == ["王芳"]


@pytest.mark.parametrize("writer", ["xlsx", "xls", "csv"])
def test_ids_that_excel_stored_as_numbers_are_reported_not_mangled(
    tmp_path: Path, writer: str
) -> None:
    header = ["姓名", "身份证号"]
    rows: list[tuple[object, ...]] = [("王芳", "140423199001011234"), ("李娜", 140423199203052345)]
    if writer == "xlsx":
        path = write_xlsx(tmp_path / "花名册.xlsx", header, rows)
        row = 4
    elif writer == "xls":
        path = write_xls(tmp_path / "花名册.xls", header, rows)
        row = 4
    else:  # what Excel writes when such a sheet is saved as CSV
        scientific = [("王芳", "140423199001011234"), ("李娜", "1.40423E+17")]
        path = write_csv(tmp_path / "名册.csv", header, scientific, "gbk")
        row = 3
    with pytest.raises(RosterError, match=f"row {row}: ID .* stored as a number") as err:
        parse_roster(path)
    assert "文本" in str(err.value)


def test_pictures_placed_on_the_rows_are_the_photos(tmp_path: Path, engine: EmbeddedEngine) -> None:
    header = ["姓名", "身份证号", "照片"]
    rows = [("王芳", "140423199001011234", None), ("李娜", "140423199203052345", None)]
    pictures = {"C3": roster_photo(0), "C4": roster_photo(1)}
    path = write_xlsx(tmp_path / "学员花名册.xlsx", header, rows, pictures=pictures)
    roster = parse_roster(path)
    assert [[p.relative_to(path).as_posix() for p in e.photos] for e in roster.entries] == [
        ["xl/media/image1.jpeg"],
        ["xl/media/image2.jpeg"],
    ]
    assert enrol(roster, engine, None) == []
    assert [len(e.embeddings) for e in roster.entries] == [1, 1]
    floor = stranger_floor(roster, engine)
    assert floor is not None and floor > engine.thresholds.review


def test_teachers_on_their_own_sheet_and_photo_paths_from_the_institutions_computer(
    tmp_path: Path,
) -> None:
    with_photos(tmp_path, {"王芳": 0, "陈静": 4})
    path = write_xlsx(
        tmp_path / "花名册.xlsx",
        ["姓名", "身份证号", "照片"],
        [("王芳", "140423199001011234", "D:\\培训\\照片\\王芳.jpg")],
        sheets={"教师": (["姓名", "证件号码"], [("陈静", "140423198002115678")])},
    )
    roster = parse_roster(path)
    assert [(e.name, e.role, e.sheet) for e in roster.entries] == [
        ("王芳", "trainee", "学员"),
        ("陈静", "teacher", "教师"),
    ]
    assert roster.entries[0].photos == [tmp_path / "照片" / "王芳.jpg"]
    assert roster.entries[1].photos == [tmp_path / "照片" / "陈静.jpg"]  # found by name
    bad = write_xlsx(
        tmp_path / "b.xlsx",
        ["姓名", "身份证号"],
        [("王芳", "140423199001011234")],
        sheets={"教师": (["姓名", "证件号码", "角色"], [("陈静", "1404", "厨师")])},
    )
    with pytest.raises(RosterError, match=r"sheet '教师': row 2: unknown role"):
        parse_roster(bad)


def test_a_damaged_workbook_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "花名册.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(RosterError, match="cannot read the workbook"):
        parse_roster(tmp_path / "花名册.xlsx")
