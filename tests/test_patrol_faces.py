"""`video-audit patrol --class`: generated live classroom footage served over loopback HTTP, its
faces matched to the demo roster by the real embedded engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.streams import serve_dir
from video_audit.cli import main
from video_audit.samples.discs import PEOPLE
from video_audit.samples.faces import UNKNOWN
from video_audit.samples.live import write_class, write_live

SHOWN = (0, 2, 4, UNKNOWN)
"""王芳 and 张伟 (trainees), 陈静 (the teacher), and someone nobody enrolled."""
NAMES = [name for _, name, _ in PEOPLE]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("live")
    write_live(root / "class.ts", SHOWN, seconds=4, fps=25)
    with serve_dir(root) as host:
        yield f"http://{host}/class.ts"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Roster photos are enrolled into this module's cache, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "patrol-cache"))


def _patrol(tmp_path: Path, url: str, cls: Path, *extra: str) -> tuple[int, str, str]:
    args = ["patrol", url, "--class", str(cls), "--out", str(tmp_path / "out")]
    args += ["--data", str(tmp_path / "ws"), "--seconds", "2", "--timeout", "5", *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def _keys(attendance: dict[str, Any]) -> dict[str, str]:
    """Roster key by name."""
    return {p["name"]: p["key"] for p in attendance["roster"]}


def test_the_faces_on_the_stream_are_matched_to_the_roster(tmp_path: Path, served: str) -> None:
    cls = write_class(tmp_path / "壶关县鑫达职业培训学校2024年第1期中式面点师培训班")
    code, out, err = _patrol(tmp_path, served, cls, "--format", "json")
    assert code == 0, out + err
    data = json.loads(out)
    assert [f["head_count"] for f in data["frames"]] == [len(SHOWN)] * 3
    att = data["attendance"]
    assert att["state"] == "checked" and att["engine_name"] == "embedded"
    assert att["problems"] == [] and data["findings"] == []
    # The roster as check shows it: keys, masked IDs (never the number itself), names, roles.
    assert [(p["name"], p["role"]) for p in att["roster"]][:1] == [("王芳", "trainee")]
    for pid, _, _ in PEOPLE:
        assert pid not in out
        assert pid[:3] + "*" * 11 + pid[-4:] in [p["id"] for p in att["roster"]]
    key = _keys(att)
    (day,) = att["days"]
    assert set(day) >= {"path", "date", "present", "absent", "review", "unknown"}
    assert day["footage"] is True
    assert sorted(day["present"]) == sorted(key[NAMES[i]] for i in SHOWN if i != UNKNOWN)
    assert day["review"] == []
    # Trainees on the roster not on the stream are absent; the manager is not a trainee.
    assert sorted(day["absent"]) == sorted([key["李娜"], key["刘洋"]])
    # The stranger is one unknown person seen on every frame, matched to nobody.
    (stranger,) = day["unknown"]
    assert "key" not in stranger and stranger["frames"] == 3
    assert sorted(stranger["seen_in"]) == sorted(f["file"] for f in data["frames"])
    assert (tmp_path / "out" / stranger["thumbnail"]).is_file()
    people = att["people"]
    assert sorted(p["state"] for p in people) == ["present"] * 3 + ["unknown"]
    assert day["head_count"]["count"] == len(SHOWN)
    # The text says it too, by name.
    code, text, err = _patrol(tmp_path, served, cls, "--lang", "zh")
    assert code == 0, text + err
    line = next(x for x in text.splitlines() if x.startswith("考勤"))
    assert "在场 3" in line and "王芳" in line and "李娜" in line and "名册外 1" in line


def test_a_person_without_a_photo_is_said_and_never_present(tmp_path: Path, served: str) -> None:
    cls = write_class(tmp_path / "班级")
    (cls / "照片" / "王芳.jpg").unlink()
    code, out, err = _patrol(tmp_path, served, cls, "--format", "json", "--lang", "en")
    assert code == 1, out + err  # PP06: the roster cannot be used for that person
    data = json.loads(out)
    att = data["attendance"]
    assert att["state"] == "checked"
    assert len(att["problems"]) == 1 and "王芳" in att["problems"][0]
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("PP06", "error")]
    assert "王芳" in data["findings"][0]["message"]
    key = _keys(att)
    (day,) = att["days"]
    # Her face is still seen, but matches nobody enrolled: not present, not someone else.
    assert sorted(day["present"]) == sorted([key["张伟"], key["陈静"]])
    assert len(day["unknown"]) + len(day["review"]) == 2
    assert key["王芳"] in day["absent"]


def test_a_class_folder_without_a_roster_says_so(tmp_path: Path, served: str) -> None:
    cls = tmp_path / "没有名册的班级"
    cls.mkdir()
    code, out, err = _patrol(tmp_path, served, cls, "--format", "json", "--lang", "zh")
    assert code == 0, out + err
    data = json.loads(out)
    att = data["attendance"]
    assert att is not None and att["state"] == "roster_missing"
    assert "roster" in att["error"] and att["days"] == [] and att["roster"] == []
    assert [f["head_count"] for f in data["frames"]] == [len(SHOWN)] * 3
    code, text, err = _patrol(tmp_path, served, cls, "--lang", "zh")
    assert code == 0, text + err
    assert "考勤未核对：班级文件夹中没有名册" in text


def test_an_unreadable_roster_is_pp06(tmp_path: Path, served: str) -> None:
    cls = write_class(tmp_path / "班级")
    (cls / "名册.csv").write_text("序号,备注\n1,无\n", encoding="utf-8")
    code, out, err = _patrol(tmp_path, served, cls, "--format", "json", "--lang", "zh")
    assert code == 1, out + err
    data = json.loads(out)
    att = data["attendance"]
    assert att["state"] == "roster_unreadable" and "名册.csv" in att["error"]
    assert att["days"] == []
    (pp06,) = data["findings"]
    assert pp06["code"] == "PP06" and "表头缺少证件号或姓名列" in pp06["message"]
