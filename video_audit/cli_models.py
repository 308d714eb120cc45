"""`video-audit models list|install`: face-model packs (the user brings the pack)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def models() -> None:
    """人脸模型包 / face-model packs (InsightFace weights: non-commercial research licence)."""


@models.command("list")
def list_packs() -> None:
    """列出已安装的模型包及 --engine auto 将使用的引擎 / installed packs and what auto runs."""
    from video_audit.faces.packs import list_packs as found
    from video_audit.faces.packs import model_roots, usable_pack

    packs = found()
    for pack in packs:
        state = (
            "changed: " + pack.problem
            if pack.problem
            else ("verified" if pack.verified else "no manifest")
        )
        click.echo(f"{pack.name}\t{pack.path}\t{', '.join(pack.files)}\t{state}")
    if not packs:
        click.echo("no model pack found in: " + ", ".join(str(r) for r in model_roots()))
    chosen = usable_pack()
    engine = f"insightface ({chosen.name})" if chosen else "embedded (dlib, built in)"
    click.echo(f"--engine auto → {engine}")


@models.command("install")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", help="包名（默认取文件名）/ pack name (default: the ZIP or folder name)")
@click.option(
    "--to",
    "dest",
    type=click.Path(path_type=Path),
    help="安装到 / install under (default: $VIDEO_AUDIT_MODELS or ./models)",
)
def install(source: Path, name: str | None, dest: Path | None) -> None:
    """安装模型包（ZIP 或文件夹）/ install a pack from a ZIP or a folder of ONNX files."""
    from video_audit.faces.engine import EngineError
    from video_audit.faces.packs import install as install_pack

    try:
        pack = install_pack(source, dest, name)
    except (EngineError, OSError) as exc:
        click.echo(f"video-audit: {exc}", err=True)
        sys.exit(2)
    click.echo(f"installed {pack.name} → {pack.path} ({', '.join(pack.files)}; SHA-256 recorded)")
