"""The class roster (名册/花名册): CSV, XLSX or XLS, Chinese or English headers, photos per person.

The header row may sit under a title row; columns may come in any order. Without a role column
everyone on a sheet is a trainee, unless the sheet's or the file's name says it lists teachers
(教师/老师/讲师) or managers (管理). A person's photos come from the photo column (a path), else
from pictures placed on the person's row of the sheet, else from an image named by the person's
ID number or name in a photo folder beside the roster (照片/, 相片/, photos/, 学员照片/).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

from video_audit.faces.engine import FaceEngine, distances
from video_audit.faces.sheets import (
    HEADER_ROWS,
    Sheet,
    SheetError,
    cell_text,
    embedded_in,
    header_columns,
    header_word,
    photo_bytes,
    read_sheets,
)
from video_audit.findings import Bilingual

Role = Literal["trainee", "teacher", "manager"]

# Header words by priority: the first that a header row has decides the column.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "身份证件号码",
        "身份证",
        "证件号",
        "证件号码",
        "学号",
    ),
    "name": ("name", "姓名", "学员姓名", "名字"),
    "role": ("role", "角色", "身份", "类别", "人员类别", "人员类型", "类型"),
    "photo": ("photo", "photos", "照片", "相片", "头像", "免冠照片", "照片文件"),
}
ROLES: dict[str, Role] = {
    "trainee": "trainee",
    "student": "trainee",
    "学员": "trainee",
    "学生": "trainee",
    "培训学员": "trainee",
    "teacher": "teacher",
    "教师": "teacher",
    "老师": "teacher",
    "讲师": "teacher",
    "授课教师": "teacher",
    "培训教师": "teacher",
    "manager": "manager",
    "管理人员": "manager",
    "管理员": "manager",
    "班主任": "manager",
}
# A sheet or file named like this lists staff, when it has no role column.
STAFF_WORDS: tuple[tuple[str, Role], ...] = (
    ("教师", "teacher"),
    ("老师", "teacher"),
    ("讲师", "teacher"),
    ("管理", "manager"),
    ("班主任", "manager"),
)
PHOTO_DIRS = ("照片", "相片", "photos", "学员照片")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
PHOTO_SPLIT = re.compile(r"[;；|]")
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number: longer IDs lose their tail
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?e\+?\d+$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOKENS = re.compile(r"[\s_\-—.·,，()（）\[\]【】]+")


class RosterError(ValueError):
    """A roster that cannot be used: the message (en, carrying its zh: findings.Bilingual) names
    the file and, where known, the row."""

    def __str__(self) -> str:
        return self.args[0] if self.args and isinstance(self.args[0], str) else super().__str__()


def _at(where: str | Path, en: str, zh: str) -> Bilingual:
    """WHERE: EN, with its Chinese (WHERE's own Chinese when it carries one)."""
    zh_where = where.zh if isinstance(where, Bilingual) else str(where)
    return Bilingual(f"{where}: {en}", f"{zh_where}：{zh}")


def _row(where: str, number: int) -> Bilingual:
    return _at(where, f"row {number}", f"第 {number} 行")


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
    sheet: str | None = None  # the worksheet it was read from, when the workbook has several
    key: str = ""
    """Stable, unambiguous within the roster, not personal data: "r" + the entry's first row in
    the file ("s2r5" on a workbook's second sheet that has a roster table); set by Roster."""

    @property
    def masked_id(self) -> str:
        return mask_id(self.id)


@dataclass
class Roster:
    """A parsed roster file."""

    path: Path
    entries: list[RosterEntry]

    def __post_init__(self) -> None:
        # Reports key people by this, never by the masked ID (two masked IDs can be equal).
        taken: set[str] = set()
        for n, entry in enumerate(self.entries, start=1):
            if not entry.key or entry.key in taken:
                entry.key = f"r{entry.rows[0]}" if entry.rows else f"e{n}"
            if entry.key in taken:
                entry.key = f"e{n}"
            taken.add(entry.key)

    def by_key(self, key: str) -> RosterEntry:
        return next(e for e in self.entries if e.key == key)

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


def _header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """(index into sheet.rows, columns) of the first row naming an ID and a name column."""
    for i, (_, row) in enumerate(sheet.rows[:HEADER_ROWS]):
        cols = header_columns(row, HEADERS)
        if "id" in cols and "name" in cols:
            return i, cols
    return None


def id_text(value: Any, where: str) -> str:
    """An ID cell as text; an ID that Excel stored as a number and cut short is an error."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise RosterError(
                _at(where, f"ID {value!r} is not a whole number", f"证件号 {value!r} 不是整数")
            )
        digits = str(int(value))
        if len(digits) > EXCEL_DIGITS:
            raise RosterError(_lost_digits(where, mask_id(digits)))
        return digits
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = re.sub(r"\s+", "", text).lstrip("'‘’`")
    if _SCIENTIFIC.match(text):
        raise RosterError(_lost_digits(where, text))
    return text[:-1] + "X" if len(text) == 18 and text.endswith("x") else text


def _lost_digits(where: str, shown: str) -> Bilingual:
    return _at(
        where,
        f"ID {shown} was stored as a number, so Excel kept only its first {EXCEL_DIGITS} digits; "
        "set the ID column's format to text (文本) and type the IDs again",
        f"证件号 {shown} 被存成了数字，Excel 只保留了前 {EXCEL_DIGITS} 位；"
        "请把证件号一列的格式设为“文本”，再重新输入证件号",
    )


def name_text(value: Any) -> str:
    text = cell_text(value)
    # Tables pad two-character names for alignment ("王  芳"): spaces are not part of a CJK name.
    return re.sub(r"\s+", "", text) if _CJK.search(text) else re.sub(r"\s+", " ", text)


def _default_role(*labels: str | None) -> Role:
    for label in labels:
        for word, role in STAFF_WORDS:
            if label and word in label:
                return role
    return "trainee"


def parse_roster(path: Path, photo_dirs: Sequence[str] = PHOTO_DIRS) -> Roster:
    """Read a roster file; raises RosterError naming the file and the row on bad content.

    PHOTO_DIRS are folders beside the roster searched for photos named by ID number or name.
    """
    try:
        sheets = read_sheets(path)
    except SheetError as exc:
        raise RosterError(str(exc)) from exc
    found = [(s, h) for s in sheets if (h := _header(s)) is not None]
    if not found:
        if not any(any(cell_text(c) for c in row) for s in sheets for _, row in s.rows):
            raise RosterError(_at(path, "empty roster", "名册是空的"))
        raise RosterError(
            _at(
                path,
                "header lacks id, name (expected 证件号/身份证号/学号/id and 姓名/name; "
                "角色/role and 照片/photo are optional)",
                "表头缺少证件号或姓名列（应有“证件号/身份证号/学号”和“姓名”；“角色”和“照片”可选）",
            )
        )
    entries: dict[str, RosterEntry] = {}
    for n, (sheet, (start, cols)) in enumerate(found, start=1):
        default = _default_role(sheet.name, path.stem)
        header_ids = {header_word(w) for w in HEADERS["id"]}
        for number, row in sheet.rows[start + 1 :]:
            _read_row(sheet, number, row, cols, default, header_ids, entries)
            if (entry := _last(entries)) is not None and not entry.key:
                entry.key = f"r{number}" if n == 1 else f"s{n}r{number}"
    roster = Roster(path, list(entries.values()))
    _find_photos(roster, [path.parent / d for d in photo_dirs])
    return roster


def _last(entries: dict[str, RosterEntry]) -> RosterEntry | None:
    return next(reversed(entries.values()), None) if entries else None


def _read_row(
    sheet: Sheet,
    number: int,
    row: list[Any],
    cols: dict[str, int],
    default: Role,
    header_ids: set[str],
    entries: dict[str, RosterEntry],
) -> None:
    where = _row(sheet.where, number)

    def cell(key: str) -> Any:
        i = cols.get(key)
        return row[i] if i is not None and i < len(row) else None

    raw_id, name = cell("id"), name_text(cell("name"))
    if cell_text(raw_id) == "" and not name:
        return  # a blank row, or a note under the table outside the ID and name columns
    if header_word(raw_id) in header_ids:
        return  # the header again (tables printed over several pages repeat it)
    pid = id_text(raw_id, where)
    if not pid or not name:
        raise RosterError(_at(where, "needs an ID and a name", "需要证件号和姓名"))
    role_text = cell_text(cell("role")).lower()
    role = ROLES.get(role_text) if role_text else default
    if role is None:
        raise RosterError(
            _at(
                where,
                f"unknown role {role_text!r} (学员/教师/管理人员)",
                f"角色“{role_text}”无法识别（应为 学员/教师/管理人员）",
            )
        )
    photos = [
        sheet.path.parent / p.strip().replace("\\", "/")
        for p in PHOTO_SPLIT.split(cell_text(cell("photo")))
        if p.strip()
    ]
    photos += sheet.pictures.get(number, [])
    entry = entries.get(pid)
    if entry is None:
        entries[pid] = RosterEntry(
            pid, name, role, photos, [number], [number] * len(photos), sheet=sheet.name
        )
        return
    if entry.name != name:
        raise RosterError(
            _at(where, f"ID {mask_id(pid)} names two people", f"证件号 {mask_id(pid)} 对应两个人")
        )
    entry.photos.extend(photos)
    entry.rows.append(number)
    entry.photo_rows.extend([number] * len(photos))


def _find_photos(roster: Roster, folders: list[Path]) -> None:
    """Photo paths that do not exist are looked for by file name beside the roster and in the
    photo folders (a cell may hold a path on the institution's own computer, D:\\照片\\王芳.jpg);
    people the table gives no photo get one named by their ID number or (unambiguous) name."""
    images: list[Path] = []
    for folder in folders:
        try:
            images += sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        except OSError:
            continue
    by_file = {p.name: p for p in reversed(images)}
    names = Counter(e.name for e in roster.entries)
    for entry in roster.entries:
        for i, photo in enumerate(entry.photos):
            if embedded_in(photo) is None and not photo.is_file():
                beside = roster.path.parent / photo.name
                entry.photos[i] = beside if beside.is_file() else by_file.get(photo.name, photo)
        if entry.photos:
            continue
        keys = {entry.id} | ({entry.name} if names[entry.name] == 1 else set())
        for image in images:
            stem = unicodedata.normalize("NFKC", image.stem).strip()
            if stem in keys or keys & set(_TOKENS.split(stem)):
                entry.photos.append(image)
                entry.photo_rows.append(entry.rows[0])


def photo_label(photo: Path) -> str:
    """How an error names a photo: its file name, or the picture inside the workbook."""
    book = embedded_in(photo)
    return f"{book.name}/{photo.name}" if book is not None else photo.name


MAX_PHOTO_PIXELS = 40_000_000
"""A roster photo larger than this (an ID photo is well under 1 MP; a camera's 24 MP) is not
decoded: a small file can unpack to gigabytes (a 2.6 MB PNG of 45,000² pixels took 8 GB)."""


def photo_pixels(raw: bytes) -> int | None:
    """Width × height from an image's header alone (nothing decoded), or None if unknown."""
    try:
        with Image.open(io.BytesIO(raw)) as im:
            width, height = im.size
    except Image.DecompressionBombError:  # Pillow's own limit says it before we can
        return 2**62
    except Exception:  # not an image Pillow knows: the decoder will say
        return None
    return int(width) * int(height)


def read_photo(photo: Path) -> np.ndarray | None:
    """An RGB image from a photo file (any name, even non-ASCII), padded for the detector;
    None when it is not an image, or too large to decode safely (MAX_PHOTO_PIXELS)."""
    try:
        raw = photo_bytes(photo)
    except OSError:
        return None
    if (photo_pixels(raw) or 0) > MAX_PHOTO_PIXELS:
        return None
    data = np.frombuffer(raw, np.uint8)
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
        book = Sheet(roster.path, entry.sheet, []).where
        if not entry.photos:
            problems.append(
                _at(
                    _row(book, entry.rows[0]),
                    f"{entry.name} has no photo (照片 column, a picture on the row, or a photo "
                    "named by ID number or name in 照片/)",
                    f"{entry.name} 没有照片（“照片”列、该行上插入的图片，或 照片/ 文件夹中以证件号"
                    "或姓名命名的照片）",
                )
            )
            continue
        for photo, row in zip(entry.photos, entry.photo_rows, strict=True):
            label = photo_label(photo)
            where = _at(_row(book, row), f"photo {label}", f"照片 {label}")
            vector, problem = _enrol_photo(photo, engine, cache_dir)
            if problem:
                zh = problem.zh if isinstance(problem, Bilingual) else _PHOTO_PROBLEMS.get(problem)
                problems.append(_at(where, problem, zh or problem))
            elif vector is not None:
                entry.embeddings.append(vector)
    return problems


# What can be wrong with one roster photo, in Chinese (the English is the key).
_PHOTO_PROBLEMS = {
    "missing or unreadable": "缺失或无法读取",
    "too large to open safely (more than 40 million pixels)": (
        "图片过大（超过 4000 万像素），不予打开"
    ),
    "not an image": "不是图片",
    "no face found": "未找到人脸",
}


def _enrol_photo(
    photo: Path, engine: FaceEngine, cache_dir: Path | None
) -> tuple[np.ndarray | None, str | None]:
    try:
        digest = hashlib.sha256(photo_bytes(photo)).hexdigest()
    except OSError:
        return None, "missing or unreadable"
    cached = cache_dir / engine.cache_key / f"{digest}.npy" if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return np.load(cached), None
        except (OSError, ValueError):
            pass
    try:
        pixels = photo_pixels(photo_bytes(photo)) or 0
    except OSError:
        return None, "missing or unreadable"
    if pixels > MAX_PHOTO_PIXELS:
        return None, "too large to open safely (more than 40 million pixels)"
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
            return None, Bilingual(
                f"{len(faces)} faces (one person per photo)",
                f"有 {len(faces)} 张人脸（每张照片只能有一人）",
            )
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
