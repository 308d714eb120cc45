"""Evidence: exact frames (pixel for pixel), range playback, spot-checks, tamper detection, CLI."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.web_fixtures import PREFIX_A, bearer, service, upload_folder, wait_audit
from video_audit.cli import main
from video_audit.evidence import EvidenceLog
from video_audit.media.grab import parse_time, time_code
from video_audit.samples.discs import CHINA, ClipSpec, write_clip
from video_audit.store import Store

LESSON = f"6月3日/{PREFIX_A}6月3日授课过程.mp4"


def decoded_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """Every frame of a clip, decoded from the start: the reference a capture must match."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        assert base is not None
        return [
            (float((f.pts or 0) * base), f.to_ndarray(format="rgb24"))
            for f in container.decode(stream)
        ]


def frame_at(frames: list[tuple[float, np.ndarray]], at: float) -> np.ndarray:
    return [image for t, image in frames if t <= at + 1e-6][-1]


@pytest.fixture(scope="module", autouse=True)
def evidence_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The evidence key of this module's captures, outside every workspace and the user's home."""
    key = tmp_path_factory.mktemp("keys") / "evidence.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_AUDIT_EVIDENCE_KEY_FILE", str(key))
        yield key


@pytest.fixture(scope="module")
def lesson_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class whose lesson clip is 12 s at 4 fps: keyframes every 10 s, so seeks matter."""
    cls = tmp_path_factory.mktemp("src") / PREFIX_A
    start = dt.datetime(2024, 6, 3, 10, 0, tzinfo=CHINA)
    write_clip(cls / LESSON, ClipSpec(12, 4, 320, 240, start=start, seed=7))
    return cls


