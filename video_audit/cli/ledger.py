"""`video-audit ledger CLASS --checkins FILE`: audit the class afresh, reconcile the phone
check-ins with its attendance, price the verified days (docs/ledger.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, default_lang, fail

FORMATS = ("text", "json", "xlsx", "pdf")


@click.command()
@click.argument("class_path", metavar="CLASS", type=click.Path(path_type=Path))
@click.option(
    "--checkins",
    type=click.Path(path_type=Path),
    help="实名制系统导出的手机签到记录（CSV 或 XLSX；默认用班级文件夹中的“…签到…”文件）"
    " / phone check-in export (default: the class folder's own)",
)
@click.option(
    "--employed",
    help="就业名单（CSV 或 XLSX，按身份证号）或就业人数 / employment list, or a count",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="写入文件 / write to FILE")
@click.option("--standard", type=click.Path(path_type=Path), help="审核标准 TOML / profile")
@click.option("--roster", type=click.Path(path_type=Path), help="名册 / roster (else the class's)")
@click.option("--engine", type=click.Choice(["auto", "insightface", "embedded"]), default="auto")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def ledger(
    class_path: Path,
    checkins: Path | None,
    employed: str | None,
    fmt: str,
    out: Path | None,
    standard: Path | None,
    roster: Path | None,
    engine: str,
    lang: str,
) -> None:
    """补贴台账：审核班级并核对手机签到 / subsidy ledger: audit a class, reconcile check-ins
    (exit 0 no error findings, 1 error findings or unreadable rows, 2 could not run)."""
    from video_audit.audit import run_audit
    from video_audit.context import AuditError
    from video_audit.files import write_atomic
    from video_audit.ledger import (
        EmployedFile,
        LedgerError,
        build_ledger,
        read_checkins,
        read_employed,
    )
    from video_audit.ledger import render as ledger_render
    from video_audit.settings import AuditSettings
    from video_audit.standard import ProfileError, load_profile

    zh = lang == "zh"
    pdf = _pdf_renderer() if fmt == "pdf" else None
    if fmt == "pdf" and pdf is None:
        fail("PDF 输出未安装 / --format pdf is not available in this installation")
    if fmt in ("xlsx", "pdf") and out is None:
        fail(f"--format {fmt} 需要 --out / --format {fmt} needs --out")
    if not class_path.is_dir():
        fail(f"{class_path}: {'不是文件夹' if zh else 'not a folder'}")
    for path in (checkins, roster):
        if path is not None and not path.is_file():
            fail(f"{path}: {'文件不存在' if zh else 'no such file'}")
    try:
        profile = load_profile(standard)
    except ProfileError as exc:
        fail(str(exc))
    handed_in = _handed_in(class_path, profile)
    checkins = checkins or handed_in[0]
    if checkins is None:
        fail(
            "需要手机签到记录：--checkins 文件，或放在班级文件夹中（文件名含“签到”或“打卡”）"
            if zh
            else "needs the check-in export: --checkins FILE, or one in the class folder"
        )
    if employed is None and handed_in[1] is not None:
        employed = str(handed_in[1])
    found = read_checkins(checkins)
    if not found.rows and found.errors:
        fail(found.errors[0])
    employment: EmployedFile | int | None = None
    if employed is not None:
        if employed.strip().isdigit() and not Path(employed).is_file():
            employment = int(employed)
        elif Path(employed).is_file():
            employment = read_employed(Path(employed))
        else:
            fail(f"{employed}: {'不是文件，也不是人数' if zh else 'neither a file nor a count'}")
    settings = AuditSettings.model_validate(
        {"standard": standard, "lang": lang, "roster": roster, "engine": engine}
    )
    try:
        report = run_audit(class_path, settings)
        result = build_ledger(
            report.to_dict(lang), class_path, found, employment, profile, lang, roster_file=roster
        )
    except (AuditError, LedgerError) as exc:
        fail(str(exc))
    if fmt == "json":
        data = (json.dumps(result, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    elif fmt == "xlsx":
        data = ledger_render.xlsx(result, lang)
    elif fmt == "pdf" and pdf is not None:
        data = pdf(result, lang)
    else:
        data = ledger_render.text(result, lang).encode("utf-8")
    if out is not None:
        try:
            write_atomic(out, data)
        except OSError as exc:
            fail(f"{out}: {exc.strerror or exc}")
        click.echo(f"{'已写入' if zh else 'written'} {out}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    for problem in result["problems"]:
        click.echo(problem, err=True)
    bad = result["summary"]["errors"] or result["problems"]
    sys.exit(1 if bad else 0)


def _pdf_renderer() -> Callable[[dict[str, Any], str], bytes] | None:
    """video_audit.documents' ledger PDF (ledger dict, lang) -> bytes, when it is installed."""
    try:
        from video_audit import documents
    except ImportError:
        return None
    render: Callable[[dict[str, Any], str], bytes] | None = getattr(documents, "ledger_pdf", None)
    return render


def _handed_in(class_path: Path, profile: Any) -> tuple[Path | None, Path | None]:
    """The check-in export and employment list the institution put in the class folder."""
    from video_audit.disc import DiscWalker

    walked = DiscWalker(profile).walk(class_path)
    cls = walked.classes[0] if walked.kind == "class" and walked.classes else None
    return (cls.checkins, cls.employment) if cls is not None else (None, None)
