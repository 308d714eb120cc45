"""The pages of docs/web.md as pictures: `make screenshots` (writes docs/img/*.png).

Runs `video-audit serve` on a fresh workspace and Debian's Chromium (as the browser tests do)
and walks the path from a disc to a signed ledger: upload a class, its report, 考勤核实, the
check-ins and 补贴核算, 经办 and 复核 signatures, and a decision revoked after signing.
The class is the browser tests' own (real faces, two days, two trainees left to review).
Then 远程巡查: a schedule naming that class and a loopback HTTP-TS camera is imported on /sites,
the site page's 立即巡查 runs, and the class page shows its patrol beside the disc audit.

`python -m tools.screenshots patrol` writes only the pictures whose names start with `patrol`
(every step still runs: the later pages need the earlier ones).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.streams import serve_dir
from tests.test_browser import ARGS, CHROMIUM, add_accounts, log_in
from tests.test_browser_attendance import WANG, write_review_class
from tests.test_browser_ledger import write_checkins
from tests.test_browser_patrols import import_and_patrol, write_schedule
from tests.web_fixtures import INSTITUTION_A, serving
from video_audit.samples.faces import UNKNOWN
from video_audit.samples.live import write_live

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"


def main(wanted: list[str]) -> int:
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.exists():
        print("screenshots: needs /usr/bin/chromium (make system-browser)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data"
        env = {
            **os.environ,
            "VIDEO_AUDIT_DATA": str(data),
            "VIDEO_AUDIT_AUDIT_WORKERS": "1",
            "XDG_CACHE_HOME": str(root / "cache"),
            "VIDEO_AUDIT_EVIDENCE_KEY_FILE": str(root / "keys" / "evidence.key"),
            "VIDEO_AUDIT_PATROL_INTERVAL_SECONDS": "2",  # the plan is drawn soon after import
        }
        add_accounts(
            env,
            ("王检查", "inspector", None),
            ("李复核", "inspector", None),
            ("机构甲", "institution", INSTITUTION_A),
        )
        cls = write_review_class(root / "src")
        checkins = write_checkins(root / "手机签到.csv")
        # The camera shows two of the class's trainees and someone not on its roster.
        write_live(root / "cams" / "room.ts", (0, 1, UNKNOWN), seconds=5)
        with (
            serving([], root, env) as (base, _),
            serve_dir(root / "cams") as camera,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            expect.set_options(timeout=120_000)

            def login(name: str):  # type: ignore[no-untyped-def]
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, locale="zh-CN"
                )
                page = context.new_page()
                page.set_default_timeout(120_000)
                log_in(page, base, name)
                return page

            def shot(page, name: str, selector: str | None = None) -> None:  # type: ignore[no-untyped-def]
                if wanted and not name.startswith(tuple(wanted)):
                    return
                target = page.locator(selector).first if selector else page
                target.screenshot(path=str(OUT / f"{name}.png"))
                print(f"docs/img/{name}.png")

            page = login("王检查")
            shot(page, "1-classes")
            page.set_input_files("#pick-folder", str(cls))
            page.click("#upload-button")
            page.wait_for_url(f"{base}/classes/*")
            expect(page.locator("#verdict")).to_be_visible()
            class_url = page.url
            shot(page, "2-class-report")
            shot(page, "3-attendance-review", "#review")
            page.locator("#review-open .review-card", has_text=WANG).get_by_role(
                "button", name="是王芳"
            ).click()
            expect(page.locator("#review-owed")).to_have_text("还需核实 1 人")
            page.set_input_files("#ledger-checkins-file", str(checkins))
            page.locator("#ledger-checkins-form button[type=submit]").click()
            rows = page.locator("#ledger-rows tr.ledger-trainee")
            expect(rows).to_have_count(3)
            rows.filter(has_text="王芳").click()
            shot(page, "4-ledger-draft", "#ledger")
            page.click("#ledger-sign-first")
            expect(page.locator("#ledger-state")).to_have_text("经办已签")
            other = login("李复核")
            other.goto(f"{class_url}#ledger")
            other.click("#ledger-sign-second")
            expect(other.locator("#ledger-state")).to_have_text("复核已签")
            shot(other, "5-ledger-signed", "#ledger")
            page.locator("#review-done-box summary").click()
            page.locator("#review-done .review-card", has_text="是王芳").get_by_role(
                "button", name="撤销"
            ).click()
            expect(page.locator("#review-owed")).to_have_text("还需核实 2 人")
            page.reload()
            expect(page.locator("#ledger-voids .ledger-void")).to_have_count(1)
            shot(page, "6-ledger-void", "#ledger")
            inst = login("机构甲")
            inst.goto(class_url)
            expect(inst.locator("#ledger-state")).to_be_visible()
            shot(inst, "7-institution-view")
            page.goto(f"{base}/classes?q=王芳")
            shot(page, "8-class-list-search")
            page.goto(class_url)
            link = page.locator('a[href*="/play?"]')
            if link.count():
                link.first.click()
                page.wait_for_load_state("networkidle")
                shot(page, "9-player")
            schedule = write_schedule(root / "课表.csv", camera, class_name=cls.name)
            import_and_patrol(page, base, schedule, class_name=cls.name)
            shot(page, "patrol-site")
            page.goto(f"{base}/sites")
            expect(page.locator("summary", has_text="种子").first).to_be_visible()
            shot(page, "patrol-sites")
            page.goto(f"{class_url}#patrols")
            expect(page.locator("#patrols [data-patrol]")).to_have_count(1)
            shot(page, "patrol-class", "#patrols")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
