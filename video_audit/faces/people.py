"""Class-level people: each day's people linked across the class's days into one person of the
class, matched to the roster with the faces of all their days; the day verdicts follow from it.

Linking (conservative: a split person costs a review, a false join would spread one verdict over
the wrong days):
- the people of all days (each day's tracks already clustered, clustering.py) are agglomerated by
  average linkage of their centres (mean embedding of each day's faces), closest pair first — so
  every join is between mutual nearest neighbours — and only under min(cluster, accept of the
  class), the bound a day's clustering uses (MatchPolicy.cluster_for);
- two people of one day are never joined (the day's clustering kept them apart, e.g. because
  they were seen in one frame), so a class-level person has at most one person a day;
- then people of the class never seen on a common day whose faces alone would each be a
  confident present of the same roster entry (accept, margin, frame agreement) are joined: each
  of them is that trainee by the rules a present needs, so joining them is as safe as the
  presents themselves.

Matching: the class-level people to roster entries, one to one, on the centre of all their faces
(MatchPolicy: accept, margin over the next entry and over rivals — rivals only among people seen
on a common day —, frame agreement). A doubtful absence — a trainee neither present nor a
candidate on a day that shows a person nobody was matched to within review distance of the
trainee — makes that person a review case with the trainee among its candidates (reason
`absent_nearby`), so no trainee is reported absent while a face that could be them is unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from video_audit.faces.clustering import Person
from video_audit.faces.engine import Metric, distances
from video_audit.faces.matching import Match, MatchPolicy, match_day
from video_audit.faces.roster import RosterEntry

Cache = dict[tuple[int, str], float]
"""Distances from a day person's centre to a roster entry, within one decide()."""
ABSENT_NEARBY = "absent_nearby"
"""Review reason: a trainee otherwise absent that day is within review distance of this face."""


@dataclass
class ClassPerson:
    """Someone seen in a class: their person of each day they were seen, and the verdict."""

    person: str
    """A stable id within this audit: p1, p2 … in order of first appearance."""
    members: list[tuple[int, Person]]
    """(day index, that day's person), by day."""
    verdict: Match

    @property
    def days(self) -> list[int]:
        return [d for d, _ in self.members]


def combined(members: Sequence[tuple[int, Person]]) -> Person:
    """One Person holding the tracks of every day (its centre, frames and best face)."""
    return Person([t for _, p in members for t in p.tracks])


def link(
    day_people: Sequence[Sequence[Person]], metric: Metric, threshold: float
) -> list[list[tuple[int, Person]]]:
    """Day people joined across days: a and b of two different days are linked when their
    closest faces are within THRESHOLD and each is the other's nearest among the other day's
    people; links are taken closest first, and one that would put two people of one day
    together is dropped. Each group sorted by day."""
    items = [(d, p) for d, people in enumerate(day_people) for p in people]
    n = len(items)
    if n == 0:
        return []
    vectors = [np.asarray(p.vectors) for _, p in items]
    owner = np.concatenate([np.full(len(v), i) for i, v in enumerate(vectors)])
    faces = distances(metric, np.concatenate(vectors), np.concatenate(vectors))
    # Best-face distance between day people: the minimum over their faces.
    best = np.full((n, n), np.inf)
    np.minimum.at(best, (owner[:, None], owner[None, :]), faces)
    day = np.array([d for d, _ in items])
    best[day[:, None] == day[None, :]] = np.inf
    links = []
    for i in range(n):
        for d in set(day.tolist()) - {int(day[i])}:
            others = np.flatnonzero(day == d)
            k = int(others[np.argmin(best[i, others])])
            mine = np.flatnonzero(day == day[i])
            if best[i, k] <= threshold and i < k and int(mine[np.argmin(best[k, mine])]) == i:
                links.append((float(best[i, k]), i, k))
    root = list(range(n))
    days_of = [{int(day[i])} for i in range(n)]

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for _, i, k in sorted(links):
        a, b = find(i), find(k)
        if a == b or days_of[a] & days_of[b]:
            continue
        root[b] = a
        days_of[a] |= days_of[b]
    groups: dict[int, list[tuple[int, Person]]] = {}
    for i, item in enumerate(items):
        groups.setdefault(find(i), []).append(item)
    out = [sorted(g, key=lambda m: m[0]) for g in groups.values()]
    out.sort(key=_first_seen)
    return out


