"""The broken-input corpus: what field discs and uploads bring, each kind built here from good
clips, byte by byte. Every kind gives its finding (or, for what stops a whole run, one line and
exit 2): never a traceback, never a silent pass, and one broken thing never stops the audit of
the rest, so the disc kinds are all audited together, as one disc, through the command line.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from click.testing import CliRunner

from api.uploads import Limits, UploadRefused, Uploads
from tests.broken_media import retime
from tests.conftest import CLIP_KINDS, PREFIX
from tests.web_fixtures import legacy_zip, zip_bytes
from video_audit.cli import main
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import roster_photo

DAY = "5月24日"
ROLL1 = f"{PREFIX}{DAY}课间人脸识别视频1.mp4"
ROLL2 = f"{PREFIX}{DAY}课间人脸识别视频2.mp4"
LESSON = f"{PREFIX}{DAY}授课过程.mp4"


class Kit:
    """Good clips, made once, and the ways to break them."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def clip(self, kind: str) -> Path:
        cached = self.cache / f"corpus-{kind}.bin"
        if not cached.exists():
            spec = CLIP_KINDS.get(kind) or EXTRA_KINDS[kind]
            write_clip(self.cache / f"corpus-{kind}.mp4", spec)
            (self.cache / f"corpus-{kind}.mp4").rename(cached)
        return cached

    def bytes(self, kind: str = "roll") -> bytes:
        return self.clip(kind).read_bytes()


EXTRA_KINDS = {"odd444": ClipSpec(2, 2, width=1024, height=768, seed=21)}


def _box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(offset, size) of a top-level ISO box."""
    offset = 0
    while offset + 8 <= len(data):
        size = struct.unpack(">I", data[offset : offset + 4])[0]
        if data[offset + 4 : offset + 8] == kind:
            return offset, size
        offset += max(size, 8)
    raise ValueError(kind)


def _without_box(data: bytes, kind: bytes) -> bytes:
    offset, size = _box(data, kind)
    return data[:offset] + data[offset + size :]


def _lying_box_size(data: bytes) -> bytes:
    offset, _ = _box(data, b"mdat")
    return data[:offset] + struct.pack(">I", 0x7FFFFFF0) + data[offset + 4 :]


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000)
        samples = np.zeros((1, 1024 * 20), np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _giant(path: Path) -> None:
    """One black 8192×4608 picture (37.7 million pixels, more than 8K): a few kB on disc."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 8192, 4608, "yuv420p"
        frame = av.VideoFrame(8192, 4608, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _odd_444(source: Path, path: Path) -> None:
    """1023×768, 4:4:4 chroma: a picture size and format real cameras and editors write."""
    with av.open(str(source)) as src, av.open(str(path), "w", format="mp4") as out:
        video = src.streams.video[0]
        stream = out.add_stream("libx264", rate=2, options={"preset": "ultrafast"})
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 1023, 768, "yuv444p"
        for n, frame in enumerate(src.decode(video)):
            scaled = frame.reformat(width=1023, height=768, format="yuv444p")
            scaled.pts = n
            out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))


# --- the disc kinds: each builds one class folder and names the finding it must give --------
Build = Callable[[Kit, Path], tuple[str, str]]
"""(kit, class folder) → (code, path of the finding inside the class folder)."""


def _day(kit: Kit, cls: Path, skip: tuple[str, ...] = ()) -> Path:
    day = cls / DAY
    day.mkdir(parents=True, exist_ok=True)
    for name, kind in ((ROLL1, "roll"), (ROLL2, "roll_b"), (LESSON, "lesson")):
        if name not in skip:
            shutil.copyfile(kit.clip(kind), day / name)
    return day


def _roll2(data: Callable[[Kit], bytes], code: str) -> Build:
    def build(kit: Kit, cls: Path) -> tuple[str, str]:
        day = _day(kit, cls, skip=(ROLL2,))
        (day / ROLL2).write_bytes(data(kit))
        return code, f"{DAY}/{ROLL2}"

    return build


