"""Walking a submitted folder into Disc → ClassFolder → Day → Clip, changing nothing.

Beside the footage a class folder may hold roster material: the roster (名册.csv, 花名册.xlsx,
学员名单.xls … as the profile's [names] roster_files) and photo folders (照片/, 相片/ … as
[names] photo_dirs, or any folder holding only images). Roster material is never a day.

A day folder named without a year (5月24日) takes the year of, in order: the class folder's name
("2024年第1期…"), --year, the clip names' prefixes ("…2024年第1期…5月24日授课过程"), and
(after probing, `date_by_metadata`) the one year the class's clips' metadata agree on; failing
all of these the current year is assumed, and the rules say so (NM05).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from video_audit.media.probe import MediaInfo
from video_audit.naming import (
    ClipName,
    FolderDate,
    display_name,
    parse_class_year,
    parse_clip_name,
    parse_folder_date,
    split_extension,
)
from video_audit.standard import Profile

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
# What Windows and macOS leave in a folder of pictures: not a reason to call it something else.
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
PHOTO_DIRS = ("照片", "相片", "photos", "学员照片")
# Files an institution hands in beside the footage for the subsidy: the real-name system's phone
# check-in export and the employment list ([names] checkin_files / employment_files).
CHECKIN_FILES = ("*签到*.csv", "*签到*.xlsx", "*签到*.xls", "*打卡*.csv", "*打卡*.xlsx",
                 "*打卡*.xls", "checkins.csv", "checkins.xlsx")  # fmt: skip
EMPLOYMENT_FILES = ("*就业*.csv", "*就业*.xlsx", "*就业*.xls", "employed.csv", "employed.xlsx")
YearSource = Literal["folder", "class", "option", "clip_names", "metadata", "assumed"]


@dataclass
class Clip:
    """One video file in a day folder."""

    path: Path
    rel: str
    filename: str
    name: ClipName | None
    media: MediaInfo | None = None

    @property
    def kind(self) -> str | None:
        return self.name.kind if self.name else None


@dataclass
class Day:
    """One day folder: its date (when its name has one) and its clips."""

    path: Path
    rel: str
    folder: str
    folder_date: FolderDate | None
    date: dt.date | None
    year_source: YearSource | None
    clips: list[Clip] = field(default_factory=list)


@dataclass
class Stray:
    """Something in the disc that does not belong, or that could not be read."""

    rel: str
    reason: str
    error: str | None = None


@dataclass
class ClassFolder:
    """One class (每期开班一个文件夹): its day folders, roster and whatever else lies there."""

    path: Path
    rel: str
    folder: str
    year: int | None
    days: list[Day] = field(default_factory=list)
    roster: Path | None = None
    roster_files: list[str] = field(default_factory=list)  # every roster-like file (rel)
    photo_dirs: list[str] = field(default_factory=list)
    checkins: Path | None = None
    """The phone check-in export handed in with the class (the subsidy ledger's), if any."""
    employment: Path | None = None
    """The employment list handed in with the class, if any."""
    names_years: dict[int, int] = field(default_factory=dict)  # year in clip prefixes: clips

    @property
    def roster_material(self) -> bool:
        """Whether the class folder holds a roster file or photos of people."""
        return bool(self.roster_files or self.photo_dirs)

    @property
    def names_year(self) -> int | None:
        """The year most of the class's clip names carry in their prefix."""
        if not self.names_years:
            return None
        return min(self.names_years, key=lambda y: (-self.names_years[y], y))

    @property
    def clips(self) -> Iterator[Clip]:
        for day in self.days:
            yield from day.clips

    @property
    def prefix(self) -> str | None:
        """The institution+class prefix most of the class's clips carry."""
        counts = Counter(c.name.prefix for c in self.clips if c.name)
        if not counts:
            return None
        folder = unicodedata.normalize("NFKC", self.folder).replace(" ", "")
        best = max(counts.values())
        tied = sorted(p for p, n in counts.items() if n == best)
        in_folder = [p for p in tied if p in folder or folder in p]
        return (in_folder or tied)[0]


@dataclass
class Disc:
    """What the audited PATH holds: a disc root of class folders, or one class folder."""

    root: Path
    kind: Literal["root", "class"]
    classes: list[ClassFolder] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)

    @property
    def clips(self) -> Iterator[Clip]:
        for cls in self.classes:
            yield from cls.clips

    def stray_count(self) -> int:
        return len(self.strays)


