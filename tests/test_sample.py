"""The demo discs: the compliant class passes, the faulty one shows exactly its built-in faults."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from video_audit.audit import run_audit
from video_audit.sample import SampleClass, write_samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleClass, SampleClass]:
    return write_samples(tmp_path_factory.mktemp("sample_videos"))


def test_compliant_class_passes_alone(samples: tuple[SampleClass, SampleClass]) -> None:
    good, _ = samples
    report = run_audit(good.path)
    assert [f.to_dict() for f in report.findings if f.severity == "error"] == []
    assert report.exit_code == 0


def test_faulty_class_shows_every_fault_and_nothing_else(
    samples: tuple[SampleClass, SampleClass],
) -> None:
    good, bad = samples
    report = run_audit(bad.path.parent)  # the whole disc: expected paths are relative to it
    got = Counter((f.code, f.path) for f in report.findings)
    assert got == Counter(bad.expected | good.expected)
    codes = {code for code, _ in bad.expected}
    assert codes >= {"LY02", "NM01", "NM03", "CT01", "FM01", "FM02", "FM03", "FM04"}


def test_cli_on_the_samples(samples: tuple[SampleClass, SampleClass]) -> None:
    good, bad = samples
    cli = [sys.executable, "-m", "video_audit.cli", "check"]
    ok = subprocess.run([*cli, str(good.path)], capture_output=True, text=True)
    assert ok.returncode == 0 and "通过" in ok.stdout
    fail = subprocess.run([*cli, str(bad.path)], capture_output=True, text=True)
    assert fail.returncode == 1
    for code, _ in bad.expected:
        assert code in fail.stdout
