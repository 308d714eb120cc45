"""In a real headless Chromium: the class page follows its audit without a reload, from
queued/running through each decoded clip (x/N, time left) to the finished report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import ARGS, CHROMIUM, collect_csp, log_in
from tests.test_progress import slow_class, slow_service_env
from tests.web_fixtures import serving

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)

# What the page shows: state, clips decoded, its words, the time left, and a mark set on the
# page when it opened (gone after a reload).
LOOK = """(() => {
  const s = document.getElementById('audit-status');
  if (!s) return null;
  return [s.dataset.state || '', s.dataset.done || '', s.textContent,
          (document.getElementById('audit-eta') || {}).textContent || '',
          window.progressMark === true];
})()"""


def _look(page: Any) -> list[Any] | None:
    try:
        return page.evaluate(LOOK)
    except Exception:  # the page is reloading: ask again
        return []


def test_class_page_shows_progress_until_done(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    cls = slow_class(tmp_path / "src", days=3, lesson_seconds=30)
    env = slow_service_env(tmp_path)
    with serving([], tmp_path, env) as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.set_default_timeout(40_000)
        refused: list[str] = []
        collect_csp(page, refused)
        log_in(page, base, "王检查")
        page.set_input_files("#pick-folder", str(cls))
        page.click("#upload-button")
        page.wait_for_url(f"{base}/classes/*")
        first = page.locator("#audit-status").text_content() or ""
        assert first.startswith(("排队中", "审核中")), first
        page.evaluate("window.progressMark = true")
        seen: list[list[Any]] = []
        deadline = time.monotonic() + 40
        while (look := _look(page)) != [] and look is not None:
            seen.append(look)
            assert look[4], f"the page reloaded before the audit ended: {seen}"
            assert time.monotonic() < deadline, seen
            time.sleep(0.1)
        expect(page.locator("#verdict")).to_be_visible()
        # The page moved on its own: at least two running states (checking the clips, then
        # decoding them, or decoding counts rising), counts never going back; how many states
        # a 1-second poll catches depends on the machine's speed, so no more is asked.
        running = [s for s in seen if s[0] == "running"]
        assert len({s[2] for s in running}) >= 2, seen
        for phase in ("检查", "解码"):
            counts = [int(s[1]) for s in running if phase in s[2]]
            assert counts == sorted(counts), seen
        assert any("/9" in s[2] for s in seen), seen
        decoding = {s[1] for s in running if "解码" in s[2]}
        if len(decoding) >= 2:  # caught mid-way: the time left is said
            assert any(s[3].startswith(("剩余时间", "即将完成")) for s in seen), seen
        assert page.evaluate("window.progressMark") is None  # reloaded once, when done
        assert refused == []
        browser.close()
    assert time.monotonic() - started < 60
