"""The `report:` section of `config/lifecycle.yaml`: what the read-only lead report counts as
stuck, its first-touch SLA, score bands and who gets it.

Example:
    ```python
    from config.rules import load_rules

    report = load_rules().report
    print(report.stuck_days.new, report.first_touch_sla_hours, report.band_labels())
    ```
"""

from __future__ import annotations

import itertools
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StuckDays(_Strict):
    """Days in a lead status after which a lead is listed as stuck."""

    new: float = Field(default=2, gt=0, le=3650)
    attempted: float = Field(default=7, gt=0, le=3650)


class ReportSettings(_Strict):
    """Thresholds and recipients of the lead report (`leadops report`, the lead-report flow)."""

    lookback_days: int = Field(default=180, ge=1, le=3650)
    stuck_days: StuckDays = StuckDays()
    first_touch_sla_hours: float = Field(default=24, gt=0, le=24 * 365)
    # Lower edges of the score bands, ascending; the last band is open-ended.
    score_bands: tuple[float, ...] = (0, 25, 50, 75, 100)
    what_if_step: float = Field(default=10, gt=0, le=100_000)
    what_if_steps: int = Field(default=2, ge=0, le=10)
    # The portal's hs_lead_status value for a booked meeting (no rule writes it; portals
    # without it simply count none).
    meeting_scheduled_status: str = Field(default="MEETING_SCHEDULED", min_length=1)
    email: bool = True
    managers: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("score_bands")
    @classmethod
    def _ascending(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError("needs at least one band edge, e.g. [0, 50, 100]")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError(f"edges must be strictly ascending, got {list(value)}")
        return value

    @field_validator("managers")
    @classmethod
    def _manager_addresses(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for email, owners in value.items():
            if not _EMAIL.match(email):
                raise ValueError(f"{email!r} is not an email address (managers are keyed by email)")
            bad = [o for o in owners if not str(o).isdigit()]
            if bad or not owners:
                raise ValueError(
                    f"manager {email}: owner ids must be a non-empty list of HubSpot owner ids "
                    f"(digits), got {list(owners)}"
                )
        return value

    def band_of(self, score: float | None) -> str:
        """The label of the band a score falls in; `no score` for None."""
        if score is None:
            return "no score"
        label = f"< {_num(self.score_bands[0])}"
        for edge, label_here in zip(self.score_bands, self.band_labels()[1:], strict=False):
            if score >= edge:
                label = label_here
        return label

    def band_labels(self) -> list[str]:
        """Every band label, lowest first (below the first edge, each edge range, open top)."""
        edges = self.score_bands
        labels = [f"< {_num(edges[0])}"]
        labels += [f"{_num(a)}–{_num(b)}" for a, b in itertools.pairwise(edges)]
        labels.append(f"≥ {_num(edges[-1])}")
        return labels

    def thresholds_around(self, current: float) -> list[float]:
        """What-if thresholds: the current one ± `what_if_step`, `what_if_steps` each way."""
        steps = range(-self.what_if_steps, self.what_if_steps + 1)
        return [
            current + k * self.what_if_step for k in steps if current + k * self.what_if_step > 0
        ]


def _num(value: float) -> str:
    return f"{value:g}"
