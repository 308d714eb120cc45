"""QA01–QA07: the picture pass's measures held against the profile's [picture] thresholds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from video_audit.clock.parse import parse_zone
from video_audit.clock.recording_time import recorded_at
from video_audit.context import FingerprintLookup, RememberedClass
from video_audit.disc import ClassFolder, Clip
from video_audit.findings import Finding, finding
from video_audit.picture.fingerprints import Fingerprint, Match, ReuseRules, match
from video_audit.picture.measures import ClipPicture, CutScore, pair_runs, stretches
from video_audit.rules.format import clock
from video_audit.standard import Profile, section_values

if TYPE_CHECKING:
    from video_audit.context import AuditContext


@dataclass(frozen=True)
class PictureRules:
    """The [picture] section's thresholds (defaults are the shipped profile's)."""

    noise_sigma: float = 5.0
    blur_level: float = 0.72
    quality_share: float = 0.5
    black_luma: float = 24.0
    blank_std: float = 6.0
    black_seconds: float = 10.0
    frozen_change: float = 1.0
    frozen_identical: float = 0.12
    frozen_ratio: float = 0.25
    frozen_seconds: float = 10.0
    reuse: ReuseRules = field(default_factory=ReuseRules)
    stream_gap_seconds: float = 1.0
    cut_score: float = 0.7
    cut: CutScore = field(default_factory=CutScore)
    timezone: dt.tzinfo = dt.timezone(dt.timedelta(hours=8))
    morning_hours: tuple[int, int] = (5, 12)
    afternoon_hours: tuple[int, int] = (12, 21)

    @classmethod
    def from_profile(cls, profile: Profile) -> PictureRules:
        raw = profile.section("picture")
        base = cls()
        numbers = section_values(
            raw,
            base,
            (
                "noise_sigma", "blur_level", "quality_share", "black_luma", "blank_std",
                "black_seconds", "frozen_change", "frozen_identical", "frozen_ratio",
                "frozen_seconds", "stream_gap_seconds", "cut_score",
            ),
        )  # fmt: skip
        reuse_keys = {
            "distance": "reuse_hash_distance",
            "motion_distance": "reuse_motion_distance",
            "still_distance": "reuse_still_distance",
            "min_strength": "reuse_motion_strength",
            "same_moment": "reuse_same_moment",
            "min_seconds": "reuse_min_seconds",
            "min_frames": "reuse_min_frames",
            "share": "reuse_share",
        }
        reuse = ReuseRules(**section_values(raw, base.reuse, reuse_keys))
        try:
            cut = CutScore.from_profile(profile)
            zone = parse_zone(str(raw["timezone"])) if "timezone" in raw else base.timezone
        except ValueError as exc:
            raise ValueError(f"{profile.source} [picture]: {exc}") from exc
        return cls(
            **numbers,
            reuse=reuse,
            cut=cut,
            timezone=zone,
            morning_hours=_hours(raw.get("morning_hours"), base.morning_hours),
            afternoon_hours=_hours(raw.get("afternoon_hours"), base.afternoon_hours),
        )


def _hours(value: Any, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    first, last = (int(v) for v in value)
    return first, last


def _ranges(runs: list[tuple[float, float]]) -> list[str]:
    return [f"{clock(a)}–{clock(b)}" for a, b in runs]


def _quality(clip: Clip, p: ClipPicture, rules: PictureRules) -> Iterator[Finding]:
    """QA01 noise and QA02 blur: a share of the measured frames past the threshold."""
    for code, variant, values, limit, digits in (
        ("QA01", "noisy", p.noise, rules.noise_sigma, 2),
        ("QA02", "blurred", p.blur, rules.blur_level, 3),
    ):
        if values.size == 0:
            continue
        over = values > limit
        if over.mean() < rules.quality_share:
            continue
        worst = int(np.argmax(values))
        yield finding(
            code,
            clip.rel,
            variant,
            level=round(float(np.median(values)), digits),
            threshold=limit,
            share=round(100 * float(over.mean())),
            at=clock(float(p.quality_times[worst])),
            at_seconds=round(float(p.quality_times[worst]), 2),
        )


def _blank(p: ClipPicture, rules: PictureRules) -> tuple[np.ndarray, np.ndarray]:
    black = p.mean <= rules.black_luma
    return black, black | (p.std <= rules.blank_std)


def _black(clip: Clip, p: ClipPicture, rules: PictureRules) -> Iterator[Finding]:
    black, blank = _blank(p, rules)
    runs = [r for r in stretches(p.times, blank) if r[1] - r[0] >= rules.black_seconds]
    if not runs:
        return
    inside = np.zeros_like(blank)
    for a, b in runs:
        inside |= (p.times >= a) & (p.times <= b)
    variant = "black" if black[inside].mean() >= 0.5 else "blank"
    yield finding(
        "QA03",
        clip.rel,
        variant,
        seconds=round(max(b - a for a, b in runs), 1),
        threshold=rules.black_seconds,
        ranges=_ranges(runs),
        stretches=[[round(a, 2), round(b, 2)] for a, b in runs],
    )


def _frozen(clip: Clip, p: ClipPicture, rules: PictureRules) -> Iterator[Finding]:
    change = p.change
    known = ~np.isnan(change)
    if known.sum() < 2:
        return
    typical = float(np.median(change[known]))
    _, blank = _blank(p, rules)
    with np.errstate(invalid="ignore"):
        near = change <= rules.frozen_change
        same = (change <= rules.frozen_identical) | (change <= rules.frozen_ratio * typical)
    frozen = known & near & same & ~blank
    # One slightly larger step inside a frozen stretch (a burned-in clock turning a minute)
    # does not end it.
    before, after = np.append(False, frozen[:-1]), np.append(frozen[1:], False)
    frozen |= known & near & ~blank & before & after
    runs = [r for r in pair_runs(p.times, frozen) if r[1] - r[0] >= rules.frozen_seconds]
    if not runs:
        return
    inside = np.zeros_like(frozen)
    for a, b in runs:
        inside |= (p.times > a) & (p.times <= b)
    yield finding(
        "QA04",
        clip.rel,
        "frozen",
        seconds=round(max(b - a for a, b in runs), 1),
        threshold=rules.frozen_seconds,
        ranges=_ranges(runs),
        stretches=[[round(a, 2), round(b, 2)] for a, b in runs],
        level=round(float(np.median(change[inside])), 2),
        typical=round(typical, 2),
    )


def _continuity(clip: Clip, p: ClipPicture, rules: PictureRules) -> Iterator[Finding]:
    gaps: list[str] = []
    events: list[dict[str, Any]] = []
    frame = 1.0 / p.rate if p.rate else 0.0
    tolerance = max(rules.stream_gap_seconds, 3 * frame)
    if p.packet_times.size > 1:
        ordered = np.sort(p.packet_times)
        steps = np.diff(ordered)
        for i in np.flatnonzero(steps > tolerance).tolist():
            at, size = float(ordered[i]), float(steps[i])
            gaps.append(f"{clock(at)} (+{size:.1f}s)")
            events.append({"kind": "gap", "at": round(at, 2), "seconds": round(size, 2)})
    if p.decode_times.size > 1:
        steps = np.diff(p.decode_times)
        for i in np.flatnonzero(steps < -tolerance).tolist():
            at, size = float(p.decode_times[i]), float(steps[i])
            gaps.append(f"{clock(at)} ({size:.1f}s)")
            events.append({"kind": "jump_back", "at": round(at, 2), "seconds": round(size, 2)})
    # A cut: the step from one sampled frame to the next scores as a splice (measures.CutScore);
    # a black or blank frame on either side is QA03's, not a cut.
    scores = rules.cut.scores(p)
    _, blank = _blank(p, rules)
    still = blank | np.append(False, blank[:-1])
    cut = (scores >= rules.cut_score) & ~still
    cuts = [clock(float(t)) for t in p.times[cut]]
    events += [
        {"kind": "cut", "at": round(float(t), 2), "score": round(float(v), 2)}
        for t, v in zip(p.times[cut], scores[cut], strict=True)
    ]
    if not events:
        return
    variant = "gap_cut" if gaps and cuts else "gap" if gaps else "cut"
    strongest: dict[str, Any] = {}
    if cuts:
        k = int(np.argmax(np.where(cut, scores, -1.0)))
        strongest = {"at": clock(float(p.times[k])), "score": round(float(scores[k]), 2)}
    yield finding(
        "QA06",
        clip.rel,
        variant,
        gaps=gaps,
        cuts=cuts,
        threshold=round(tolerance, 1),
        cut_threshold=rules.cut_score,
        events=events,
        **strongest,
    )


def _recording(
    clip: Clip, passes: dict[str, Any], day_date: dt.date | None, rules: PictureRules
) -> Iterator[Finding]:
    known = recorded_at(clip, passes)
    if known is None:
        return
    local = known.when.astimezone(rules.timezone)
    shown = local.strftime("%Y-%m-%d %H:%M")
    base = {"recorded": shown, "source": known.source, "recorded_iso": local.isoformat()}
    if day_date is not None and local.date() != day_date:
        yield finding("QA07", clip.rel, "date", expected=day_date.isoformat(), **base)
        return
    slot = clip.name.slot if clip.name and clip.kind == "roll" else None
    hour = local.hour + local.minute / 60
    for want, variant, (first, last) in (
        (1, "roll1_not_morning", rules.morning_hours),
        (2, "roll2_not_afternoon", rules.afternoon_hours),
    ):
        if slot == want and not first <= hour < last:
            yield finding("QA07", clip.rel, variant, hours=f"{first}:00–{last}:00", **base)


def _reuse(
    cls: ClassFolder,
    prints: dict[str, Fingerprint],
    lookup: FingerprintLookup | None,
    remember: list[RememberedClass],
    rules: PictureRules,
) -> Iterator[Finding]:
    """Reused footage within the class, then against the classes earlier audits remembered.

    A pair within the class is reported on both clips, each naming the other (whichever of
    them the walk met first); a clip found in an earlier audit names the remembered one.
    """
    order = [c for day in cls.days for c in day.clips if c.rel in prints]
    order += [c for c in cls.clips if c.rel in prints and c not in order]
    partners: dict[str, list[tuple[str, Match]]] = {}
    for j, later in enumerate(order):
        for earlier in order[:j]:
            found = match(prints[earlier.rel], prints[later.rel], rules.reuse)
            if found is not None:
                partners.setdefault(later.rel, []).append((earlier.rel, found))
                partners.setdefault(earlier.rel, []).append((later.rel, _reversed(found)))
    flagged: set[str] = set()
    for clip in order:
        if clip.rel in partners:
            flagged.add(clip.rel)
            (other, found), *more = partners[clip.rel]
            others = [other] + [rel for rel, _ in more]
            yield finding(
                "QA05", clip.rel, "same_class", other=other, others=others, **_where(found)
            )
    if lookup is None:
        return
    # The class is known by its institution+class prefix wherever its disc is copied to.
    key = cls.prefix or str(cls.path.resolve())
    for clip in order:
        if clip.rel in flagged:
            continue
        for stored in lookup(prints[clip.rel], key):
            found = match(stored.fingerprint, prints[clip.rel], rules.reuse)
            if found is not None:
                flagged.add(clip.rel)
                yield finding(
                    "QA05",
                    clip.rel,
                    "other_class",
                    other=stored.path,
                    other_class=stored.class_folder,
                    audited=stored.audited,
                    **_where(found),
                )
                break
    remember.append((key, cls.folder, [(_stored_path(cls, c), prints[c.rel]) for c in order]))


def _stored_path(cls: ClassFolder, clip: Clip) -> str:
    """A clip's path from its class folder (the audited root differs between audits)."""
    try:
        return clip.path.relative_to(cls.path.parent).as_posix()
    except ValueError:
        return clip.rel


