"""Nightly scan bench: rescan of unchanged classes, and new classes on 1, 2 workers and Dask.

    python -m bench.scan [--classes 200] [--new 20] [--clock]

Builds a synthetic tree (one-day classes of tiny clips copied from one generated clip set),
audits it once, then times: a rescan of the unchanged tree (fingerprints only; target < 10 s
for 200 classes), and NEW fresh classes added to it, scanned with 1 worker, 2 workers and a
Dask LocalCluster of 2 worker processes (cluster start-up not counted: the nightly scan joins a
running cluster whose workers have imported video-audit). Without --clock the on-screen clock
reader is off, as in the tests.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.test_scan_tree import clip_pair, short_profile_text, write_tree
from video_audit.scan.run import ScanResult, scan
from video_audit.settings import AuditSettings

# What an audit imports on first use (checks() imports its rule groups lazily).
WARM = ("video_audit.rules.picture", "video_audit.rules.clock", "video_audit.rules.people")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed(label: str, run: Callable[[], ScanResult]) -> tuple[float, ScanResult]:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<40} {seconds:7.2f} s   {result.counts}", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--clock", action="store_true", help="keep the clock reader on")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    print(machine(), f"load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        base = Path(tmp)
        profile = base / "profile.toml"
        profile.write_text(short_profile_text(clock=args.clock), encoding="utf-8")
        settings = AuditSettings(standard=profile, scan_settle_seconds=0)
        clips = clip_pair(base / "clips")
        root, db = base / "root", base / "audits.db"
        write_tree(root, clips, args.classes)
        timed(
            f"first audit of {args.classes} classes, 2 workers", lambda: scan(root, db, settings, 2)
        )
        rescans = [
            timed(f"rescan {args.classes} unchanged classes", lambda: scan(root, db, settings, 2))[
                0
            ]
            for _ in range(3)
        ]
        first = args.classes
        rows: list[tuple[str, float]] = []
        for label, workers in (("1 worker", 1), ("2 workers", 2)):
            write_tree(root, clips, args.new, first=first)
            first += args.new
            seconds, _ = timed(
                f"{args.new} new classes, {label}", partial(scan, root, db, settings, workers)
            )
            rows.append((label, seconds))
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            write_tree(root, clips, args.new, first=first)
            address = cluster.scheduler_address
            # A standing cluster has imported video-audit long before the night's scan.
            with Client(address, set_as_default=False) as client:
                for module in ("video_audit.scan.workers", *WARM):
                    client.run(importlib.import_module, module)
            seconds, _ = timed(
                f"{args.new} new classes, Dask 2 processes",
                lambda: scan(root, db, settings, cluster=address),
            )
            rows.append(("Dask LocalCluster, 2 worker processes", seconds))
        print()
        print("| scan | seconds |")
        print("|---|---|")
        print(
            f"| rescan {args.classes} unchanged (median of 3) | {statistics.median(rescans):.2f} |"
        )
        for label, seconds in rows:
            print(f"| {args.new} new classes, {label} | {seconds:.2f} |")
        print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":  # the worker processes are spawned: they re-import this module
    main()
