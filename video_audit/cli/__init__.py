"""`video-audit …`: parses, calls the library, prints. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from video_audit import __version__
from video_audit.audit import run_audit
from video_audit.cli.common import LANGS, default_lang, fail
from video_audit.context import AuditError, Estimate, Progress, ProgressState
from video_audit.faces.images import write_face_images
from video_audit.files import write_atomic
from video_audit.media.frames import failure_text
from video_audit.report import FORMATS, render
from video_audit.report.texts import t
from video_audit.settings import AuditSettings


def _lang_of(argv: list[str]) -> str:
    """The --lang a command line asked for (the group runs before the command parses it)."""
    for n, arg in enumerate(argv):
        if arg == "--lang=en" or (arg == "--lang" and argv[n + 1 : n + 2] == ["en"]):
            return "en"
        if arg == "--lang=zh" or (arg == "--lang" and argv[n + 1 : n + 2] == ["zh"]):
            return "zh"
    return default_lang()


def _crash_log(exc: BaseException) -> Path:
    """The full traceback, for whoever maintains the system, in a file of its own."""
    import tempfile
    import time
    import traceback

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"video-audit-error-{stamp}-{os.getpid()}.txt"
    text = "".join(traceback.format_exception(exc))
    try:
        path.write_text(f"video-audit {__version__}\n{' '.join(sys.argv)}\n\n{text}", "utf-8")
    except OSError:
        return Path("(stderr)")
    return path


class _Commands(click.Group):
    """The command group: whatever a command did not foresee ends in one line and exit 2 (a
    script reads 1 as "audit done, faults found"), with the traceback kept in a file."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo(f"video-audit: {t(_lang_of(sys.argv), 'interrupted')}", err=True)
            sys.exit(130)
        except Exception as exc:
            log = _crash_log(exc)
            lang = _lang_of(sys.argv)
            fail(t(lang, "internal_error", error=failure_text(exc), log=log))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="video-audit")
def main() -> None:
    """审核培训视频光盘是否符合附件4 / Audit training-video discs against Annex 4."""


def time_left(lang: str, seconds: float | None) -> str:
    """剩余时间约 3 分 20 秒: the estimate in whole seconds; that it is not known yet; or, under
    a second (the estimate ran out, the work has not), that it is almost done."""
    if seconds is None:
        return t(lang, "time_left_unknown")
    if seconds < 1:
        return t(lang, "time_left_soon")
    m, s = divmod(max(0, round(seconds)), 60)
    text = t(lang, "time_min_sec", m=m, s=s) if m else t(lang, "time_sec", s=s)
    return t(lang, "time_left", time=text)


@contextmanager
def _progress(lang: str, quiet: bool = False) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal (what is being done, clip x/N, the time
    remaining); nothing when piped, in CI or with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn
    from rich.progress import Progress as Bar
    from rich.text import Text

    estimate = Estimate()

    class TimeLeft(ProgressColumn):
        def render(self, task: Task) -> Text:  # counts down between steps
            return Text(time_left(lang, estimate.remaining()))

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeLeft(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(t(lang, "probing"), total=None)

        def update(state: ProgressState) -> None:
            what = t(lang, "decoding" if state.phase == "decode" else "probing")
            bar.update(task, description=what, completed=state.done, total=state.total or None)

        estimate.on_step = update
        yield estimate


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--roster",
    type=click.Path(path_type=Path),
    help="名册（CSV、XLSX 或 XLS）/ roster (CSV, XLSX or XLS)",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="写入文件 / write to FILE")
