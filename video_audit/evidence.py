"""Spot-check evidence: exact-frame PNGs and a hash-chained log that shows later tampering.

Each record holds the source file's path and SHA-256, the frame's time and pts, who took it,
the note, when, the PNG's and the captioned copy's SHA-256, the previous record's hash and its
own hash (SHA-256 of the record's canonical JSON). The files are stored by content hash; the
chain's head (last seq and hash) is also kept in a file beside them, so removing the last
records shows too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from video_audit.files import write_atomic
from video_audit.media.grab import Grab, grab, time_code
from video_audit.store import Store, now

HASHED_FIELDS = (
    "seq",
    "class_id",
    "source_path",
    "source_sha256",
    "clip",
    "frame_time",
    "pts",
    "time_base",
    "width",
    "height",
    "taken_by",
    "note",
    "taken_at",
    "png",
    "png_sha256",
    "caption_png",
    "caption_sha256",
    "caption",
    "prev_hash",
)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_INSTITUTION = re.compile(r"^(.+?(?:学校|学院|中心|公司|协会|机构|研究院|培训部))")


@dataclass(frozen=True)
class Caption:
    """What the captioned copy says about where the frame comes from."""

    institution: str
    class_name: str
    date: str

    def lines(self, grab_: Grab, taken_by: str, taken_at: str, source_sha256: str) -> list[str]:
        when = taken_at.replace("T", " ")
        return [
            f"机构 {self.institution or '—'}    班级 {self.class_name or '—'}",
            f"日期 {self.date or '—'}    时间码 {time_code(grab_.time)}    pts {grab_.pts}",
            f"取证 {taken_by}  {when}    源文件 SHA-256 {source_sha256[:16]}…",
        ]


def split_prefix(prefix: str) -> tuple[str, str]:
    """(institution, class) from an Annex 4 prefix such as 壶关县…学校2024年第1期…培训班."""
    m = _INSTITUTION.match(prefix)
    if not m:
        return "", prefix
    return m.group(1), prefix[m.end() :]


def describe_clip(path: Path) -> Caption:
    """A caption read from the clip's Annex 4 name and its class folder (blank when unnamed)."""
    from video_audit.naming import parse_class_year, parse_clip_name
    from video_audit.standard import load_profile

    rules = load_profile().names
    name = parse_clip_name(path.name, rules)
    if name is None:
        return Caption("", "", "")
    institution, class_name = split_prefix(name.prefix)
    year = None
    for folder in path.resolve().parents[:3]:
        year = parse_class_year(folder.name, rules)
        if year:
            break
    date = f"{year}年{name.month}月{name.day}日" if year else f"{name.month}月{name.day}日"
    return Caption(institution, class_name, date)


@cache
def caption_font_path() -> str | None:
    """A font with Chinese glyphs: $VIDEO_AUDIT_CAPTION_FONT, a known path, or fontconfig's pick."""
    chosen = os.environ.get("VIDEO_AUDIT_CAPTION_FONT")
    if chosen and Path(chosen).is_file():
        return chosen
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", ":lang=zh"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if out and Path(out).is_file() and "DejaVu" not in out:
            return out
    return None


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = caption_font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, line: str, font: Any, width: int) -> list[str]:
    """Split a caption line into pieces that fit the width (by character: CJK has no spaces)."""
    if draw.textlength(line, font=font) <= width:
        return [line]
    pieces, current = [], ""
    for ch in line:
        if current and draw.textlength(current + ch, font=font) > width:
            pieces.append(current)
            current = ch.lstrip()
        else:
            current += ch
    return [*pieces, current] if current else pieces


def captioned(image: Image.Image, lines: list[str]) -> Image.Image:
    """The frame with a caption band burned in below it (the frame itself is not covered)."""
    size = max(12, image.width // 48)
    font = _font(size)
    margin, step = size // 2, size + size // 3
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    wrapped = [p for line in lines for p in _wrap(measure, line, font, image.width - 2 * margin)]
    out = Image.new("RGB", (image.width, image.height + step * len(wrapped) + size), (16, 16, 16))
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    y = image.height + margin
    for line in wrapped:
        draw.text((margin, y), line, font=font, fill=(255, 236, 150))
        y += step
    return out


def png_bytes(image: Image.Image) -> bytes:
    """Lossless PNG, quickly: run-length deflate (capture latency matters more than size)."""
    bgr = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(
        ".png",
        bgr,
        [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE],
    )
    if not ok:  # never seen; Pillow is the slower, equally lossless fallback
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=1)
        return buf.getvalue()
    return bytes(data.tobytes())


