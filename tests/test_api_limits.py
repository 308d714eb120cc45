"""An institution's abuse, bounded: zip bombs, folders past the file limit, quotas, the same
content twice, a disk under its reserve (uploads, /health, a full database at login), audits
past their time limit, and many audit requests for one class."""

from __future__ import annotations

import io
import os
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.runner import audit_class
from api.uploads import Limits, UploadRefused, Uploads
from tests.web_fixtures import (
    PASSWORD,
    bearer,
    service,
    upload_zip,
    wait_audit,
    zip_bytes,
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limits") / "data"


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with service(
        data_dir, max_upload_bytes=2_000_000, max_upload_files=40, institution_quota_bytes=300_000
    ) as c:
        yield c


def _class_zip(tag: str, size: int = 100_000, top: str = "班级") -> bytes:
    roster = "证件号,姓名\n".encode()
    return zip_bytes([(f"{top}/6月3日/{tag}.mp4", os.urandom(size)), (f"{top}/名册.csv", roster)])


def _nothing_staged(data_dir: Path) -> None:
    assert list((data_dir / "staging").iterdir()) == []


def test_a_zip_bomb_is_refused_before_it_is_written(client: TestClient, data_dir: Path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("班级/6月3日/a.mp4", bytes(1_900_000))  # under the size limit, ~1000:1
    assert len(buf.getvalue()) < 10_000
    res = upload_zip(client, buf.getvalue(), bearer(client, "inst_a"))
    assert res.status_code == 400 and "zip 炸弹" in res.json()["detail"], res.text
    assert "a.mp4" in res.json()["detail"]
    _nothing_staged(data_dir)


def test_folders_count_toward_the_file_limit(client: TestClient, data_dir: Path):
    h = bearer(client, "inspector")
    folders = zip_bytes([(f"班级/{i}/", b"") for i in range(45)] + [("班级/a.mp4", b"x")])
    res = upload_zip(client, folders, h)
    assert res.status_code == 400 and "文件数超过 40" in res.json()["detail"], res.text
    # A folder picker's paths imply folders: 20 files, each in its own folder, are 41 entries.
    files = [("files", (f"{i}.mp4", b"x", "video/mp4")) for i in range(20)]
    paths = {"paths": [f"班级/{i}/{i}.mp4" for i in range(20)]}
    res = client.post("/api/classes", files=files, data=paths, headers=h)
    assert res.status_code == 400 and "文件数超过 40" in res.json()["detail"], res.text
    _nothing_staged(data_dir)


def test_the_same_content_twice_is_refused_naming_the_earlier_class(
    client: TestClient, data_dir: Path
):
    h = bearer(client, "inst_a")
    archive = _class_zip("same", 20_000)
    first = upload_zip(client, archive, h, name="一.zip")
    assert first.status_code == 201, first.text
    before = {p.name for p in (data_dir / "classes").iterdir()}
    # The same files again, in a zip of another name and layout (the folder's contents only).
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        again = zip_bytes([(i.filename.split("/", 1)[1], zf.read(i)) for i in zf.infolist()])
    for data in (archive, again):
        res = upload_zip(client, data, h, name="二.zip")
        assert res.status_code == 409, res.text
        assert f"编号 {first.json()['id']}" in res.json()["detail"]
        assert res.headers["location"] == f"/classes/{first.json()['id']}"
    assert {p.name for p in (data_dir / "classes").iterdir()} == before
    _nothing_staged(data_dir)
    # Another institution's own copy, or an inspector's, is not the same institution's upload.
    assert upload_zip(client, archive, bearer(client, "inst_b")).status_code == 201
    assert upload_zip(client, archive, bearer(client, "inspector")).status_code == 201


def test_an_institution_past_its_quota_is_refused_with_used_and_limit(
    client: TestClient, data_dir: Path
):
    h = bearer(client, "inst_b")
    used = sum(c["bytes"] for c in client.get("/api/classes", headers=h).json())
    while used + 100_000 <= 300_000:
        res = upload_zip(client, _class_zip(f"q{used}"), h)
        assert res.status_code == 201, res.text
        used += res.json()["bytes"]
    refused = upload_zip(client, _class_zip("over"), h)
    assert refused.status_code == 413, refused.text
    detail = refused.json()["detail"]
    assert "配额" in detail and "已用" in detail and "上限" in detail and str(used) in detail
    _nothing_staged(data_dir)
    # Inspectors are not held to an institution's quota.
    assert upload_zip(client, _class_zip("staff"), bearer(client, "inspector")).status_code == 201


def _sleep_job(class_path: str, out_dir: str, footage_db: str | None = None) -> dict[str, Any]:
    """An audit that takes long: records its process id, then sleeps."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "pid").write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("SLEEP_JOB_SECONDS", "60")))
    return {"error": "slept"}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def test_requests_for_one_class_join_its_audit_and_a_timeout_kills_it(tmp_path: Path):
    with service(tmp_path / "data", audit_timeout_seconds=3) as client:
        h = bearer(client, "inspector")
        runner = client.app.state.service.runner  # type: ignore[attr-defined]
        runner.job = _sleep_job
        try:
            up = upload_zip(client, _class_zip("t"), h).json()
            asked = [client.post(f"/api/classes/{up['id']}/audits", headers=h) for _ in range(20)]
            assert {r.status_code for r in asked} == {202}
            assert {r.json()["id"] for r in asked} == {up["audit_id"]}
            started = time.monotonic()
            failed = wait_audit(client, up["audit_id"], h, limit=20)
        finally:
            runner.job = audit_class
        assert time.monotonic() - started < 10
        assert failed["state"] == "failed" and "超过 3 秒的时限" in failed["error"]
        pid = int((tmp_path / "data" / "reports" / str(up["audit_id"]) / "pid").read_text())
        assert not _alive(pid), "the timed-out worker must be killed"
        # The queue goes on: the next request is a new audit, and it runs.
        again = client.post(f"/api/classes/{up['id']}/audits", headers=h).json()
        assert again["id"] != up["audit_id"]
        assert wait_audit(client, again["id"], h)["state"] == "done"


def test_a_disk_under_its_reserve_refuses_uploads_and_health_says_so(tmp_path: Path):
    with service(tmp_path / "data", disk_reserve_bytes=1 << 62) as client:
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded" and body["disk"]["status"] == "low"
        assert 0 < body["disk"]["free_bytes"] < body["disk"]["reserve_bytes"]
        res = upload_zip(client, _class_zip("d"), bearer(client, "inst_a"))
        assert res.status_code == 507 and "磁盘空间不足" in res.json()["detail"]
    with service(tmp_path / "ok") as client:
        assert client.get("/health").json()["status"] == "ok"


def test_the_reserve_is_held_while_writing(tmp_path: Path):
    """Free space is measured again as each MiB is written (other uploads write too): an upload
    that would take the disk under the reserve stops there and leaves nothing."""

    class Disk(Uploads):
        """A disk with 30 MB above the reserve, which the upload's own files (really written
        to staging, and measured there) use up: the shared test machine's free space moves
        by more than that as other work writes and deletes, so it cannot be the measure."""

        def free_bytes(self) -> int:
            used = sum(p.stat().st_size for p in self.staging.rglob("*") if p.is_file())
            return reserve + 30_000_000 - used

    reserve = 5 * 1024**3
    uploads = Disk(tmp_path, Limits(200_000_000, 100, disk_reserve=reserve))
    files = [(f"班级/6月3日/{n}.mp4", io.BytesIO(os.urandom(10_000_000))) for n in range(6)]
    with pytest.raises(UploadRefused) as refused:
        uploads.stage_files(iter(files), "upload")
    assert refused.value.status == 507 and "磁盘空间不足" in str(refused.value)
    assert list((tmp_path / "staging").iterdir()) == []


def test_a_full_database_answers_503_at_login_not_500(tmp_path: Path):
    with service(tmp_path / "data") as client:
        store = client.app.state.service.store  # type: ignore[attr-defined]
        pages = store.read_one("PRAGMA page_count")[0]
        store.after_write(lambda: store._write_conn.execute(f"PRAGMA max_page_count = {pages}"))
        try:
            for n in range(10_000):  # live sessions fill the pages the file has: then it is full
                store.write(
                    lambda c, n=n: c.execute(
                        "INSERT INTO sessions VALUES (?, 1, 'api', 'x', 'now', '9999')",
                        (f"{n:0200d}",),
                    )
                )
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc) + str(exc.__context__)
        else:
            raise AssertionError("the database never filled")
        token = client.post("/api/token", json={"name": "inst_a", "password": PASSWORD})
        assert token.status_code == 503, token.text
        assert "磁盘已满" in token.json()["detail"] and token.headers["retry-after"]
        page = client.get("/login")
        csrf = page.cookies.get("va_login_csrf") or client.cookies.get("va_login_csrf")
        login = client.post(
            "/login",
            data={"name": "inst_a", "password": PASSWORD, "csrf_token": csrf or ""},
            follow_redirects=False,
        )
        assert login.status_code == 503 and "磁盘已满" in login.text
        assert client.get("/health").status_code == 200
        store.after_write(lambda: store._write_conn.execute("PRAGMA max_page_count = 1073741823"))
        assert client.get("/api/classes", headers=bearer(client, "inspector")).status_code == 200
