"""The subsidy ledger: check-in files, reconciliation per trainee-day (CK01–CK05), the tiers, the
cap and the employment rule — on a real audit of the compliant sample class with one extra
trainee on the roster who never shows up, and on small ledgers built for the arithmetic."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.rosters import write_xlsx
from video_audit.audit import run_audit
from video_audit.cli import main
from video_audit.faces.decisions import Decision, apply_decisions
from video_audit.faces.roster import parse_roster
from video_audit.ledger import (
    CheckinFile,
    LedgerError,
    SubsidyRules,
    build_ledger,
    read_checkins,
    read_employed,
)
from video_audit.ledger.render import text, xlsx
from video_audit.samples.discs import PEOPLE, write_compliant
from video_audit.samples.faces import UNKNOWN, roster_photo
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile

ABSENT = ("140423199707077777", "孙悦", "学员")  # on the roster, never in the footage
DAYS = ("2024-06-03", "2024-06-04", "2024-06-05")
HEADER = ["签到地点", "姓名", "签到时间", "身份证号"]  # any order


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("disc")
    cls = write_compliant(out).path
    (cls / "照片" / "孙悦.jpg").write_bytes(roster_photo(UNKNOWN))
    with (cls / "名册.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([*ABSENT, "照片/孙悦.jpg"])
    report = run_audit(cls, AuditSettings(engine="embedded"))
    return cls, report.to_dict("zh")


def write_checkins(path: Path, rows: list[tuple[str, str, str]], encoding: str = "gbk") -> Path:
    """A check-in export (GBK by default, as the real-name system writes it)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    for pid, name, at in rows:
        writer.writerow(["培训教室", name, at, pid])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def every_day(person: tuple[str, str, str], hour: str = "09:40") -> list[tuple[str, str, str]]:
    return [(person[0], person[1], f"{d} {hour}") for d in DAYS]


def key_of(cls: Path, pid: str) -> str:
    return parse_roster(cls / "名册.csv").by_id(pid).key


def trainee(ledger: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in ledger["trainees"] if t["name"] == name)


def codes(ledger: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for f in ledger["findings"])


# ------------------------------------------------------------------ check-in files


def test_gbk_csv_with_headers_in_any_order_and_a_title_row(tmp_path: Path) -> None:
    path = tmp_path / "签到.csv"
    body = (
        "手机签到记录导出\n"
        + ",".join(HEADER)
        + "\n教室,王芳,2024/6/3 9:41:05,140423199001011234\n"
    )
    path.write_bytes(body.encode("gbk"))
    got = read_checkins(path)
    assert got.errors == []
    [c] = got.rows
    assert (c.row, c.name, c.id, c.place) == (3, "王芳", "140423199001011234", "教室")
    assert c.at == dt.datetime(2024, 6, 3, 9, 41, 5)


def test_xlsx_with_datetime_cells_and_a_separate_date_column(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "签到.xlsx",
        ["身份证号", "姓名", "签到日期", "签到时间"],
        [
            ["140423199001011234", "王芳", dt.date(2024, 6, 3), dt.time(9, 40)],
            ["140423199203052345", "李 娜", None, dt.datetime(2024, 6, 4, 15, 1)],
        ],
    )
    got = read_checkins(path)
    assert got.errors == []
    assert [(c.row, c.name, c.at) for c in got.rows] == [
        (3, "王芳", dt.datetime(2024, 6, 3, 9, 40)),
        (4, "李娜", dt.datetime(2024, 6, 4, 15, 1)),
    ]


