"""End to end in a real headless Chromium: log in, upload, report, play, capture, evidence list.

Runs `video-audit serve` on a free port and drives Debian's /usr/bin/chromium with Playwright.
Set VIDEO_AUDIT_DOCS_SHOTS=1 to also write the docs/web-*.png screenshots.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_fixtures import (
    PASSWORD,
    PREFIX_A,
    add_accounts,
    serving,
    write_small_class,
)

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)


def log_in(page: Any, base: str, name: str) -> None:
    """Log in through the login form; the class list is where it lands."""
    page.goto(f"{base}/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/classes")


def collect_csp(page: Any, refused: list[str]) -> None:
    """What the Content Security Policy refused on PAGE goes into REFUSED."""
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("svc") / "data"
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(data), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    add_accounts(env, ("王检查", "inspector", None))
    with serving([], data.parent, env) as (base, _):
        yield base


def _shot(page: Any, name: str) -> None:
    """A docs screenshot (only with VIDEO_AUDIT_DOCS_SHOTS=1), reduced to a small palette PNG."""
    if os.environ.get("VIDEO_AUDIT_DOCS_SHOTS") != "1":
        return
    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    if image.height > 1600:
        image = image.crop((0, 0, image.width, 1600))
    image.quantize(colors=128).save(DOCS / f"web-{name}.png", optimize=True)


def _until(page: Any, expression: str, limit: float = 60) -> None:
    """Poll a JS expression from outside the page: wait_for_function evaluates strings inside
    it, which the pages' Content-Security-Policy (no eval) rightly refuses."""
    deadline = time.monotonic() + limit
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {limit} s: {expression}"
        time.sleep(0.05)


def test_inspector_uploads_reads_plays_and_captures(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    cls = write_small_class(tmp_path / "src", prefix=PREFIX_A, days=2)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        refused: list[str] = []  # what the Content-Security-Policy blocked on any page
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )

        page.goto(f"{server}/classes")
        expect(page).to_have_url(f"{server}/login?next=/classes")
        page.fill('input[name="name"]', "王检查")
        page.fill('input[name="password"]', PASSWORD)
        _shot(page, "login")
        page.click('button[type="submit"]')
        expect(page).to_have_url(f"{server}/classes")

        page.set_input_files("#pick-folder", str(cls))
        expect(page.locator("#upload-picked")).to_contain_text("已选择 7 个文件")
        _shot(page, "upload")
        page.click("#upload-button")
        page.wait_for_url(f"{server}/classes/*")
        expect(page.locator("#verdict")).to_have_text("不通过")
        expect(page.locator("#days")).to_contain_text("6月4日")
        expect(page.locator("#rules")).to_contain_text("FM02")
        _shot(page, "report")
        report_url = page.url
        page.click("text=班级与上传")
        expect(page.locator("#class-list")).to_contain_text("不通过")
        _shot(page, "classes")
        page.click(f"#class-list a[href='{report_url.removeprefix(server)}']")

        page.locator("a.play").first.click()
        page.wait_for_url(re.compile(r"/play\?clip="))
        video = page.locator("#player")
        _until(page, "document.getElementById('player').readyState >= 1")
        page.evaluate(
            "() => { const v = document.getElementById('player'); v.muted = true; "
            "return v.play(); }"
        )
        _until(page, "document.getElementById('player').currentTime > 0.2")
        page.evaluate(
            "() => { const v = document.getElementById('player'); v.pause(); v.currentTime = 1.2; }"
        )
        _until(
            page,
            "Math.abs(document.getElementById('player').currentTime - 1.2)"
            " < 0.001 && !document.getElementById('player').seeking",
        )
        assert video.evaluate("v => v.error") is None
        page.fill('input[name="note"]', "抽查：画面正常")
        page.click("#capture")
        expect(page.locator("#capture-message")).to_contain_text("已取证：第 1 条")
        expect(page.locator("#capture-message")).to_contain_text("00:00:01.000")
        _until(page, "document.querySelector('#captured img')?.naturalWidth > 0")
        _shot(page, "player")

        page.click("text=取证记录")
        row = page.locator("#evidence-list tr[data-seq='1']")
        expect(row).to_contain_text("抽查：画面正常")
        expect(row).to_contain_text("00:00:01.000")
        _until(page, "document.querySelector('#evidence-list img').naturalWidth > 0")
        page.click("#verify")
        expect(page.locator("#verify-result")).to_contain_text("证据记录完好")
        _shot(page, "evidence")
        page.goto(f"{server}/docs")  # Swagger UI starts from a file of the site, no inline script
        # Swagger UI ran (it draws its own root); the bundled 4.x cannot read OpenAPI 3.1 yet.
        expect(page.locator("#swagger-ui .swagger-ui").first).to_be_attached()
        assert refused == []
        browser.close()