def _reversed(found: Match) -> Match:
    """A match of B's footage in A, seen from A: A's stretch, B's time = A's − offset."""
    return Match(
        offset=-found.offset,
        start=round(found.start + found.offset, 2),
        end=round(found.end + found.offset, 2),
        frames=found.frames,
        distance=found.distance,
    )


def _where(found: Match) -> dict[str, Any]:
    return {
        "span_seconds": [round(found.start, 2), round(found.end, 2)],  # the player's link
        "start": clock(found.start),
        "end": clock(found.end),
        "other_start": clock(max(0.0, found.start + found.offset)),
        "seconds": round(found.seconds, 1),
        "offset": found.offset,
        "frames": found.frames,
        "distance": found.distance,
    }


def check(ctx: AuditContext) -> Iterator[Finding]:
    """QA findings from the shared frame pass (and clip metadata for QA07).

    A clip whose frame pass failed is FM04 (rules/format.py) and has no picture findings.
    """
    rules = PictureRules.from_profile(ctx.profile)
    for cls in ctx.disc.classes:
        prints: dict[str, Fingerprint] = {}
        dated = {c.rel: day.date for day in cls.days for c in day.clips}
        for clip in cls.clips:
            clip_pass = ctx.frames.get(clip.rel)
            results = clip_pass.results if clip_pass is not None else {}
            picture: ClipPicture | None = results.get("picture")
            yield from _recording(clip, results, dated.get(clip.rel), rules)
            if picture is None or picture.error is not None:
                continue
            yield from _quality(clip, picture, rules)
            yield from _black(clip, picture, rules)
            yield from _frozen(clip, picture, rules)
            if clip.kind == "lesson":
                yield from _continuity(clip, picture, rules)
            prints[clip.rel] = picture.fingerprint
        yield from _reuse(cls, prints, ctx.fingerprints, ctx.remember, rules)
