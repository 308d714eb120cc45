"""Spot-check evidence: exact-frame PNGs and a keyed, hash-chained log that shows tampering.

Each record holds the source file's path and SHA-256, the frame's time and pts, who took it,
the note, when, the PNG's and the captioned copy's SHA-256, the previous record's hash, its own
hash (SHA-256 of the record's canonical JSON) and its signature (HMAC-SHA256 with a key kept
outside the workspace; see evidence_chain.py). The files are stored by content hash. The chain's
head is its last record; a copy is written to evidence/HEAD after each commit, and the head
is meant to be kept elsewhere too (`video-audit evidence head`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from video_audit.evidence_chain import (
    EvidenceKey,
    EvidenceKeyError,
    Head,
    Verdict,
    key_path,
    link_of,
    read_local_head,
    verify_chain,
)
from video_audit.files import write_atomic
from video_audit.media.grab import Grab, grab, time_code
from video_audit.report.texts import t
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
RECORD_KINDS = (
    "attendance_decision",
    "attendance_revocation",
    "ledger_signature",
    "ledger_void",
    "spotcheck_result",
    "patrol_plan",
)
"""The records that are no capture: attendance decisions and revocations (faces/review.py), a
ledger's signatures and the voids that end them (api/routes/ledger.py), an inspector's
spot-check results (api/routes/spotchecks.py), a drawn random patrol plan with its seed
(patrol/schedule.py)."""
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
    """SHA-256 of a record's canonical JSON (every field but its own hash; a record of another
    kind than a capture also its kind and body, so captures hash as they always did)."""
    body = {key: record[key] for key in HASHED_FIELDS}
    if record.get("kind"):
        body["kind"], body["body"] = record["kind"], record["body"]
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EvidenceLog:
    """The evidence files (by content hash), their records in the store, and the chain's key."""

    def __init__(
        self,
        store: Store,
        folder: Path,
        key_file: Path | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.folder = folder
        self.head_file = folder / "HEAD"
        self.key_file = key_path(key_file)
        # The key must not be where whoever writes the data folder can read or replace it.
        self.forbidden = (folder.parent, store.path.parent)
        self.notice = notice or _stderr
        self._key: EvidenceKey | None = None
        self._encoders = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-png")

    def path_of(self, rel: str) -> Path:
        return self.folder / rel

    def key(self) -> EvidenceKey | None:
        """The key if its file is there (checked: outside the workspace, well formed)."""
        if self._key is None or self._key.path != self.key_file:
            self._key = EvidenceKey.load(self.key_file, self.forbidden)
        return self._key

    def signing_key(self) -> EvidenceKey:
        """The key new records are signed with: the chain's own, or a new one for a chain that
        has none yet (said on stderr, once). Never a second key for a keyed chain."""
        key = self.key()
        last = self.store.last_evidence()
        if key is None:
            if last is not None and last["mac"]:
                raise EvidenceKeyError("ev_key_lost", path=self.key_file)
            key = self._key = EvidenceKey.create(self.key_file, self.forbidden)
            self.notice(f"{t('zh', 'ev_key_created', path=key.path)}\n"
                        f"{t('en', 'ev_key_created', path=key.path)}")  # fmt: skip
        if last is not None and last["mac"]:
            _same_key(key, last["key_id"])
        return key

    def head(self) -> Head:
        """The chain's head as the records say: the last record's number and link."""
        last = self.store.last_evidence()
        return Head(int(last["seq"]), link_of(dict(last))) if last is not None else Head(0, "")

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
        """Grab the frame at `at` seconds, store both PNGs, append the record; returns it.

        The images are written (atomically) before the record: a capture cut short leaves at
        most images no record names, which verify() reports as an incomplete capture."""
        frame = grab(source, at)
        key = self.signing_key()  # after the grab: a time past the end makes no key
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

        def seal(seq: int, last: dict[str, Any] | None) -> dict[str, Any]:
            if last is not None and last["mac"]:  # another process may have keyed it meanwhile
                _same_key(key, last["key_id"])
            record = {"seq": seq, **fields, "prev_hash": last["hash"] if last else ""}
            record["hash"] = record_hash(record)
            record["key_id"] = key.key_id
            record["mac"] = key.sign(record, link_of(last) if last else "")
            return record

        return self.store.append_evidence(seal, self._write_head)

    def record_decision(
        self,
        kind: str,
        body: Mapping[str, Any],
        taken_by: str,
        note: str,
        class_id: int | None = None,
        alongside: Callable[[sqlite3.Connection, dict[str, Any]], Any] | None = None,
    ) -> dict[str, Any]:
        """Append a record that is no capture (KIND: one of RECORD_KINDS): BODY (JSON, no
        biometric data) is hashed and signed like a capture's fields; ALONGSIDE writes what it
        records in the same transaction."""
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown evidence record kind {kind!r}")
        key = self.signing_key()
        text = json.dumps(dict(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        fields: dict[str, Any] = {
            "class_id": class_id,
            "source_path": "",
            "source_sha256": "",
            "clip": str(body.get("person") or ""),
            "frame_time": 0.0,
            "pts": 0,
            "time_base": "",
            "width": 0,
            "height": 0,
            "taken_by": taken_by,
            "note": note,
            "taken_at": str(body.get("at") or now()),
            "png": "",
            "png_sha256": "",
            "caption_png": "",
            "caption_sha256": "",
            "caption": "",
        }

        def seal(seq: int, last: dict[str, Any] | None) -> dict[str, Any]:
            if last is not None and last["mac"]:
                _same_key(key, last["key_id"])
            record = {"seq": seq, **fields, "prev_hash": last["hash"] if last else ""}
            record["kind"], record["body"] = kind, text
            record["hash"] = record_hash(record)
            record["key_id"] = key.key_id
            record["mac"] = key.sign(record, link_of(last) if last else "")
            return record

        return self.store.append_evidence(seal, self._write_head, alongside)

    def _write_head(self, record: dict[str, Any]) -> None:
        # A copy for people and a weak local check; the records themselves are the head, so
        # a crash before this line leaves it one behind, which verify() takes as a note.
        write_atomic(self.head_file, f"{record['seq']} {link_of(record)}\n".encode())

    def verify(self, anchor: Head | None = None, sources: bool = True) -> Verdict:
        """Check every record, the chain, the signatures (with the key, when it is there), the
        images, the anchored head (when given) and the sources still present."""
        key = self.key()
        local_head = read_local_head(self.head_file)  # before the records: see verify_chain
        rows = [dict(r) for r in self.store.evidence(every_kind=True)]
        return verify_chain(
            rows,
            self.folder,
            key,
            key_file=self.key_file,
            record_hash=record_hash,
            local_head=local_head,
            anchor=anchor,
            sources=sources,
        )


def _same_key(key: EvidenceKey, key_id: str) -> None:
    if key.key_id != key_id:
        raise EvidenceKeyError("ev_key_other", path=key.path, found=key.key_id, expected=key_id)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


__all__ = [
    "RECORD_KINDS",
    "Caption",
    "EvidenceKey",
    "EvidenceKeyError",
    "EvidenceLog",
    "Head",
    "Verdict",
    "describe_clip",
    "link_of",
    "record_hash",
]
