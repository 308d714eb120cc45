"""Every rule code passes and fails on the cases in cases/rules.toml (real clips, real audits)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLIP_KINDS, PREFIX
from tests.rosters import write_xlsx
from video_audit.audit import run_audit
from video_audit.findings import catalogue
from video_audit.samples.discs import write_clip
from video_audit.settings import AuditSettings

CASES: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "cases" / "rules.toml").read_text(encoding="utf-8")
)
# Codes that need what a TOML case cannot build (links, permissions): see test_bad_input.py.
ELSEWHERE = {"LY05", "FM05", "FM06"}  # FM05/FM06: test_broken_corpus.py


def _p(text: str) -> str:
    return text.replace("{P}", PREFIX)


def build(
    root: Path, case: dict[str, Any], make_clip: Callable[..., Path], make_day: Callable[..., Path]
) -> None:
    for folder, date in case.get("days", {}).items():
        make_day(root / _p(folder), date)
    for rel in case.get("remove", []):
        (root / _p(rel)).unlink()
    for rel in case.get("dirs", []):
        (root / _p(rel)).mkdir(parents=True, exist_ok=True)
    for rel, kind in case.get("files", {}).items():
        path = root / _p(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "text":
            path.write_text("不是视频", encoding="utf-8")
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "junk":
            path.write_bytes(b"this is not a video\n" * 50)
        elif kind == "truncated":
            make_clip(path, "roll")
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        elif kind == "xlsx_roster":
            write_xlsx(path, ["序号", "姓名", "身份证号码"], [(1, "王芳", "140423199001011234")])
        elif "@" in kind:  # "roll@2023-05-24T09:00": a clip whose metadata says when it was made
            name, start = kind.split("@")
            when = dt.datetime.fromisoformat(start).replace(
                tzinfo=dt.timezone(dt.timedelta(hours=8))
            )
            write_clip(path, dataclasses.replace(CLIP_KINDS[name], start=when))
        else:
            make_clip(path, kind)


@pytest.mark.parametrize("name", list(CASES))
def test_rule_case(
    name: str,
    tmp_path: Path,
    make_clip: Callable[..., Path],
    make_day: Callable[..., Path],
    short_profile: Path,
) -> None:
    case = CASES[name]
    build(tmp_path, case, make_clip, make_day)
    report = run_audit(tmp_path / _p(case["audit"]), AuditSettings(standard=short_profile))
    only = set(case.get("only", [])) or {f.code for f in report.findings}
    got = Counter((f.code, f.path) for f in report.findings if f.code in only)
    want = Counter((code, _p(path)) for code, path in case["expect"])
    assert got == want, [f.to_dict() for f in report.findings]
    assert report.exit_code == (1 if any(f.severity == "error" for f in report.findings) else 0)


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    failing = {code for case in CASES.values() for code, _ in case["expect"]}
    core = {
        c for c, r in catalogue().items() if r.group in ("layout", "naming", "content", "format")
    }
    assert core - failing - ELSEWHERE == set()
    # The clean cases audit everything and expect nothing: every core rule passes there.
    assert any(not case["expect"] and case.get("days") for case in CASES.values())
