"""The subsidy standard as data (二(六)): tiers, cap, employment threshold, what voids a day.

Read from the profile's [subsidy] section; another county or year changes the TOML, not code.
"""

from __future__ import annotations

from dataclasses import dataclass

from video_audit.standard import Profile, ProfileError, section_values


@dataclass(frozen=True)
class SubsidyRules:
    """Huguan 2024's values unless the profile's [subsidy] says otherwise."""

    first_days: int = 10
    first_rate: float = 150.0
    later_rate: float = 100.0
    cap: float = 5000.0
    employment_threshold: float = 0.8
    void_codes: tuple[str, ...] = ("QA05", "QA06", "QA07", "FM04")
    checkin_minutes: float = 120.0
    """CK04: a check-in farther than this from every recording time of its day (camera clock)."""

    @classmethod
    def from_profile(cls, profile: Profile) -> SubsidyRules:
        section = profile.section("subsidy")
        try:
            values = section_values(
                section,
                cls(),
                (
                    "first_days",
                    "first_rate",
                    "later_rate",
                    "cap",
                    "employment_threshold",
                    "checkin_minutes",
                ),
            )
            if "void_codes" in section:
                values["void_codes"] = tuple(str(c) for c in section["void_codes"])
        except (TypeError, ValueError) as exc:
            raise ProfileError(f"{profile.source} [subsidy]: {exc}") from exc
        return cls(**values)

    def day_rates(self, days: int) -> list[float]:
        """What each verified day earns, in date order: the first tier, the later one, then
        what is left under the cap (the day that reaches it earns the rest, later days 0)."""
        rates: list[float] = []
        left = self.cap
        for n in range(days):
            rate = min(self.first_rate if n < self.first_days else self.later_rate, left)
            rates.append(money(rate))
            left -= rate
        return rates

    def amount(self, days: int) -> float:
        """A trainee's subsidy for DAYS verified days: 12 → 10×150 + 2×100 = 1700; 40 → 5000."""
        return money(sum(self.day_rates(days)))

    def rule(self, rate: float | None) -> str | None:
        """ "full" (by trainees) when the employment rate reaches the threshold, else "employed"
        (only the employed are paid); None when the rate is unknown."""
        if rate is None:
            return None
        # Rates are ratios of whole numbers: compare with a tolerance so 4/5 reaches 0.8.
        return "full" if rate + 1e-9 >= self.employment_threshold else "employed"


def money(value: float) -> float:
    """Yuan to the fen; whole yuan as int so JSON shows 1700, not 1700.0."""
    rounded = round(float(value), 2)
    return int(rounded) if rounded.is_integer() else rounded
