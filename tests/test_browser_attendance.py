"""考勤核实 end to end in a real headless Chromium: an inspector confirms one person, rules out
another, revokes the first; the class page's attendance table follows on every day the person
was seen; an institution sees the outcome and none of the controls.

Runs `video-audit serve` and Debian's /usr/bin/chromium (as tests/test_browser.py). The class is
built with real faces (video_audit.samples.faces): two days, each showing the same three people;
two of them enrolled with poorer ID photos, so the machine leaves them to review (one decision
each, for both days), the third present by the machine.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.test_browser import ARGS, CHROMIUM, add_accounts, log_in
from tests.web_fixtures import INSTITUTION_A, PREFIX_A, serving
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import FaceShot, augment, portraits, roster_photo

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)
DAYS = ("6月3日", "6月4日")
# (ID, name, portrait, ID-photo blur): blurred, smaller, darker ID photos land between the
# engine's accept and review distances (measured: 0.50 and 0.53; accept 0.45, review 0.6).
ROSTER = (
    ("140423199001011234", "王芳", 0, 2.5),
    ("140423199203052345", "李娜", 1, 1.5),
    ("140423198807153456", "张伟", 2, 0.0),
)
WANG, LI, ZHANG = (f"{name} {pid[:3]}***********{pid[-4:]}" for pid, name, _, _ in ROSTER)


def _photo(portrait: int, blur: float) -> bytes:
    if not blur:
        return roster_photo(portrait)
    img = augment(portraits()[portrait], scale=0.5, blur=blur, light=0.8, jpeg=60)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def write_review_class(parent: Path) -> Path:
    cls = parent / PREFIX_A
    (cls / "照片").mkdir(parents=True)
    with (cls / "名册.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["证件号", "姓名", "角色", "照片"])
        for pid, name, portrait, blur in ROSTER:
            (cls / "照片" / f"{name}.jpg").write_bytes(_photo(portrait, blur))
            out.writerow([pid, name, "学员", f"照片/{name}.jpg"])
    for n, date in enumerate(DAYS):
        for slot in (1, 2):
            shot = FaceShot("roll", (0, 1, 2), seed=10 * n + slot)
            write_clip(
                cls / date / f"{PREFIX_A}{date}课间人脸识别视频{slot}.mp4",
                ClipSpec(4, 5, 640, 480, faces=shot),
            )
    return cls


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("svc") / "data"
    cache = tmp_path_factory.mktemp("cache")  # enrolment embeddings: not the user's ~/.cache
    env = {
        **os.environ,
        "VIDEO_AUDIT_DATA": str(data),
        "VIDEO_AUDIT_AUDIT_WORKERS": "1",
        "XDG_CACHE_HOME": str(cache),
    }
    add_accounts(env, ("王检查", "inspector", None), ("机构甲", "institution", INSTITUTION_A))
    with serving([], data.parent, env) as (base, _):
        yield base


def _column(page: Any, day: str, n: int) -> Any:
    """One cell of the class page's attendance table: 2 present, 3 absent, 4 review, 5 unknown."""
    return page.locator(f"#attendance tr[data-day='{day}'] > td:nth-child({n})")


