"""Finding a class in a real headless Chromium: the class list's search (class, institution,
trainee name) and filters narrow the table through the plain GET form; an institution sees only
its own classes whatever it types. Runs `video-audit serve` as tests/test_browser.py does."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.test_browser import ARGS, CHROMIUM, add_accounts, log_in
from tests.web_fixtures import (
    INSTITUTION_A,
    INSTITUTION_B,
    PASSWORD,
    PREFIX_A,
    PREFIX_B,
    serving,
    write_small_class,
    zip_folder,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service holding two audited classes, one of each institution."""
    data = tmp_path_factory.mktemp("svc") / "data"
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(data), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    add_accounts(env, ("王检查", "inspector", None), ("机构甲", "institution", INSTITUTION_A))
    src = tmp_path_factory.mktemp("src")
    with serving([], data.parent, env) as (base, _), httpx.Client(base_url=base) as http:
        token = http.post("/api/token", json={"name": "王检查", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        audits = []
        for prefix, institution in ((PREFIX_A, INSTITUTION_A), (PREFIX_B, INSTITUTION_B)):
            cls = write_small_class(src / prefix[:6], prefix=prefix)
            up = http.post(
                "/api/classes",
                files={"archive": (f"{prefix}.zip", zip_folder(cls), "application/zip")},
                data={"institution": institution},
                headers=auth,
            )
            assert up.status_code == 201, up.text
            audits.append(up.json()["audit_id"])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [http.get(f"/api/audits/{a}", headers=auth).json()["state"] for a in audits]
            if all(s in ("done", "failed") for s in states):
                break
            time.sleep(0.5)
        assert states == ["done", "done"], states
        yield base


def _login(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    log_in(page, base, name)
    return page


def test_search_and_filters_narrow_the_class_list(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = _login(browser, server, "王检查")
        rows = page.locator("#class-list tbody tr")
        expect(rows).to_have_count(2)
        # By part of the class name.
        page.fill('#class-filters input[name="q"]', "电工")
        page.click("#filter-button")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(PREFIX_B)
        assert "q=" in page.url  # a plain GET form: the search is in the address
        # By institution, from the dropdown, and the search cleared.
        page.fill('#class-filters input[name="q"]', "")
        page.select_option('#class-filters select[name="institution"]', INSTITUTION_A)
        page.click("#filter-button")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(PREFIX_A)
        # By a trainee's name on the roster (both classes list 王芳), then one nobody has.
        page.goto(f"{server}/classes")
        page.fill('#class-filters input[name="q"]', "王芳")
        page.click("#filter-button")
        expect(rows).to_have_count(2)
        page.fill('#class-filters input[name="q"]', "不存在的人")
        page.click("#filter-button")
        expect(rows).to_have_count(0)
        expect(page.locator("#class-count")).to_contain_text("0")
        # The institution sees its own class only, whatever it searches for.
        inst = _login(browser, server, "机构甲")
        inst.fill('#class-filters input[name="q"]', "电工")
        inst.click("#filter-button")
        expect(inst.locator("#class-list tbody tr")).to_have_count(0)
        inst.goto(f"{server}/classes")
        expect(inst.locator("#class-list tbody tr")).to_have_count(1)
        browser.close()
    assert time.monotonic() - started < 60