def _first_seen(members: list[tuple[int, Person]]) -> tuple[int, str, float]:
    day, person = members[0]
    return day, *min(
        (t.track.clip, t.track.sightings[0].time if t.track.sightings else 0.0)
        for t in person.tracks
    )


def decide(
    day_people: Sequence[Sequence[Person]],
    entries: list[RosterEntry],
    trainees: Sequence[str],
    metric: Metric,
    policy: MatchPolicy,
    stranger_floor: float | None,
) -> tuple[list[ClassPerson], list[list[Match]]]:
    """The class's people and each day's matches (one per day person, with its class person's
    verdict). TRAINEES: roster ids whose absence is checked for doubt."""
    cache: Cache = {}
    groups = link(day_people, metric, policy.cluster_for(stranger_floor))
    verdicts = _match(groups, entries, metric, policy, stranger_floor)
    groups, verdicts = _join_by_roster(
        groups, verdicts, entries, metric, policy, stranger_floor, day_people, cache
    )
    for _ in range(len(day_people)):  # each pass detaches days of people with several
        split = _detach_rival_days(groups, verdicts, entries, metric, policy, day_people, cache)
        if split is None:
            break
        groups = split
        verdicts = _match(groups, entries, metric, policy, stranger_floor)
    people = [
        ClassPerson(f"p{n}", members, verdict)
        for n, (members, verdict) in enumerate(zip(groups, verdicts, strict=True), start=1)
    ]
    _doubtful_absences(people, entries, trainees, metric, policy.thresholds.review, day_people)
    per_day: list[list[Match]] = [[] for _ in day_people]
    for cp in people:
        for d, p in cp.members:
            per_day[d].append(replace(cp.verdict, person=p, identity=cp.person))
    return people, per_day


def _match(
    groups: list[list[tuple[int, Person]]],
    entries: list[RosterEntry],
    metric: Metric,
    policy: MatchPolicy,
    floor: float | None,
) -> list[Match]:
    days = [{d for d, _ in g} for g in groups]
    together = np.zeros((len(days), len(days)), bool)
    for i, a in enumerate(days):
        for k, b in enumerate(days):
            together[i, k] = bool(a & b)
    return match_day([combined(g) for g in groups], entries, metric, policy, floor, together)


def _join_by_roster(
    groups: list[list[tuple[int, Person]]],
    verdicts: list[Match],
    entries: list[RosterEntry],
    metric: Metric,
    policy: MatchPolicy,
    floor: float | None,
    day_people: Sequence[Sequence[Person]],
    cache: Cache,
) -> tuple[list[list[tuple[int, Person]]], list[Match]]:
    """Join class people never seen on one day whose faces alone are each a confident present
    of the same entry (the one-to-one match gave the entry to one of them only), each the
    closest to that entry on each of their days by the margin (no rival that day)."""
    alone = [match_day([combined(g)], entries, metric, policy, floor)[0] for g in groups]
    by_entry: dict[str, list[int]] = {}
    for i, m in enumerate(alone):
        if (
            m.status == "present"
            and m.entry
            and not _day_rival(
                groups[i], m.entry, entries, metric, policy.thresholds.margin, day_people, cache
            )
        ):
            by_entry.setdefault(m.entry, []).append(i)
    joined = False
    merged: list[list[tuple[int, Person]]] = []
    used: set[int] = set()
    for i, g in enumerate(groups):
        if i in used:
            continue
        members = list(g)
        entry = alone[i].entry if i in by_entry.get(alone[i].entry or "", []) else None
        for k in by_entry.get(entry or "", []):
            if k <= i or k in used:
                continue
            if {d for d, _ in members} & {d for d, _ in groups[k]}:
                continue
            members = sorted(members + groups[k], key=lambda m: m[0])
            used.add(k)
            joined = True
        merged.append(members)
    if not joined:
        return groups, verdicts
    merged.sort(key=_first_seen)
    return merged, _match(merged, entries, metric, policy, floor)


