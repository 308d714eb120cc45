"""In a real headless Chromium against `video-audit serve`: a finding's link opens the player at
its time (the video's currentTime is the link's t, the stretch drawn on the timeline), and an
inspector records a spot-check moment as 异常 with a note on the class page."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_browser import ARGS, CHROMIUM, _until, collect_csp, log_in
from tests.web_fixtures import PREFIX_A, add_accounts, serving
from video_audit.samples.discs import CHINA, ClipSpec, write_clip

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)
DAY = "6月3日"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("svc") / "data"
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(data), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    add_accounts(env, ("王检查", "inspector", None))
    with serving([], data.parent, env) as (base, _):
        yield base


def _class(parent: Path) -> Path:
    """One day whose lesson is black from 1 s to 13.5 s (QA03), small and at 4 fps."""
    cls = parent / PREFIX_A
    for name, hour, faults in (
        ("课间人脸识别视频1", 9, {}),
        ("课间人脸识别视频2", 15, {}),
        ("授课过程", 10, {"black": (1.0, 13.5)}),
    ):
        start = dt.datetime(2024, 6, 3, hour, 0, tzinfo=CHINA)
        spec = ClipSpec(16, 4, 320, 240, start=start, seed=hour, **faults)  # type: ignore[arg-type]
        write_clip(cls / DAY / f"{PREFIX_A}{DAY}{name}.mp4", spec)
    return cls


def test_a_finding_opens_the_player_at_its_time_and_a_spot_check_is_recorded(
    server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    cls = _class(tmp_path / "src")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        refused: list[str] = []
        collect_csp(page, refused)
        log_in(page, server, "王检查")
        page.set_input_files("#pick-folder", str(cls))
        page.click("#upload-button")
        page.wait_for_url(f"{server}/classes/*")
        expect(page.locator("#rules")).to_contain_text("QA03")
        report_url = page.url

        link = page.locator("#rules a.at").first
        expect(link).to_contain_text("–")
        href = link.get_attribute("href") or ""
        t = float(parse_qs(urlsplit(href).query)["t"][0])
        assert 0 < t < 3, href
        link.click()
        page.wait_for_url(re.compile(r"/play\?clip=.*&t="))
        _until(
            page,
            f"(() => {{ const v = document.getElementById('player'); return v.readyState >= 1 "
            f"&& !v.seeking && Math.abs(v.currentTime - {t}) < 0.3; }})()",
        )
        expect(page.locator("#timeline-span")).to_be_visible()
        expect(page.locator("#span-text")).to_contain_text("0:")
        assert page.locator("#player").evaluate("v => v.error") is None

        page.goto(report_url)
        page.fill('#spotcheck-form input[name="count"]', "3")
        page.fill('#spotcheck-form input[name="seed"]', "20240603")
        page.click("#spotcheck-form button[type=submit]")
        expect(page.locator("#spotcheck code.seed").first).to_have_text("20240603")
        moment = page.locator("#spotcheck li[data-moment='1']").first
        moment.locator("input[value='abnormal']").check()
        moment.locator("input[name='note']").fill("画面中无教师")
        moment.locator("button[type=submit]").click()
        expect(moment.locator(".spot-result")).to_contain_text("异常：画面中无教师")
        expect(moment.locator(".spot-result")).to_contain_text("已记录（证据第")
        page.reload()
        expect(page.locator("#spotcheck li[data-moment='1']").first).to_contain_text(
            "异常：画面中无教师"
        )
        assert refused == []
        browser.close()
