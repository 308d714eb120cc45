"""`video-audit attendance export | import`: inspectors' attendance decisions, for scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from video_audit.faces.review import ClassReview
    from video_audit.store import Store
    from video_audit.workspace import Workspace

from video_audit.cli.common import data_option, fail, workspace_store


@click.group()
def attendance() -> None:
    """考勤核实的决定（导出、导入）/ attendance decisions (export, import)."""


@attendance.command("export")
@click.argument("class_id", type=int)
@data_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON 文件 / file")
def export(class_id: int, data: Path | None, out: Path | None) -> None:
    """导出班级的有效决定（按人员与描述编号，不含特征向量）/ a class's decisions as JSON."""
    from video_audit.files import write_atomic

    with workspace_store(data, create=False) as (workspace, store, _):
        review = _review(workspace, store, class_id)
    by_person = {p: d.to_dict() for p, d in review.decided.items()}
    doc: dict[str, Any] = {
        "class_id": class_id,
        "audit_id": review.audit_id,
        "by_person": by_person,
        "by_descriptor": {d["descriptor"]: d for d in by_person.values()},
        "not_found": [d.to_dict() for d in review.not_found],
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text.encode("utf-8"))


@attendance.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--by", "by", required=True, help="决定人（登录名）/ who decides")
@data_option
def import_(file: Path, by: str, data: Path | None) -> None:
    """把文件中的决定应用到该班最近一次审核的人员上 / apply decisions to the latest audit."""
    from video_audit.evidence import EvidenceKeyError, EvidenceLog
    from video_audit.faces.decisions import person_descriptor
    from video_audit.faces.review import ReviewError

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        class_id = int(doc["class_id"])
        wanted = list((doc.get("by_person") or {}).items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        fail(f"{file}: 不是 `attendance export` 写出的文件 / not an export ({exc})")
    with workspace_store(data, create=False) as (workspace, store, _):
        review = _review(workspace, store, class_id)
        log = EvidenceLog(store, workspace.evidence_dir)
        people = review.attendance.get("people") or []
        by_descriptor = {person_descriptor(p): str(p["person"]) for p in people}
        made = 0
        for person, d in wanted:
            target = by_descriptor.get(str(d.get("descriptor"))) or person
            try:
                decision = review.decide(store, log, target, d["kind"], d.get("key"), by)
            except ReviewError as exc:
                click.echo(f"{person}: {exc}", err=True)
                continue
            except EvidenceKeyError as exc:
                fail(exc.message())
            made += 1
            click.echo(f"#{decision.id}  {target}  {decision.kind}  {decision.key or ''}")
    click.echo(f"已记录 {made} 个决定 / {made} decisions recorded", err=True)


def _review(workspace: Workspace, store: Store, class_id: int) -> ClassReview:
    """The attendance review of an uploaded class (one line and exit 2 when there is none)."""
    from video_audit.faces.review import ClassReview

    row = store.class_row(class_id)
    if row is None:
        fail(f"没有班级 {class_id} / no class {class_id}")
    folder = workspace.root / "classes" / row["folder"]
    return ClassReview.load(store, workspace.reports_dir, class_id, folder)
