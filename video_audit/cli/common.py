"""What every `video-audit` command shares: language, the one-line failure, the workspace."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from video_audit.store import Store
    from video_audit.workspace import Workspace

LANGS = click.Choice(["zh", "en"])


def default_lang() -> str:
    """zh unless VIDEO_AUDIT_LANG says en."""
    lang = os.environ.get("VIDEO_AUDIT_LANG", "zh")
    return lang if lang in ("zh", "en") else "zh"


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: the command could not run."""
    from video_audit.naming import visible  # a path may carry what a terminal would obey

    click.echo(f"video-audit: {visible(message)}", err=True)
    sys.exit(2)


DATA_HELP = (
    "工作区目录 / workspace folder (default: $VIDEO_AUDIT_DATA, else ~/.local/share/video-audit)"
)
data_option = click.option(
    "--data", type=click.Path(path_type=Path, file_okay=False), help=DATA_HELP
)


def find_workspace(data: Path | None, *, create: bool, lang: str) -> tuple[Workspace, str]:
    """The workspace by the one rule, and the line that says which (and whether it is new).

    A command that only reads (create=False) exits 2 with one line when there is none.
    """
    from video_audit.workspace import Workspace

    workspace = Workspace.locate(data)
    existed = workspace.exists()
    if not existed and not create:
        fail(workspace.missing_message())
    if workspace.root.exists() and not workspace.root.is_dir():
        fail(f"{workspace.root}: 不是文件夹 / not a folder")
    return workspace, workspace.describe(lang, created=not existed)


@contextmanager
def workspace_store(
    data: Path | None, *, create: bool, lang: str = "zh", announce: bool = True
) -> Iterator[tuple[Workspace, Store, str]]:
    """The workspace, its database (upgraded if older) and the line saying which; closed after.

    With announce the line is said on stderr at once; a command that may still fail with its
    one-line error says it itself once it succeeded.
    """
    from video_audit.store import Store, StoreError

    workspace, said = find_workspace(data, create=create, lang=lang)
    try:
        store = Store(workspace.db)
    except (StoreError, OSError) as exc:
        fail(f"{workspace.root}: 无法打开工作区 / cannot open the workspace ({exc})")
    except Exception as exc:  # sqlite3.DatabaseError: locked, disk I/O
        fail(f"{workspace.db}: {exc}")
    if announce:
        click.echo(said, err=True)
    try:
        yield workspace, store, said
    finally:
        store.close()
