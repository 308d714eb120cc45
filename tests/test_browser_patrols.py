"""远程巡查 in a real headless Chromium: an inspector imports a schedule naming a live loopback
HTTP-TS camera on /sites, opens the site, presses 立即巡查, and sees the frames arrive and the
verdict, with no Content-Security-Policy refusal and no password on any page."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.streams import serve_dir, to_ts
from tests.test_browser import ARGS, CHROMIUM, add_accounts, collect_csp, log_in
from tests.web_fixtures import INSTITUTION_A, serving
from video_audit.samples.discs import ClipSpec, write_clip

SECRET = "Pa55word9"
SITE = "一楼教室"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)


def write_camera(root: Path) -> Path:
    """A camera's footage as an HTTP-TS camera sends it (4 s, 1024×768, 25 fps)."""
    root.mkdir(parents=True, exist_ok=True)
    return to_ts(write_clip(root / "room.mp4", ClipSpec(seconds=4, fps=25)), root / "room.ts")


def write_schedule(path: Path, host: str, class_name: str = "第一期面点班") -> Path:
    """A one-row schedule: the class's sessions at SITE, seen by the camera at HOST."""
    path.write_text(
        "班级,培训机构,地点,摄像头,日期,时段\n"
        f"{class_name},{INSTITUTION_A},{SITE},http://admin:{SECRET}@{host}/room.ts,"
        "2026-12-01,全天\n",
        encoding="utf-8",
    )
    return path


def import_and_patrol(page: Any, base: str, schedule: Path, class_name: str = "") -> None:
    """On /sites: import SCHEDULE, open SITE, 立即巡查 (for CLASS_NAME), wait for the verdict."""
    from playwright.sync_api import expect

    page.goto(f"{base}/sites")
    page.set_input_files("#sites-import-file", str(schedule))
    page.locator("#sites-import-form button[type=submit]").click()
    expect(page.locator("#sites-imported")).to_contain_text("新增场所 1 个，摄像头 1 个")
    page.click("#sites-reload")
    page.locator("#site-list a", has_text=SITE).click()
    page.wait_for_url(f"{base}/sites/*")
    if class_name:
        page.locator("form.patrol-now select").select_option(class_name)
    page.get_by_role("button", name="立即巡查").click()
    expect(page.locator(".patrol-message")).to_contain_text("已开始")
    card = page.locator(".patrols [data-patrol]").first
    expect(card).to_have_attribute("data-state", "done")


def test_inspector_patrols_a_live_camera_from_the_site_page(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path_factory.mktemp("patrol-web")
    data = root / "data"
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(data), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    add_accounts(env, ("王检查", "inspector", None), ("机构甲", "institution", INSTITUTION_A))
    cams = root / "cams"
    write_camera(cams)
    with (
        serve_dir(cams) as host,
        serving([], root, env) as (base, _),
        sync_playwright() as pw,
    ):
        schedule = write_schedule(root / "课表.csv", host)
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        refused: list[str] = []
        collect_csp(page, refused)
        log_in(page, base, "王检查")

        seen_states: list[str] = []
        page.on(
            "response",
            lambda r: seen_states.append(r.url) if "/api/patrols/" in r.url else None,
        )
        import_and_patrol(page, base, schedule)
        card = page.locator(".patrols [data-patrol]").first
        expect(card.locator(".patrol-verdict")).to_have_text("正常")
        expect(card.locator(".patrol-frames img")).to_have_count(3)
        expect(card.locator(".patrol-measures")).to_contain_text("分辨率 1024×768")
        expect(card.locator(".patrol-measures")).to_contain_text("实际帧率")
        expect(card).to_contain_text("人数")
        for n in range(3):
            img = card.locator(".patrol-frames img").nth(n)
            expect(img).to_have_attribute("src", re.compile(r"^/evidence/\d+/frame\.png$"))
        assert page.evaluate(
            "() => [...document.querySelectorAll('.patrol-frames img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert seen_states, "the page never polled the patrol"
        assert SECRET not in page.content() and "***@" in page.content()

        # The list shows the camera's last patrol; the plan section is there (no plan yet).
        page.goto(f"{base}/sites")
        row = page.locator("#site-list tr[data-camera]").first
        expect(row).to_contain_text("正常")
        expect(page.locator("#plans")).to_contain_text("随机巡查计划")
        assert SECRET not in page.content()

        # A camera added on the site page (shown without its password), then taken out of
        # service: the page says so and offers no 立即巡查 for it.
        page.go_back()
        page.wait_for_url(f"{base}/sites/*")
        page.fill("#camera-add-form input[name=url]", f"rtsp://admin:{SECRET}@10.0.0.8/101")
        page.fill("#camera-add-form input[name=name]", "后门")
        page.click("#camera-add-form button[type=submit]")
        added = page.locator("section.camera", has_text="rtsp://***@10.0.0.8/101")
        expect(added).to_be_visible()
        expect(added.locator("form.patrol-now")).to_have_count(1)
        page.once("dialog", lambda dialog: dialog.accept())
        added.locator("button.camera-retire").click()
        expect(added.locator(".camera-retired")).to_contain_text("已停用")
        expect(added.locator("form.patrol-now")).to_have_count(0)
        assert SECRET not in page.content()

        # An institution account is turned away from the patrol pages.
        other = browser.new_page(locale="zh-CN")
        collect_csp(other, refused)
        log_in(other, base, "机构甲")
        answer = other.goto(f"{base}/sites")
        assert answer is not None and answer.status == 403
        assert refused == []
        browser.close()
