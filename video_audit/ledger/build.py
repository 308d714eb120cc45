"""The subsidy ledger of one class: check-ins reconciled with the attendance, day by day (CK01–
CK05), verified days priced by the tiers and the cap, the class total by the employment rule.

Input is an audit's JSON dict (report.to_dict(lang), decisions applied when the web serves it)
and the class's roster (full ID numbers: check-ins are matched by ID, never by name). Output is
the DESIGN.md ledger contract, with each trainee's `days` showing where every yuan comes from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from video_audit.clock.parse import parse_zone
from video_audit.faces.roster import Roster, RosterEntry, RosterError, mask_id, parse_roster
from video_audit.findings import Finding, finding
from video_audit.ledger.checkins import Checkin, CheckinFile, EmployedFile
from video_audit.ledger.subsidy import SubsidyRules, money
from video_audit.standard import Profile


class LedgerError(ValueError):
    """A ledger that cannot be built (no attendance, no roster, a roster changed since the
    audit); the message says why, in Chinese and English."""


# Why a trainee-day is (not) paid: stable codes in `days[].reason`, words in `days[].text`.
REASONS: dict[str, tuple[str, str]] = {
    "seen": ("人脸识别在场且已签到", "seen in the face rolls and checked in"),
    "confirmed": ("经核实在场且已签到", "confirmed present by an inspector and checked in"),
    "in_review": ("已签到，人脸待核实（核实前不计补贴）", "checked in; face in review (unpaid)"),
    "not_seen": ("已签到但人脸识别视频中未见（疑似代打卡）", "checked in but not seen"),
    "no_checkin": ("在场但无签到记录", "seen but not checked in"),
    "absent": ("未签到，人脸识别视频中未见", "not checked in and not seen"),
    "undecidable": ("核实后无法确定身份", "an inspector could not decide who it is"),
    "no_footage": ("当天没有可分析的人脸识别视频", "no face-roll footage that day"),
    "voided": ("当天视频未通过真实性检查", "the day's footage fails the authenticity checks"),
    "no_day": ("签到当天没有视频文件夹", "no day folder for the check-in date"),
}
PAID = {"seen", "confirmed"}


def build_ledger(
    report: Mapping[str, Any],
    class_path: str | Path,
    checkins: CheckinFile | None,
    employed: EmployedFile | int | None,
    profile: Profile,
    lang: str = "zh",
    *,
    roster_file: Path | None = None,
) -> dict[str, Any]:
    """The ledger of the class at CLASS_PATH audited in REPORT (DESIGN.md contract + hash)."""
    rules = SubsidyRules.from_profile(profile)
    cls = _class_of(report, Path(class_path))
    attendance = cls.get("attendance")
    if not isinstance(attendance, Mapping) or "days" not in attendance:
        raise LedgerError(
            "该班没有考勤结果（缺少名册或人脸分析未完成），无法生成补贴台账 / "
            "the class has no attendance (no roster, or faces not analysed)"
        )
    roster = _roster(cls, Path(class_path), attendance, roster_file)
    trainees = [e for e in roster.entries if e.role == "trainee"]
    days = _days(report, cls, attendance, rules)
    zone = parse_zone(str(profile.section("picture").get("timezone", "+08:00")))
    spans = _spans(cls, zone)
    found: list[Finding] = []
    by_trainee = _match(checkins, roster, cls["path"], found)

    rows = []
    for entry in trainees:
        checked = by_trainee.get(entry.key, {})
        rows.append(_trainee(entry, days, checked, spans, rules, found, cls["path"]))
    employment = _employment(employed, trainees, rules)
    rule = employment["rule"]
    total = _pay(rows, rule, employment)

    ledger: dict[str, Any] = {
        "class": cls.get("folder") or cls["path"],
        "class_path": cls["path"],
        "prefix": cls.get("prefix"),
        "rule": rule,
        "employment_rate": employment["rate"],
        "employment": {k: v for k, v in employment.items() if k not in ("rule", "rate", "keys")},
        "total": total,
        "standard": {
            "id": profile.id,
            "first_days": rules.first_days,
            "first_rate": money(rules.first_rate),
            "later_rate": money(rules.later_rate),
            "cap": money(rules.cap),
            "employment_threshold": rules.employment_threshold,
            "void_codes": list(rules.void_codes),
        },
        "summary": {
            "trainees": len(rows),
            "verified_days": sum(r["verified_days"] for r in rows),
            "pending_days": sum(r["pending_days"] for r in rows),
        },
        "trainees": rows,
        "findings": sorted(found, key=lambda f: (f.path, f.code)),
        "problems": (checkins.errors if checkins else [])
        + (employed.errors if isinstance(employed, EmployedFile) else []),
    }
    ledger["summary"].update(_severities(ledger["findings"]))
    ledger["hash"] = ledger_hash(ledger)
    ledger["findings"] = [f.to_dict(lang) for f in ledger["findings"]]
    for row in rows:
        for day in row["days"]:
            day["text"] = REASONS[day["reason"]][0 if lang == "zh" else 1]
    ledger["inputs"] = _inputs(report, attendance, checkins, employed, roster, rules, profile)
    ledger["lang"] = lang
    return ledger


def ledger_hash(ledger: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the figures (everything but hash, inputs and wording):
    findings count by code, path, severity and details, days by their reason codes, so the zh
    and the en ledger of one class have the same hash."""
    neutral = {k: v for k, v in ledger.items() if k not in ("hash", "inputs", "lang")}
    neutral["findings"] = [_neutral_finding(f) for f in ledger.get("findings") or []]
    neutral["trainees"] = [
        {**t, "days": [{k: v for k, v in d.items() if k != "text"} for d in t["days"]]}
        for t in ledger.get("trainees") or []
    ]
    return hashlib.sha256(canonical(neutral)).hexdigest()


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8)."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def _neutral_finding(f: Finding | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(f, Finding):
        return {"code": f.code, "path": f.path, "severity": f.severity, "details": f.details}
    keys = ("code", "path", "severity", "details")
    return {k: f.get(k) for k in keys}


