"""The evidence log holds against whoever can write the data folder: edits re-hashed, records
deleted, renumbered or forged, the whole log emptied, the footage changed. A key kept outside the
workspace signs every record and a head kept elsewhere catches removal; a crash mid-capture
(a real kill -9) is never taken for tampering."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from video_audit.cli import main
from video_audit.evidence import (
    EvidenceKey,
    EvidenceKeyError,
    EvidenceLog,
    Head,
    Verdict,
    link_of,
    record_hash,
)
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a clip and an evidence key (the key outside any workspace)."""
    root = tmp_path_factory.mktemp("lab")
    write_clip(root / "lesson.mp4", ClipSpec(4, 2, 160, 120, seed=11))
    EvidenceKey.create(root / "keys" / "evidence.key")
    return root


def _log(store: Store, data: Path, key: Path) -> EvidenceLog:
    return EvidenceLog(store, data / "evidence", key_file=key, notice=lambda _: None)


def capture(data: Path, clip: Path, key: Path, times: tuple[float, ...]) -> None:
    store = Store(data / "video-audit.sqlite")
    try:
        log = _log(store, data, key)
        for n, at in enumerate(times):
            log.capture(clip, at, f"检查员{n}", note=f"第{n + 1}次")
    finally:
        store.close()


@pytest.fixture(scope="module")
def pristine(lab: Path) -> Path:
    data = lab / "pristine"
    capture(data, lab / "lesson.mp4", lab / "keys" / "evidence.key", (0.0, 1.0, 2.0, 3.0))
    return data


@pytest.fixture
def data(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "data"))


def verify(data: Path, key: Path, anchor: Head | None = None) -> Verdict:
    store = Store(data / "video-audit.sqlite")
    try:
        return _log(store, data, key).verify(anchor)
    finally:
        store.close()


