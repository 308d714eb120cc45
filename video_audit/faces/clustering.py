"""Clustering: one day's tracks (both face-roll clips) into people.

Average-linkage agglomeration under the engine's cluster distance, with one hard constraint:
two tracks seen in the same frame are two people, so their clusters never merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from video_audit.faces.engine import Face, Metric, distances, mean_embedding
from video_audit.faces.tracking import Track


@dataclass
class EmbeddedTrack:
    """A track with the embeddings of its best sightings."""

    track: Track
    faces: list[Face]
    vectors: list[np.ndarray]

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.vectors).mean(axis=0)


@dataclass
class Person:
    """Someone seen on one day: the tracks that are the same face, and all their embeddings."""

    tracks: list[EmbeddedTrack] = field(default_factory=list)

    @property
    def vectors(self) -> list[np.ndarray]:
        return [v for t in self.tracks for v in t.vectors]

    @property
    def faces(self) -> list[Face]:
        return [f for t in self.tracks for f in t.faces]

    @property
    def best_face(self) -> Face:
        return max(self.faces, key=lambda f: f.quality)

    @property
    def clips(self) -> list[str]:
        return sorted({t.track.clip for t in self.tracks})

    def centre(self, metric: Metric) -> np.ndarray:
        return mean_embedding(metric, self.vectors)


def cluster(tracks: list[EmbeddedTrack], metric: Metric, threshold: float) -> list[Person]:
    """Group tracks into people; tracks sharing a frame are never put together."""
    n = len(tracks)
    if n == 0:
        return []
    centres = np.array([mean_embedding(metric, t.vectors) for t in tracks])
    dist = distances(metric, centres, centres)
    groups: list[list[int]] = [[i] for i in range(n)]
    while len(groups) > 1:
        best: tuple[float, int, int] | None = None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if _conflict(tracks, groups[a], groups[b]):
                    continue
                d = float(dist[np.ix_(groups[a], groups[b])].mean())
                if d <= threshold and (best is None or d < best[0]):
                    best = (d, a, b)
        if best is None:
            break
        _, a, b = best
        groups[a] = groups[a] + groups[b]
        del groups[b]
    people = [Person([tracks[i] for i in g]) for g in groups]
    people.sort(key=lambda p: (p.clips[0], min(t.track.sightings[0].time for t in p.tracks)))
    return people


def _conflict(tracks: list[EmbeddedTrack], a: list[int], b: list[int]) -> bool:
    return any(tracks[i].track.overlaps(tracks[j].track) for i in a for j in b)
