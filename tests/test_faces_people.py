"""The class's people (faces/people.py): days linked into one person, verdicts by person, doubtful
absences, and roster keys that stay apart when masked IDs are equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import PREFIX
from tests.test_faces_audit import enrolment_cache, write_roster
from tests.test_faces_matching import POLICY, T, entry, near, track, unit
from video_audit.audit import AuditReport, run_audit
from video_audit.faces.clustering import Person
from video_audit.faces.matrix import attendance_matrix
from video_audit.faces.people import ABSENT_NEARBY, decide, link
from video_audit.samples.discs import PEOPLE, ClipSpec, write_clip
from video_audit.samples.faces import FaceShot
from video_audit.settings import AuditSettings

__all__ = ["enrolment_cache"]  # the module-scoped cache fixture, used here too

# Two IDs masked alike (first 3, last 4) and two short ones (*01): four people, two masks.
IDS = ("140423199001011234", "140521198805051234", "T01", "J01")
DAYS = {"6月3日": (0, 1, 2, 3), "6月4日": (0, 1, 2), "6月5日": (0, 3)}


def person(clip: str, tid: int, sample: int, *vectors: np.ndarray) -> Person:
    return Person([track(clip, tid, [sample], list(vectors))])


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory, short_profile: Path) -> AuditReport:
    cls = tmp_path_factory.mktemp("people") / PREFIX
    write_roster(cls, [(pid, PEOPLE[k][1], "trainee", k) for k, pid in enumerate(IDS)])
    for n, (date, shown) in enumerate(DAYS.items()):
        write_clip(
            cls / date / f"{PREFIX}{date}课间人脸识别视频1.mp4",
            ClipSpec(4, 5, faces=FaceShot("roll", shown, seed=20 + n)),
        )
    return run_audit(cls, AuditSettings(standard=short_profile, engine="embedded"))


def test_equal_masked_ids_stay_apart_by_key(three_days: AuditReport) -> None:
    att = three_days.to_dict("zh")["classes"][0]["attendance"]
    roster = att["roster"]
    assert [r["key"] for r in roster] == ["r2", "r3", "r4", "r5"]
    assert roster[0]["id"] == roster[1]["id"] == "140***********1234"
    assert roster[2]["id"] == roster[3]["id"] == "*01"
    day1, day2, day3 = att["days"]
    assert sorted(day1["present"]) == ["r2", "r3", "r4", "r5"]
    assert sorted(day2["present"]) == ["r2", "r3", "r4"] and day2["absent"] == ["r5"]
    assert sorted(day3["present"]) == ["r2", "r5"] and sorted(day3["absent"]) == ["r3", "r4"]
    for match in day1["matches"]:  # each present case names its key, masked ID and name
        row = next(r for r in roster if r["key"] == match["key"])
        assert (match["id"], match["name"]) == (row["id"], row["name"])
    # Every view names people: the text report shows each name once per row, never a bare key.
    from video_audit.report import text

    page = text.render(three_days, "zh")
    assert all(PEOPLE[k][1] in page for k in range(4)) and " r2 " not in page
    pp02 = sorted(f.details["name"] for f in three_days.findings if f.code == "PP02")
    assert pp02 == sorted([PEOPLE[3][1], PEOPLE[1][1], PEOPLE[2][1]])


def test_a_person_seen_on_several_days_is_one_person_of_the_class(
    three_days: AuditReport,
) -> None:
    att = three_days.to_dict("zh")["classes"][0]["attendance"]
    people = att["people"]
    assert [p["person"] for p in people] == [f"p{n}" for n in range(1, len(people) + 1)]
    by_key = {p["key"]: p for p in people if p["state"] == "present"}
    assert sorted(by_key) == ["r2", "r3", "r4", "r5"] and len(people) == 4
    assert by_key["r2"]["days"] == list(DAYS)
    assert by_key["r5"]["days"] == ["6月3日", "6月5日"]
    assert [f["day"] for f in by_key["r2"]["faces"]] == list(DAYS)
    assert all(f["thumbnail"].startswith("faces/") for f in by_key["r2"]["faces"])
    # Each day's case says which person of the class it is.
    for day in att["days"]:
        for match in day["matches"]:
            assert by_key[match["key"]]["person"] == match["person"]
    matrix = attendance_matrix(att, "zh")
    assert matrix is not None and matrix["reviews"] == [] and matrix["unknowns"] == []


def test_people_seen_together_are_never_one_person() -> None:
    v = unit(5)
    # Identical faces twice on day 0 (twins, a poster), the same face again on day 1.
    day0 = [person("d0", 0, 1, v), person("d0", 1, 1, v)]
    day1 = [person("d1", 0, 1, near(v, 0.05, 1))]
    groups = link([day0, day1], "euclidean", T.cluster)
    assert sorted(len(g) for g in groups) == [1, 2]
    assert all(len({d for d, _ in g}) == len(g) for g in groups)  # one person a day at most


def test_days_link_only_within_accept_and_as_mutual_nearest() -> None:
    a, b = unit(1), unit(2)
    days = [
        [person("d0", 0, 1, near(a, 0.1, 1)), person("d0", 1, 2, near(b, 0.1, 2))],
        [person("d1", 0, 1, near(a, 0.12, 3)), person("d1", 1, 2, near(b, 0.1, 4))],
        [person("d2", 0, 1, near(a, 0.6, 5))],  # the same direction, but too far to link
    ]
    groups = link(days, "euclidean", POLICY.cluster_for(None))
    sizes = sorted(len(g) for g in groups)
    assert sizes == [1, 2, 2]
    roster = [entry("A", [a]), entry("B", [b])]
    people, per_day = decide(days, roster, ["A", "B"], "euclidean", POLICY, None)
    states = {cp.person: (cp.verdict.status, cp.verdict.entry, cp.days) for cp in people}
    assert states["p1"] == ("present", "A", [0, 1]) and states["p2"] == ("present", "B", [0, 1])
    assert [m.identity for m in per_day[0]] == ["p1", "p2"]
    assert [m.status for m in per_day[1]] == ["present", "present"]


def test_a_rival_on_one_day_keeps_the_verdict_off_that_day() -> None:
    a = unit(1)
    roster = [entry("A", [a]), entry("B", [unit(2)])]
    days = [
        [person("d0", 0, 1, near(a, 0.1, 1))],
        # Day 1: the same face, and someone else about as close to A.
        [person("d1", 0, 1, near(a, 0.11, 2)), person("d1", 1, 2, near(a, 0.15, 3))],
    ]
    _, per_day = decide(days, roster, ["A", "B"], "euclidean", POLICY, None)
    assert [m.status for m in per_day[0]] == ["present"]
    assert all(m.status != "present" for m in per_day[1])


def test_doubtful_absence_is_review_with_a_reason() -> None:
    a, b = unit(1), unit(2)
    roster = [entry("A", [a]), entry("B", [b])]
    far = near(b, 1.3, 7)
    # Day 1: A clearly, and a person one of whose faces is within review distance of B (the
    # other far off): as a whole nobody, but B cannot be called absent that day.
    odd = person("d1", 1, 2, near(b, 0.55, 6), far)
    days = [[person("d0", 0, 1, near(a, 0.1, 1))], [person("d1", 0, 1, near(a, 0.1, 2)), odd]]
    people, per_day = decide(days, roster, ["A", "B"], "euclidean", POLICY, None)
    (case,) = [m for m in per_day[1] if m.person is odd]
    assert case.status == "review" and ABSENT_NEARBY in case.reasons
    assert [c for c, _ in case.candidates] == ["B"]
    assert sum(cp.verdict.status == "review" for cp in people) == 1  # one decision
    # Without that face, B is simply absent (nobody unassigned is near).
    days[1] = days[1][:1]
    _, per_day = decide(days, roster, ["A", "B"], "euclidean", POLICY, None)
    assert all(m.status == "present" for m in per_day[1])


def test_matrix_says_why_a_doubtful_absence_is_review() -> None:
    att: dict[str, Any] = {
        "roster": [{"key": "r2", "id": "*01", "name": "王芳", "role": "trainee"}],
        "days": [
            {
                "path": "6月3日",
                "date": "2024-06-03",
                "present": [],
                "absent": [],
                "review": [{"candidates": ["r2"], "reason": ABSENT_NEARBY, "person": "p1"}],
                "unknown": [],
            }
        ],
        "people": [
            {
                "person": "p1",
                "days": ["6月3日"],
                "state": "review",
                "key": None,
                "candidates": ["r2"],
                "decided_by": None,
                "reason": ABSENT_NEARBY,
                "faces": [{"day": "6月3日", "thumbnail": "faces/x.jpg", "seen_in": ["a/b.mp4"]}],
            }
        ],
    }
    m = attendance_matrix(att, "zh")
    assert m is not None
    (cell,) = m["rows"][0]["cells"]
    assert cell["state"] == "review" and "不能判为缺勤" in cell["reason"]
    (review,) = m["reviews"]
    assert review["candidates"][0]["name"] == "王芳" and "不能判为缺勤" in review["reason"]
    assert review["thumbnails"] == ["faces/x.jpg"] and review["seen_in"] == ["b.mp4"]
