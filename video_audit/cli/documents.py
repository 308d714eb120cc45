"""`video-audit documents`: 审核意见表, 整改通知 and 公示名单 from an audit report's JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import fail


def _json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{what} 无法读取 / cannot read {path}: {exc}")


def _list(path: Path | None, what: str) -> list[dict[str, Any]]:
    if path is None:
        return []
    value = _json(path, what)
    if not isinstance(value, list):
        fail(f"{path}: {what} 应为 JSON 列表 / must be a JSON list")
    return value


@click.command()
@click.argument("audit_json", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--ledger", type=click.Path(path_type=Path, dir_okay=False), help="台账 JSON")
@click.option(
    "--kind",
    type=click.Choice(["opinion", "notice", "publicity"]),
    required=True,
    help="审核意见表 opinion / 整改通知 notice / 公示名单 publicity",
)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "xlsx"]), default="pdf")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="公示开始日期 / first day")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), help="整改期限 / fix by")
@click.option("--class", "class_path", help="班级路径（报告含多个班级时）/ class path")
@click.option("--institution", help="培训机构名称（覆盖从视频名称识别的）/ institution name")
@click.option("--standard-text", help="公示的补贴标准 / the subsidy standard as published")
@click.option("--spot-checks", type=click.Path(path_type=Path, dir_okay=False), help="JSON list")
@click.option("--evidence", type=click.Path(path_type=Path, dir_okay=False), help="JSON list")
def documents(
    audit_json: Path,
    ledger: Path | None,
    kind: str,
    fmt: str,
    out: Path,
    start: dt.datetime | None,
    deadline: dt.datetime | None,
    class_path: str | None,
    institution: str | None,
    standard_text: str | None,
    spot_checks: Path | None,
    evidence: Path | None,
) -> None:
    """审核意见表、整改通知、公示名单（PDF/HTML/XLSX）/ print the audit's documents."""
    from video_audit.documents import (
        CalendarError,
        DocumentError,
        build_document,
        render_document,
    )
    from video_audit.files import write_atomic

    report = _json(audit_json, "审核报告")
    ledger_dict = _json(ledger, "台账") if ledger is not None else None
    try:
        doc = build_document(
            kind,
            report,
            ledger=ledger_dict,
            class_path=class_path,
            institution=institution,
            spot_checks=_list(spot_checks, "抽查记录"),
            evidence=_list(evidence, "证据引用"),
            start=start.date() if start else None,
            deadline=deadline.date() if deadline else None,
            standard=standard_text,
        )
        data = render_document(doc, fmt, ledger_dict)
    except (DocumentError, CalendarError) as exc:
        fail(str(exc))
    try:
        write_atomic(out, data)
    except OSError as exc:
        fail(f"无法写入 / cannot write {out}: {exc.strerror or exc}")
    click.echo(f"已写入 / written: {out}", err=True)
