"""Flow parameters. Pydantic models, so the Prefect UI renders them as forms and the Prefect
server refuses a run whose values break the form's schema (before any code runs)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from config.settings import Settings
from model.changes import ALL_RULES, RuleName


def _date_or_datetime(value: Any) -> Any:
    """A date alone (`2026-10-01`, from the form or the CLI) means its midnight UTC; a date
    and time without an offset is UTC too."""
    if isinstance(value, str) and len(value.strip()) == 10:
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _utc_if_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# A date and time, or a date alone: the form's schema accepts both. The patterns make the
# Prefect server refuse anything else before a run (it does not enforce `format`).
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
Moment = Annotated[
    datetime,
    BeforeValidator(_date_or_datetime),
    AfterValidator(_utc_if_naive),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": f"^{_DATE}{_TIME}$"},
                {"type": "string", "format": "date", "pattern": f"^{_DATE}$"},
            ]
        }
    ),
]


class WindowParams(BaseModel):
    """What a run looks at and whether it may write.

    `since`/`until` bound the contacts an event-based rule considers (by last modification);
    left empty, `since` comes from the rule's watermark and `until` is now. Dates alone mean
    midnight UTC; times without an offset are UTC.
    """

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=False, description="Plan and report only; write nothing.")
    since: Moment | None = Field(
        default=None,
        description="Window start (inclusive): a date (midnight UTC) or an ISO date and time; "
        "empty = since the rule's last run.",
    )
    until: Moment | None = Field(
        default=None,
        description="Window end (exclusive): a date (midnight UTC) or an ISO date and time; "
        "empty = now.",
    )
    notify: bool = Field(default=True, description="Email owners their digest after the run.")
    full: bool = Field(
        default=False,
        description="Judge every rule's whole population, not only what changed since its "
        "watermark (what the reconcile does).",
    )

    @model_validator(mode="after")
    def _window_ordered(self) -> WindowParams:
        if self.since and self.until and self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")
        return self

    def now(self) -> datetime:
        """The instant the run judges time-based rules at: `until`, else the current time."""
        return (self.until or datetime.now(UTC)).astimezone(UTC)


class RunParams(WindowParams):
    """What a run looks at, which rules it runs (empty = all) and whether it may write.

    `since`/`until` bound the contacts an event-based rule considers (by last modification);
    left empty, `since` comes from the rule's watermark and `until` is now. Dates alone mean
    midnight UTC; times without an offset are UTC.
    """

    rules: list[RuleName] = Field(
        default_factory=lambda: list(ALL_RULES),
        description="Rules to run, in cycle order; empty = all rules.",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("rules")
    @classmethod
    def _all_when_empty(cls, rules: list[RuleName]) -> list[RuleName]:
        return [name for name in ALL_RULES if name in rules] if rules else list(ALL_RULES)


# A run started from Python (the demo, the bench, tests) passes its `Settings`; deployments
# leave it empty and read the environment. Hidden from the UI's form; Prefect stores the
# run's parameters with secrets masked ("**********").
RunSettings = SkipJsonSchema[Settings | None]