def _severities(found: Sequence[Finding]) -> dict[str, int]:
    return {
        "errors": sum(1 for f in found if f.severity == "error"),
        "warnings": sum(1 for f in found if f.severity == "warning"),
    }


# ---------------------------------------------------------------- the class, roster and days


def _class_of(report: Mapping[str, Any], class_path: Path) -> Mapping[str, Any]:
    classes = list(report.get("classes") or [])
    root = Path(str(report.get("path", "")))
    for cls in classes:
        try:
            if (root / str(cls["path"])).resolve() == class_path.resolve():
                return cls
        except OSError:
            continue
    if len(classes) == 1:
        return classes[0]
    raise LedgerError(f"{class_path}: 审核报告中没有这个班级 / the report has no such class")


def _roster(
    cls: Mapping[str, Any],
    class_path: Path,
    attendance: Mapping[str, Any],
    roster_file: Path | None,
) -> Roster:
    """The roster the audit used, with full ID numbers; its keys must be the attendance's."""
    path = roster_file or (class_path / str(cls["roster"]) if cls.get("roster") else None)
    if path is None or not path.is_file():
        raise LedgerError(
            f"{class_path}: 找不到名册文件，无法按身份证号核对签到 / no roster to match check-ins"
        )
    try:
        roster = parse_roster(path)
    except RosterError as exc:
        raise LedgerError(f"名册无法读取 / roster cannot be read: {exc}") from exc
    keys = {e.key: e for e in roster.entries}
    shown_keys = {str(e.get("key")) for e in attendance.get("roster") or []}
    if shown_keys and shown_keys != set(keys):
        raise LedgerError(
            f"{path}: 名册在审核后被改动（人员增减），请重新审核 / "
            "the roster changed since the audit: audit the class again"
        )
    for shown in attendance.get("roster") or []:
        entry = keys.get(str(shown.get("key")))
        if entry is None or entry.masked_id != shown.get("id") or entry.name != shown.get("name"):
            raise LedgerError(
                f"{path}: 名册在审核后被改动（{shown.get('key')}），请重新审核 / "
                "the roster changed since the audit: audit the class again"
            )
    return roster