def _detach_rival_days(
    groups: list[list[tuple[int, Person]]],
    verdicts: list[Match],
    entries: list[RosterEntry],
    metric: Metric,
    policy: MatchPolicy,
    day_people: Sequence[Sequence[Person]],
    cache: Cache,
) -> list[list[tuple[int, Person]]] | None:
    """A class person's days on which another person of the day is about as close to its entry
    are detached (each its own class person, decided alone), for people present or held back
    only by a rival: a verdict never spreads to a day where it could be someone else, and a
    rival on one day does not hold back the others. None when nothing is detached."""
    out: list[list[tuple[int, Person]]] = []
    detached = False
    for members, verdict in zip(groups, verdicts, strict=True):
        sure = verdict.status == "present" or "rival" in verdict.reasons
        if not sure or len(members) == 1:
            out.append(members)
            continue
        keep = []
        for member in members:
            if _day_rival(
                [member],
                verdict.entry,
                entries,
                metric,
                policy.thresholds.margin,
                day_people,
                cache,
            ):
                out.append([member])
                detached = True
            else:
                keep.append(member)
        if keep:
            out.append(keep)
    if not detached:
        return None
    out.sort(key=_first_seen)
    return out


def _day_rival(
    members: Sequence[tuple[int, Person]],
    entry: str | None,
    entries: list[RosterEntry],
    metric: Metric,
    margin: float,
    day_people: Sequence[Sequence[Person]],
    cache: Cache,
) -> bool:
    """Whether on some day of MEMBERS another person of that day is about as close to ENTRY
    (within MARGIN): then that day cannot be told, and neither can the class person."""
    photos = next((np.array(e.embeddings) for e in entries if e.id == entry and e.embeddings), None)
    if photos is None or entry is None:
        return False

    def to_entry(p: Person) -> float:
        key = (id(p), str(entry))
        if key not in cache:
            cache[key] = float(distances(metric, p.centre(metric)[None, :], photos).min())
        return cache[key]

    for d, person in members:
        mine = to_entry(person)
        if any(to_entry(o) < mine + margin for o in day_people[d] if o is not person):
            return True
    return False


def _doubtful_absences(
    people: list[ClassPerson],
    entries: list[RosterEntry],
    trainees: Sequence[str],
    metric: Metric,
    review: float,
    day_people: Sequence[Sequence[Person]],
) -> None:
    photos = {e.id: np.array(e.embeddings) for e in entries if e.embeddings}
    for d in range(len(day_people)):
        here = [(cp, p) for cp in people for dd, p in cp.members if dd == d]
        seen: set[str] = set()
        for cp, _ in here:
            v = cp.verdict
            if v.status == "present" and v.entry:
                seen.add(v.entry)
            elif v.status == "review":
                seen |= {c for c, _ in v.candidates}
        unassigned = [(cp, p) for cp, p in here if cp.verdict.status != "present"]
        for pid in trainees:
            if pid in seen or pid not in photos or not unassigned:
                continue
            near = [
                (float(distances(metric, np.array(p.vectors), photos[pid]).min()), n)
                for n, (_, p) in enumerate(unassigned)
            ]
            dist, n = min(near)
            if dist > review:
                continue
            v = unassigned[n][0].verdict
            v.status = "review"
            if pid not in [c for c, _ in v.candidates]:
                v.candidates.append((pid, round(dist, 4)))
            if ABSENT_NEARBY not in v.reasons:
                v.reasons.append(ABSENT_NEARBY)
            seen.add(pid)