def test_malformed_rows_are_named_by_their_number_and_nothing_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "签到.csv"
    lines = [
        ",".join(HEADER),
        "教室,王芳,2024-06-03 09:40,140423199001011234",
        "教室,李娜,昨天上午,140423199203052345",  # row 3: a time nobody can read
        "教室,张伟,2024-06-03 09:40,",  # row 4: no ID number
        "",  # row 5: blank
        "教室,刘洋,2024-06-03 09:40,1.40423199512254E+17",  # row 6: Excel cut the ID
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    got = read_checkins(path)
    assert [c.row for c in got.rows] == [2]
    assert len(got.errors) == 3
    for number, error in zip((3, 4, 6), got.errors, strict=True):
        assert f"第 {number} 行" in error and f"row {number}" in error


def test_a_file_without_the_needed_headers_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    got = read_checkins(path)
    assert got.rows == [] and len(got.errors) == 1 and "签到时间" in got.errors[0]


def test_employment_list(tmp_path: Path) -> None:
    path = tmp_path / "就业.csv"
    path.write_text("序号,姓名,身份证号\n1,王芳,140423199001011234\n2,李娜,\n", encoding="utf-8")
    got = read_employed(path)
    assert got.ids == {"140423199001011234"}
    assert len(got.errors) == 1 and "第 3 行" in got.errors[0]


# ------------------------------------------------------------------ the arithmetic


def test_tiers_and_cap() -> None:
    rules = SubsidyRules.from_profile(load_profile())
    assert rules.amount(12) == 10 * 150 + 2 * 100 == 1700
    assert rules.amount(10) == 1500
    # 40 days earn 10×150 + 30×100 = 4500 < 5000; the cap binds from day 45 on.
    assert rules.amount(40) == 4500
    assert rules.amount(45) == rules.amount(60) == 5000
    assert sum(rules.day_rates(60)) == 5000 and rules.day_rates(60)[45:] == [0] * 15
    assert rules.rule(0.79) == "employed" and rules.rule(0.8) == "full" and rules.rule(None) is None


def small_class(tmp_path: Path, trainees: int, days: int) -> tuple[Path, dict[str, Any]]:
    """A class folder with a roster of TRAINEES and a report whose attendance shows everyone
    on each of DAYS days (the shape of report.to_dict)."""
    cls = tmp_path / "班"
    cls.mkdir(parents=True)
    ids = [f"1404231990{n:08d}" for n in range(trainees)]
    with (cls / "名册.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["身份证号", "姓名"])
        w.writerows([pid, f"学员{n}"] for n, pid in enumerate(ids))
    roster = parse_roster(cls / "名册.csv")
    shown = [
        {"key": e.key, "id": e.masked_id, "name": e.name, "role": e.role} for e in roster.entries
    ]
    dates = [dt.date(2024, 3, 1) + dt.timedelta(days=n) for n in range(days)]
    folder = [{"path": f"班/{d:%m%d}", "date": d.isoformat(), "clips": []} for d in dates]
    att = [
        {"path": f"班/{d:%m%d}", "date": d.isoformat(), "footage": True, "review": []}
        | {"present": [e.key for e in roster.entries], "matches": []}
        for d in dates
    ]
    cls_dict: dict[str, Any] = {"path": "班", "folder": "班", "prefix": "班", "roster": "名册.csv"}
    cls_dict["days"] = folder
    cls_dict["attendance"] = {"roster": shown, "days": att, "people": []}
    report: dict[str, Any] = {"path": str(tmp_path), "started": "2024-04-01T08:00", "findings": []}
    return cls, report | {"classes": [cls_dict]}


def every_day_checkins(report: dict[str, Any], ids: list[str]) -> CheckinFile:
    from video_audit.ledger import Checkin

    days = report["classes"][0]["days"]
    rows = [
        Checkin(n + 2, "学员", pid, dt.datetime.fromisoformat(d["date"] + "T09:00"))
        for n, (pid, d) in enumerate((p, d) for p in ids for d in days)
    ]
    return CheckinFile(Path("签到.csv"), rows)


def test_twelve_and_forty_five_verified_days(tmp_path: Path) -> None:
    for days, amount in ((12, 1700), (45, 5000)):
        cls, report = small_class(tmp_path / str(days), 1, days)
        ids = [e.id for e in parse_roster(cls / "名册.csv").entries]
        ledger = build_ledger(report, cls, every_day_checkins(report, ids), 1, load_profile())
        [t] = ledger["trainees"]
        assert (t["verified_days"], t["amount"], ledger["total"]) == (days, amount, amount)
        # Every yuan is traceable to its days: the rates of the verified days add up.
        assert sum(d["rate"] for d in t["days"]) == amount
        assert [d["rate"] for d in t["days"][:11]] == [150] * 10 + [100]


def test_employment_79_vs_80_percent_switches_the_rule(tmp_path: Path) -> None:
    cls, report = small_class(tmp_path, 100, 1)
    ids = [e.id for e in parse_roster(cls / "名册.csv").entries]
    checkins = every_day_checkins(report, ids)
    full = build_ledger(report, cls, checkins, 80, load_profile())
    assert (full["rule"], full["employment_rate"], full["total"]) == ("full", 0.8, 100 * 150)
    short = build_ledger(report, cls, checkins, 79, load_profile())
    assert (short["rule"], short["employment_rate"], short["total"]) == ("employed", 0.79, 79 * 150)
    assert full["hash"] != short["hash"]


# ------------------------------------------------------------------ on a real audit


def test_present_and_checked_in_days_are_paid(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    wang = PEOPLE[0]
    ci = read_checkins(write_checkins(tmp_path / "签到.csv", every_day(wang)))
    ledger = build_ledger(report, cls, ci, None, load_profile())
    t = trainee(ledger, "王芳")
    assert (t["verified_days"], t["pending_days"], t["amount"]) == (3, 0, 450)
    assert [d["reason"] for d in t["days"]] == ["seen"] * 3
    assert t["id"] == "140***********1234" and "140423199001011234" not in json.dumps(ledger)
    # Seen but not checked in: CK02 for each of the other trainees' days, unpaid.
    li = trainee(ledger, "李娜")
    assert li["amount"] == 0 and {d["reason"] for d in li["days"]} == {"no_checkin"}
    assert codes(ledger).count("CK02") == 3 * 3
    assert ledger["rule"] is None and ledger["total"] == 450


def test_planted_proxy_checkin_missing_footage_and_stranger(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    rows = [
        *every_day(PEOPLE[0]),
        (ABSENT[0], ABSENT[1], "2024-06-03 09:45"),  # 代打卡: checked in, never seen
        (PEOPLE[0][0], PEOPLE[0][1], "2024-06-07 09:45"),  # no day folder that date
        ("140423200001019999", "冒名", "2024-06-03 09:45"),  # not on the roster
    ]
    ledger = build_ledger(
        report, cls, read_checkins(write_checkins(tmp_path / "c.csv", rows)), 5, load_profile()
    )
    found = {f["code"]: f for f in ledger["findings"] if f["code"] in ("CK01", "CK03", "CK05")}
    assert found["CK01"]["path"].endswith("6月3日") and found["CK01"]["details"]["name"] == "孙悦"
    assert found["CK01"]["message"].startswith("学员 孙悦（140***********7777）2024-06-03 已签到")
    assert found["CK03"]["details"]["date"] == "2024-06-07" and found["CK03"]["details"][
        "rows"
    ] == [6]
    assert found["CK05"]["details"]["rows"] == [7] and found["CK05"]["details"]["id"].endswith(
        "9999"
    )
    sun = trainee(ledger, "孙悦")
    assert sun["amount"] == 0 and sun["days"][0]["reason"] == "not_seen"
    wang = trainee(ledger, "王芳")
    assert wang["days"][-1] | {"text": ""} == {
        "date": "2024-06-07",
        "path": None,
        "state": "unpaid",
        "reason": "no_day",
        "checkins": [{"row": 6, "at": "2024-06-07 09:45:00", "place": "培训教室"}],
        "text": "",
    }
    assert ledger["summary"]["errors"] == 3


def test_voided_footage_is_not_paid(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    report = copy.deepcopy(report)
    day = report["classes"][0]["days"][1]
    report["findings"].append({"code": "QA05", "path": day["clips"][0]["path"], "details": {}})
    ci = read_checkins(write_checkins(tmp_path / "c.csv", every_day(PEOPLE[0])))
    ledger = build_ledger(report, cls, ci, None, load_profile())
    wang = trainee(ledger, "王芳")
    assert (wang["verified_days"], wang["amount"]) == (2, 300)
    assert wang["days"][1] | {"text": ""} == {
        "date": "2024-06-04",
        "path": day["path"],
        "state": "unpaid",
        "reason": "voided",
        "codes": ["QA05"],
        "checkins": wang["days"][1]["checkins"],
        "text": "",
    }
    [ck03] = [f for f in ledger["findings"] if f["code"] == "CK03"]
    assert ck03["path"] == day["path"] and "QA05" in ck03["message"]


def test_a_day_in_review_is_paid_once_confirmed(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    report = copy.deepcopy(report)
    cls_dict = report["classes"][0]
    att = cls_dict["attendance"]
    li = key_of(cls, PEOPLE[1][0])
    day = att["days"][0]
    # The machine was not sure about 李娜 on the first day: one review case, one class person.
    day["present"].remove(li)
    day["matches"] = [m for m in day["matches"] if m.get("key") != li]
    case = {"person": "p99", "candidates": [li], "thumbnail": "x.jpg", "seen_in": []}
    day["review"].append(case)
    att["people"].append({"person": "p99", "state": "review", "days": [day["path"]], "faces": []})
    ci = read_checkins(write_checkins(tmp_path / "c.csv", every_day(PEOPLE[1])))
    before = build_ledger(report, cls, ci, None, load_profile())
    t = trainee(before, "李娜")
    assert (t["verified_days"], t["pending_days"], t["amount"]) == (2, 1, 300)
    assert t["days"][0]["state"] == "pending" and "CK01" not in codes(before)

    decision = Decision(
        1, 1, None, "p99", "", "confirm", li, "李娜", "inspector", "2024-06-10T09:00", []
    )
    cls_dict["attendance"] = apply_decisions(att, {"p99": decision})
    after = build_ledger(report, cls, ci, None, load_profile())
    t = trainee(after, "李娜")
    assert (t["verified_days"], t["pending_days"], t["amount"]) == (3, 0, 450)
    assert t["days"][0]["reason"] == "confirmed" and t["days"][0]["decided_by"]["by"] == "inspector"
    assert after["hash"] != before["hash"]
    assert after["inputs"]["decisions"] != before["inputs"]["decisions"]


def test_employment_list_pays_only_the_employed_below_the_threshold(
    tmp_path: Path, audited: Any
) -> None:
    cls, report = audited
    rows = [r for p in PEOPLE[:4] for r in every_day(p)]
    ci = read_checkins(write_checkins(tmp_path / "c.csv", rows))
    employed = tmp_path / "就业.csv"
    employed.write_text(
        "身份证号,姓名\n" + "".join(f"{p[0]},{p[1]}\n" for p in PEOPLE[:2]), encoding="utf-8"
    )
    ledger = build_ledger(report, cls, ci, read_employed(employed), load_profile())
    assert (ledger["rule"], ledger["employment_rate"]) == ("employed", 0.4)  # 2 of 5 trainees
    assert [t["amount"] for t in ledger["trainees"]] == [450, 450, 0, 0, 0]
    assert ledger["total"] == 900 and trainee(ledger, "张伟")["days_amount"] == 450


def test_hash_is_the_same_in_both_languages_and_follows_the_checkins(
    tmp_path: Path, audited: Any
) -> None:
    cls, report = audited
    ci = read_checkins(write_checkins(tmp_path / "c.csv", every_day(PEOPLE[0])))
    zh = build_ledger(report, cls, ci, 4, load_profile(), "zh")
    en = build_ledger(report, cls, ci, 4, load_profile(), "en")
    assert zh["hash"] == en["hash"] and zh["findings"][0]["message"] != en["findings"][0]["message"]
    more = read_checkins(
        write_checkins(tmp_path / "d.csv", [*every_day(PEOPLE[0]), *every_day(PEOPLE[1])])
    )
    other = build_ledger(report, cls, more, 4, load_profile())
    assert other["hash"] != zh["hash"] and other["inputs"]["checkins"] != zh["inputs"]["checkins"]


def test_a_roster_changed_since_the_audit_is_refused(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    copy_dir = tmp_path / cls.name
    copy_dir.mkdir()
    lines = (cls / "名册.csv").read_text(encoding="utf-8").splitlines()
    (copy_dir / "名册.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="名册在审核后被改动"):
        build_ledger(report, copy_dir, None, None, load_profile())


def test_text_and_workbook(tmp_path: Path, audited: Any) -> None:
    cls, report = audited
    ci = read_checkins(write_checkins(tmp_path / "c.csv", every_day(PEOPLE[0])))
    ledger = build_ledger(report, cls, ci, 4, load_profile())
    shown = text(ledger)
    assert "王芳" in shown and "450" in shown and "按培训人数全额拨付" in shown
    book = load_workbook(io.BytesIO(xlsx(ledger)))
    assert book.sheetnames == ["补贴台账", "逐日明细", "核对发现的问题"]
    cells = [c.value for row in book["补贴台账"].iter_rows() for c in row]
    assert "王芳" in cells and 450 in cells and ledger["hash"] in cells


def test_cli(tmp_path: Path, audited: Any) -> None:
    cls, _ = audited
    runner = CliRunner()
    ci = write_checkins(
        tmp_path / "c.csv", [*every_day(PEOPLE[0]), (ABSENT[0], ABSENT[1], "2024-06-03 09:45")]
    )
    got = runner.invoke(
        main, ["ledger", str(cls), "--checkins", str(ci), "--employed", "4", "--format", "json"]
    )
    assert got.exit_code == 1, got.output  # CK01 is an error
    ledger = json.loads(got.stdout)
    assert ledger["rule"] == "full" and trainee(ledger, "王芳")["amount"] == 450
    assert "CK01" in codes(ledger)
    pdf = runner.invoke(main, ["ledger", str(cls), "--checkins", str(ci), "--format", "pdf"])
    assert pdf.exit_code == 2  # no PDF without --out (or without the documents module)
    printed = runner.invoke(
        main,
        [
            "ledger",
            str(cls),
            "--checkins",
            str(ci),
            "--employed",
            "4",
            "--format",
            "pdf",
            "--out",
            str(tmp_path / "台账.pdf"),
        ],
    )
    assert printed.exit_code == 1, printed.output
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(str(tmp_path / "台账.pdf"))[0]
    text = page.get_textpage().get_text_range()
    assert "培训补贴台账" in text and "王芳" in text and "450" in text
    assert round(page.get_width() / 72 * 25.4) == 210  # A4


def test_cli_finds_the_check_ins_handed_in_with_the_class(tmp_path: Path, audited: Any) -> None:
    """Without --checkins the command takes the class folder's own export (…签到….csv); with
    none there it says what it needs, in one line."""
    cls, _ = audited
    copy = tmp_path / cls.name
    shutil.copytree(cls, copy)
    runner = CliRunner()
    missing = runner.invoke(main, ["ledger", str(copy), "--format", "json"])
    assert missing.exit_code == 2 and "签到" in missing.stderr
    write_checkins(copy / "手机签到导出.csv", every_day(PEOPLE[0]))
    got = runner.invoke(main, ["ledger", str(copy), "--format", "json", "--employed", "4"])
    assert got.exit_code in (0, 1), got.output
    assert trainee(json.loads(got.stdout), "王芳")["amount"] == 450
