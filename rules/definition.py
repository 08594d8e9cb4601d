"""What a rule is: what it needs fetched, and its planner, under one signature.

Every planner is `plan(contacts, engagements, situation) -> list[Change]`: the contacts
with the properties (and histories) the rule asked for, their engagements by contact id,
and the `Situation` it judges in. Pure: no I/O, no Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import DealStage, Engagement, EngagementKind, Record
from rules.kit import ENGAGEMENT_PROPERTIES, Engagements, Filter, plan_each
from rules.triggers import ContactsModified, Trigger

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Situation:
    """What every decision is judged against: the rules, the instant, the portal's time zone,
    and (for rules that read deals) the portal's deal stages by (pipeline id, stage id)."""

    rules: Rules
    now: datetime
    tz: ZoneInfo = UTC_ZONE
    deal_stages: Mapping[tuple[str, str], DealStage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError(f"now must be timezone-aware, got {self.now!r}")
        object.__setattr__(self, "now", self.now.astimezone(UTC))


Planner = Callable[[Iterable[Record], Engagements, Situation], list[Change]]


@dataclass(frozen=True)
class RuleDef:
    """What a rule needs fetched and how it plans.

    `searches` gives one AND filter group per search (OR across them); `event_based` rules
    look only at contacts modified inside the run's window, the others judge every candidate
    as of `Situation.now`. `triggers` (`rules.triggers`) name what may change a decision, so
    that a cycle judges only those contacts. `description` is the rule's one-line summary
    (its flow's too).
    """

    name: RuleName
    description: str
    searches: Callable[[Rules], list[list[Filter]]]
    properties: Callable[[Rules], list[str]]
    plan: Planner
    event_based: bool = True
    history: tuple[str, ...] = ()
    engagement_kinds: tuple[EngagementKind, ...] = ()
    triggers: tuple[Trigger, ...] = ()

    @property
    def incremental(self) -> bool:
        """Whether a run may judge only what changed since the rule's watermark."""
        return self.event_based or bool(self.triggers)

    @property
    def watches_contacts(self) -> bool:
        """Whether contacts modified in the window are candidates (searched with the window)."""
        return self.event_based or any(isinstance(t, ContactsModified) for t in self.triggers)

    @property
    def engagements(self) -> Mapping[EngagementKind, Sequence[str]]:
        return {kind: ENGAGEMENT_PROPERTIES[kind] for kind in self.engagement_kinds}


def engagement_planner(
    rule: RuleName, decide: Callable[[Record, Sequence[Engagement], Situation], list[Change]]
) -> Planner:
    """A rule's planner: `plan_each`, each contact decided with its own engagements."""

    def plan(
        contacts: Iterable[Record], engagements: Engagements, situation: Situation
    ) -> list[Change]:
        return plan_each(
            rule, contacts, lambda record: decide(record, engagements.get(record.id, ()), situation)
        )

    return plan
