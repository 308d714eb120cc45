"""The class roster (名册): CSV in UTF-8 or GBK, Chinese or English headers, photos per person."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from video_audit.faces.engine import FaceEngine, distances

Role = Literal["trainee", "teacher", "manager"]

HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "证件号", "学号", "身份证号", "身份证号码", "证件号码"),
    "name": ("name", "姓名"),
    "role": ("role", "角色", "身份"),
    "photo": ("photo", "photos", "照片", "相片"),
}
ROLES: dict[str, Role] = {
    "trainee": "trainee",
    "student": "trainee",
    "学员": "trainee",
    "学生": "trainee",
    "teacher": "teacher",
    "教师": "teacher",
    "老师": "teacher",
    "manager": "manager",
    "管理人员": "manager",
    "管理员": "manager",
    "班主任": "manager",
}
PHOTO_SPLIT = re.compile(r"[;；|]")


class RosterError(ValueError):
    """A roster that cannot be used: the message names the file and, where known, the row."""


@dataclass
class RosterEntry:
    """One person on the roster; several photos allowed (one row each, or separated by ;)."""

    id: str
    name: str
    role: Role
    photos: list[Path]
    rows: list[int]
    photo_rows: list[int] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)

    @property
    def masked_id(self) -> str:
        return mask_id(self.id)


@dataclass
class Roster:
    """A parsed roster file."""

    path: Path
    entries: list[RosterEntry]

    def by_id(self, pid: str) -> RosterEntry:
        return next(e for e in self.entries if e.id == pid)

    @property
    def trainees(self) -> list[RosterEntry]:
        return [e for e in self.entries if e.role == "trainee"]


def mask_id(pid: str) -> str:
    """An ID number as reports show it: 140***********1234 (first 3, last 4 kept)."""
    pid = pid.strip()
    if len(pid) >= 10:
        return pid[:3] + "*" * (len(pid) - 7) + pid[-4:]
    if len(pid) > 2:
        return "*" * (len(pid) - 2) + pid[-2:]
    return pid


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{path}: not UTF-8 or GBK text")


def _columns(header: list[str], path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    cells = [h.strip().lower() for h in header]
    for key, names in HEADERS.items():
        for i, cell in enumerate(cells):
            if cell in names:
                found[key] = i
                break
    missing = [k for k in ("id", "name", "role") if k not in found]
    if missing:
        raise RosterError(
            f"{path}: header lacks {', '.join(missing)} "
            "(expected 证件号/id, 姓名/name, 角色/role, 照片/photo)"
        )
    return found


def parse_roster(path: Path) -> Roster:
    """Read a roster CSV; raises RosterError naming the file and the row on bad content."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"{path}: cannot read roster: {exc.strerror or exc}") from exc
    rows = list(csv.reader(io.StringIO(_decode(data, path))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise RosterError(f"{path}: empty roster")
    cols = _columns(rows[0], path)
    entries: dict[str, RosterEntry] = {}
    for number, row in enumerate(rows[1:], start=2):

        def cell(key: str, row: list[str] = row) -> str:
            i = cols.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        pid, name, role_text = cell("id"), cell("name"), cell("role")
        if not pid or not name:
            raise RosterError(f"{path}: row {number}: needs an ID and a name")
        role = ROLES.get(role_text.lower())
        if role is None:
            raise RosterError(
                f"{path}: row {number}: unknown role {role_text!r} (学员/教师/管理人员)"
            )
        photos = [path.parent / p.strip() for p in PHOTO_SPLIT.split(cell("photo")) if p.strip()]
        entry = entries.get(pid)
        if entry is None:
            entries[pid] = RosterEntry(pid, name, role, photos, [number], [number] * len(photos))
        else:
            if entry.name != name:
                raise RosterError(f"{path}: row {number}: ID {mask_id(pid)} names two people")
            entry.photos.extend(photos)
            entry.rows.append(number)
            entry.photo_rows.extend([number] * len(photos))
    return Roster(path, list(entries.values()))


def read_photo(photo: Path) -> np.ndarray | None:
    """An RGB image from a photo file (any name, even non-ASCII), padded for the detector."""
    try:
        data = np.frombuffer(photo.read_bytes(), np.uint8)
    except OSError:
        return None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        return None
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    # ID photos are tight crops: a border lets the detector see the whole head.
    h, w = img.shape[:2]
    pad = max(h, w) // 4
    img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    if max(img.shape[:2]) < 400:
        f = 400 / max(img.shape[:2])
        img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    return img


def enrol(roster: Roster, engine: FaceEngine, cache_dir: Path | None) -> list[str]:
    """Embed every roster photo (cached by photo hash and engine); returns problems found.

    A photo that is missing, unreadable, or shows no face or several faces is a problem naming
    the roster row; a person with no usable photo cannot be recognised.
    """
    problems: list[str] = []
    for entry in roster.entries:
        entry.embeddings = []
        if not entry.photos:
            problems.append(
                f"{roster.path}: row {entry.rows[0]}: {entry.name} has no photo (照片 column)"
            )
            continue
        for photo, row in zip(entry.photos, entry.photo_rows, strict=True):
            where = f"{roster.path}: row {row}: photo {photo.name}"
            vector, problem = _enrol_photo(photo, engine, cache_dir)
            if problem:
                problems.append(f"{where}: {problem}")
            elif vector is not None:
                entry.embeddings.append(vector)
    return problems


def _enrol_photo(
    photo: Path, engine: FaceEngine, cache_dir: Path | None
) -> tuple[np.ndarray | None, str | None]:
    try:
        digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    except OSError:
        return None, "missing or unreadable"
    cached = cache_dir / engine.cache_key / f"{digest}.npy" if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return np.load(cached), None
        except (OSError, ValueError):
            pass
    img = read_photo(photo)
    if img is None:
        return None, "not an image"
    faces = engine.detect(img)
    if not faces:
        faces = engine.detect(img, tiled=True)
    if not faces:
        return None, "no face found"
    if len(faces) > 1:
        biggest = sorted(faces, key=lambda f: f.size, reverse=True)
        if biggest[1].size > 0.5 * biggest[0].size:
            return None, f"{len(faces)} faces (one person per photo)"
        faces = biggest[:1]
    vector = engine.embed(faces[0])
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npy")
            np.save(tmp, vector)
            tmp.replace(cached)
        except OSError:
            pass  # a read-only cache only costs time
    return vector, None


def stranger_floor(roster: Roster, engine: FaceEngine) -> float | None:
    """The smallest distance between photos of two different roster people (None if < 2)."""
    people = [e for e in roster.entries if e.embeddings]
    best: float | None = None
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            d = float(
                distances(engine.metric, np.array(a.embeddings), np.array(b.embeddings)).min()
            )
            best = d if best is None else min(best, d)
    return best