def sql(data: Path, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with sqlite3.connect(data / "video-audit.sqlite") as conn:
        return conn.execute(statement, params).fetchall()


def rows(data: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(data / "video-audit.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM evidence ORDER BY seq")]


def rewrite(data: Path, records: list[dict[str, Any]]) -> None:
    """What someone without the key can do best: re-link and re-hash every record, replace the
    table's contents and write a HEAD file that agrees."""
    prev = ""
    for seq, record in enumerate(records, 1):
        record.update(seq=seq, prev_hash=prev)
        record["hash"] = prev = record_hash(record)
    with sqlite3.connect(data / "video-audit.sqlite") as conn:
        conn.execute("DELETE FROM evidence")
        for record in records:
            marks = ", ".join("?" for _ in record)
            conn.execute(
                f"INSERT INTO evidence ({', '.join(record)}) VALUES ({marks})",
                tuple(record.values()),
            )
    head = f"{len(records)} {link_of(records[-1])}\n" if records else ""
    (data / "evidence" / "HEAD").write_text(head)


def test_an_untouched_log_is_intact_signed_and_says_its_head(data: Path, lab: Path) -> None:
    key = lab / "keys" / "evidence.key"
    verdict = verify(data, key)
    assert verdict.ok and verdict.records == 4 and verdict.keyed and verdict.unkeyed == 0
    assert verdict.head == Head(4, rows(data)[-1]["mac"])
    text = verdict.message("zh")
    assert "共 4 条" in text and "签名" in text and verdict.head.text() in text
    assert verify(data, key, verdict.head).ok
    assert "another" not in verdict.message("en") and "4 records" in verdict.message("en")


def test_an_edited_record_re_hashed_with_everything_after_it(data: Path, lab: Path) -> None:
    records = rows(data)
    records[1]["note"] = "改过的备注"
    rewrite(data, records)
    verdict = verify(data, lab / "keys" / "evidence.key")
    assert (verdict.ok, verdict.seq, verdict.problem) == (False, 2, "mac")
    assert "第 2 条" in verdict.message("zh")


def test_the_last_record_deleted_with_head_rewritten(data: Path, lab: Path) -> None:
    key = lab / "keys" / "evidence.key"
    anchor = verify(data, key).head
    rewrite(data, rows(data)[:3])
    verdict = verify(data, key, anchor)
    assert (verdict.seq, verdict.problem, verdict.expected) == (4, "anchor_short", 4)
    assert "只有 3 条" in verdict.message("zh")
    # Deleted without touching HEAD, the local copy of the head shows it even without an anchor.
    sql(data, "DELETE FROM evidence WHERE seq = 3")
    assert (verify(data, key).seq, verify(data, key).problem) == (3, "missing")


def test_a_middle_record_deleted_and_the_rest_renumbered(data: Path, lab: Path) -> None:
    records = rows(data)
    rewrite(data, [records[0], records[2], records[3]])
    verdict = verify(data, lab / "keys" / "evidence.key")
    assert (verdict.seq, verdict.problem) == (2, "mac")


@pytest.mark.parametrize("how", ["made_up_mac", "no_mac", "own_key"])
def test_a_forged_record_appended(data: Path, lab: Path, how: str) -> None:
    records = rows(data)
    forged = {**records[-1], "note": "伪造", "taken_by": "某人"}
    forged["hash"] = "0" * 64
    rewrite(data, [*records, forged])  # hashes it, then signs it as the forger can:
    forged = rows(data)[-1]
    if how == "made_up_mac":
        forged["mac"] = "f" * 64
    elif how == "no_mac":
        forged["mac"] = forged["key_id"] = None
    else:
        own = EvidenceKey(Path("forger.key"), b"k" * 32)
        forged["key_id"], forged["mac"] = own.key_id, own.sign(forged, records[-1]["mac"])
    sql(
        data,
        "UPDATE evidence SET mac = ?, key_id = ? WHERE seq = 5",
        (forged["mac"], forged["key_id"]),
    )
    (data / "evidence" / "HEAD").write_text(f"5 {link_of(forged)}\n")
    verdict = verify(data, lab / "keys" / "evidence.key")
    expected = {"made_up_mac": "mac", "no_mac": "unkeyed_after", "own_key": "other_key"}[how]
    assert (verdict.seq, verdict.problem) == (5, expected)


def test_every_record_and_head_deleted(data: Path, lab: Path) -> None:
    key = lab / "keys" / "evidence.key"
    anchor = verify(data, key).head
    rewrite(data, [])
    (data / "evidence" / "HEAD").unlink()
    alone = verify(data, key)
    # From the data folder alone it is an empty log, but not called intact: the key says more.
    assert alone.records == 0 and "完好" not in alone.message("zh")
    assert "已被删除" in alone.message("zh")
    verdict = verify(data, key, anchor)
    assert (verdict.ok, verdict.problem, verdict.expected) == (False, "anchor_short", 4)
    runner = CliRunner(env={"VIDEO_AUDIT_EVIDENCE_KEY_FILE": str(key)})
    res = runner.invoke(main, ["evidence", "verify", "--data", str(data), "--head", anchor.text()])
    assert res.exit_code == 1 and "只有 0 条" in res.output


def test_stripping_every_signature_and_re_hashing_is_caught_by_the_anchor(
    data: Path, lab: Path
) -> None:
    key = lab / "keys" / "evidence.key"
    anchor = verify(data, key).head
    records = rows(data)
    for record in records:
        record["mac"] = record["key_id"] = None
        record["note"] = "改过"
    rewrite(data, records)
    assert verify(data, key).unkeyed == 4  # looks like a log older than the key…
    verdict = verify(data, key, anchor)  # …but not like the head kept elsewhere
    assert (verdict.seq, verdict.problem) == (4, "anchor_mismatch")


def test_a_changed_or_vanished_source_is_named(lab: Path, tmp_path: Path) -> None:
    key = lab / "keys" / "evidence.key"
    clips = [Path(shutil.copy(lab / "lesson.mp4", tmp_path / f"{n}.mp4")) for n in range(2)]
    data = tmp_path / "data"
    capture(data, clips[0], key, (0.5, 1.5))
    capture(data, clips[1], key, (2.5,))
    with clips[0].open("r+b") as fh:  # one byte, same size, same mtime
        stat = os.stat(clips[0])
        fh.seek(stat.st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 1]))
    os.utime(clips[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    verdict = verify(data, key)
    assert verdict.problem is None and not verdict.ok and verdict.sources_changed == (1, 2)
    assert "第 1、2 条" in verdict.message("zh")
    clips[1].unlink()
    verdict = verify(data, key)
    assert verdict.sources_missing == (3,) and "提醒" in verdict.message("zh")
    clips[0].unlink()  # gone is a warning, not tampering
    assert verify(data, key).ok and verify(data, key).sources_missing == (1, 2, 3)


def test_without_the_key_only_consistency_and_no_new_key(data: Path, tmp_path: Path) -> None:
    absent = tmp_path / "elsewhere" / "evidence.key"
    verdict = verify(data, absent)
    assert verdict.ok and not verdict.keyed and not absent.exists()
    assert "找不到证据密钥" in verdict.message("zh") and "only the checks" in verdict.message("en")
    store = Store(data / "video-audit.sqlite")
    try:  # the chain is keyed: capturing never makes a second key
        with pytest.raises(EvidenceKeyError) as lost:
            _log(store, data, absent).capture(Path(rows(data)[0]["source_path"]), 0.5, "某人")
        assert lost.value.key == "ev_key_lost" and not absent.exists()
        other = tmp_path / "other.key"
        EvidenceKey.create(other)
        assert _log(store, data, other).verify().problem == "other_key"
        with pytest.raises(EvidenceKeyError, match="not the one"):
            _log(store, data, other).capture(Path(rows(data)[0]["source_path"]), 0.5, "某人")
    finally:
        store.close()


def test_a_key_inside_the_workspace_is_refused(data: Path, tmp_path: Path) -> None:
    inside = data / "keys" / "evidence.key"
    store = Store(data / "video-audit.sqlite")
    try:
        with pytest.raises(EvidenceKeyError) as refused:
            _log(store, data, inside).signing_key()
        assert refused.value.key == "ev_key_inside" and not inside.exists()
        assert "工作区" in refused.value.message("zh")
    finally:
        store.close()
    new = EvidenceKey.create(tmp_path / "cfg" / "evidence.key")
    assert (new.path.stat().st_mode & 0o777) == 0o600
    assert EvidenceKey.create(new.path) == new  # an existing key is kept, never replaced


def test_an_older_unkeyed_log_continues_keyed(lab: Path, tmp_path: Path) -> None:
    """A workspace of the version before keys: its records stay readable as unkeyed (older),
    and the first keyed record after them protects them too."""
    key = tmp_path / "new.key"
    data = tmp_path / "data"
    capture(data, lab / "lesson.mp4", lab / "keys" / "evidence.key", (0.5, 1.5, 2.5))
    with sqlite3.connect(data / "video-audit.sqlite") as conn:  # as the previous version left it
        conn.execute("ALTER TABLE evidence DROP COLUMN mac")
        conn.execute("ALTER TABLE evidence DROP COLUMN key_id")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 5")
        last = conn.execute("SELECT seq, hash FROM evidence ORDER BY seq DESC").fetchone()
    (data / "evidence" / "HEAD").write_text(f"{last[0]} {last[1]}\n")
    older = verify(data, key)  # upgrades the file: migration 5 adds the columns, empty
    assert older.ok and older.unkeyed == 3 and "前 3 条" in older.message("zh")
    said: list[str] = []
    store = Store(data / "video-audit.sqlite")
    try:
        EvidenceLog(store, data / "evidence", key_file=key, notice=said.append).capture(
            lab / "lesson.mp4", 3.5, "检查员"
        )
    finally:
        store.close()
    assert key.is_file() and str(key) in said[0] and "备份" in said[0] and "Back it up" in said[0]
    verdict = verify(data, key)
    assert verdict.ok and (verdict.records, verdict.unkeyed) == (4, 3)
    records = rows(data)
    records[0]["taken_by"] = "别人"  # an older record changed, the whole chain re-hashed
    rewrite(data, records)
    assert (verify(data, key).seq, verify(data, key).problem) == (4, "mac")


def test_cli_head_exports_and_verify_checks_it(data: Path, lab: Path, tmp_path: Path) -> None:
    runner = CliRunner(env={"VIDEO_AUDIT_EVIDENCE_KEY_FILE": str(lab / "keys" / "evidence.key")})
    plain = runner.invoke(main, ["evidence", "head", "--data", str(data)])
    head = plain.stdout.strip()
    assert plain.exit_code == 0 and head == f"4:{rows(data)[-1]['mac']}"
    exported = runner.invoke(main, ["evidence", "head", "--data", str(data), "--json"])
    body = json.loads(exported.stdout)
    assert body["head"] == head and body["records"] == 4 and body["keyed"]
    (tmp_path / "head.json").write_text(exported.stdout)
    args = ["evidence", "verify", "--data", str(data)]
    assert runner.invoke(main, [*args, "--head-file", str(tmp_path / "head.json")]).exit_code == 0
    ok = runner.invoke(main, [*args, "--head", head])
    assert ok.exit_code == 0 and "一致" in ok.stdout
    sql(data, "DELETE FROM evidence WHERE seq = 4")
    (data / "evidence" / "HEAD").write_text(f"3 {rows(data)[-1]['mac']}\n")
    assert runner.invoke(main, args).exit_code == 0  # nothing in the data folder shows it…
    gone = runner.invoke(main, [*args, "--head", head, "--lang", "en"])
    assert gone.exit_code == 1 and "the log now holds 3" in gone.output  # …the anchor does
    bad = runner.invoke(main, [*args, "--head", "4:xyz"])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1


# -- a real kill -9 of a real process mid-capture ------------------------------------------
CHILD = r"""
import sys, time
from pathlib import Path
from video_audit.evidence import EvidenceLog
from video_audit.store import Store

data, clip, key, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
start = float(sys.argv[5])
store = Store(data / "video-audit.sqlite")
log = EvidenceLog(store, data / "evidence", key_file=key, notice=lambda _: None)


def stop_here(what):  # say where it stands, then wait for the kill
    print(what, flush=True)
    time.sleep(60)


if mode == "after-commit":  # the record is committed; the HEAD copy is not written yet
    log._write_head = lambda record: stop_here("committed")
elif mode == "before-record":  # both images are written; the record is not
    store.append_evidence = lambda seal, after: stop_here("images written")
n = 0
while True:
    log.capture(clip, start + (n % 4) * 0.5, "测试", f"#{n}")
    n += 1
    print("captured", n, flush=True)
"""


@pytest.fixture
def killer() -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def run_until(args: list[str], word: str, timeout: float = 60) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, proc.stderr.read() if proc.stderr else ""
            if word in line:
                return proc

    yield run_until
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def kill9(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def test_kill_9_mid_capture_is_never_taken_for_tampering(
    data: Path, lab: Path, killer: Any
) -> None:
    key = lab / "keys" / "evidence.key"
    args = [str(data), str(lab / "lesson.mp4"), str(key)]
    # Killed between the commit and the HEAD copy: the records are one ahead of HEAD.
    kill9(killer([*args, "after-commit", "0"], "committed"))
    verdict = verify(data, key)
    assert verdict.ok and verdict.records == 5 and verdict.head_lag, verdict.message("zh")
    assert "不算篡改" in verdict.message("zh")
    # Killed after the images were written, before the record: images no record names.
    kill9(killer([*args, "before-record", "0.5"], "images written"))
    verdict = verify(data, key)
    assert verdict.ok and verdict.records == 5 and len(verdict.incomplete) == 2
    # Killed at random moments of a run of captures, twice: whatever it cut, nothing alarms.
    chance = random.Random(os.getpid())
    for _ in range(2):
        proc = killer([*args, "loop", "1.5"], "captured 2")
        time.sleep(chance.uniform(0.0, 0.3))
        kill9(proc)
        verdict = verify(data, key)
        assert verdict.ok, verdict.message("zh")
        assert verdict.problem is None and verdict.records >= 7
    # And the log goes on from there, keyed and whole.
    capture(data, lab / "lesson.mp4", key, (1.0,))
    final = verify(data, key)
    assert final.ok and final.head_lag is False and final.unkeyed == 0


def test_verifying_while_another_inspector_captures_raises_no_alarm(data: Path, lab: Path) -> None:
    """The service verifies while captures go on: HEAD written by a capture that committed
    after verify read the records must not read as records deleted. (A race: with the HEAD copy
    read after the records, this run of 60 captures caught it about one time in three.)"""
    key = lab / "keys" / "evidence.key"
    store = Store(data / "video-audit.sqlite")
    log = _log(store, data, key)
    stop = threading.Event()
    captured: list[int] = []

    def keep_capturing() -> None:
        while not stop.is_set():
            n = len(captured)
            log.capture(lab / "lesson.mp4", (n % 8) * 0.5, "甲", f"#{n}")
            captured.append(n)

    worker = threading.Thread(target=keep_capturing)
    worker.start()
    verdicts: list[Verdict] = []
    deadline = time.monotonic() + 20
    try:  # verify all along a run of captures (however slow the machine is)
        while (len(verdicts) < 60 or len(captured) < 60) and time.monotonic() < deadline:
            verdicts.append(log.verify(sources=False))
    finally:
        stop.set()
        worker.join(timeout=30)
        store.close()
    assert len(captured) >= 60 and len(verdicts) >= 60
    assert all(v.ok for v in verdicts), [v.message("en") for v in verdicts if not v.ok][:1]
