"""Uploads: a class folder (browser folder picker) or a zip, checked, staged, committed atomically.

Everything is written under <data>/staging/<token>/ first; only when every file is in and every
check has passed is that folder renamed into <data>/classes/ (one rename on one file system),
so an interrupted upload never leaves a half class visible.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

CHUNK = 1 << 20
SKIPPED_TOP = {"__MACOSX"}


class UploadRefused(Exception):
    """The upload cannot be accepted; the message is for the uploader (Chinese, then English)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int


@dataclass(frozen=True)
class Staged:
    """A checked upload waiting in staging: its token, class folder name, file count and bytes."""

    token: str
    folder: str
    files: int
    size: int


_UTF8_FLAG = 0x800
_UNICODE_PATH_FIELD = 0x7075  # Info-ZIP's UTF-8 copy of the name, for tools without the flag


def entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's real name. Without the UTF-8 flag, Python reads names as CP437; Windows'
    built-in zip writes them in the system code page (CP936/GBK on Chinese Windows). The raw
    bytes are recovered and read as, in order: Info-ZIP's UTF-8 name field, UTF-8 (tools that
    write it without the flag), GB18030 (a superset of GBK/CP936), else CP437 as before."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.orig_filename.encode("cp437", errors="replace")
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    if raw.isascii():
        return info.filename
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The name in an Info-ZIP Unicode Path extra field, when it belongs to this raw name."""
    offset = 0
    while offset + 4 <= len(extra):
        kind = int.from_bytes(extra[offset : offset + 2], "little")
        size = int.from_bytes(extra[offset + 2 : offset + 4], "little")
        body = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if kind != _UNICODE_PATH_FIELD or len(body) < 5 or body[0] != 1:
            continue
        if int.from_bytes(body[1:5], "little") != zlib.crc32(raw):
            return None  # the name was changed after the field was written: not trusted
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


# Bidi overrides and isolates, marks and zero-width characters: they make "evil‮4pm.exe" read
# as another name. Refused in uploaded names; shown as <U+…> where one reaches a page.
SPOOFING = frozenset(
    "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0x200B, 0x2010)]))
    + "\u061c\u2060\ufeff"
)
MAX_PATH_BYTES = 1024  # well under the system's limit once under the workspace


def safe_parts(name: str) -> list[str]:
    """The components of an uploaded relative path; UploadRefused for anything that escapes."""
    if not name or "\x00" in name:
        raise UploadRefused(f"文件名为空或含非法字符：{name!r} / empty or invalid file name")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UploadRefused(f"不接受绝对路径：{name} / absolute paths are refused")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UploadRefused(f"路径中不能有“..”：{name} / '..' in a path is refused")
    if any(ord(ch) < 32 for p in parts for ch in p) or any(len(p.encode()) > 255 for p in parts):
        raise UploadRefused(f"文件名含控制字符或过长：{name} / control characters or too long")
    if len(unified.encode()) > MAX_PATH_BYTES:
        raise UploadRefused(f"路径过长：{name[:80]}… / path too long")
    if any(ch in SPOOFING for ch in unified):
        shown = "".join(f"<U+{ord(ch):04X}>" if ch in SPOOFING else ch for ch in unified)
        raise UploadRefused(
            f"文件名含方向控制或零宽字符（可伪装文件名）：{shown} / "
            "bidi control or zero-width character in a name"
        )
    if not parts:
        raise UploadRefused(f"文件名无效：{name!r} / invalid file name")
    return parts


class Uploads:
    """Staging and committing uploads under one data folder."""

    def __init__(self, data_dir: Path, limits: Limits) -> None:
        self.staging = data_dir / "staging"
        self.classes = data_dir / "classes"
        self.limits = limits
        self.staging.mkdir(parents=True, exist_ok=True)
        self.classes.mkdir(parents=True, exist_ok=True)

    def clear_staging(self) -> None:
        """Drop what interrupted uploads left (at start-up: nothing there is committed)."""
        for entry in self.staging.iterdir():
            shutil.rmtree(entry, ignore_errors=True)

    def _copy(self, src: IO[bytes], dest: Path, budget: int) -> int:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = dest.open("xb")
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            name = dest.name
            raise UploadRefused(
                f"路径冲突（同名的文件和文件夹，或重复的文件）：{name} / conflicting paths"
            ) from exc
        written = 0
        with out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > budget:
                    raise UploadRefused(self._too_big())
                out.write(chunk)
        return written

    def _too_big(self) -> str:
        gib = self.limits.max_bytes / 1024**3
        return f"上传内容超过 {gib:.3g} GiB 的上限 / upload larger than the {gib:.3g} GiB limit"

    def _too_many(self) -> str:
        n = self.limits.max_files
        return f"文件数超过 {n} 个的上限 / more than {n} files"

    def stage_files(self, files: Iterable[tuple[str, BinaryIO]], default_name: str) -> Staged:
        """Stage (relative path, stream) pairs from a folder picker."""
        token = uuid.uuid4().hex
        root = self.staging / token / "upload"
        root.mkdir(parents=True)
        try:
            count, size = 0, 0
            for name, stream in files:
                parts = safe_parts(name)
                count += 1
                if count > self.limits.max_files:
                    raise UploadRefused(self._too_many())
                target = root.joinpath(*parts)
                if target.exists():
                    raise UploadRefused(f"同一文件上传了两次：{name} / the same path twice")
                size += self._copy(stream, target, self.limits.max_bytes - size)
            if count == 0:
                raise UploadRefused("没有收到任何文件 / no files received")
            return self._settle(token, root, count, size, default_name)
        except BaseException:
            shutil.rmtree(self.staging / token, ignore_errors=True)
            raise

    def stage_zip(self, archive: BinaryIO, zip_name: str) -> Staged:
        """Stage the contents of a zip after checking every entry."""
        token = uuid.uuid4().hex
        root = self.staging / token / "upload"
        root.mkdir(parents=True)
        try:
            try:
                zf = zipfile.ZipFile(archive)
            except (zipfile.BadZipFile, OSError) as exc:
                raise UploadRefused(f"{zip_name}：不是有效的 zip 文件 / not a valid zip") from exc
            with zf:
                for info in zf.infolist():
                    info.filename = entry_name(info)  # GBK names from Windows, read as such
                entries = [i for i in zf.infolist() if safe_parts(i.filename)[0] not in SKIPPED_TOP]
                self._check_zip(entries)
                count, size = 0, 0
                for info in entries:
                    parts = safe_parts(info.filename)
                    if info.is_dir():
                        root.joinpath(*parts).mkdir(parents=True, exist_ok=True)
                        continue
                    count += 1
                    target = root.joinpath(*parts)
                    if target.exists():
                        raise UploadRefused(f"zip 中有重复路径：{info.filename} / duplicate path")
                    try:
                        with zf.open(info) as src:
                            size += self._copy(src, target, self.limits.max_bytes - size)
                    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                        raise UploadRefused(
                            f"{info.filename}：无法解压（{exc}）/ cannot be extracted"
                        ) from exc
            if count == 0:
                raise UploadRefused(f"{zip_name}：zip 中没有文件 / the zip holds no files")
            stem = Path(zip_name).stem or "upload"
            return self._settle(token, root, count, size, stem)
        except BaseException:
            shutil.rmtree(self.staging / token, ignore_errors=True)
            raise

    def _check_zip(self, entries: list[zipfile.ZipInfo]) -> None:
        """Links, device files, too many or too large entries are refused before extracting."""
        files = 0
        declared = 0
        for info in entries:
            safe_parts(info.filename)
            mode = info.external_attr >> 16
            # Made on Unix with a file type in the mode bits (some tools leave the type out).
            if info.create_system == 3 and stat.S_IFMT(mode):
                if stat.S_ISLNK(mode):
                    raise UploadRefused(
                        f"zip 中不能有链接：{info.filename} / links (symlinks) are refused"
                    )
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    raise UploadRefused(
                        f"zip 中不能有设备或特殊文件：{info.filename} / device or special file"
                    )
            if info.flag_bits & 0x1:
                raise UploadRefused(f"zip 中有加密文件：{info.filename} / encrypted entry")
            if not info.is_dir():
                files += 1
                declared += info.file_size
        if files > self.limits.max_files:
            raise UploadRefused(self._too_many())
        if declared > self.limits.max_bytes:
            raise UploadRefused(self._too_big())

    def _settle(self, token: str, root: Path, count: int, size: int, default_name: str) -> Staged:
        """Make staging/<token>/<class folder>/…: one top folder is the class, else wrap."""
        top = list(root.iterdir())
        if len(top) == 1 and top[0].is_dir():
            folder = top[0].name
            top[0].rename(self.staging / token / folder)
            root.rmdir()
        else:
            folder = safe_parts(default_name)[-1]
            root.rename(self.staging / token / folder)
        for dirpath, dirnames, filenames in os.walk(self.staging / token):
            for name in dirnames + filenames:
                if Path(dirpath, name).is_symlink():  # never expected: we wrote every file
                    raise UploadRefused(f"不接受链接：{name} / links are refused")
        return Staged(token, folder, count, size)

    def commit(self, staged: Staged) -> Path:
        """Move a staged upload into classes/ in one rename; its class folder path."""
        target = self.classes / staged.token
        os.rename(self.staging / staged.token, target)
        return target / staged.folder

    def discard(self, staged: Staged) -> None:
        shutil.rmtree(self.staging / staged.token, ignore_errors=True)

    def remove_committed(self, folder: str) -> None:
        shutil.rmtree(self.classes / Path(folder).parts[0], ignore_errors=True)