def _rel(parts: list[str]) -> str:
    return "/".join(display_name(p) for p in parts) if parts else "."


@dataclass
class _Entry:
    name: str
    path: Path
    is_dir: bool
    is_link: bool
    is_file: bool


def _list(path: Path) -> list[_Entry]:
    """Entries of a folder, sorted by name; links to folders are never followed (no loops)."""
    entries: list[_Entry] = []
    with os.scandir(path) as it:
        for e in it:
            is_link = e.is_symlink()
            try:
                is_dir = e.is_dir(follow_symlinks=False)
                is_file = e.is_file(follow_symlinks=True)
            except OSError:
                is_dir = is_file = False
            entries.append(_Entry(e.name, Path(e.path), is_dir, is_link, is_file))
    entries.sort(key=lambda x: x.name)
    return entries


class DiscWalker:
    """Builds the Disc model from a folder, using the profile's name rules."""

    def __init__(self, profile: Profile, year: int | None = None) -> None:
        self.profile = profile
        self.names = profile.names
        self.year = year
        self.video_ext = profile.format.video_extensions
        self.roster_patterns = [_fold(n) for n in profile.names.roster_files]
        names = profile.section("names")
        self.ledger_patterns = {
            kind: [_fold(str(n)) for n in names.get(f"{kind}_files", default)]
            for kind, default in (("checkin", CHECKIN_FILES), ("employment", EMPLOYMENT_FILES))
        }
        dirs = names.get("photo_dirs", PHOTO_DIRS)
        self.photo_dir_names = {_fold(str(d)) for d in dirs}
        # Within one walk each folder is listed once (recognising a class, a day, a photo
        # folder and walking it all look at the same listing): the walk stays linear.
        self._listings: dict[Path, list[_Entry] | OSError] | None = None

    def _list(self, path: Path) -> list[_Entry]:
        """The folder's entries (OSError when it cannot be read), listed once per walk."""
        if self._listings is None:
            return _list(path)
        listed = self._listings.get(path)
        if listed is None:
            try:
                listed = _list(path)
            except OSError as exc:
                listed = exc
            self._listings[path] = listed
        if isinstance(listed, OSError):
            raise listed
        return listed

    def roster_rank(self, name: str) -> int | None:
        """The place of the first roster_files pattern NAME fits (lower is preferred), or None."""
        folded = _fold(display_name(name))
        return next(
            (i for i, p in enumerate(self.roster_patterns) if fnmatch.fnmatchcase(folded, p)), None
        )

    def ledger_kind(self, name: str) -> str | None:
        """ "checkin" or "employment" for a file the subsidy ledger reads, else None."""
        folded = _fold(display_name(name))
        for kind, patterns in self.ledger_patterns.items():
            if any(fnmatch.fnmatchcase(folded, p) for p in patterns):
                return kind
        return None

    def _is_roster(self, entry: _Entry) -> bool:
        return (
            entry.is_file
            and not entry.is_link
            and self.ledger_kind(entry.name) is None  # 就业名单.xlsx is not a roster
            and self.roster_rank(entry.name) is not None
        )

    def walk(self, root: Path) -> Disc:
        """Walk PATH: a class folder (it holds day folders) or a disc root (it holds classes)."""
        self._listings = {}
        try:
            return self._walk(root.resolve())
        finally:
            self._listings = None

    def _walk(self, root: Path) -> Disc:
        if self.is_class_dir(root):
            disc = Disc(root=root, kind="class")
            disc.classes.append(self._class(root, [], disc))
            return disc
        disc = Disc(root=root, kind="root")
        for entry in self._safe_list(root, [], disc):
            parts = [entry.name]
            if entry.is_link and entry.is_dir:
                disc.strays.append(Stray(_rel(parts), "link"))
            elif entry.is_dir:
                disc.classes.append(self._class(entry.path, parts, disc))
            else:
                self._loose_file(entry, parts, disc)
        return disc

    # --- recognising folders -------------------------------------------------------------
    def _is_video(self, name: str) -> bool:
        return split_extension(name)[1] in self.video_ext

    def _looks_like_day(self, path: Path, name: str) -> bool:
        """A day folder: a date in its name, or Annex 4 clips directly inside it."""
        if parse_folder_date(name, self.names):
            return True
        try:
            return any(e.is_file and parse_clip_name(e.name, self.names) for e in self._list(path))
        except OSError:
            return False

    def _looks_like_class(self, path: Path) -> bool:
        """A class folder for sure: a roster, or a sub-folder with a date in its name."""
        try:
            entries = self._list(path)
        except OSError:
            return False
        return any(self._is_roster(e) for e in entries) or any(
            e.is_dir and not e.is_link and parse_folder_date(e.name, self.names) for e in entries
        )

    def is_class_dir(self, path: Path) -> bool:
        """Whether PATH is one class folder (it holds day folders) rather than a disc root."""
        try:
            entries = self._list(path)
        except OSError:
            return False
        if any(self._is_roster(e) for e in entries):
            return True
        subdirs = [e for e in entries if e.is_dir and not e.is_link]
        if any(self._looks_like_class(e.path) for e in subdirs):
            return False
        return any(self._looks_like_day(e.path, e.name) for e in subdirs)

    # --- walking ---------------------------------------------------------------------------
    def _safe_list(self, path: Path, parts: list[str], disc: Disc) -> list[_Entry]:
        try:
            return self._list(path)
        except OSError as exc:
            disc.strays.append(Stray(_rel(parts), "unreadable", exc.strerror or str(exc)))
            return []

    def _loose_file(self, entry: _Entry, parts: list[str], disc: Disc) -> None:
        if entry.is_link and not entry.path.exists():
            disc.strays.append(Stray(_rel(parts), "unreadable", "broken link"))
        elif entry.is_link:  # like a folder link: never followed (it may point off the disc)
            disc.strays.append(Stray(_rel(parts), "file_link"))
        elif not entry.is_file:
            disc.strays.append(Stray(_rel(parts), "special"))
        elif self._is_video(entry.name):
            disc.strays.append(Stray(_rel(parts), "clip_outside_day"))
        else:
            disc.strays.append(Stray(_rel(parts), "stray_file"))

    def _class(self, path: Path, parts: list[str], disc: Disc) -> ClassFolder:
        folder = display_name(path.name)
        cls = ClassFolder(
            path=path, rel=_rel(parts), folder=folder, year=parse_class_year(path.name, self.names)
        )
        entries = self._safe_list(path, parts, disc)
        rosters = sorted(
            (rank, e.name, e) for e in entries if (rank := self._roster_rank_of(e)) is not None
        )
        if rosters:
            cls.roster = rosters[0][2].path
        for entry in entries:
            sub = [*parts, entry.name]
            if entry.is_link and entry.is_dir:
                disc.strays.append(Stray(_rel(sub), "link"))
            elif entry.is_dir:
                self._class_subfolder(cls, entry, sub, disc)
            elif self._is_roster(entry):
                cls.roster_files.append(_rel(sub))
            elif entry.is_file and not entry.is_link and (kind := self.ledger_kind(entry.name)):
                if kind == "checkin" and cls.checkins is None:
                    cls.checkins = entry.path
                elif kind == "employment" and cls.employment is None:
                    cls.employment = entry.path
            else:
                self._loose_file(entry, sub, disc)
        self._date_days(cls)
        return cls

    def _roster_rank_of(self, entry: _Entry) -> int | None:
        return self.roster_rank(entry.name) if self._is_roster(entry) else None

    def _class_subfolder(
        self, cls: ClassFolder, entry: _Entry, parts: list[str], disc: Disc
    ) -> None:
        folder_date = parse_folder_date(entry.name, self.names)
        if folder_date is None and self._is_photo_dir(entry):
            cls.photo_dirs.append(_rel(parts))
            return
        day = Day(
            path=entry.path,
            rel=_rel(parts),
            folder=display_name(entry.name),
            folder_date=folder_date,
            date=None,
            year_source=None,
        )
        for item in self._safe_list(entry.path, parts, disc):
            sub = [*parts, item.name]
            if item.is_dir or (item.is_link and item.is_dir):
                disc.strays.append(Stray(_rel(sub), "link" if item.is_link else "folder_in_day"))
            elif item.is_link and not item.path.exists():
                disc.strays.append(Stray(_rel(sub), "unreadable", "broken link"))
            elif item.is_link:  # a clip that is a link is not footage handed in: not followed
                disc.strays.append(Stray(_rel(sub), "file_link"))
            elif not item.is_file:
                disc.strays.append(Stray(_rel(sub), "special"))
            elif self._is_video(item.name):
                day.clips.append(
                    Clip(
                        path=item.path,
                        rel=_rel(sub),
                        filename=display_name(item.name),
                        name=parse_clip_name(item.name, self.names),
                    )
                )
            else:
                disc.strays.append(Stray(_rel(sub), "non_video"))
        cls.days.append(day)

    def _is_photo_dir(self, entry: _Entry) -> bool:
        """Roster photos: a folder under a usual name (照片, photos …) or holding only images."""
        if _fold(display_name(entry.name)) in self.photo_dir_names:
            return True
        try:
            files = [
                e
                for e in self._list(entry.path)
                if e.is_file and e.name.lower() not in SYSTEM_FILES
            ]
        except OSError:
            return False
        return bool(files) and all(split_extension(e.name)[1] in IMAGE_EXTENSIONS for e in files)

    def _date_days(self, cls: ClassFolder) -> None:
        """Date the class's day folders, once its clip names are known."""
        years = Counter(
            named
            for clip in cls.clips
            if clip.name and (named := parse_class_year(clip.name.prefix, self.names)) is not None
        )
        cls.names_years = dict(years)
        year: int
        source: YearSource
        if cls.year is not None:
            year, source = cls.year, "class"
        elif self.year is not None:
            year, source = self.year, "option"
        elif cls.names_year is not None:
            year, source = cls.names_year, "clip_names"
        else:
            year, source = dt.date.today().year, "assumed"
        for day in cls.days:
            if day.folder_date is None:
                continue
            if day.folder_date.year is not None:
                redate(day, day.folder_date.year, "folder")
            else:
                redate(day, year, source)


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


def redate(day: Day, year: int, source: YearSource) -> None:
    """Give a day folder named with a month and day the year SOURCE says."""
    assert day.folder_date is not None
    day.year_source = source
    try:
        day.date = dt.date(year, day.folder_date.month, day.folder_date.day)
    except ValueError:  # 2月29日 in a year without one
        day.date = None


def date_by_metadata(disc: Disc) -> None:
    """After probing: days whose year was assumed take the one year their class's clips were
    recorded in by their metadata, when all the clips that carry one agree."""
    for cls in disc.classes:
        assumed = [d for d in cls.days if d.year_source == "assumed"]
        years = {y for clip in cls.clips if (y := _metadata_year(clip)) is not None}
        if assumed and len(years) == 1:
            (year,) = years
            for day in assumed:
                redate(day, year, "metadata")


def _metadata_year(clip: Clip) -> int | None:
    created = clip.media.creation_time if clip.media else None
    try:
        year = int((created or "")[:4])
    except ValueError:
        return None
    # 1904, 1970 and 2000 are what unset camera clocks write.
    return year if 2001 <= year <= dt.date.today().year + 1 else None
