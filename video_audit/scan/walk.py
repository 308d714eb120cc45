"""What the nightly scan sees on disk: class folders at any depth, and their fingerprints."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from video_audit.disc import DiscWalker
from video_audit.naming import display_name
from video_audit.store.scan import FileState

HEAD_BYTES = 16 * 1024
"""How much of each file's start is hashed: catches a rewrite that keeps size and mtime, while a
rescan of 9,000 clips (200 classes of 15 days) reads about 150 MB from the share."""
MAX_DEPTH = 8
"""Class folders are looked for at most this deep under the root."""


# --- finding class folders -------------------------------------------------------------------
@dataclass(frozen=True)
class ClassSpot:
    """A class folder found under the root; `rel` is relative to the root, with '/'."""

    path: Path
    rel: str


def find_classes(root: Path, walker: DiscWalker) -> tuple[list[ClassSpot], list[str]]:
    """Class folders at any depth under ROOT, and folders that could not be listed.

    Links are not followed and hidden folders are skipped.
    """
    found: list[ClassSpot] = []
    unreadable: list[str] = []

    def visit(folder: Path, parts: list[str]) -> None:
        if parts and walker.is_class_dir(folder):
            found.append(ClassSpot(folder, _rel(parts)))
            return
        if len(parts) >= MAX_DEPTH:
            return
        try:
            with os.scandir(folder) as it:
                subs = sorted(
                    e.name
                    for e in it
                    if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
                )
        except OSError:
            unreadable.append(_rel(parts) or ".")
            return
        for name in subs:
            visit(folder / name, [*parts, name])

    visit(root, [])
    return found, unreadable


# --- fingerprints ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Fingerprint:
    """A class folder's content, cheaply: every file's size, mtime and head hash."""

    digest: str
    stats: str
    files: tuple[FileState, ...]
    newest_ns: int


def _head(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read(HEAD_BYTES)).hexdigest()[:32]
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def fingerprint(folder: Path, heads: bool = True) -> Fingerprint:
    """Walk a class folder (raises OSError only when the folder itself cannot be listed)."""
    files: list[FileState] = []
    newest = os.stat(folder).st_mtime_ns
    stack: list[tuple[str, list[str]]] = [(str(folder), [])]
    while stack:
        where, parts = stack.pop()
        try:
            entries = list(os.scandir(where))
        except OSError as exc:
            if not parts:
                raise
            files.append(FileState(_rel(parts) + "/", 0, 0, f"unreadable:{exc.errno}"))
            continue
        for entry in entries:
            sub = [*parts, entry.name]
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                files.append(FileState(_rel(sub), 0, 0, f"unreadable:{exc.errno}"))
                continue
            newest = max(newest, st.st_mtime_ns)
            if stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, sub))
                continue
            if stat.S_ISLNK(st.st_mode):
                head = "link:" + os.readlink(entry.path)
            elif not stat.S_ISREG(st.st_mode):
                head = "special"
            else:
                head = _head(entry.path) if heads else ""
            files.append(FileState(_rel(sub), st.st_size, st.st_mtime_ns, head))
    files.sort(key=lambda f: f.rel)
    full, stats = hashlib.sha256(), hashlib.sha256()
    for f in files:
        line = f"{f.rel}\0{f.size}\0{f.mtime_ns}"
        stats.update(line.encode() + b"\n")
        full.update(f"{line}\0{f.head}\n".encode())
    return Fingerprint(full.hexdigest(), stats.hexdigest(), tuple(files), newest)


def _rel(parts: list[str]) -> str:
    return "/".join(display_name(p) for p in parts)
