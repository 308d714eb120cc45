"""`video-audit scan`: the nightly audit of a folder of discs, and its morning summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail, find_workspace
from video_audit.settings import AuditSettings

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "need_root": "请给出要扫描的目录 ROOT，或用 --summary 查看最近一次的摘要",
        "class": "[{verdict}] {cls}（{outcome}）：错误 {errors}，警告 {warnings}{rt01}",
        "rt01": "，留存问题 {n}",
        "pending": "[复制未完成] {cls}",
        "error": "[无法审核] {cls}：{error}",
        "removed": "[已删除] {cls}：留存问题 {rt01}",
        "done": (
            "夜间扫描 #{run} 完成：班级 {found}，本次审核 {audited}（不通过 {failed}），"
            "未变动 {unchanged}，复制未完成 {pending}，已删除 {removed}，无法审核 {error}"
        ),
        "written": "摘要已写入 {paths}",
        "database": "数据库：{db}（来自 --db）",
    },
    "en": {
        "need_root": "give the folder ROOT to scan, or --summary to see the latest summary",
        "class": "[{verdict}] {cls} ({outcome}): {errors} errors, {warnings} warnings{rt01}",
        "rt01": ", {n} retention findings",
        "pending": "[still being copied] {cls}",
        "error": "[could not audit] {cls}: {error}",
        "removed": "[removed] {cls}: {rt01} retention findings",
        "done": (
            "nightly scan #{run} done: {found} classes, {audited} audited ({failed} fail),"
            " {unchanged} unchanged, {pending} still being copied, {removed} removed,"
            " {error} could not be audited"
        ),
        "written": "summary written to {paths}",
        "database": "database: {db} (from --db)",
    },
}


def _say(lang: str, key: str, **params: Any) -> str:
    return _WORDS.get(lang, _WORDS["zh"])[key].format(**params)


def _logger(lang: str) -> Any:
    from video_audit.scan.summary import text_of

    def log(event: str, fields: dict[str, Any]) -> None:
        cls = fields.get("class", "")
        if event == "class":
            rt01 = _say(lang, "rt01", n=fields["rt01"]) if fields["rt01"] else ""
            line = _say(
                lang,
                "class",
                verdict=text_of(lang, fields["verdict"]),
                cls=cls,
                outcome=text_of(lang, fields["outcome"]),
                errors=fields["errors"],
                warnings=fields["warnings"],
                rt01=rt01,
            )
        elif event == "error":
            line = _say(lang, "error", cls=cls, error=fields.get("error"))
        elif event == "removed":
            line = _say(lang, "removed", cls=cls, rt01=fields.get("rt01", 0))
        else:
            line = _say(lang, "pending", cls=cls)
        click.echo(line, err=True)

    return log


@click.command("scan")
@click.argument("root", required=False, type=click.Path(path_type=Path))
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="另用一个数据库文件（默认：工作区的数据库）/ a database file other than the workspace's",
)
@data_option
@click.option(
    "--workers",
    type=click.IntRange(0, 512),
    default=lambda: min(4, os.cpu_count() or 1),
    show_default="min(4, CPUs)",
    help="并行审核的进程数，0 = 在本进程中 / worker processes, 0 = in this process",
)
@click.option("--cluster", metavar="ADDRESS", help="Dask 集群 / Dask scheduler, tcp://host:8786")
@click.option(
    "--settle",
    type=click.FloatRange(0),
    help="文件静止多少秒才审核 / seconds files must be unchanged [settings: 120]",
)
@click.option("--summary", is_flag=True, help="打印摘要 / print the (latest) morning summary")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
@click.option("--year", type=click.IntRange(2000, 2100), help="无年份日期的年份 / year of 5月24日")
@click.option("--standard", type=click.Path(path_type=Path), help="审核标准 TOML / profile")
def scan(
    root: Path | None,
    db: Path | None,
    data: Path | None,
    workers: int,
    cluster: str | None,
    settle: float | None,
    summary: bool,
    lang: str,
    year: int | None,
    standard: Path | None,
) -> None:
    """夜间审核：只审核新增或有变动的班级 / nightly audit of what changed under ROOT.

    Exit 0: no error findings tonight; 1: error findings (or RT01); 2: could not run, or a
    class could not be audited.
    """
    if root is None and not summary:
        fail(_say(lang, "need_root"))
    db, where = _database(db, data, lang, create=root is not None)
    if root is None:
        _print_summary(db, lang)
        click.echo(where, err=True)
        return
    from video_audit.scan.run import ScanError
    from video_audit.scan.run import scan as run_scan

    values: dict[str, Any] = {"lang": lang, "year": year, "standard": standard}
    if settle is not None:
        values["scan_settle_seconds"] = settle
    settings = AuditSettings.model_validate({k: v for k, v in values.items() if v is not None})
    try:
        result = run_scan(root, db, settings, workers, cluster, _logger(lang))
    except ScanError as exc:
        fail(str(exc))
        return
    counts = result.counts
    click.echo(where, err=True)
    click.echo(
        _say(
            lang,
            "done",
            run=result.run_id,
            found=sum(n for k, n in counts.items() if k != "removed"),
            audited=sum(counts.get(k, 0) for k in ("new", "changed", "reaudit")),
            failed=result.failed,
            unchanged=counts.get("unchanged", 0),
            pending=counts.get("pending", 0),
            removed=counts.get("removed", 0),
            error=counts.get("error", 0),
        ),
        err=True,
    )
    if result.summaries:
        paths = "、".join(str(p) for p in result.summaries)
        click.echo(_say(lang, "written", paths=paths), err=True)
    if summary:
        _print_summary(db, lang, result.run_id)
    sys.exit(result.exit_code)


def _database(db: Path | None, data: Path | None, lang: str, create: bool) -> tuple[Path, str]:
    """--db FILE as given, else the workspace's database (by the rule every command follows),
    and the line that says which; it is printed once the scan could run (errors stay one line)."""
    if db is None:
        workspace, said = find_workspace(data, create=create, lang=lang)
        return workspace.db, said
    if data is not None:
        fail("--db 与 --data 只能给一个 / give --db or --data, not both")
    return db, _say(lang, "database", db=db.resolve())


def _print_summary(db: Path, lang: str, run_id: int | None = None) -> None:
    from video_audit.scan.summary import latest_run, night_summary, render_text, text_of
    from video_audit.store.scan import ScanStore, StoreError

    try:
        store = ScanStore.open(db, readonly=True)
    except StoreError as exc:
        fail(str(exc))
        return
    try:
        run_id = run_id or latest_run(store)
        if run_id is None:
            fail(f"{db}: {text_of(lang, 'no_runs')}")
            return
        click.echo(render_text(night_summary(store, run_id), lang), nl=False)
    finally:
        store.close()
