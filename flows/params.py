"""Flow parameters. Pydantic models, so the Prefect UI renders them as forms."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from config.settings import Settings
from model.changes import ALL_RULES, RuleName


class RunParams(BaseModel):
    """What a run looks at and whether it may write.

    `since`/`until` bound the contacts an event-based rule considers (by last modification);
    left empty, `since` comes from the rule's watermark and `until` is now.
    """

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=False, description="Plan and report only; write nothing.")
    since: datetime | None = Field(default=None, description="Window start (inclusive).")
    until: datetime | None = Field(
        default=None, description="Window end (exclusive); now if empty."
    )
    rules: list[RuleName] = Field(
        default_factory=lambda: list(ALL_RULES), description="Rules to run, in cycle order."
    )
    notify: bool = Field(default=True, description="Email owners their digest after the run.")
    full: bool = Field(
        default=False,
        description="Judge every rule's whole population, not only what changed since its "
        "watermark (what the reconcile does).",
    )

    @model_validator(mode="after")
    def _window_ordered(self) -> RunParams:
        if self.since and self.until and self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")
        return self

    def now(self) -> datetime:
        """The instant the run judges time-based rules at: `until`, else the current time."""
        return (self.until or datetime.now(UTC)).astimezone(UTC)


# A run started from Python (the demo, the bench, tests) passes its `Settings`; deployments
# leave it empty and read the environment. Hidden from the UI's form; Prefect stores the
# run's parameters with secrets masked ("**********").
RunSettings = SkipJsonSchema[Settings | None]
