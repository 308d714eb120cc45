"""From a finding to the footage: QA03/QA04 findings of a real audit link to the player at
their time (the stretch named), and the player says plainly why a clip cannot play (an AVI, a
truncated file, a missing file) with the download; a failed capture never shows a server path."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from api.context import class_path
from tests.web_fixtures import PREFIX_A, bearer, service, upload_folder, wait_audit
from video_audit.samples.discs import CHINA, ClipSpec, write_clip

DAY = "6月3日"
LESSON = f"{DAY}/{PREFIX_A}{DAY}授课过程.mp4"
ROLL1 = f"{DAY}/{PREFIX_A}{DAY}课间人脸识别视频1.mp4"
ROLL2 = f"{DAY}/{PREFIX_A}{DAY}课间人脸识别视频2.mp4"


def _class(parent: Path) -> Path:
    """One day: a lesson black from 1 s to 13.5 s (QA03), a roll frozen as long (QA04), a roll
    cut short (FM04 truncated) — small pictures, two frames a second."""
    cls = parent / PREFIX_A

    def spec(hour: int, seed: int, **faults: Any) -> ClipSpec:
        start = dt.datetime(2024, 6, 3, hour, 0, tzinfo=CHINA)
        return ClipSpec(16, 2, 320, 240, start=start, seed=seed, **faults)

    write_clip(cls / LESSON, spec(10, 3, black=(1.0, 13.5)))
    write_clip(cls / ROLL1, spec(9, 1, frozen=(1.0, 13.5)))
    write_clip(cls / ROLL2, spec(15, 2))
    whole = (cls / ROLL2).read_bytes()
    (cls / ROLL2).write_bytes(whole[: len(whole) // 2])
    return cls


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, int, Path]]:
    cls = _class(tmp_path_factory.mktemp("src"))
    with service(tmp_path_factory.mktemp("svc") / "data") as client:
        h = bearer(client, "inspector")
        made = upload_folder(client, cls, h).json()
        assert wait_audit(client, made["audit_id"], h)["state"] == "done"
        yield client, made["id"], cls


def _links(page: str, class_id: int) -> list[dict[str, Any]]:
    """Every player link on a page, as its clip and query."""
    out = []
    for href in re.findall(rf'href="(/classes/{class_id}/play\?[^"]+)"', page):
        query = parse_qs(urlsplit(html.unescape(href)).query)
        out.append({"href": html.unescape(href), **{k: unquote(v[0]) for k, v in query.items()}})
    return out


def test_qa03_and_qa04_findings_link_to_the_player_at_their_stretch(
    audited: tuple[Any, int, Path],
) -> None:
    client, class_id, _ = audited
    h = bearer(client, "inspector")
    audit = client.get(f"/api/classes/{class_id}", headers=h).json()["audit"]
    findings = client.get(f"/api/audits/{audit['id']}/findings", headers=h).json()
    codes = {(f["code"], f["path"]) for f in findings}
    assert ("QA03", LESSON) in codes and ("QA04", ROLL1) in codes, codes
    page = client.get(f"/classes/{class_id}", headers=h).text
    links = _links(page, class_id)
    timed = [link for link in links if "t" in link]
    black = [link for link in timed if link["clip"] == LESSON and "end" in link]
    frozen = [link for link in timed if link["clip"] == ROLL1 and "end" in link]
    assert black and frozen, links
    for link in black + frozen:
        start, end = float(link["t"]), float(link["end"])
        assert 0 < start <= 3.5 and 12 <= end < 15.5, link
    # The stretch is named as people read it, beside the finding.
    assert re.search(r"▶ 0:0[0-2]–0:1[2-5]", page)
    # The link opens the player there: it seeks to t on load and draws the stretch.
    player = client.get(black[0]["href"], headers=h)
    assert player.status_code == 200
    assert f'data-start="{float(black[0]["t"])}"' in player.text
    assert f'data-end="{float(black[0]["end"])}"' in player.text
    assert "问题时段" in player.text and 'id="timeline-span"' in player.text
    assert "/static/player.js" in player.text


def test_a_truncated_clip_says_why_and_offers_the_download(audited: tuple[Any, int, Path]) -> None:
    client, class_id, _ = audited
    h = bearer(client, "inspector")
    res = client.get(f"/classes/{class_id}/play", params={"clip": ROLL2}, headers=h)
    assert res.status_code == 200
    assert "不完整（被截断）" in res.text and "FM04" in res.text and "无法播放" in res.text
    assert 'id="player"' not in res.text  # no dead player
    download = re.search(r'<a [^>]*id="play-download" href="([^"]+)"', res.text)
    assert download
    got = client.get(html.unescape(download.group(1)), headers=h)
    assert got.status_code == 200 and len(got.content) > 0


def test_an_avi_says_browsers_cannot_play_it(audited: tuple[Any, int, Path]) -> None:
    client, class_id, _ = audited
    h = bearer(client, "inspector")
    svc = client.app.state.service
    folder = class_path(svc, svc.store.class_row(class_id))
    avi = f"{DAY}/课堂补录.avi"
    write_clip(folder / avi, ClipSpec(2, 2, 320, 240, container="avi", seed=9))
    res = client.get(f"/classes/{class_id}/play", params={"clip": avi}, headers=h)
    assert res.status_code == 200
    assert "AVI 格式" in res.text and "浏览器无法直接播放" in res.text and "下载原文件" in res.text
    assert 'id="player"' not in res.text
    en = client.get(f"/classes/{class_id}/play", params={"clip": avi, "lang": "en"}, headers=h)
    assert "This clip is AVI" in en.text
    client.get("/classes", params={"lang": "zh"}, headers=h)  # the choice sticks: back


def test_a_missing_file_is_named_plainly_without_the_server_path(
    audited: tuple[Any, int, Path],
) -> None:
    client, class_id, _ = audited
    h = bearer(client, "inspector")
    svc = client.app.state.service
    folder = class_path(svc, svc.store.class_row(class_id))
    gone = folder / LESSON
    kept = gone.read_bytes()
    gone.unlink()
    try:
        res = client.get(f"/classes/{class_id}/play", params={"clip": LESSON}, headers=h)
        assert res.status_code == 404
        assert "找不到该视频文件" in res.text and 'id="player"' not in res.text
        assert str(folder) not in res.text and "play-download" not in res.text
        # A name the audit never saw stays a plain 404.
        other = client.get(f"/classes/{class_id}/play", params={"clip": "x.mp4"}, headers=h)
        assert other.status_code == 404 and "找不到该视频文件" not in other.text
    finally:
        gone.write_bytes(kept)


def test_a_failed_capture_names_no_path_and_no_ffmpeg_error(
    audited: tuple[Any, int, Path],
) -> None:
    client, class_id, _ = audited
    h = bearer(client, "inspector")
    svc = client.app.state.service
    folder = str(class_path(svc, svc.store.class_row(class_id)))
    url = f"/api/classes/{class_id}/evidence"
    broken = client.post(url, json={"clip": ROLL2, "at": 1.0}, headers=h)
    assert broken.status_code == 422
    detail = broken.json()["detail"]
    assert detail.startswith("无法截图：") and "损坏或不完整" in detail
    assert folder not in detail and "Errno" not in detail and "errno" not in detail
    past = client.post(url, json={"clip": LESSON, "at": 99}, headers=h)
    assert past.status_code == 422 and "超出视频结尾" in past.json()["detail"]
    assert folder not in past.json()["detail"]
