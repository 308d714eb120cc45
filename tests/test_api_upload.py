"""Uploads through the API: folder picker and zip, real audits, downloads, hostile archives."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.runner import audit_class
from tests.web_fixtures import (
    INSTITUTION_A,
    PREFIX_A,
    bearer,
    folder_files,
    legacy_zip,
    service,
    upload_folder,
    upload_zip,
    wait_audit,
    write_small_class,
    zip_bytes,
    zip_folder,
)


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_class(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("svc") / "data"


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with service(data_dir, max_upload_bytes=2_000_000, max_upload_files=40) as c:
        yield c


def _visible(client: TestClient, headers: dict[str, str]) -> list[dict]:
    return client.get("/api/classes", headers=headers).json()


def _committed(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "classes").iterdir()}


def _refused(client: TestClient, data_dir: Path, res, words: str = "") -> None:
    """A refused upload: 400/413 with a clear message, staging emptied, nothing committed."""
    assert res.status_code in (400, 413), res.text
    assert words in res.json()["detail"]
    assert list((data_dir / "staging").iterdir()) == [], "staging must be emptied"


def test_folder_upload_keeps_paths_and_audits(
    client: TestClient, small_class: Path, data_dir: Path
):
    h = bearer(client, "inspector")
    res = upload_folder(client, small_class, h)
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["name"] == PREFIX_A
    assert body["institution"] == INSTITUTION_A  # read from the folder name
    assert body["files"] == len(folder_files(small_class))
    stored = data_dir / "classes"
    for rel, src in folder_files(small_class):
        copies = list(stored.glob(f"*/{rel}"))
        assert len(copies) == 1 and copies[0].read_bytes() == src.read_bytes()

    status = wait_audit(client, body["audit_id"], h)
    assert status["state"] == "done", status["error"]
    assert status["summary"]["verdict"] == "fail"  # 320×240 and 2-s lessons break FM02/FM03
    findings = client.get(f"/api/audits/{body['audit_id']}/findings", headers=h).json()
    codes = {f["code"] for f in findings}
    assert {"FM02", "FM03"} <= codes
    assert all(not f["path"].startswith("/") for f in findings)

    report = client.get(f"/api/audits/{body['audit_id']}/report.json", headers=h)
    assert report.status_code == 200
    data = report.json()
    assert data["summary"] == status["summary"]
    assert [d["folder"] for d in data["classes"][0]["days"]] == ["6月3日"]
    html = client.get(f"/api/audits/{body['audit_id']}/report.html", headers=h)
    assert html.status_code == 200 and "FM02" in html.text
    xlsx = client.get(f"/api/audits/{body['audit_id']}/report.xlsx", headers=h)
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames
    en = client.get(f"/api/audits/{body['audit_id']}/report.json?lang=en", headers=h).json()
    assert en["lang"] == "en"

    page = client.get(f"/classes/{body['id']}", headers=h)
    assert page.status_code == 200
    assert "每日情况" in page.text and "按规则" in page.text and "FM03" in page.text
    assert "6月3日" in page.text and "/play?clip=" in page.text


def test_zip_upload_with_one_top_folder(client: TestClient, small_class: Path):
    h = bearer(client, "inspector")
    res = upload_zip(client, zip_folder(small_class), h, name="whatever.zip")
    assert res.status_code == 201, res.text
    assert res.json()["name"] == PREFIX_A
    assert wait_audit(client, res.json()["audit_id"], h)["state"] == "done"


def test_zip_of_a_folders_contents_is_named_after_the_zip(client: TestClient, small_class: Path):
    h = bearer(client, "inspector")
    entries = [(rel.split("/", 1)[1], p.read_bytes()) for rel, p in folder_files(small_class)]
    res = upload_zip(client, zip_bytes(entries), h, name=f"{PREFIX_A}.zip")
    assert res.status_code == 201, res.text
    assert res.json()["name"] == PREFIX_A


@pytest.mark.parametrize("codec", ["gbk", "gb18030", "utf-8"])
def test_zip_from_chinese_windows_keeps_its_chinese_names(
    client: TestClient, small_class: Path, codec: str
):
    """Windows' built-in zip writes GBK names without the UTF-8 flag (others write UTF-8
    without it): the class, its institution and every clip name come through as written."""
    h = bearer(client, "inspector")
    entries = [(rel, p.read_bytes()) for rel, p in folder_files(small_class)]
    archive = legacy_zip(entries, codec)
    assert (
        "║".encode() not in archive
        and not zipfile.ZipFile(io.BytesIO(archive)).filelist[0].flag_bits & 0x800
    )
    res = upload_zip(client, archive, h, name="班级.zip")
    assert res.status_code == 201, res.text
    assert res.json()["name"] == PREFIX_A
    done = wait_audit(client, res.json()["audit_id"], h)
    assert done["state"] == "done"
    classes = {c["name"]: c for c in _visible(client, h)}
    assert classes[PREFIX_A]["institution"] == INSTITUTION_A


def _unix_entry(name: str, mode: int, data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("班级/6月3日/ok.txt", b"fine")
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        zf.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("archive", "words"),
    [
        (zip_bytes([("班级/a.txt", b"a"), ("../evil.txt", b"x")]), "“..”"),
        (zip_bytes([("班级/../../evil.txt", b"x")]), "“..”"),
        (zip_bytes([("/etc/evil.txt", b"x")]), "绝对路径"),
        (zip_bytes([("C:\\Windows\\evil.txt", b"x")]), "绝对路径"),
        (_unix_entry("班级/link.mp4", stat.S_IFLNK | 0o777, b"/etc/passwd"), "链接"),
        (_unix_entry("班级/dev", stat.S_IFCHR | 0o600), "设备"),
        (_unix_entry("班级/fifo", stat.S_IFIFO | 0o600), "设备"),
        (b"this is not a zip at all", "不是有效的 zip"),
        (zip_bytes([]), "没有文件"),
        (zip_bytes([(f"班级/{i}.txt", b"x") for i in range(41)]), "文件数超过"),
        (zip_bytes([("班级/big.bin", b"\0" * 2_100_000)]), "超过"),
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "absolute",
        "drive-letter",
        "symlink",
        "char-device",
        "fifo",
        "not-zip",
        "empty",
        "too-many-files",
        "too-large",
    ],
)
def test_hostile_zip_is_refused_and_leaves_nothing(
    client: TestClient, data_dir: Path, archive: bytes, words: str
):
    h = bearer(client, "inspector")
    before, listed = _committed(data_dir), {c["id"] for c in _visible(client, h)}
    _refused(client, data_dir, upload_zip(client, archive, h), words)
    assert _committed(data_dir) == before and {c["id"] for c in _visible(client, h)} == listed


def test_zip_whose_headers_lie_about_size_is_stopped_while_extracting(
    client: TestClient, data_dir: Path
):
    data = zip_bytes([("班级/a.bin", b"\0" * 1_500_000), ("班级/b.bin", b"\0" * 1_500_000)])
    # Lower the declared sizes in the central directory: extraction must still count bytes.
    patched = bytearray(data)
    cd = data.rfind(b"PK\x01\x02")
    while cd != -1:
        patched[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
        cd = data.rfind(b"PK\x01\x02", 0, cd)
    before = _committed(data_dir)
    _refused(client, data_dir, upload_zip(client, bytes(patched), bearer(client, "inspector")))
    assert _committed(data_dir) == before


@pytest.mark.parametrize(
    "bad_path",
    ["班级/../../etc/passwd", "/abs/clip.mp4", "班级/a\x01b.mp4", "..", "", "班级/6月3日/a.mp4/x"],
)
def test_hostile_folder_paths_are_refused(client: TestClient, data_dir: Path, bad_path: str):
    h = bearer(client, "inspector")
    before = _committed(data_dir)
    files = [("files", ("a.mp4", b"ok", "video/mp4")), ("files", ("b.mp4", b"no", "video/mp4"))]
    res = client.post(
        "/api/classes", files=files, data={"paths": ["班级/6月3日/a.mp4", bad_path]}, headers=h
    )
    _refused(client, data_dir, res)
    assert _committed(data_dir) == before


def test_too_many_files_from_a_folder_picker_are_refused(client: TestClient, data_dir: Path):
    before = _committed(data_dir)
    files = [("files", (f"{i}.txt", b"x", "text/plain")) for i in range(45)]
    paths = {"paths": [f"班级/{i}.txt" for i in range(45)]}
    res = client.post("/api/classes", files=files, data=paths, headers=bearer(client, "inspector"))
    _refused(client, data_dir, res, "最多 40 个文件")
    assert _committed(data_dir) == before


def test_upload_over_the_limit_mid_way_leaves_nothing_half_visible(
    client: TestClient, data_dir: Path
):
    h = bearer(client, "inspector")
    before = _committed(data_dir)
    files = [
        ("files", ("a.bin", b"\0" * 1_000_000, "application/octet-stream")),
        ("files", ("b.bin", b"\0" * 999_000, "application/octet-stream")),
        ("files", ("c.bin", b"\0" * 10_000, "application/octet-stream")),
    ]
    res = client.post(
        "/api/classes",
        files=files,
        data={"paths": ["班级/a.bin", "班级/b.bin", "班级/c.bin"]},
        headers=h,
    )
    _refused(client, data_dir, res, "超过")
    assert _committed(data_dir) == before
    # Requests announcing more than the limit are refused before the body is read.
    big = client.post(
        "/api/classes",
        content=b"x" * 10,
        headers={**h, "Content-Length": "999999999", "Content-Type": "multipart/form-data"},
    )
    assert big.status_code == 413


def test_a_stale_staging_folder_is_cleared_at_start(tmp_path: Path):
    stale = tmp_path / "data" / "staging" / "dead" / "班级"
    stale.mkdir(parents=True)
    (stale / "half.mp4").write_bytes(b"\0" * 10)
    with service(tmp_path / "data") as client:
        assert list((tmp_path / "data" / "staging").iterdir()) == []
        assert _visible(client, bearer(client, "inspector")) == []


def _die(class_path: str, out_dir: str, footage_db: str | None = None) -> dict:
    """An audit job whose worker process dies, as one killed for memory would."""
    import os

    os._exit(9)


def test_a_dead_audit_worker_fails_its_audit_and_the_next_one_runs(
    client: TestClient, data_dir: Path
) -> None:
    h = bearer(client, "inspector")
    service_ = client.app.state.service  # type: ignore[attr-defined]
    first = _visible(client, h)[-1]
    for listed in _visible(client, h):  # let the audits of earlier uploads finish
        wait_audit(client, listed["audit"]["id"], h)
    service_.runner.job = _die
    try:
        started = client.post(f"/api/classes/{first['id']}/audits", headers=h)
        assert started.status_code == 202
        failed = wait_audit(client, started.json()["id"], h)
    finally:
        service_.runner.job = audit_class
    assert failed["state"] == "failed" and "审核进程意外退出" in failed["error"]
    # The next audit of the class runs in a fresh pool; its reports are stored beside the first.
    again = client.post(f"/api/classes/{first['id']}/audits", headers=h).json()
    done = wait_audit(client, again["id"], h)
    assert done["state"] == "done" and done["id"] != first["audit"]["id"]
    stored = data_dir / "reports" / str(done["id"]) / "report-zh.json"
    assert json.loads(stored.read_text("utf-8"))["summary"] == done["summary"]
    listed = next(c for c in _visible(client, h) if c["id"] == first["id"])
    assert listed["audit"]["id"] == done["id"]


def test_an_audit_cut_short_by_a_stop_runs_again_at_start(small_class: Path, tmp_path: Path):
    data = tmp_path / "data"
    with service(data) as first:
        h = bearer(first, "inspector")
        up = upload_folder(first, small_class, h).json()
        assert first.get(f"/api/audits/{up['audit_id']}", headers=h).json()["state"] in (
            "queued",
            "running",
        )
    # Stopped mid-audit (the worker was ended); the next start runs it again.
    with service(data) as second:
        h = bearer(second, "inspector")
        assert wait_audit(second, up["audit_id"], h)["state"] == "done"
        assert second.get(f"/classes/{up['id']}", headers=h).status_code == 200
