"""Uploads: a class folder (browser folder picker) or a zip, checked, staged, committed atomically.

Everything is written under <data>/staging/<token>/ first; only when every file is in and every
check has passed is that folder renamed into <data>/classes/ (one rename on one file system),
so an interrupted upload never leaves a half class visible.

Every entry counts toward the file limit (folders too); a zip entry that expands more than
max_expand_ratio times (video does not compress) is a bomb, refused from its central-directory
sizes before anything is written and again by the bytes actually extracted; free space on the
workspace's disk must stay above the reserve before and while writing; an institution's quota
caps what one upload may add. Each file is hashed as it is written, so the same content uploaded
again is recognised (Staged.digest).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

CHUNK = 1 << 20
SKIPPED_TOP = {"__MACOSX"}
EXPAND_FLOOR = 1 << 20
"""Entries expanding to less than this are not held to the ratio (a small CSV compresses well)."""


class UploadRefused(Exception):
    """The upload cannot be accepted; the message is for the uploader (Chinese, then English).

    status: the HTTP status it answers (400 bad input, 413 over a quota, 507 disk full)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int
    max_expand_ratio: float = 100.0
    disk_reserve: int = 0


@dataclass(frozen=True)
class Quota:
    """An institution's quota: bytes its stored classes hold now, and the most they may."""

    institution: str
    used: int
    limit: int

    @property
    def room(self) -> int:
        return max(0, self.limit - self.used)

    def refusal(self, adding: int | None = None) -> UploadRefused:
        """413: this upload does not fit (ADDING: its size, when known)."""
        adds = f"，本次上传 {gib(adding)}" if adding is not None else ""
        return UploadRefused(
            f"{self.institution} 的存储配额已满：已用 {gib(self.used)}{adds}，上限 "
            f"{gib(self.limit)}；请联系人社局清理旧班级 / the institution's quota is exceeded "
            f"({self.used} of {self.limit} bytes used)",
            413,
        )


def gib(n: int) -> str:
    """Bytes as GiB for people, to three significant digits."""
    return f"{n / 1024**3:.3g} GiB"


@dataclass(frozen=True)
class Staged:
    """A checked upload waiting in staging: its token, class folder name, file count and bytes."""

    token: str
    folder: str
    files: int
    size: int
    digest: str = ""
    """SHA-256 over every file's path in the class folder and its SHA-256: the same class
    content, however it was sent (folder picker or zip, any zip name), has the same digest."""
    hashes: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False, compare=False)
    """Each file's SHA-256 by its path inside the class folder (what split() divides)."""


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


