"""Report building on a class of many folders: audit, then JSON + text + HTML, by folder count.

Run: `.venv/bin/python -m bench.reports [--counts 2000 4000 8000] [--runs 3]`.

A class folder of N undated day folders (one LY02 finding each): what an upload of thousands of
folders costs once the walk is done. Medians of RUNS; the figure that matters is how the time
grows with N (linear: double N, double the time).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from video_audit.audit import run_audit
from video_audit.report import render

PREFIX = "壶关县测试职业培训学校2024年第1期电工培训班"


def measure(count: int) -> tuple[float, float]:
    """(audit seconds, rendering seconds) for a class of COUNT undated day folders."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / PREFIX
        for i in range(count):
            (root / f"第{i}天").mkdir(parents=True)
        t0 = time.perf_counter()
        report = run_audit(root)
        t1 = time.perf_counter()
        for fmt in ("json", "text", "html"):
            render(report, fmt, "zh")
        return t1 - t0, time.perf_counter() - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 4000, 8000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    for count in args.counts:
        runs = [measure(count) for _ in range(args.runs)]
        audit = statistics.median(r[0] for r in runs)
        reports = statistics.median(r[1] for r in runs)
        print(f"{count} folders: audit {audit:.2f} s, JSON+text+HTML {reports:.2f} s (median)")


if __name__ == "__main__":
    main()
