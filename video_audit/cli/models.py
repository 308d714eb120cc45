"""`video-audit models list|install`: face-model packs (the user brings the pack)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from video_audit.cli.common import LANGS, data_option, default_lang, fail
from video_audit.report.texts import t


@click.group()
def models() -> None:
    """人脸模型包 / face-model packs (InsightFace weights: non-commercial research licence)."""


def _use_workspace(data: Path | None, lang: str) -> None:
    """Say which workspace's models/ folder is searched; --data chooses it for this command."""
    from video_audit.workspace import ENV, Workspace

    workspace = Workspace.locate(data)
    os.environ[ENV] = str(workspace.root)  # the pack search reads the same rule
    click.echo(workspace.describe(lang), err=True)


@models.command("list")
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def list_packs(data: Path | None, lang: str) -> None:
    """列出已安装的模型包及 --engine auto 将使用的引擎 / installed packs and what auto runs."""
    _use_workspace(data, lang)
    from video_audit.faces.packs import list_packs as found
    from video_audit.faces.packs import model_roots, usable_pack

    packs = found()
    for pack in packs:
        state = (
            t(lang, "models_changed", problem=pack.problem)
            if pack.problem
            else t(lang, "models_verified" if pack.verified else "models_no_manifest")
        )
        click.echo(f"{pack.name}\t{pack.path}\t{', '.join(pack.files)}\t{state}")
    if not packs:
        roots = ", ".join(str(r) for r in model_roots())
        click.echo(t(lang, "models_none", roots=roots))
    chosen = usable_pack()
    engine = f"insightface ({chosen.name})" if chosen else t(lang, "models_builtin")
    click.echo(t(lang, "models_auto", engine=engine))


@models.command("install")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", help="包名（默认取文件名）/ pack name (default: the ZIP or folder name)")
@click.option(
    "--to",
    "dest",
    type=click.Path(path_type=Path),
    help="安装到 / install under (default: $VIDEO_AUDIT_MODELS, else the workspace's models/)",
)
@data_option
@click.option("--lang", type=LANGS, default=default_lang, show_default="zh")
def install(
    source: Path, name: str | None, dest: Path | None, data: Path | None, lang: str
) -> None:
    """安装模型包（ZIP 或文件夹）/ install a pack from a ZIP or a folder of ONNX files."""
    _use_workspace(data, lang)
    from video_audit.faces.engine import EngineError
    from video_audit.faces.packs import install as install_pack

    try:
        pack = install_pack(source, dest, name)
    except (EngineError, OSError) as exc:
        fail(str(exc))
    files = ", ".join(pack.files)
    click.echo(t(lang, "models_installed", name=pack.name, path=pack.path, files=files))