class _Upload:
    """What one upload has written so far: bytes, entries, each file's SHA-256."""

    def __init__(self, budget: int, quota: Quota | None) -> None:
        self.budget = budget
        self.quota = quota
        self.size = 0
        self.hashes: dict[tuple[str, ...], str] = {}


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

    # --- the disk ------------------------------------------------------------------------
    def free_bytes(self) -> int:
        """Free space on the workspace's disk (what an unprivileged writer may use)."""
        return shutil.disk_usage(self.staging).free

    def check_disk(self, incoming: int = 0) -> None:
        """507 when free space, less INCOMING bytes about to be written, is under the reserve."""
        free = self.free_bytes()
        if free - incoming < self.limits.disk_reserve:
            raise self._disk_full(free)

    def _disk_full(self, free: int) -> UploadRefused:
        return UploadRefused(
            f"服务器磁盘空间不足（剩余 {gib(free)}，需保留 {gib(self.limits.disk_reserve)}），"
            "暂时无法接收上传，请稍后再试或联系管理员 / the server's disk is nearly full: "
            "uploads are refused for now",
            507,
        )

    # --- writing ---------------------------------------------------------------------------
    def _copy(
        self, src: IO[bytes], dest: Path, upload: _Upload, parts: tuple[str, ...], most: int
    ) -> int:
        """Copy SRC to DEST (at most MOST bytes, and within the upload's budget), hashing it."""
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = dest.open("xb")
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            name = dest.name
            raise UploadRefused(
                f"路径冲突（同名的文件和文件夹，或重复的文件）：{name} / conflicting paths"
            ) from exc
        written = 0
        digest = hashlib.sha256()
        with out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if upload.size + written > upload.budget:
                    raise self._over_budget(upload, written)
                if written > most:
                    raise self._bomb("/".join(parts))
                if self.limits.disk_reserve:  # statvfs: microseconds, once a MiB
                    free = self.free_bytes()
                    if free - len(chunk) < self.limits.disk_reserve:
                        raise self._disk_full(free)
                try:
                    out.write(chunk)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise self._disk_full(self.free_bytes()) from exc
                    raise
                digest.update(chunk)
        upload.size += written
        upload.hashes[parts] = digest.hexdigest()
        return written

    def _over_budget(self, upload: _Upload, written: int) -> UploadRefused:
        quota = upload.quota
        if quota is not None and quota.room < self.limits.max_bytes:
            return quota.refusal(upload.size + written)
        return UploadRefused(self._too_big())

    def _too_big(self) -> str:
        size = gib(self.limits.max_bytes)
        return f"上传内容超过 {size} 的上限 / upload larger than the {size} limit"

    def _too_many(self) -> str:
        n = self.limits.max_files
        return f"文件数超过 {n} 个的上限（文件夹也计入）/ more than {n} files and folders"

    def _bomb(self, name: str) -> UploadRefused:
        ratio = f"{self.limits.max_expand_ratio:g}"
        return UploadRefused(
            f"{name}：解压后比压缩前大 {ratio} 倍以上，疑似“zip 炸弹”，拒绝接收（视频不可再压缩）"
            f" / expands more than {ratio} times: a zip bomb"
        )

    def _new_upload(self, quota: Quota | None) -> _Upload:
        budget = self.limits.max_bytes if quota is None else min(self.limits.max_bytes, quota.room)
        return _Upload(budget, quota)

    def stage_files(
        self,
        files: Iterable[tuple[str, BinaryIO]],
        default_name: str,
        quota: Quota | None = None,
    ) -> Staged:
        """Stage (relative path, stream) pairs from a folder picker.

        Each file and each folder its path implies counts toward the file limit."""
        token = uuid.uuid4().hex
        root = self.staging / token / "upload"
        root.mkdir(parents=True)
        upload = self._new_upload(quota)
        try:
            count = 0
            folders: set[tuple[str, ...]] = set()
            for name, stream in files:
                parts = safe_parts(name)
                count += 1
                folders.update(tuple(parts[:n]) for n in range(1, len(parts)))
                if count + len(folders) > self.limits.max_files:
                    raise UploadRefused(self._too_many())
                target = root.joinpath(*parts)
                if target.exists():
                    raise UploadRefused(f"同一文件上传了两次：{name} / the same path twice")
                self._copy(stream, target, upload, tuple(parts), self.limits.max_bytes)
            if count == 0:
                raise UploadRefused("没有收到任何文件 / no files received")
            return self._settle(token, root, count, upload, default_name)
        except BaseException:
            shutil.rmtree(self.staging / token, ignore_errors=True)
            raise

    def stage_zip(self, archive: BinaryIO, zip_name: str, quota: Quota | None = None) -> Staged:
        """Stage the contents of a zip after checking every entry."""
        token = uuid.uuid4().hex
        root = self.staging / token / "upload"
        root.mkdir(parents=True)
        upload = self._new_upload(quota)
        try:
            try:
                zf = zipfile.ZipFile(archive)
            except (zipfile.BadZipFile, OSError) as exc:
                raise UploadRefused(f"{zip_name}：不是有效的 zip 文件 / not a valid zip") from exc
            with zf:
                if len(zf.infolist()) > self.limits.max_files:  # folders and __MACOSX too
                    raise UploadRefused(self._too_many())
                for info in zf.infolist():
                    info.filename = entry_name(info)  # GBK names from Windows, read as such
                entries = [i for i in zf.infolist() if safe_parts(i.filename)[0] not in SKIPPED_TOP]
                self._check_zip(entries, upload)
                count = 0
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
                            self._copy(src, target, upload, tuple(parts), self._most(info))
                    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                        raise UploadRefused(
                            f"{info.filename}：无法解压（{exc}）/ cannot be extracted"
                        ) from exc
            if count == 0:
                raise UploadRefused(f"{zip_name}：zip 中没有文件 / the zip holds no files")
            stem = Path(zip_name).stem or "upload"
            return self._settle(token, root, count, upload, stem)
        except BaseException:
            shutil.rmtree(self.staging / token, ignore_errors=True)
            raise

    def _most(self, info: zipfile.ZipInfo) -> int:
        """The most bytes an entry may expand to by its compressed size (headers can lie)."""
        return max(EXPAND_FLOOR, int(info.compress_size * self.limits.max_expand_ratio))

    def _check_zip(self, entries: list[zipfile.ZipInfo], upload: _Upload) -> None:
        """Links, device files, bombs, too many or too large entries: refused before extracting."""
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
                declared += info.file_size
                if info.file_size > self._most(info):
                    raise self._bomb(info.filename)
        if declared > upload.budget:
            raise self._over_budget(upload, declared)
        self.check_disk(declared)

    def _settle(
        self, token: str, root: Path, count: int, upload: _Upload, default_name: str
    ) -> Staged:
        """Make staging/<token>/<class folder>/…: one top folder is the class, else wrap."""
        top = list(root.iterdir())
        hashes = upload.hashes
        if len(top) == 1 and top[0].is_dir():
            folder = top[0].name
            top[0].rename(self.staging / token / folder)
            root.rmdir()
            hashes = {parts[1:]: sha for parts, sha in hashes.items()}
        else:
            folder = safe_parts(default_name)[-1]
            root.rename(self.staging / token / folder)
        for dirpath, dirnames, filenames in os.walk(self.staging / token):
            for name in dirnames + filenames:
                if Path(dirpath, name).is_symlink():  # never expected: we wrote every file
                    raise UploadRefused(f"不接受链接：{name} / links are refused")
        return Staged(token, folder, count, upload.size, content_digest(hashes), hashes)

    def split(self, staged: Staged, folders: list[str]) -> list[Staged]:
        """A staged disc as one staged class per name in FOLDERS (class folders at its top
        level), each with its own token, count, size and digest; the disc's staging is gone
        afterwards, with whatever else its top level held."""
        out: list[Staged] = []
        try:
            for name in folders:
                token = uuid.uuid4().hex
                (self.staging / token).mkdir()
                os.rename(
                    self.staging / staged.token / staged.folder / name, self.staging / token / name
                )
                hashes = {p[1:]: sha for p, sha in staged.hashes.items() if p[0] == name}
                size = sum(
                    (self.staging / token / name).joinpath(*p).stat().st_size for p in hashes
                )
                out.append(Staged(token, name, len(hashes), size, content_digest(hashes), hashes))
        except BaseException:
            for part in out:
                self.discard(part)
            raise
        finally:
            self.discard(staged)
        return out

    def commit(self, staged: Staged) -> Path:
        """Move a staged upload into classes/ in one rename; its class folder path."""
        target = self.classes / staged.token
        os.rename(self.staging / staged.token, target)
        return target / staged.folder

    def discard(self, staged: Staged) -> None:
        shutil.rmtree(self.staging / staged.token, ignore_errors=True)

    def remove_committed(self, folder: str) -> None:
        shutil.rmtree(self.classes / Path(folder).parts[0], ignore_errors=True)


def content_digest(hashes: dict[tuple[str, ...], str]) -> str:
    """One SHA-256 over (path inside the class folder, file SHA-256) pairs, in path order."""
    digest = hashlib.sha256()
    for parts, sha in sorted(hashes.items()):
        digest.update("/".join(parts).encode() + b"\0" + sha.encode() + b"\n")
    return digest.hexdigest()