def _lesson_file(make: Callable[[Kit, Path], object], code: str) -> Build:
    def build(kit: Kit, cls: Path) -> tuple[str, str]:
        day = _day(kit, cls, skip=(LESSON,))
        make(kit, day / LESSON)
        return code, f"{DAY}/{LESSON}"

    return build


def _extra(
    name: str, make: Callable[[Kit, Path], object], code: str, at: str | None = None
) -> Build:
    """A complete day plus one more thing at NAME (relative to the class folder)."""

    def build(kit: Kit, cls: Path) -> tuple[str, str]:
        _day(kit, cls)
        (cls / name).parent.mkdir(parents=True, exist_ok=True)
        make(kit, cls / name)
        return code, at or name

    return build


def _renamed(name: str, code: str) -> Build:
    def build(kit: Kit, cls: Path) -> tuple[str, str]:
        day = _day(kit, cls, skip=(ROLL1,))
        shutil.copyfile(kit.clip("roll"), day / name)
        return code, f"{DAY}/{name}"

    return build


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims WIDTH×HEIGHT pixels: a few bytes that would unpack to GBs."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(3 * width + 1) * 4)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _roster(text: str | bytes, code: str, photo: bytes | None = None) -> Build:
    def build(kit: Kit, cls: Path) -> tuple[str, str]:
        _day(kit, cls)
        data = text.encode("utf-8") if isinstance(text, str) else text
        (cls / "名册.csv").write_bytes(data)
        if photo is not None:
            (cls / "照片").mkdir()
            (cls / "照片" / "王芳.jpg").write_bytes(photo or _png_claiming(40_000, 40_000))
        return code, "名册.csv"

    return build


def _flat_jpeg() -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.full((200, 160, 3), 128, np.uint8))
    assert ok
    return bytes(buf)


def _symlink(target: Callable[[Path], Path]) -> Callable[[Kit, Path], object]:
    def make(kit: Kit, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target(path))

    return make


def _outside_clip(path: Path) -> Path:
    outside = path.parents[3] / "outside" / f"{path.parent.parent.name}.mp4"  # beside the disc
    outside.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CLIP_KINDS_CACHE["roll"], outside)
    return outside


CLIP_KINDS_CACHE: dict[str, Path] = {}
ROSTER_HEAD = "证件号,姓名,角色,照片\n"

