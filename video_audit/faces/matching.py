"""Matching: a day's people to roster entries, one to one, and only confident matches as present.

present needs all of: distance under the accept threshold (tightened per class by how close the
roster's own strangers get), a clear margin over the next-best roster entry and over any rival
person, and agreement of the person's individual frames. Anything close but not certain goes to
review (待核实) with its candidates; the rest is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from video_audit.faces.clustering import Person
from video_audit.faces.engine import Metric, Thresholds, distances
from video_audit.faces.roster import RosterEntry

Status = Literal["present", "review", "unknown"]
FAR = 9.0


@dataclass(frozen=True)
class MatchPolicy:
    """The decision rules, from the engine's thresholds and the profile's [faces] section."""

    thresholds: Thresholds
    agreement: float = 0.6
    """Share of the person's frames whose nearest roster entry must be the matched one."""
    calibration: float = 0.8
    """accept is lowered to this share of the closest two roster strangers' distance."""

    def cluster_for(self, stranger_floor: float | None) -> float:
        """Tracks join into one person only under this distance: never looser than accept, so
        two look-alike strangers stay two people (a split person costs a review, not a false
        present)."""
        return min(self.thresholds.cluster, self.accept_for(stranger_floor))

    def accept_for(self, stranger_floor: float | None) -> float:
        """The accept distance for one class, given its roster's stranger floor."""
        accept = self.thresholds.accept
        if stranger_floor is not None:
            accept = min(accept, stranger_floor * self.calibration)
        return accept


@dataclass
class Match:
    """What was decided about one person seen on one day."""

    person: Person
    status: Status
    entry: str | None = None
    distance: float | None = None
    margin: float | None = None
    agreement: float | None = None
    candidates: list[tuple[str, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    identity: str | None = None
    """The class-level person (people.py) this day's person belongs to, once linked."""


def match_day(
    people: list[Person],
    entries: list[RosterEntry],
    metric: Metric,
    policy: MatchPolicy,
    stranger_floor: float | None,
    together: np.ndarray | None = None,
) -> list[Match]:
    """Decide present / review / unknown for every person of one day (or every class-level
    person of a class: then TOGETHER[i, k] says whether persons i and k were seen on one day,
    and only those are rivals — two people never seen together may be one person split)."""
    enrolled = [e for e in entries if e.embeddings]
    if not people:
        return []
    if not enrolled:
        return [Match(p, "unknown") for p in people]
    cost = np.full((len(people), len(enrolled)), FAR)
    per_frame: list[np.ndarray] = []
    for i, person in enumerate(people):
        vectors = np.array(person.vectors)
        frame_d = np.stack(
            [distances(metric, vectors, np.array(e.embeddings)).min(axis=1) for e in enrolled],
            axis=1,
        )
        per_frame.append(frame_d)
        cost[i] = _entry_distances(metric, person.centre(metric), enrolled)
    accept = policy.accept_for(stranger_floor)
    t = policy.thresholds
    rows, cols = linear_sum_assignment(cost)
    assigned = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    matches = []
    for i, person in enumerate(people):
        j = assigned.get(i)
        near = [(enrolled[k].id, float(cost[i, k])) for k in np.argsort(cost[i])]
        candidates = [(pid, round(d, 4)) for pid, d in near if d <= t.review][:3]
        if j is None or cost[i, j] > t.review:
            status: Status = "review" if candidates else "unknown"
            matches.append(Match(person, status, candidates=candidates))
            continue
        d = float(cost[i, j])
        others = np.delete(cost[i], j)
        margin = float(others.min() - d) if others.size else FAR
        rivals = cost[:, j] if together is None else np.where(together[:, i], cost[:, j], FAR)
        rivals = np.delete(rivals, i)
        rival_margin = float(rivals.min() - d) if rivals.size else FAR
        agreement = float((per_frame[i].argmin(axis=1) == j).mean())
        reasons = []
        if d > accept:
            reasons.append("distance")
        if margin < t.margin:
            reasons.append("margin")
        if rival_margin < t.margin:
            reasons.append("rival")
        if agreement < policy.agreement:
            reasons.append("frames")
        if enrolled[j].id not in [c[0] for c in candidates]:
            candidates = [(enrolled[j].id, round(d, 4)), *candidates][:3]
        matches.append(
            Match(
                person,
                "review" if reasons else "present",
                entry=enrolled[j].id,
                distance=round(d, 4),
                margin=round(min(margin, rival_margin), 4),
                agreement=round(agreement, 3),
                candidates=candidates,
                reasons=reasons,
            )
        )
    return matches


def _entry_distances(metric: Metric, centre: np.ndarray, entries: list[RosterEntry]) -> np.ndarray:
    """Distance from one face to each entry: to the closest of the entry's photos."""
    return np.array(
        [float(distances(metric, centre[None, :], np.array(e.embeddings)).min()) for e in entries]
    )
