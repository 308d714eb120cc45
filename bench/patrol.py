"""Live patrol: what one patrol costs, how well live frames are counted and matched to the roster,
and how hung cameras weigh on a run of the plan.

Run: `.venv/bin/python -m bench.patrol [--runs 3] [--scenes 6]`.

1. One patrol of a loopback HTTP-TS classroom camera (5 demo-roster faces, 1024×768, 25 fps),
   `--seconds 4`, with and without `--class`: wall time (median of RUNS); the read itself is paced
   to real time, so the figure over the read's seconds is the patrol's own cost.
2. Head count and roster matching on SCENES generated classrooms, each showing a different
   3–5 of the 6 demo people (one of them not enrolled when --stranger): heads counted right,
   people shown found present, anyone not shown ever called present (must be 0), review.
3. A plan run of 8 due moments over 4 live and 4 hung cameras (accept, never answer), timeout
   3 s, seconds 2: wall time with 1 worker and with 4 (the ratio is the point).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.streams import serve_dir, silent_camera
from video_audit.evidence import EvidenceLog
from video_audit.patrol.run import patrol
from video_audit.patrol.schedule import PatrolRunner, PatrolSettings, import_schedule
from video_audit.samples.discs import PEOPLE
from video_audit.samples.faces import UNKNOWN
from video_audit.samples.live import write_class, write_live
from video_audit.standard import load_profile
from video_audit.store import Store


def one_patrol(root: Path, host: str, cls: Path | None, log: EvidenceLog, n: int) -> float:
    t0 = time.perf_counter()
    patrol(
        f"http://{host}/class.ts",
        root / f"out{n}",
        log,
        load_profile(),
        "bench",
        seconds=4,
        timeout=5,
        class_dir=cls,
    )
    return time.perf_counter() - t0


def scenes(root: Path, host_root: Path, host: str, log: EvidenceLog, count: int) -> dict[str, Any]:
    rng = random.Random(7)
    cls = write_class(root / "班级")
    tally = {"scenes": 0, "heads_right": 0, "shown": 0, "found": 0, "false": 0, "review": 0}
    for i in range(count):
        people = tuple(sorted(rng.sample(range(len(PEOPLE)), rng.randint(3, 5))))
        shown = (*people, UNKNOWN) if i % 2 else people
        write_live(host_root / f"scene{i}.ts", shown, seconds=3, seed=i)
        result = patrol(
            f"http://{host}/scene{i}.ts",
            root / f"scene{i}",
            log,
            load_profile(),
            "bench",
            seconds=2,
            timeout=5,
            class_dir=cls,
        )
        att = result.attendance or {}
        day = (att.get("days") or [{}])[0]
        keys = {e["key"]: k for k, e in enumerate(att.get("roster", []))}
        present = {keys.get(k) for k in day.get("present", [])}
        tally["scenes"] += 1
        counts = [f["head_count"] for f in result.frames]
        tally["heads_right"] += int(bool(counts) and all(c == len(shown) for c in counts))
        tally["shown"] += len(people)
        tally["found"] += len(present & set(people))
        tally["false"] += len(present - set(people))
        tally["review"] += len(day.get("review", []))
    return tally


def plan_run(root: Path, host: str, workers: int) -> float:
    with silent_camera() as hung:
        rows = ["班级,培训机构,地点,摄像头,日期,时段"]
        for k in range(4):
            rows.append(f"班{k},甲校,教室{k},http://{host}/class.ts?cam={k},2026-12-01,08:00-09:00")
            rows.append(f"班{k},甲校,机房{k},rtsp://127.0.0.1:{hung}/cam{k},2026-12-01,08:00-09:00")
        schedule = root / f"课表{workers}.csv"
        schedule.write_text("\n".join(rows) + "\n", encoding="utf-8")
        store = Store(root / f"ws{workers}" / "video-audit.sqlite")
        try:
            import_schedule(store, schedule, "bench")
            settings = PatrolSettings(2, 3, workers, 8, 24 * 60)
            log = EvidenceLog(store, root / f"ws{workers}" / "evidence")
            runner = PatrolRunner(store, log, root / f"ws{workers}", load_profile(), settings)
            runner.run_due(dt.datetime(2026, 12, 1, 7, 0))
            t0 = time.perf_counter()
            outcome = runner.run_due(dt.datetime(2026, 12, 1, 9, 30))
            took = time.perf_counter() - t0
            assert len(outcome.patrolled) == 8, outcome
        finally:
            store.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenes", type=int, default=6)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        os.environ["XDG_CONFIG_HOME"] = str(root / "config")
        cams = root / "cams"
        cams.mkdir()
        write_live(cams / "class.ts", (0, 1, 2, 3, 4), seconds=5)
        cls = write_class(root / "班")
        store = Store(root / "ws" / "video-audit.sqlite")
        try:
            log = EvidenceLog(store, root / "ws" / "evidence")
            with serve_dir(cams) as host:
                plain = [one_patrol(root, host, None, log, n) for n in range(args.runs)]
                matched = [one_patrol(root, host, cls, log, 10 + n) for n in range(args.runs)]
                print(f"one patrol, 4 s read: {statistics.median(plain):.2f} s (heads only), "
                      f"{statistics.median(matched):.2f} s (with --class)")  # fmt: skip
                tally = scenes(root, cams, host, log, args.scenes)
                print(
                    f"scenes {tally['scenes']}: head count right on every frame in "
                    f"{tally['heads_right']}; shown people present {tally['found']}/"
                    f"{tally['shown']}; present but not shown {tally['false']}; "
                    f"review {tally['review']}"
                )
                one = plan_run(root, host, 1)
                four = plan_run(root, host, 4)
                print(
                    f"plan run, 8 moments (4 hung cameras): 1 worker {one:.1f} s, 4 workers "
                    f"{four:.1f} s, ratio {one / four:.1f}×"
                )
        finally:
            store.close()


if __name__ == "__main__":
    main()