DISC_KINDS: dict[str, Build] = {
    # Media that does not play.
    "empty_clip": _roll2(lambda k: b"", "FM04"),
    "truncated_clip": _roll2(lambda k: k.bytes()[: len(k.bytes()) // 2], "FM04"),
    "cut_to_the_header": _roll2(lambda k: k.bytes()[:600], "FM04"),
    "text_named_mp4": _roll2(lambda k: b"this is not a video\n" * 40, "FM04"),
    "jpeg_named_mp4": _roll2(lambda k: _flat_jpeg(), "FM04"),
    "pdf_named_mp4": _roll2(lambda k: b"%PDF-1.4\n" + b"0" * 4000, "FM04"),
    "zip_named_mp4": _roll2(lambda k: zip_bytes([("a.txt", b"x")]), "FM04"),
    "random_bytes": _roll2(lambda k: np.random.default_rng(1).bytes(50_000), "FM04"),
    "unknown_codec": _roll2(lambda k: k.bytes().replace(b"avc1", b"zzzz"), "FM04"),
    "no_moov": _roll2(lambda k: _without_box(k.bytes(), b"moov"), "FM04"),
    "no_mdat": _roll2(lambda k: _without_box(k.bytes(), b"mdat"), "FM04"),
    "box_size_lies": _roll2(lambda k: _lying_box_size(k.bytes()), "FM04"),
    "zeroed_tail": _roll2(lambda k: k.bytes()[:-3000] + bytes(3000), "FM04"),
    "audio_only": _lesson_file(lambda k, p: _audio_only(p), "FM04"),
    "giant_picture": _lesson_file(lambda k, p: _giant(p), "FM04"),
    # Media that plays but is not what Annex 4 asks for.
    "avi_container": _lesson_file(lambda k, p: shutil.copyfile(k.clip("avi"), p), "FM01"),
    "mov_container": _lesson_file(lambda k, p: shutil.copyfile(k.clip("mov"), p), "FM01"),
    "too_small": _roll2(lambda k: k.bytes("small"), "FM02"),
    "hd720_too_low": _roll2(lambda k: k.bytes("hd720"), "FM02"),
    "odd_width_444": _lesson_file(lambda k, p: _odd_444(k.clip("odd444"), p), "FM02"),
    "short_lesson": _lesson_file(lambda k, p: shutil.copyfile(k.clip("short_lesson"), p), "FM03"),
    "last_frame_36_hours_on": _lesson_file(
        lambda k, p: retime(k.clip("lesson"), p, last_at=36 * 3600), "FM06"
    ),
    "stretched_to_a_slide_show": _lesson_file(
        lambda k, p: retime(k.clip("lesson"), p, factor=40), "FM06"
    ),
    # Names.
    "name_without_scheme": _renamed("课间视频.mp4", "NM01"),
    "slot_3": _renamed(f"{PREFIX}{DAY}课间人脸识别视频3.mp4", "NM01"),
    "other_class_prefix": _renamed(
        f"壶关县别的职业培训学校2024年第9期电工培训班{DAY}课间人脸识别视频1.mp4", "NM02"
    ),
    "date_of_another_day": _renamed(f"{PREFIX}5月25日课间人脸识别视频1.mp4", "NM03"),
    "full_width_digits": _renamed(f"{PREFIX}５月２４日课间人脸识别视频１.mp4", "NM04"),
    "two_clip_ones": _extra(
        f"{DAY}/{PREFIX}{DAY} 课间人脸识别视频1.mp4",
        lambda k, p: shutil.copyfile(k.clip("roll_b"), p),
        "CT03",
        f"{DAY}/{ROLL1}",
    ),
    # Layout.
    "undated_day": _extra("第三天/说明.txt", lambda k, p: p.write_text("x"), "LY02", "第三天"),
    "same_date_twice": _extra(
        f"2024-05-24/{LESSON}", lambda k, p: shutil.copyfile(k.clip("lesson"), p), "LY04", DAY
    ),
    "folder_in_day": _extra(
        f"{DAY}/备份/a.txt", lambda k, p: p.write_text("x"), "LY03", f"{DAY}/备份"
    ),
    "note_in_day": _extra(f"{DAY}/说明.docx", lambda k, p: p.write_bytes(b"PK\x03\x04"), "LY03"),
    "clip_outside_day": _extra("片段.mp4", lambda k, p: shutil.copyfile(k.clip("roll"), p), "LY03"),
    # Links and special files.
    "file_link_off_the_disc": _extra(
        f"{DAY}/{PREFIX}{DAY}课间人脸识别视频2备份.mp4", _symlink(_outside_clip), "LY03"
    ),
    "folder_link": _extra("外部", _symlink(lambda p: p.parents[2]), "LY03"),
    "loop_link": _extra(f"{DAY}/回到班级", _symlink(lambda p: p.parents[1]), "LY03"),
    "broken_link": _extra(f"{DAY}/{PREFIX}{DAY}授课过程2.mp4", _symlink(lambda p: p / "x"), "LY05"),
    "fifo": _extra(f"{DAY}/管道.mp4", lambda k, p: os.mkfifo(p), "LY03"),
    # Rosters.
    "roster_binary_junk": _roster(np.random.default_rng(2).bytes(3000), "PP06"),
    "roster_without_headers": _roster("王芳,学员\n李强,学员\n", "PP06"),
    "roster_photo_missing": _roster(
        ROSTER_HEAD + "140423199001011234,王芳,学员,照片/无.jpg\n", "PP06"
    ),
    "roster_photo_not_an_image": _roster(
        ROSTER_HEAD + "140423199001011234,王芳,学员,照片/王芳.jpg\n", "PP06", b"not a picture"
    ),
    "roster_photo_without_a_face": _roster(
        ROSTER_HEAD + "140423199001011234,王芳,学员,照片/王芳.jpg\n", "PP06", _flat_jpeg()
    ),
    "roster_empty": _roster(b"", "PP06"),
    "roster_photo_bomb": _roster(
        ROSTER_HEAD + "140423199001011234,王芳,学员,照片/王芳.jpg\n", "PP06", b""
    ),
    "xlsx_roster_of_junk": _extra(
        "花名册.xlsx", lambda k, p: p.write_bytes(np.random.default_rng(3).bytes(4000)), "PP06"
    ),
    "xlsx_roster_without_headers": _extra("学员名单.xlsx", lambda k, p: _sheet(p), "PP06"),
    "photos_but_no_roster": _extra(
        "照片/王芳.jpg", lambda k, p: p.write_bytes(roster_photo(0)), "PP07", "."
    ),
}


def _sheet(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["王芳", "学员"])
    sheet.append(["李强", "学员"])
    book.save(path)


def _missing_roll(kit: Kit, cls: Path) -> tuple[str, str]:
    _day(kit, cls, skip=(ROLL2,))
    return "CT01", DAY


def _no_days(kit: Kit, cls: Path) -> tuple[str, str]:
    return "LY01", "."  # the class folder is left empty


DISC_KINDS["missing_roll"] = _missing_roll
DISC_KINDS["class_without_days"] = _no_days


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, clip_cache: Path, short_profile: Path
) -> tuple[Path, dict[str, tuple[str, str]], dict[str, Any], int]:
    """Every disc kind as one class of one disc, audited once through the command line."""
    kit = Kit(clip_cache)
    CLIP_KINDS_CACHE["roll"] = kit.clip("roll")
    base = tmp_path_factory.mktemp("corpus")
    root = base / "disc"
    expected: dict[str, tuple[str, str]] = {}
    for n, (name, build) in enumerate(DISC_KINDS.items()):
        rel = f"{PREFIX}-{n:02d}-{name}"
        cls = root / rel
        cls.mkdir(parents=True)
        code, at = build(kit, cls)
        expected[name] = (code, rel if at == "." else f"{rel}/{at}")
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["check", str(root), "--format", "json", "--standard", str(short_profile)],
        catch_exceptions=True,
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return root, expected, json.loads(result.stdout), result.exit_code


def test_the_corpus_is_large_enough() -> None:
    assert len(DISC_KINDS) + len(ZIP_KINDS) + len(RUN_KINDS) >= 40


def test_one_audit_of_every_broken_kind_finishes(corpus: Any) -> None:
    _, _, report, exit_code = corpus
    assert exit_code == 1  # errors found; not 2 (the run itself held)
    assert not [f for f in report["findings"] if f["code"] == "FM05"], "no check may fail"


@pytest.mark.parametrize("kind", list(DISC_KINDS))
def test_each_broken_kind_is_a_finding(corpus: Any, kind: str) -> None:
    """Each kind's own finding at its own path (FM04 oversized: the giant picture)."""
    _, expected, report, _ = corpus
    code, at = expected[kind]
    got = {(f["code"], f["path"]) for f in report["findings"]}
    here = sorted(f"{c} {p}" for c, p in got if p.split("/")[0] == at.split("/")[0])
    assert (code, at) in got, here


def test_a_link_off_the_disc_is_never_read(corpus: Any) -> None:
    _, expected, report, _ = corpus
    _, at = expected["file_link_off_the_disc"]
    clips = [c["path"] for cls in report["classes"] for d in cls["days"] for c in d["clips"]]
    assert at not in clips


def test_the_odd_width_444_lesson_is_decoded_and_measured(corpus: Any) -> None:
    _, expected, report, _ = corpus
    _, at = expected["odd_width_444"]
    clip = next(
        c for cls in report["classes"] for d in cls["days"] for c in d["clips"] if c["path"] == at
    )
    assert clip["media"]["width"] == 1023 and clip["picture"] is not None


# --- what stops a whole run: one line, exit 2 ---------------------------------------------
def _bad_profile(tmp: Path) -> list[str]:
    (tmp / "p.toml").write_text("[profile\nid=", "utf-8")
    (tmp / "d").mkdir()
    return ["check", str(tmp / "d"), "--standard", str(tmp / "p.toml")]


def _profile_missing_section(tmp: Path) -> list[str]:
    (tmp / "p.toml").write_text('[profile]\nid = "x"\n', "utf-8")
    (tmp / "d").mkdir()
    return ["check", str(tmp / "d"), "--standard", str(tmp / "p.toml")]


RUN_KINDS: dict[str, Callable[[Path], list[str]]] = {
    "no_such_folder": lambda tmp: ["check", str(tmp / "没有")],
    "a_file_not_a_folder": lambda tmp: ["check", str(Path(shutil.copyfile(__file__, tmp / "a")))],
    "broken_profile": _bad_profile,
    "profile_without_names": _profile_missing_section,
    "roster_option_missing": lambda tmp: [
        "check",
        str(tmp),
        "--roster",
        str(tmp / "无.csv"),
    ],
}


@pytest.mark.parametrize("kind", list(RUN_KINDS))
def test_what_stops_the_run_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    result = CliRunner().invoke(main, RUN_KINDS[kind](tmp_path), catch_exceptions=True)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


# --- uploads: refused with a line naming the entry, or taken with the right names ----------
def _entries() -> list[tuple[str, bytes]]:
    return [("班级/5月24日/a.mp4", b"x" * 100), ("班级/名册.csv", "证件号,姓名\n".encode())]


def _zip_with(name: str, data: bytes = b"x", mode: int | None = None, flags: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("班级/5月24日/ok.mp4", b"fine")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.create_system, info.external_attr = 3, mode << 16
        zf.writestr(info, data)
    raw = bytearray(buf.getvalue())
    if flags:  # zipfile clears the flags it does not write itself: set them in both headers
        for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            offset = raw.rfind(signature)
            old = struct.unpack("<H", raw[offset + at : offset + at + 2])[0]
            raw[offset + at : offset + at + 2] = struct.pack("<H", old | flags)
    return bytes(raw)


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("班级/5月24日/a.mp4", bytes(5_000_000))
    data = buf.getvalue()
    return data.replace(struct.pack("<I", 5_000_000), struct.pack("<I", 1000))  # sizes lie


ZIP_KINDS: dict[str, tuple[Callable[[], bytes], str | None]] = {
    "not_a_zip": (lambda: b"PK\x03\x04 not really", "zip"),
    "cut_short_zip": (lambda: zip_bytes(_entries())[:-30], "zip"),
    "empty_zip": (lambda: zip_bytes([]), "没有文件"),
    "dot_dot_entry": (lambda: _zip_with("../../etc/evil.mp4"), ".."),
    "absolute_entry": (lambda: _zip_with("/etc/evil.mp4"), "绝对路径"),
    "drive_letter_entry": (lambda: _zip_with("C:\\evil.mp4"), "绝对路径"),
    "symlink_entry": (lambda: _zip_with("班级/link", b"/etc/passwd", 0o120777), "链接"),
    "device_entry": (lambda: _zip_with("班级/dev", b"", 0o020666), "设备"),
    "encrypted_entry": (lambda: _zip_with("班级/secret.mp4", flags=0x1), "加密"),
    "sizes_lie": (_bomb, "a.mp4"),
    "gbk_names_from_windows": (lambda: legacy_zip(_entries(), "gbk"), None),
    "utf8_names_without_the_flag": (lambda: legacy_zip(_entries(), "utf-8"), None),
}


@pytest.mark.parametrize("kind", list(ZIP_KINDS))
def test_each_broken_upload_is_refused_by_name_or_read_right(tmp_path: Path, kind: str) -> None:
    make, words = ZIP_KINDS[kind]
    uploads = Uploads(tmp_path, Limits(max_bytes=1_000_000, max_files=50))
    if words is None:
        staged = uploads.stage_zip(io.BytesIO(make()), "x.zip")
        assert staged.folder == "班级"
        folder = tmp_path / "staging" / staged.token / "班级"
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
            "5月24日",
            "5月24日/a.mp4",
            "名册.csv",
        ]
        return
    with pytest.raises(UploadRefused) as refused:
        uploads.stage_zip(io.BytesIO(make()), "x.zip")
    assert words in str(refused.value)
    assert list((tmp_path / "staging").iterdir()) == []
    assert list((tmp_path / "classes").iterdir()) == []


# --- faults of the tool itself: a finding on what they touched, the rest goes on ----------
class _Faulty:
    """An analyzer with a fault (it stands for any bug yet to be found): it fails on frames."""

    name = "clock"

    def sampling(self, clip: Any) -> Any:
        from video_audit.media.frames import Sampling

        return Sampling(every=0.5)

    def begin(self, clip: Any) -> Any:
        return self

    def add(self, frame: Any) -> None:
        raise RuntimeError("analyzer fault")

    def finish(self, timeline: Any) -> Any:
        raise AssertionError("never reached: the analyzer was dropped")


def test_a_faulty_analyzer_is_fm05_on_each_clip_and_the_rest_is_checked(
    tmp_path: Path, clip_cache: Path, short_profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_audit.audit as audit

    kit = Kit(clip_cache)
    cls = tmp_path / PREFIX
    day = _day(kit, cls, skip=(LESSON,))
    shutil.copyfile(kit.clip("short_lesson"), day / LESSON)
    monkeypatch.setattr(audit, "_clock", lambda ctx: _Faulty())
    report = audit.run_audit(cls, audit.AuditSettings(standard=short_profile))
    found = {(f.code, f.path) for f in report.findings}
    clips = {f"{DAY}/{n}" for n in (ROLL1, ROLL2, LESSON)}
    assert {p for c, p in found if c == "FM05"} == clips
    assert ("FM03", f"{DAY}/{LESSON}") in found  # the other checks ran
    fm05 = next(f for f in report.findings if f.code == "FM05")
    assert "画面时钟" in fm05.message("zh") and "analyzer fault" in fm05.message("zh")
    assert all(report.extras["picture"].get(c) for c in clips)


def test_a_faulty_rule_group_is_fm05_and_the_other_groups_report(
    tmp_path: Path, clip_cache: Path, short_profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_audit.audit as audit
    from video_audit.rules import layout, naming

    def broken(ctx: Any) -> Any:
        yield from naming.check(ctx)
        raise KeyError("rule fault")

    broken.__module__ = "video_audit.rules.naming"
    kit = Kit(clip_cache)
    cls = tmp_path / PREFIX
    _day(kit, cls)
    (cls / "说明.txt").write_text("x", "utf-8")
    monkeypatch.setattr(audit, "checks", lambda: [broken, layout.check])
    report = audit.run_audit(cls, audit.AuditSettings(standard=short_profile))
    assert [(f.code, f.path) for f in report.findings] == [("FM05", "."), ("LY03", "说明.txt")]
    assert "文件命名" in report.findings[0].message("zh")


def test_an_unforeseen_error_is_one_line_exit_2_and_a_kept_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import video_audit.cli as cli

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("somewhere deep")

    monkeypatch.setattr(cli, "run_audit", crash)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = CliRunner().invoke(main, ["check", str(tmp_path)], catch_exceptions=True)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "内部错误" in line and "somewhere deep" in line
    logs = list(tmp_path.glob("video-audit-error-*.txt"))
    assert len(logs) == 1 and str(logs[0]) in line
    assert "Traceback" in logs[0].read_text("utf-8") and "Traceback" not in result.output


def test_a_cut_off_copy_that_is_still_growing_is_being_written_not_truncated(
    tmp_path: Path, clip_cache: Path, short_profile: Path
) -> None:
    import threading
    import time

    from video_audit.audit import AuditSettings, run_audit

    kit = Kit(clip_cache)
    cls = tmp_path / PREFIX
    day = _day(kit, cls, skip=(ROLL2,))
    whole = kit.bytes("roll_b")
    (day / ROLL2).write_bytes(whole[: len(whole) // 3])  # a copy a third of the way through
    stop = threading.Event()

    def copy_slowly() -> None:  # a slow USB stick: a little more every 50 ms, never done
        with open(day / ROLL2, "ab") as fh:
            while not stop.is_set():
                fh.write(b"\0" * 256)
                fh.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    try:
        report = run_audit(cls, AuditSettings(standard=short_profile))
    finally:
        stop.set()
        writer.join()
    found = [(f.code, f.variant) for f in report.findings if f.path == f"{DAY}/{ROLL2}"]
    assert found == [("FM04", "being_written")]


def test_a_cut_off_copy_that_stopped_growing_is_truncated(
    tmp_path: Path, clip_cache: Path, short_profile: Path
) -> None:
    from video_audit.audit import AuditSettings, run_audit

    kit = Kit(clip_cache)
    cls = tmp_path / PREFIX
    day = _day(kit, cls, skip=(ROLL2,))
    whole = kit.bytes("roll_b")
    (day / ROLL2).write_bytes(whole[: len(whole) // 3])
    report = run_audit(cls, AuditSettings(standard=short_profile))
    found = [(f.code, f.variant) for f in report.findings if f.path == f"{DAY}/{ROLL2}"]
    assert found == [("FM04", "truncated")]


def test_names_that_would_act_on_a_terminal_print_as_they_are(
    tmp_path: Path, clip_cache: Path, short_profile: Path
) -> None:
    """A file name with an ESC sequence, a newline and a right-to-left override: the text
    report shows each as <U+XXXX>, on its own finding line, and never emits the raw bytes."""
    kit = Kit(clip_cache)
    cls = tmp_path / PREFIX
    day = _day(kit, cls, skip=(ROLL2,))
    hostile = "a\x1b[2J\x1b[31mRED\nfake line\u202emp4.exe.mp4"
    shutil.copyfile(kit.clip("roll_b"), day / hostile)
    result = CliRunner().invoke(main, ["check", str(cls), "--standard", str(short_profile)])
    assert result.exit_code == 1
    out = result.stdout
    assert "\x1b" not in out and "\u202e" not in out and "\nfake line" not in out
    assert "a<U+001B>[2J<U+001B>[31mRED<U+000A>fake line<U+202E>mp4.exe.mp4" in out
    data = CliRunner().invoke(
        main, ["check", str(cls), "--format", "json", "--standard", str(short_profile)]
    )
    paths = {f["path"] for f in json.loads(data.stdout)["findings"]}
    assert f"{DAY}/a<U+001B>[2J<U+001B>[31mRED<U+000A>fake line<U+202E>mp4.exe.mp4" in paths


def test_bombs_are_refused_before_they_are_decoded(corpus: Any) -> None:
    """A picture or roster photo that declares gigabytes is named, never decoded."""
    _, expected, report, _ = corpus
    by_path = {(f["code"], f["path"]): f for f in report["findings"]}
    giant = by_path[expected["giant_picture"]]
    assert "8192×4608" in giant["message"] and "未解码" in giant["message"]
    photo = by_path[expected["roster_photo_bomb"]]
    assert "图片过大" in photo["message"]
