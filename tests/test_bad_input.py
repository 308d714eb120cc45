"""Hostile and broken discs: every one gets a finding or one clear line, and nothing is modified."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PREFIX
from video_audit.audit import run_audit
from video_audit.report import json_report, text

CLI = [sys.executable, "-m", "video_audit.cli"]


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry's size, mtime and (for files) content hash, without following links."""
    state: dict[str, tuple[int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path)] = (st.st_size, st.st_mtime_ns, digest)
    return state


def codes_at(report_findings: list[tuple[str, str]], code: str) -> set[str]:
    return {path for c, path in report_findings if c == code}


def test_missing_path_and_file_path_exit_2_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run([*CLI, "check", str(tmp_path / "没有")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "没有" in lines[0] and "不存在" in lines[0]
    a_file = tmp_path / "x.mp4"
    a_file.write_bytes(b"")
    result = subprocess.run(
        [*CLI, "check", str(a_file), "--lang", "en"], capture_output=True, text=True
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "not a folder" in result.stderr


def test_empty_folder_is_a_finding(tmp_path: Path) -> None:
    report = run_audit(tmp_path)
    assert [(f.code, f.path) for f in report.findings] == [("LY01", ".")]
    assert report.exit_code == 1


def test_links_loops_pipes_and_broken_links(
    tmp_path: Path, make_day: Callable[..., Path], short_profile: Path
) -> None:
    from video_audit.settings import AuditSettings

    cls = tmp_path / PREFIX
    day = make_day(cls / "5月24日", "5月24日")
    (day / "回到班级").symlink_to(cls, target_is_directory=True)  # a loop
    (tmp_path / "自己").symlink_to(tmp_path, target_is_directory=True)  # another loop
    (day / f"{PREFIX}5月24日课间人脸识别视频9.mp4").symlink_to(tmp_path / "nowhere.mp4")
    os.mkfifo(day / "管道.mp4")  # opening it would block forever
    before = snapshot(tmp_path)
    report = run_audit(tmp_path, AuditSettings(standard=short_profile))
    found = [(f.code, f.path) for f in report.findings]
    assert codes_at(found, "LY03") == {
        f"{PREFIX}/5月24日/回到班级",
        "自己",
        f"{PREFIX}/5月24日/管道.mp4",
    }
    assert codes_at(found, "LY05") == {f"{PREFIX}/5月24日/{PREFIX}5月24日课间人脸识别视频9.mp4"}
    assert snapshot(tmp_path) == before


def test_ten_thousand_files(
    tmp_path: Path, make_day: Callable[..., Path], short_profile: Path
) -> None:
    from video_audit.settings import AuditSettings

    day = make_day(tmp_path / PREFIX / "5月24日", "5月24日")
    junk = day / "垃圾"
    for i in range(10_000):
        (day / f"thumb{i:05d}.jpg").write_bytes(b"\xff\xd8\xff")
    del junk
    report = run_audit(tmp_path / PREFIX, AuditSettings(standard=short_profile))
    assert report.summary["warnings"] == 10_000
    assert report.summary["errors"] == 0
    assert len(json.loads(json_report.render(report))["findings"]) == 10_000


def test_mixed_encodings_in_names(
    tmp_path: Path, make_clip: Callable[..., Path], short_profile: Path
) -> None:
    from video_audit.settings import AuditSettings

    cls = tmp_path / PREFIX
    day = cls / "5月24日"
    make_clip(day / f"{PREFIX}5月24日课间人脸识别视频1.mp4", "roll")
    make_clip(day / f"{PREFIX}5月24日授课过程.mp4", "lesson")
    # Clip 2 written by a Windows tool in GBK: its name's bytes are not UTF-8.
    gbk_name = f"{PREFIX}5月24日课间人脸识别视频2.mp4".encode("gbk")
    gbk_path = os.fsencode(day) + b"/" + gbk_name
    src = make_clip(tmp_path / "tmp.mp4", "roll")
    shutil.move(src, os.fsdecode(gbk_path))
    # A junk file whose name is bytes that no codec makes sense of.
    (Path(os.fsdecode(os.fsencode(day) + b"/\xff\xfe\xfa.txt"))).write_bytes(b"x")
    report = run_audit(cls, AuditSettings(standard=short_profile))
    found = {(f.code, f.path) for f in report.findings}
    assert ("NM04", f"5月24日/{PREFIX}5月24日课间人脸识别视频2.mp4") in found
    assert not any(code in ("CT01", "NM01") for code, _ in found)
    assert any(code == "LY03" and path.endswith(".txt") for code, path in found)
    # Both renderers produce valid UTF-8 with no surrogates.
    json.loads(json_report.render(report).encode("utf-8"))
    text.render(report).encode("utf-8")


def test_file_still_being_written(
    tmp_path: Path, make_clip: Callable[..., Path], short_profile: Path
) -> None:
    from video_audit.settings import AuditSettings

    day = tmp_path / PREFIX / "5月24日"
    make_clip(day / f"{PREFIX}5月24日课间人脸识别视频1.mp4", "roll")
    make_clip(day / f"{PREFIX}5月24日授课过程.mp4", "lesson")
    growing = make_clip(day / f"{PREFIX}5月24日课间人脸识别视频2.mp4", "roll")
    stop, started = threading.Event(), threading.Event()

    def copy_in_progress() -> None:
        with open(growing, "ab") as fh:
            while not stop.is_set():
                fh.write(b"\0" * 512)
                fh.flush()
                started.set()
                time.sleep(0.01)

    writer = threading.Thread(target=copy_in_progress)
    writer.start()
    assert started.wait(10)
    try:
        report = run_audit(tmp_path / PREFIX, AuditSettings(standard=short_profile))
    finally:
        stop.set()
        writer.join()
    found = [f for f in report.findings if f.path.endswith("视频2.mp4")]
    assert [(f.code, f.variant) for f in found] == [("FM04", "being_written")]
    assert found[0].details["modified_seconds_ago"] < 60


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="va-perm-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path)


def audit_as_nobody(path: Path) -> set[tuple[str, str]]:
    """Root reads everything: audit in a forked child that dropped to an ordinary user."""
    from video_audit.findings import catalogue
    from video_audit.rules import checks

    catalogue(), checks()  # load lazily imported parts before dropping privileges
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            found = [(f.code, f.path) for f in run_audit(path).findings]
            with os.fdopen(write_end, "w") as out:
                json.dump(found, out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, "the audit failed in the unprivileged child"
    return {(code, p) for code, p in json.loads(data)}


def test_unreadable_folder_and_file(
    world_readable_tmp: Path, make_day: Callable[..., Path]
) -> None:
    root = world_readable_tmp
    cls = root / PREFIX
    make_day(cls / "5月24日", "5月24日")
    locked_day = make_day(cls / "5月25日", "5月25日")
    clip = cls / "5月24日" / f"{PREFIX}5月24日授课过程.mp4"
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    clip.chmod(0o000)
    locked_day.chmod(0o000)
    if os.geteuid() == 0:
        found = audit_as_nobody(cls)
    else:
        found = {(f.code, f.path) for f in run_audit(cls).findings}
    assert ("LY05", "5月25日") in found
    assert ("FM04", f"5月24日/{PREFIX}5月24日授课过程.mp4") in found


def test_one_broken_clip_does_not_stop_the_rest(
    tmp_path: Path, make_day: Callable[..., Path], short_profile: Path
) -> None:
    from video_audit.settings import AuditSettings

    cls = tmp_path / PREFIX
    day = make_day(cls / "5月24日", "5月24日")
    make_day(cls / "5月25日", "5月25日")
    (day / f"{PREFIX}5月24日课间人脸识别视频1.mp4").write_bytes(
        b"\x00\x00\x00\x20ftypisom" + b"\x00" * 100
    )
    (cls / "5月25日" / f"{PREFIX}5月25日授课过程.mp4").write_bytes(b"")
    report = run_audit(cls, AuditSettings(standard=short_profile))
    assert {(f.code, f.path) for f in report.findings} == {
        ("FM04", f"5月24日/{PREFIX}5月24日课间人脸识别视频1.mp4"),
        ("FM04", f"5月25日/{PREFIX}5月25日授课过程.mp4"),
    }
    probed = [c for c in report.disc.clips if c.media and c.media.problem is None]
    assert len(probed) == 4


def test_a_later_look_sees_a_file_that_moved_after_its_probe(
    tmp_path: Path, make_clip: Callable[..., Path]
) -> None:
    from video_audit.media.probe import changed_since_probe, probe

    clip = make_clip(tmp_path / "a.mp4", "roll")
    info = probe(clip)
    assert info.problem is None and not changed_since_probe(clip, info)
    assert "stamp" not in info.to_dict()
    with open(clip, "ab") as fh:
        fh.write(b"\0" * 512)
    assert changed_since_probe(clip, info)
    clip.unlink()
    assert changed_since_probe(clip, info)