_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered while its size, mtime and inode stay the same."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    with _digests_lock:
        if key in _digests:
            return _digests[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _digests_lock:
        if len(_digests) > 1024:
            _digests.clear()
        _digests[key] = value
    return value


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON (every field but its own hash)."""
    body = {key: record[key] for key in HASHED_FIELDS}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EvidenceLog:
    """The evidence files (by content hash) and their records in the store."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self.head_file = folder / "HEAD"
        self._encoders = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-png")

    def path_of(self, rel: str) -> Path:
        return self.folder / rel

    def _put(self, data: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        rel = f"files/{digest[:2]}/{digest}.png"
        target = self.folder / rel
        if not target.exists():
            write_atomic(target, data)
        return rel, digest

    def capture(
        self,
        source: Path,
        at: float,
        taken_by: str,
        note: str = "",
        caption: Caption | None = None,
        class_id: int | None = None,
        clip: str | None = None,
    ) -> dict[str, Any]:
        """Grab the frame at `at` seconds, store both PNGs, append the record; returns it."""
        frame = grab(source, at)
        source_sha = file_sha256(source)
        taken_at = now()
        caption = caption or describe_clip(source)
        lines = caption.lines(frame, taken_by, taken_at, source_sha)
        image = Image.fromarray(frame.image, "RGB")
        # The two encodings run side by side (Pillow releases the GIL while compressing).
        copy = self._encoders.submit(lambda: png_bytes(captioned(image, lines)))
        png_rel, png_sha = self._put(png_bytes(image))
        cap_rel, cap_sha = self._put(copy.result())
        fields: dict[str, Any] = {
            "class_id": class_id,
            "source_path": str(source.resolve()),
            "source_sha256": source_sha,
            "clip": clip or source.name,
            "frame_time": frame.time,
            "pts": frame.pts,
            "time_base": str(frame.time_base),
            "width": frame.width,
            "height": frame.height,
            "taken_by": taken_by,
            "note": note,
            "taken_at": taken_at,
            "png": png_rel,
            "png_sha256": png_sha,
            "caption_png": cap_rel,
            "caption_sha256": cap_sha,
            "caption": "\n".join(lines),
        }

        def seal(seq: int, prev_hash: str) -> dict[str, Any]:
            record = {"seq": seq, **fields, "prev_hash": prev_hash}
            record["hash"] = record_hash(record)
            return record

        return self.store.append_evidence(seal, self._write_head)

    def _write_head(self, seq: int, digest: str) -> None:
        write_atomic(self.head_file, f"{seq} {digest}\n".encode())

    def verify(self) -> Verdict:
        """Check every record, the chain, the files and the head; name the first bad record."""
        rows = self.store.evidence()
        prev_hash, expected_seq = "", 1
        for row in rows:
            record = dict(row)
            seq = record["seq"]
            if seq != expected_seq:
                return Verdict(len(rows), expected_seq, "missing")
            if record["prev_hash"] != prev_hash:
                return Verdict(len(rows), seq, "chain")
            if record_hash(record) != record["hash"]:
                return Verdict(len(rows), seq, "content")
            for rel_key, sha_key in (("png", "png_sha256"), ("caption_png", "caption_sha256")):
                target = self.path_of(record[rel_key])
                if not target.is_file():
                    return Verdict(len(rows), seq, "file_missing", record[rel_key])
                if hashlib.sha256(target.read_bytes()).hexdigest() != record[sha_key]:
                    return Verdict(len(rows), seq, "file_changed", record[rel_key])
            prev_hash, expected_seq = record["hash"], seq + 1
        head = self.head_file.read_text().split() if self.head_file.is_file() else []
        if rows or head:
            last = (str(rows[-1]["seq"]), rows[-1]["hash"]) if rows else ("0", "")
            if len(head) != 2:
                return Verdict(len(rows), int(last[0]), "head")
            if (head[0], head[1]) != last:
                if head[0].isdigit() and int(head[0]) > int(last[0]):
                    return Verdict(len(rows), int(last[0]) + 1, "missing")
                return Verdict(len(rows), int(head[0]) if head[0].isdigit() else 0, "head")
        return Verdict(len(rows), None, None)


_PROBLEMS = {
    "missing": ("第 {seq} 条记录缺失（被删除）", "record {seq} is missing (deleted)"),
    "chain": (
        "第 {seq} 条记录的前一条哈希不符（之前的记录被改动或删除）",
        "record {seq}: previous-record hash does not match (an earlier record changed or removed)",
    ),
    "content": ("第 {seq} 条记录的内容被改动", "record {seq}: its content was changed"),
    "file_missing": ("第 {seq} 条记录的图片缺失：{file}", "record {seq}: image missing: {file}"),
    "file_changed": ("第 {seq} 条记录的图片被改动：{file}", "record {seq}: image changed: {file}"),
    "head": (
        "证据链末端与记录不符（第 {seq} 条附近）",
        "the log's head does not match its last record (near record {seq})",
    ),
}


@dataclass(frozen=True)
class Verdict:
    """The result of verify(): how many records, and the first bad one (None when all hold)."""

    records: int
    seq: int | None
    problem: str | None
    file: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def message(self, lang: str = "zh") -> str:
        if self.problem is None and self.records == 0:
            return (
                "证据链中还没有任何记录（没有可校验的内容）"
                if lang == "zh"
                else "the evidence log holds no records yet (nothing to verify)"
            )
        if self.problem is None:
            return (
                f"证据记录完好：共 {self.records} 条，哈希链一致"
                if lang == "zh"
                else f"evidence log intact: {self.records} records, hash chain holds"
            )
        zh, en = _PROBLEMS[self.problem]
        return (zh if lang == "zh" else en).format(seq=self.seq, file=self.file)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "seq": self.seq,
            "problem": self.problem,
            "file": self.file,
            "message": self.message(lang),
        }
