"""补贴核算与签字 end to end in a real headless Chromium: an inspector confirms a trainee and
uploads the class's phone check-ins, signs the ledger (经办), is refused as its reviewer too; a
second inspector signs (复核, locked); revoking the decision voids both signatures, as the page
then says; the evidence chain, signatures and void included, still verifies; an institution sees
the state and the amounts and none of the controls.

Runs `video-audit serve` and Debian's /usr/bin/chromium (as tests/test_browser.py), on the class
of tests/test_browser_attendance.py: two days, three trainees, two of them left to review.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import ARGS, CHROMIUM, add_accounts, collect_csp, log_in
from tests.test_browser_attendance import DAYS, ROSTER, WANG, write_review_class
from tests.web_fixtures import INSTITUTION_A, serving

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)"
)


def write_checkins(path: Path) -> Path:
    """Every trainee checked in on both days, in GBK, headers in another order."""
    lines = ["签到地点,签到时间,身份证号,姓名"]
    for date in DAYS:
        month, day = date.rstrip("日").split("月")
        for n, (pid, name, _, _) in enumerate(ROSTER):
            lines.append(f"教室,2024-{int(month):02d}-{int(day):02d} 08:5{n}:00,{pid},{name}")
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


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
    add_accounts(
        env,
        ("王检查", "inspector", None),
        ("李复核", "inspector", None),
        ("机构甲", "institution", INSTITUTION_A),
    )
    with serving([], data.parent, env) as (base, _):
        yield base


def _page(browser: Any, base: str, name: str, refused: list[str]) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    collect_csp(page, refused)
    log_in(page, base, name)
    return page


def test_two_inspectors_sign_and_a_revoked_decision_voids(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    cls = write_review_class(tmp_path / "src")
    checkins = write_checkins(tmp_path / "手机签到.csv")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        expect.set_options(timeout=60_000)
        refused: list[str] = []
        page = _page(browser, server, "王检查", refused)
        page.set_input_files("#pick-folder", str(cls))
        page.click("#upload-button")
        page.wait_for_url(f"{server}/classes/*")
        expect(page.locator("#verdict")).to_be_visible()
        class_url = page.url
        ledger = page.locator("#ledger")
        state = page.locator("#ledger-state")
        expect(page.locator("nav.tabs a[href='#ledger']")).to_have_text("补贴核算")
        expect(state).to_have_text("草稿")
        expect(page.locator("#ledger-message")).to_contain_text("缺少打卡记录")

        # 是王芳 (考勤核实), then the check-ins: the ledger counts her two days.
        wang = page.locator("#review-open .review-card", has_text=WANG)
        wang.get_by_role("button", name="是王芳").click()
        expect(page.locator("#review-owed")).to_have_text("还需核实 1 人")
        page.set_input_files("#ledger-checkins-file", str(checkins))
        page.locator("#ledger-checkins-form button[type=submit]").click()
        expect(page.locator("#ledger-checkins-now")).to_contain_text("手机签到.csv（王检查")
        rows = page.locator("#ledger-rows tr.ledger-trainee")
        expect(rows).to_have_count(3)
        wang_row = rows.filter(has_text="王芳")
        expect(wang_row.locator("td.verified")).to_have_text("2")
        expect(rows.filter(has_text="李娜").locator("td.pending")).to_have_text("2")
        expect(wang_row.locator("td.amount")).to_have_text("300")
        expect(page.locator("#ledger-total")).to_have_text("600")
        expect(page.locator("#ledger-rule")).to_contain_text("拨付规则待定")
        # Every figure traceable: the row opens the days behind it.
        wang_row.click()
        detail = page.locator("#ledger-rows tr.ledger-detail:visible")
        expect(detail.locator("tbody tr")).to_have_count(2)
        expect(detail).to_contain_text("经核实在场且已签到")
        expect(detail).to_contain_text("2024-06-03 08:50:00")

        # 经办签字; the same account is then refused as the reviewer.
        page.click("#ledger-sign-first")
        expect(state).to_have_text("经办已签")
        expect(page.locator("#ledger-signatures")).to_contain_text("经办签字：王检查 20")
        expect(page.locator("#ledger-sign-second")).to_be_disabled()
        expect(page.locator("#ledger-refusal")).to_contain_text("同一账号不能既经办又复核")
        class_id = class_url.rstrip("/").rsplit("/", 1)[-1]
        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
        again = page.request.post(
            f"{server}/api/classes/{class_id}/ledger/sign",
            data={"role": "second"},
            headers={"X-CSRF-Token": csrf},
        )
        assert again.status == 409 and "同一账号不能既经办又复核" in again.json()["detail"]

        # 复核签字 by the second inspector: locked.
        other = _page(browser, server, "李复核", refused)
        other.goto(f"{class_url}#ledger")
        expect(other.locator("#ledger-state")).to_have_text("经办已签")
        other.click("#ledger-sign-second")
        expect(other.locator("#ledger-state")).to_have_text("复核已签")
        signatures = other.locator("#ledger-signatures li")
        expect(signatures).to_have_text(
            [re.compile(r"经办签字：王检查 \d"), re.compile(r"复核签字：李复核 \d")]
        )
        expect(other.locator("#ledger-sign-first")).to_be_hidden()  # locked: nothing to sign
        expect(other.locator("#ledger-sign-second")).to_be_hidden()

        # The institution sees the state and the amounts, none of the controls.
        inst = _page(browser, server, "机构甲", refused)
        inst.goto(class_url)
        expect(inst.locator("#ledger-state")).to_have_text("复核已签")
        expect(inst.locator("#ledger-total")).to_have_text("600")
        assert inst.locator("#ledger button, #ledger form, #ledger input").count() == 0

        # 撤销 the decision: the signatures are void, and the page says why.
        page.locator("#review-done-box summary").click()
        page.locator("#review-done .review-card", has_text="是王芳").get_by_role(
            "button", name="撤销"
        ).click()
        expect(page.locator("#review-owed")).to_have_text("还需核实 2 人")
        page.reload()
        expect(state).to_have_text("草稿")
        void = page.locator("#ledger-voids .ledger-void")
        expect(void).to_have_count(1)
        expect(void).to_contain_text("签字已失效：考勤决定 #1 已撤销（王检查 20")
        expect(page.locator("#ledger-signatures")).to_have_text("尚无签字")
        expect(rows.filter(has_text="王芳").locator("td.pending")).to_have_text("2")
        expect(page.locator("#ledger-total")).to_have_text("300")
        expect(page.locator("#ledger-sign-first")).to_be_enabled()
        expect(page.locator("#ledger-sign-second")).to_be_hidden()
        other.reload()
        expect(other.locator("#ledger-voids .ledger-void")).to_have_count(1)  # recorded once

        # The chain holds: the decisions, both signatures and the void, signed and verified.
        verdict = page.request.get(f"{server}/api/evidence/verify").json()
        assert verdict["ok"] is True and verdict["records"] == 5, verdict
        assert refused == []
        assert ledger.count() == 1
        browser.close()
    assert time.monotonic() - started < 90