@click.option("--engine", type=click.Choice(["auto", "insightface", "embedded"]), default="auto")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
@click.option("--year", type=click.IntRange(2000, 2100), help="无年份日期的年份 / year of 5月24日")
@click.option("--standard", type=click.Path(path_type=Path), help="审核标准 TOML / profile")
@click.option(
    "--no-faces",
    is_flag=True,
    help="报告中不含人脸缩略图 / leave face thumbnails out of the report",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="不显示进度条 / no progress bar (none when piped either)"
)
def check(
    path: Path,
    roster: Path | None,
    fmt: str,
    out: Path | None,
    engine: str,
    lang: str,
    year: int | None,
    standard: Path | None,
    no_faces: bool,
    quiet: bool,
) -> None:
    """审核光盘或班级文件夹 / audit a disc or a class folder (exit 0 pass, 1 fail, 2 error)."""
    if fmt == "xlsx" and out is None:
        fail(t(lang, "needs_out", fmt=fmt))
    if not path.exists():
        fail(t(lang, "no_such_path", path=path))
    if not path.is_dir():
        fail(t(lang, "not_a_folder", path=path))
    if roster is not None and not roster.is_file():
        fail(t(lang, "no_such_path", path=roster))
    settings = AuditSettings.model_validate(
        {"standard": standard, "year": year, "lang": lang, "roster": roster, "engine": engine}
    )
    try:
        with _progress(lang, quiet) as progress:
            report = run_audit(path, settings, progress=progress)
    except AuditError as exc:
        fail(str(exc))
        return
    if fmt == "html":  # one file: thumbnails embedded (data: URIs), or none with --no-faces
        from video_audit.report import html

        data = html.render(report, lang, faces=not no_faces).encode("utf-8")
    else:
        data = render(report, fmt, lang)
    if out is not None:
        try:
            write_atomic(out, data)
            if fmt != "html" and not no_faces:  # JSON and XLSX name them: beside the report
                write_face_images(report.extras, out.parent)
        except OSError as exc:
            fail(t(lang, "cannot_write", path=out, detail=exc.strerror or exc))
        click.echo(t(lang, "written", path=out), err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    sys.exit(report.exit_code)


@main.command()
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def sample(outdir: Path, lang: str) -> None:
    """生成示例光盘 / write demo discs: one compliant class, one with known faults."""
    from video_audit.samples.discs import write_samples

    try:
        good, bad = write_samples(outdir)
    except OSError as exc:
        fail(t(lang, "cannot_write", path=outdir, detail=exc.strerror or exc))
        return
    click.echo(t(lang, "samples_written", path=outdir, good=good.path.name, bad=bad.path.name))


@main.command()
@click.option("--markdown", is_flag=True, help="docs/rules.md 的内容 / the docs page")
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def rules(markdown: bool, lang: str) -> None:
    """列出全部规则 / list every rule code."""
    from video_audit.findings import catalogue
    from video_audit.rules.docs import markdown as rules_markdown

    if markdown:
        click.echo(rules_markdown(), nl=False)
        return
    for r in catalogue().values():
        remedy = f"\n    → {r.remedy[lang]}" if r.remedy.get(lang) else ""
        click.echo(f"{r.code}  {r.severity:<7}  {r.title[lang]} — {r.description[lang]}{remedy}")


# Commands that live in their own modules, as "module:attribute" of a click command.
# Add one line per command; keep this file thin.
COMMAND_MODULES: list[str] = [
    "video_audit.cli.scan:scan",
    "video_audit.cli.serve:serve",
    "video_audit.cli.serve:users",
    "video_audit.cli.evidence:screenshot",
    "video_audit.cli.evidence:evidence",
    "video_audit.cli.models:models",
    "video_audit.cli.attendance:attendance",
    "video_audit.cli.documents:documents",
    "video_audit.cli.ledger:ledger",
    "video_audit.cli.patrol:patrol",
    "video_audit.cli.patrol_plan:patrol_plan",
    "video_audit.cli.sites:sites",
    "video_audit.cli.sites:patrol_run",
]


def _register() -> None:
    import importlib

    for spec in COMMAND_MODULES:
        module, attr = spec.split(":")
        main.add_command(getattr(importlib.import_module(module), attr))


_register()

if __name__ == "__main__":
    main()