def test_inspector_decides_revokes_and_the_table_follows(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    cls = write_review_class(tmp_path / "src")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        refused: list[str] = []
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        log_in(page, server, "王检查")
        page.set_input_files("#pick-folder", str(cls))
        page.click("#upload-button")
        page.wait_for_url(f"{server}/classes/*")
        expect(page.locator("#verdict")).to_be_visible()
        class_url = page.url
        expect(page.locator("nav.tabs a[href='#review']")).to_have_text("考勤核实")

        # Machine verdicts: 张伟 present (机器判定) on both days, 王芳 and 李娜 to review.
        owed = page.locator("#review-owed")
        expect(owed).to_have_text("还需核实 2 人")
        cards = page.locator("#review-open .review-card")
        expect(cards).to_have_count(2)
        for day in DAYS:
            expect(_column(page, day, 2)).to_contain_text(ZHANG)
            expect(_column(page, day, 2)).to_contain_text("机器判定")
            expect(_column(page, day, 4)).to_contain_text(WANG)
            expect(_column(page, day, 4)).to_contain_text(LI)
        wang = page.locator("#review-open .review-card", has_text=WANG)
        expect(wang).to_contain_text("出现 2 天：6月3日、6月4日")
        expect(wang).to_contain_text("自动判定须 ≤ 0.45")  # the distance in words
        expect(wang.locator(".review-faces img")).to_have_count(2)  # a face of each day
        expect(wang.locator(".candidate img")).to_have_count(1)  # beside the roster photo
        expect(wang.locator("button.decide")).to_have_text(
            ["是王芳", "名册外人员", "无法判断（留待现场核查）"]
        )

        # 是王芳: present on both days, confirmed by whom; the page was not reloaded.
        page.evaluate("() => { window.notReloaded = true; }")
        wang.get_by_role("button", name="是王芳").click()
        expect(owed).to_have_text("还需核实 1 人")
        for day in DAYS:
            expect(_column(page, day, 2)).to_contain_text(WANG)
            expect(_column(page, day, 2)).to_contain_text("人工确认：王检查")
            expect(_column(page, day, 4)).not_to_contain_text(WANG)
            expect(_column(page, day, 4)).to_contain_text(LI)
        done = page.locator("#review-done .review-card", has_text="是王芳")
        expect(done).to_contain_text("人工确认：王检查 20")

        # 李娜's person is not on the roster after all: absent on both days, the person a stranger.
        li = page.locator("#review-open .review-card", has_text=LI)
        li.get_by_role("button", name="名册外人员").click()
        expect(owed).to_have_text("全部核实完毕")
        expect(page.locator("#review-open .review-card")).to_have_count(0)
        for day in DAYS:
            expect(_column(page, day, 3)).to_contain_text(LI)
            expect(_column(page, day, 4)).not_to_contain_text(LI)
            expect(_column(page, day, 5)).to_contain_text("名册外人员 · 人工确认：王检查")

        # 撤销 the first decision: 王芳's days go back to what the machine said (review).
        page.locator("#review-done-box summary").click()
        done.get_by_role("button", name="撤销").click()
        expect(owed).to_have_text("还需核实 1 人")
        expect(page.locator("#review-open .review-card", has_text=WANG)).to_have_count(1)
        for day in DAYS:
            expect(_column(page, day, 2)).not_to_contain_text(WANG)
            expect(_column(page, day, 4)).to_contain_text(WANG)
            expect(_column(page, day, 3)).to_contain_text(LI)  # the other decision stays
        assert page.evaluate("() => window.notReloaded === true")

        # Served again from scratch: the same table.
        page.reload()
        expect(owed).to_have_text("还需核实 1 人")
        expect(_column(page, DAYS[1], 3)).to_contain_text(LI)
        expect(_column(page, DAYS[1], 4)).to_contain_text(WANG)
        assert refused == []

        # The institution sees the outcome, never the controls; the review API is a 404.
        other = browser.new_context(locale="zh-CN").new_page()
        other.set_default_timeout(60_000)
        log_in(other, server, "机构甲")
        other.goto(class_url)
        expect(_column(other, DAYS[0], 3)).to_contain_text(LI)
        expect(_column(other, DAYS[0], 5)).to_contain_text("名册外人员")
        assert other.locator("#review").count() == 0
        assert other.locator("button.decide, button.revoke, a[href='#review']").count() == 0
        class_id = class_url.rstrip("/").rsplit("/", 1)[-1]
        api = f"{server}/api/classes/{class_id}/attendance"
        assert other.request.get(f"{api}/review").status == 404
        assert page.request.get(f"{api}/review").status == 200
        browser.close()
    assert time.monotonic() - started < 90