class _Day:
    """One day folder of the class as the ledger sees it."""

    def __init__(self, path: str, date: dt.date, att: Mapping[str, Any] | None) -> None:
        self.path = path
        self.date = date
        self.att = att or {}
        self.void: list[str] = []

    @property
    def footage(self) -> bool:
        return bool(self.att) and bool(self.att.get("footage", True))

    def present(self, key: str) -> Mapping[str, Any] | None:
        """The case that shows KEY present ({} when only the present list names it)."""
        if key not in (self.att.get("present") or []):
            return None
        for case in self.att.get("matches") or []:
            if case.get("key") == key:
                return case
        return {}

    def review(self, key: str) -> Mapping[str, Any] | None:
        """The review case KEY is a candidate of, if any."""
        for case in self.att.get("review") or []:
            if key in (case.get("candidates") or []):
                return case
        return None


def _days(
    report: Mapping[str, Any],
    cls: Mapping[str, Any],
    attendance: Mapping[str, Any],
    rules: SubsidyRules,
) -> dict[dt.date, _Day]:
    att_days = {str(d.get("path")): d for d in attendance.get("days") or []}
    out: dict[dt.date, _Day] = {}
    for day in cls.get("days") or []:
        if not day.get("date"):
            continue  # LY02: a day without a date cannot be paired with a check-in
        date = dt.date.fromisoformat(str(day["date"]))
        if date not in out:  # LY04: two folders of one date: the first one counts
            out[date] = _Day(str(day["path"]), date, att_days.get(str(day["path"])))
    voiding = set(rules.void_codes)
    for f in report.get("findings") or []:
        if f.get("code") not in voiding:
            continue
        for day in out.values():
            path = str(f.get("path", ""))
            if (path == day.path or path.startswith(day.path + "/")) and f["code"] not in day.void:
                day.void.append(str(f["code"]))
    return out


def _spans(
    cls: Mapping[str, Any], zone: dt.tzinfo
) -> dict[dt.date, list[tuple[dt.datetime, dt.datetime]]]:
    """Each day's recording times by the camera clock (local, naive), where it was read."""
    out: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for day in cls.get("days") or []:
        if not day.get("date"):
            continue
        date = dt.date.fromisoformat(str(day["date"]))
        for clip in day.get("clips") or []:
            clock = clip.get("clock") or {}
            if not (clock.get("found") and clock.get("used") and clock.get("start")):
                continue
            start = _local(str(clock["start"]), zone)
            end = _local(str(clock.get("end") or clock["start"]), zone)
            out[date].append((start, end))
    return out


def _local(text: str, zone: dt.tzinfo) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when.astimezone(zone).replace(tzinfo=None) if when.tzinfo else when


# ---------------------------------------------------------------- check-ins to trainee-days


def _match(
    checkins: CheckinFile | None, roster: Roster, class_rel: str, found: list[Finding]
) -> dict[str, dict[dt.date, list[Checkin]]]:
    """Check-ins by roster key and date; a check-in whose ID is not on the roster is CK05."""
    by_id = {e.id: e for e in roster.entries}
    out: dict[str, dict[dt.date, list[Checkin]]] = defaultdict(lambda: defaultdict(list))
    strangers: dict[str, list[Checkin]] = defaultdict(list)
    for c in checkins.rows if checkins else []:
        entry = by_id.get(c.id)
        if entry is None:
            strangers[c.id].append(c)
        elif entry.role == "trainee":  # staff check in too; they are not subsidised
            out[entry.key][c.at.date()].append(c)
    for pid, rows in strangers.items():
        found.append(
            finding(
                "CK05",
                class_rel,
                "not_on_roster",
                name=rows[0].name,
                id=mask_id(pid),
                rows=[c.row for c in rows],
                dates=sorted({c.at.date().isoformat() for c in rows}),
                count=len(rows),
            )
        )
    return out


