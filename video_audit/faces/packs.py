"""Model packs: ONNX folders installed with a SHA-256 manifest (select.py picks the engine)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from video_audit.faces.engine import EngineError

MANIFEST = "video-audit-pack.json"


@dataclass(frozen=True)
class Pack:
    """An installed (or found) model pack."""

    name: str
    path: Path
    files: tuple[str, ...]
    problem: str | None
    """Why the pack cannot be trusted (a changed file), or None."""
    verified: bool
    """Whether a manifest vouches for every file (packs placed by hand have none)."""


def model_roots() -> list[Path]:
    """Where packs are looked for: $VIDEO_AUDIT_MODELS, the workspace's models/ folder,
    ./models (a checkout of this project), ~/.insightface/models."""
    from video_audit.workspace import Workspace

    roots = []
    env = os.environ.get("VIDEO_AUDIT_MODELS")
    if env:
        roots.append(Path(env).expanduser())
    roots.append(Workspace.locate().models_dir)
    roots.append(Path.cwd() / "models")
    roots.append(Path.home() / ".insightface" / "models")
    unique: dict[Path, Path] = {}
    for root in roots:
        unique.setdefault(root.resolve(), root)
    return list(unique.values())


def install_root() -> Path:
    """Where `models install` puts packs: $VIDEO_AUDIT_MODELS, else the workspace's models/."""
    return model_roots()[0]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_pack(path: Path) -> str | None:
    """None when every file the manifest lists is there unchanged (or there is no manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return None
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{manifest}: unreadable pack manifest"
    for name, digest in files.items():
        f = path / name
        if not f.is_file():
            return f"{f}: missing (listed in the pack manifest)"
        if _sha256(f) != digest:
            return f"{f}: changed since it was installed (SHA-256 differs)"
    return None


def _pack(path: Path) -> Pack | None:
    onnx = sorted(p.name for p in path.glob("*.onnx"))
    if not onnx:
        return None
    return Pack(path.name, path, tuple(onnx), verify_pack(path), (path / MANIFEST).is_file())


def list_packs() -> list[Pack]:
    """Every pack found, in search order (a root may itself be a pack)."""
    packs: list[Pack] = []
    for root in model_roots():
        if not root.is_dir():
            continue
        own = _pack(root)
        if own:
            packs.append(own)
            continue
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            found = _pack(sub)
            if found:
                packs.append(found)
    return packs


def install(source: Path, dest_root: Path | None = None, name: str | None = None) -> Pack:
    """Install a pack from a ZIP or a folder of ONNX files; records each file's SHA-256."""
    dest_root = dest_root or install_root()
    if not source.exists():
        raise EngineError(f"{source}: no such file or folder")
    name = name or source.stem
    if not name or name.startswith(".") or "/" in name:
        raise EngineError(f"{name!r}: not a usable pack name")
    dest_root.mkdir(parents=True, exist_ok=True)
    target = dest_root / name
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=dest_root))
    try:
        if source.is_dir():
            members = {p.name: p for p in source.rglob("*") if p.is_file()}
            for fname, p in members.items():
                if fname.endswith(".onnx"):
                    shutil.copyfile(p, work / fname)
        else:
            try:
                with zipfile.ZipFile(source) as zf:
                    for info in zf.infolist():
                        fname = Path(info.filename).name
                        if info.is_dir() or not fname.endswith(".onnx"):
                            continue
                        with zf.open(info) as src, (work / fname).open("wb") as dst:
                            shutil.copyfileobj(src, dst)
            except zipfile.BadZipFile as exc:
                raise EngineError(f"{source}: not a ZIP file or a folder") from exc
        files = sorted(p.name for p in work.glob("*.onnx"))
        if not files:
            raise EngineError(f"{source}: holds no .onnx model")
        manifest = {
            "name": name,
            "source": str(source),
            "installed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": {f: _sha256(work / f) for f in files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    pack = _pack(target)
    assert pack is not None
    return pack


def usable_pack() -> Pack | None:
    """The first pack that passes its manifest check."""
    return next((p for p in list_packs() if p.problem is None), None)
