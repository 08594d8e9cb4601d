"""Follow-up: HubSpot tasks for the owner, never duplicated.

- lead status New and no open leadops first-touch task → a first-touch task;
- lead status Attempted, the last outbound touch since New at least `after_days` ago (or,
  with none, New itself), fewer than `max_attempts` touches since New, and no open leadops
  next-attempt task → a next-attempt task.

A task leadops created carries a marker line at the end of `hs_task_body`
(`[leadops:first_touch]`, `[leadops:next_attempt]`; `rules.tasks`); a task is open until its
`hs_task_status` is COMPLETED. Contacts without an owner still get (unassigned) tasks.
Due dates count working hours in the portal's business hours (`rules.tasks.due_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from config.rules import Rules, TaskTemplate
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules.conditions import read_by_templates, template_values
from rules.definition import RuleDef, Situation
from rules.kit import (
    SQL_DATE,
    Engagements,
    Filter,
    became_new_at,
    fmt,
    new_time_or_skip,
    plan_each,
    status_groups,
    touches_since,
)
from rules.tasks import has_open_task, task_change
from rules.triggers import on_changes_and_deadlines

RULE: RuleName = "followup"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("email", "call", "task")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY

FollowupKind = Literal["first_touch", "next_attempt"]


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(SQL_DATE, *read_by_templates(rules))


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """Two OR-ed groups (one search each): lead status New, lead status Attempted."""
    return status_groups(rules.lead_status.new, rules.lead_status.attempted)


def plan_followups(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> list[Change]:
    rules, now, tz = situation.rules, situation.now, situation.tz
    return plan_each(
        RULE, contacts, lambda r: _decide(r, engagements.get(r.id, ()), rules, now, tz)
    )


def _decide(
    record: Record, engagements: Sequence[Engagement], rules: Rules, now: datetime, tz: ZoneInfo
) -> list[Change]:
    status = record.get("hs_lead_status")
    if status == rules.lead_status.new and not has_open_task(engagements, "first_touch"):
        new_at = became_new_at(record, rules)
        reason = f"lead status {status}" + (f" since {fmt(new_at)}" if new_at else "")
        return [_task(record, rules, "first_touch", reason, now, tz, days=0, attempts=0)]
    if status == rules.lead_status.attempted and not has_open_task(engagements, "next_attempt"):
        return _next_attempt(record, engagements, rules, now, tz)
    return []


def _next_attempt(
    record: Record, engagements: Sequence[Engagement], rules: Rules, now: datetime, tz: ZoneInfo
) -> list[Change]:
    config = rules.followup.next_attempt
    new_at = new_time_or_skip(record, rules)
    touches = touches_since(engagements, new_at)
    if len(touches) >= config.max_attempts:
        return []
    idle = now - max((t.timestamp for t in touches if t.timestamp), default=new_at)
    if idle < timedelta(days=config.after_days):
        return []
    reason = f"no outbound touch for {idle.days} day(s) after {len(touches)} attempt(s)"
    return [
        _task(record, rules, "next_attempt", reason, now, tz, days=idle.days, attempts=len(touches))
    ]


def next_deadline(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> datetime | None:
    """When an Attempted lead's idle time reaches `after_days` (the next-attempt task falls
    due), if it still has attempts left; None for every other contact."""
    rules = situation.rules
    new_at = became_new_at(record, rules)
    if record.get("hs_lead_status") != rules.lead_status.attempted or new_at is None:
        return None
    config = rules.followup.next_attempt
    touches = touches_since(engagements, new_at)
    if len(touches) >= config.max_attempts:
        return None
    last = max((t.timestamp for t in touches if t.timestamp), default=new_at)
    return last + timedelta(days=config.after_days)


def _task(
    record: Record,
    rules: Rules,
    kind: FollowupKind,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    days: int,
    attempts: int,
) -> Change:
    template: TaskTemplate = getattr(rules.followup, kind)
    return task_change(
        RULE,
        record,
        kind,
        template,
        reason=reason,
        due_from=now,
        business_hours=rules.followup.business_hours,
        tz=tz,
        variables={**template_values(record, rules), "days": days, "attempts": attempts},
    )


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_followups,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    # A touch logged or a task completed may call for a task; time makes attempts fall due.
    triggers=on_changes_and_deadlines(ENGAGEMENT_KINDS, next_deadline),
)