def _trainee(
    entry: RosterEntry,
    days: Mapping[dt.date, _Day],
    checked: Mapping[dt.date, list[Checkin]],
    spans: Mapping[dt.date, list[tuple[dt.datetime, dt.datetime]]],
    rules: SubsidyRules,
    found: list[Finding],
    class_rel: str,
) -> dict[str, Any]:
    who = {"name": entry.name, "id": entry.masked_id, "key": entry.key}
    out_days: list[dict[str, Any]] = []
    for date in sorted(set(days) | set(checked)):
        day = days.get(date)
        rows = sorted(checked.get(date, []), key=lambda c: c.at)
        state, reason, extra = _day_state(entry.key, day, bool(rows))
        out_days.append(
            {
                "date": date.isoformat(),
                "path": day.path if day else None,
                "state": state,
                "reason": reason,
                "checkins": [
                    {"row": c.row, "at": c.at.isoformat(sep=" "), "place": c.place} for c in rows
                ],
                **extra,
            }
        )
        found.extend(
            _day_findings(who, day, date, reason, rows, spans.get(date, []), rules, class_rel)
        )
    paid = [d for d in out_days if d["state"] == "verified"]
    for d, rate in zip(paid, rules.day_rates(len(paid)), strict=True):
        d["rate"] = rate
    amount = rules.amount(len(paid))
    return {
        **who,
        "verified_days": len(paid),
        "pending_days": sum(1 for d in out_days if d["state"] == "pending"),
        "days_amount": amount,
        "amount": amount,
        "employed": None,
        "days": out_days,
    }


def _day_state(key: str, day: _Day | None, checked: bool) -> tuple[str, str, dict[str, Any]]:
    """(state, reason, extra fields) of one trainee-day."""
    if day is None:
        return "unpaid", "no_day", {}
    if day.void:
        return "unpaid", "voided", {"codes": list(day.void)}
    if not day.footage:
        return "unpaid", "no_footage", {}
    case = day.present(key)
    if case is not None:
        decided = case.get("decided_by")
        reason = "confirmed" if decided else "seen"
        extra = {"decided_by": decided} if decided else {}
        return ("verified", reason, extra) if checked else ("unpaid", "no_checkin", extra)
    review = day.review(key)
    if review is not None and checked:
        if review.get("decided_by"):
            return "unpaid", "undecidable", {"decided_by": review["decided_by"]}
        return "pending", "in_review", {"person": review.get("person")}
    if review is not None:
        return "unpaid", "absent", {}
    return ("unpaid", "not_seen", {}) if checked else ("unpaid", "absent", {})


def _day_findings(
    who: Mapping[str, str],
    day: _Day | None,
    date: dt.date,
    reason: str,
    rows: Sequence[Checkin],
    spans: Sequence[tuple[dt.datetime, dt.datetime]],
    rules: SubsidyRules,
    class_rel: str,
) -> Iterable[Finding]:
    details = {**who, "date": date.isoformat(), "rows": [c.row for c in rows]}
    times = [c.at.strftime("%H:%M") for c in rows]
    if reason == "no_day" and rows:
        yield finding("CK03", class_rel, "no_day", times=times, **details)
    elif reason == "voided" and rows and day:
        yield finding("CK03", day.path, "voided", times=times, codes=day.void, **details)
    elif reason == "no_footage" and rows and day:
        yield finding("CK03", day.path, "no_footage", times=times, **details)
    elif reason == "not_seen" and day:
        yield finding("CK01", day.path, "not_seen", times=times, **details)
    elif reason == "no_checkin" and day:
        yield finding("CK02", day.path, "not_checked_in", **details)
    if day is None or not rows or not spans or reason in ("voided", "no_footage"):
        return
    gaps = [(_gap(c.at, spans), c) for c in rows]
    minutes, far = max(gaps, key=lambda g: g[0])
    if minutes > rules.checkin_minutes:
        shown = "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in sorted(spans))
        yield finding(
            "CK04",
            day.path,
            "far",
            time=far.at.strftime("%H:%M"),
            recorded=shown,
            minutes=round(minutes),
            threshold=round(rules.checkin_minutes),
            **details,
        )