@pytest.fixture(scope="module")
def running(lesson_class: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("svc") / "data"
    with service(data) as client:
        h = bearer(client, "inspector")
        up = upload_folder(client, lesson_class, h).json()
        assert wait_audit(client, up["audit_id"], h)["state"] == "done"
        yield client, up["id"], data


def test_capture_is_the_exact_frame_pixel_for_pixel(running: Any, lesson_class: Path) -> None:
    client, class_id, _ = running
    h = bearer(client, "inspector")
    frames = decoded_frames(lesson_class / LESSON)
    for at in (0.0, 9.99, 10.0, 11.37, 11.8):
        res = client.post(
            f"/api/classes/{class_id}/evidence",
            json={"clip": LESSON, "at": at, "note": "画面中无教师"},
            headers=h,
        )
        assert res.status_code == 201, res.text
        record = res.json()
        expected = frame_at(frames, at)
        png = client.get(record["png_url"], headers=h)
        assert png.headers["content-type"] == "image/png"
        got = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGB"))
        assert np.array_equal(got, expected), f"frame at {at} differs"
        assert record["frame_time"] <= at < record["frame_time"] + 0.25 + 1e-9
        assert record["source_sha256"] == _sha256(lesson_class / LESSON)
        assert record["taken_by"] == "inspector" and record["note"] == "画面中无教师"
        # The captioned copy: the same frame on top, a caption band below.
        cap = np.asarray(
            Image.open(io.BytesIO(client.get(record["caption_url"], headers=h).content))
        )
        assert cap.shape[0] > expected.shape[0] and np.array_equal(cap[:240], expected)
    assert "2024-06-03" in record["caption"] and "壶关县鑫达职业培训学校" in record["caption"]
    assert time_code(record["frame_time"]) in record["caption"]
    past = client.post(
        f"/api/classes/{class_id}/evidence", json={"clip": LESSON, "at": 99}, headers=h
    )
    assert past.status_code == 422 and "past the end" in past.json()["detail"]
    verdict = client.get("/api/evidence/verify", headers=h).json()
    assert verdict == {**verdict, "ok": True, "records": 5, "keyed": True, "anchor": None}
    # The head, exported as JSON and shown on the evidence page, is what verify checks against.
    head = client.get("/api/evidence/head", headers=h)
    assert "attachment" in head.headers["content-disposition"]
    exported = head.json()
    assert exported["head"] == f"5:{record['mac']}" == verdict["head"] and exported["keyed"]
    anchored = client.get("/api/evidence/verify", params={"head": exported["head"]}, headers=h)
    assert anchored.json()["ok"] and anchored.json()["anchor"] == exported["head"]
    ahead = client.get("/api/evidence/verify", params={"head": f"6:{'0' * 64}"}, headers=h)
    assert ahead.json()["problem"] == "anchor_short" and "只有 5 条" in ahead.json()["message"]
    bad = client.get("/api/evidence/verify", params={"head": "five"}, headers=h)
    assert bad.status_code == 422
    assert exported["head"] in client.get("/evidence", headers=h).text
    institution = bearer(client, "inst_a")
    assert client.get("/api/evidence/head", headers=institution).status_code == 403
    assert exported["head"] not in client.get("/evidence", headers=institution).text


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clips_play_with_range_requests(running: Any, lesson_class: Path) -> None:
    client, class_id, _ = running
    h = bearer(client, "inspector")
    url = f"/classes/{class_id}/files/{LESSON}"
    whole = (lesson_class / LESSON).read_bytes()
    full = client.get(url, headers=h)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4"
    assert full.headers["content-security-policy"] == "sandbox"
    part = client.get(url, headers={**h, "Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    assert part.content == whole[100:1100]
    tail = client.get(url, headers={**h, "Range": f"bytes={len(whole) - 10}-"})
    assert tail.status_code == 206 and tail.content == whole[-10:]
    assert client.get(url, headers={**h, "Range": "bytes=99999999-"}).status_code == 416
    for escape in ("../../video-audit.sqlite", "%2e%2e/%2e%2e/video-audit.sqlite"):
        # The client may normalise the dots away; either way nothing outside the class is served.
        res = client.get(f"/classes/{class_id}/files/{escape}", headers=h)
        assert res.status_code in (404, 422) and not res.content.startswith(b"SQLite")
    page = client.get(f"/classes/{class_id}/play?clip={LESSON}&t=3.5", headers=h).text
    assert 'id="player"' in page and "截图取证" in page and 'data-start="3.5"' in page
    assert 'data-fps="4' in page  # frame steps of a quarter second for this 4 fps clip


def test_spot_checks_are_seeded_recorded_and_repeatable(running: Any) -> None:
    client, class_id, _ = running
    h = bearer(client, "inspector")
    url = f"/api/classes/{class_id}/spotchecks"
    first = client.post(url, json={"count": 6, "seed": 20240603}, headers=h).json()
    again = client.post(url, json={"count": 6, "seed": 20240603}, headers=h).json()
    assert first["moments"] == again["moments"] and len(first["moments"]) == 6
    assert all(m["clip"] == LESSON and 0 <= m["at"] < 12 for m in first["moments"])
    other = client.post(url, json={"count": 6, "seed": 1}, headers=h).json()
    assert other["moments"] != first["moments"]
    unseeded = client.post(url, json={"count": 3}, headers=h).json()
    listed = client.get(url, headers=h).json()
    assert [s["seed"] for s in listed[:2]] == [unseeded["seed"], 1]
    assert listed[0]["moments"] == unseeded["moments"]
    assert client.post(url, json={"count": 10_000}, headers=h).status_code == 422
    page = client.get(f"/classes/{class_id}", headers=h).text
    assert str(first["seed"]) in page and "随机抽查" in page


# -- tamper detection on a log built once, copied for each kind of tampering ----------------
@pytest.fixture(scope="module")
def pristine_log(lesson_class: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("log")
    store = Store(data / "video-audit.sqlite")
    log = EvidenceLog(store, data / "evidence")
    for n, at in enumerate((1.0, 5.5, 10.25, 11.0)):
        log.capture(lesson_class / LESSON, at, f"检查员{n}", note=f"第{n + 1}次")
    assert log.verify().ok
    store.close()
    return data


@pytest.fixture
def log_copy(pristine_log: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine_log, tmp_path / "data"))


def _verify(data: Path) -> Any:
    store = Store(data / "video-audit.sqlite")
    try:
        return EvidenceLog(store, data / "evidence").verify()
    finally:
        store.close()


def _sql(data: Path, statement: str, params: tuple[Any, ...] = ()) -> Any:
    with sqlite3.connect(data / "video-audit.sqlite") as conn:
        return conn.execute(statement, params).fetchall()


def test_an_untouched_log_verifies(log_copy: Path) -> None:
    verdict = _verify(log_copy)
    assert verdict.ok and verdict.records == 4
    assert "4" in verdict.message("zh")


def test_an_edited_png_names_its_record(log_copy: Path) -> None:
    rel = _sql(log_copy, "SELECT png FROM evidence WHERE seq = 3")[0][0]
    png = log_copy / "evidence" / rel
    image = np.asarray(Image.open(png)).copy()
    image[10, 10] = 255 - image[10, 10]  # one pixel
    Image.fromarray(image).save(png)
    verdict = _verify(log_copy)
    assert (verdict.seq, verdict.problem) == (3, "file_changed")
    assert "第 3 条" in verdict.message("zh")


def test_an_edited_row_names_its_record(log_copy: Path) -> None:
    _sql(log_copy, "UPDATE evidence SET note = '改过的备注' WHERE seq = 2")
    verdict = _verify(log_copy)
    assert (verdict.seq, verdict.problem) == (2, "content")


def test_a_row_edited_with_its_hash_recomputed_fails_its_signature(log_copy: Path) -> None:
    from video_audit.evidence import record_hash

    store = Store(log_copy / "video-audit.sqlite")
    row = dict(store.evidence()[1])
    store.close()
    row["frame_time"] = 6.0
    _sql(
        log_copy,
        "UPDATE evidence SET frame_time = ?, hash = ? WHERE seq = 2",
        (6.0, record_hash(row)),
    )
    verdict = _verify(log_copy)
    assert (verdict.seq, verdict.problem) == (2, "mac")


def test_a_deleted_row_is_named(log_copy: Path) -> None:
    _sql(log_copy, "DELETE FROM evidence WHERE seq = 2")
    verdict = _verify(log_copy)
    assert (verdict.seq, verdict.problem) == (2, "missing")


def test_a_deleted_last_row_is_named(log_copy: Path) -> None:
    _sql(log_copy, "DELETE FROM evidence WHERE seq = 4")
    verdict = _verify(log_copy)
    assert (verdict.seq, verdict.problem) == (4, "missing")


def test_cli_screenshot_and_verify(lesson_class: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    out = tmp_path / "shot.png"
    res = runner.invoke(
        main,
        [
            "screenshot",
            str(lesson_class / LESSON),
            "--at",
            "0:11.37",
            "--out",
            str(out),
            "--note",
            "抽查",
            "--by",
            "张三",
            "--data",
            str(data),
        ],
    )
    assert res.exit_code == 0, res.output
    expected = frame_at(decoded_frames(lesson_class / LESSON), 11.37)
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), expected)
    assert "#1" in res.output and "00:00:11.250" in res.output
    ok = runner.invoke(main, ["evidence", "verify", "--data", str(data)])
    assert ok.exit_code == 0 and "完好" in ok.output
    _sql(data, "UPDATE evidence SET taken_by = '李四'")
    bad = runner.invoke(main, ["evidence", "verify", "--data", str(data), "--lang", "en"])
    assert bad.exit_code == 1 and "record 1" in bad.output
    for args in (
        ["--at", "99"],
        ["--at", "soon"],
    ):
        res = runner.invoke(
            main,
            [
                "screenshot",
                str(lesson_class / LESSON),
                *args,
                "--out",
                str(out),
                "--data",
                str(data),
            ],
        )
        assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    missing = runner.invoke(
        main,
        [
            "screenshot",
            str(tmp_path / "nope.mp4"),
            "--at",
            "1",
            "--out",
            str(out),
            "--data",
            str(data),
        ],
    )
    assert missing.exit_code == 2 and "nope.mp4" in missing.output


def test_time_parsing() -> None:
    assert parse_time("75.5") == 75.5
    assert parse_time("1:15.5") == 75.5
    assert parse_time("01:01:15") == 3675
    for bad in ("", "1:75", "abc", "-3"):
        with pytest.raises(ValueError):
            parse_time(bad)
    assert time_code(3675.25) == "01:01:15.250"


def test_grab_shows_the_picture_as_players_do(tmp_path: Path) -> None:
    """A clip with a 90° display matrix (as phones write) is grabbed upright, like players show it;
    a time past the last frame is refused, not answered with the last frame."""
    from tests.test_media import rotate_mp4
    from video_audit.media.grab import ScreenshotError, grab

    clip = write_clip(tmp_path / "r.mp4", ClipSpec(2, 2, 64, 48, seed=3))
    stored = frame_at(decoded_frames(clip), 1.2)
    rotate_mp4(clip)
    got = grab(clip, 1.2)
    assert got.image.shape == (64, 48, 3)
    # FFmpeg's display matrix here turns the picture a quarter turn clockwise.
    assert np.array_equal(got.image, np.rot90(stored, k=-1))
    with pytest.raises(ScreenshotError, match="past the end"):
        grab(clip, 2.6)