def _gap(at: dt.datetime, spans: Sequence[tuple[dt.datetime, dt.datetime]]) -> float:
    """Minutes from AT to the nearest recording span (0 inside one)."""
    best = float("inf")
    for start, end in spans:
        if start <= at <= end:
            return 0.0
        best = min(best, abs((start - at).total_seconds()), abs((at - end).total_seconds()))
    return best / 60


# ---------------------------------------------------------------- employment and payment


def _employment(
    employed: EmployedFile | int | None, trainees: Sequence[RosterEntry], rules: SubsidyRules
) -> dict[str, Any]:
    n = len(trainees)
    ids = {e.id for e in trainees}
    if employed is None:
        return {"basis": None, "rule": None, "rate": None, "trainees": n, "employed": None}
    if isinstance(employed, EmployedFile):
        hits = {e.key for e in trainees if e.id in employed.ids}
        count: int = len(hits)
        extra: dict[str, Any] = {"basis": "list", "not_on_roster": len(employed.ids - ids)}
    else:
        count = int(employed)
        if not 0 <= count <= n:
            raise LedgerError(
                f"就业人数 {count} 不在 0 到培训人数 {n} 之间 / employed count outside 0..{n}"
            )
        hits = set()
        extra = {"basis": "count"}
    rate = round(count / n, 4) if n else None
    return {
        **extra,
        "rule": rules.rule(rate),
        "rate": rate,
        "trainees": n,
        "employed": count,
        "threshold": rules.employment_threshold,
        "keys": hits,
    }


def _pay(rows: list[dict[str, Any]], rule: str | None, employment: Mapping[str, Any]) -> float:
    """Each trainee's amount under the rule, and the class total.

    "full" (or no employment data): everyone's days are paid. "employed" with a list: only the
    employed trainees are paid. "employed" with a count only: nobody can be named, so each
    trainee shows the days' amount and the total is the average per trainee × the employed
    count (按实际就业人数申领)."""
    by_key = {row["key"]: row for row in rows}
    if employment.get("basis") == "list":
        for key, row in by_key.items():
            row["employed"] = key in employment["keys"]
            if rule == "employed" and not row["employed"]:
                row["amount"] = 0
    if rule == "employed" and employment.get("basis") == "count":
        average = sum(r["days_amount"] for r in rows) / len(rows) if rows else 0
        return money(average * int(employment["employed"]))
    return money(sum(r["amount"] for r in rows))


# ---------------------------------------------------------------- what the ledger depends on


def _inputs(
    report: Mapping[str, Any],
    attendance: Mapping[str, Any],
    checkins: CheckinFile | None,
    employed: EmployedFile | int | None,
    roster: Roster,
    rules: SubsidyRules,
    profile: Profile,
) -> dict[str, Any]:
    """Digests of everything the figures depend on: a change to any voids a signature."""
    decided = sorted(
        (str(p.get("person")), canonical(p.get("decided_by")).decode("utf-8"))
        for p in attendance.get("people") or []
        if p.get("decided_by")
    )
    if checkins is None:
        checkin_digest = None
    else:
        rows = [[c.row, c.id, c.name, c.at.isoformat(), c.place] for c in checkins.rows]
        checkin_digest = _digest({"rows": rows, "errors": checkins.errors})
    if isinstance(employed, EmployedFile):
        employment_digest: str | None = _digest({"ids": sorted(employed.ids)})
    else:
        employment_digest = None if employed is None else _digest({"count": int(employed)})
    try:
        roster_digest: str | None = hashlib.sha256(roster.path.read_bytes()).hexdigest()
    except OSError:
        roster_digest = None
    return {
        "audit_started": report.get("started"),
        "decisions": _digest(decided),
        "decisions_count": len(decided),
        "checkins": checkin_digest,
        "employment": employment_digest,
        "roster": roster_digest,
        "standard": {"id": profile.id, "subsidy": _digest(rules.__dict__)},
    }


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()
