"""Bad Timing: a contact a person set to Bad Timing gets one re-approach task once it has been
Bad Timing for `bad_timing.reapproach_days`.

When the status was set comes from the `hs_lead_status` history (the start of its latest run
of Bad Timing); a contact without that history cannot be judged (a skip). The task's body is
marked `[leadops:reapproach:<epoch ms the status was set>]`: one task per time a contact is
set to Bad Timing, never a second one (open or done). leadops never changes a Bad Timing
status, and recycle never takes Bad Timing contacts (`rules.ladder`, `rules.recycle`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules.definition import RuleDef, Situation, engagement_planner
from rules.kit import (
    CannotJudge,
    Filter,
    eq,
    fmt,
    status_set_at,
)
from rules.tasks import has_task_about, task_change
from rules.triggers import on_changes_and_deadlines

RULE: RuleName = "bad_timing"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("task",)
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties()


def search_filters(rules: Rules) -> list[Filter]:
    return [eq("hs_lead_status", rules.lead_status.bad_timing)]


def _decide(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> list[Change]:
    rules, now, tz = situation.rules, situation.now, situation.tz
    since = _awaiting_reapproach(record, engagements, rules)
    if since is None:
        return []
    status, config = rules.lead_status.bad_timing, rules.bad_timing
    waited = now - since
    if waited < timedelta(days=config.reapproach_days):
        return []
    return [
        task_change(
            RULE,
            record,
            "reapproach",
            config.reapproach,
            reason=f"lead status {status} since {fmt(since)} ({waited.days} days)",
            due_from=now,
            business_hours=rules.followup.business_hours,
            tz=tz,
            variables={"days": waited.days},
            refs=[_ref(since)],
        )
    ]


def next_deadline(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> datetime | None:
    """When a Bad Timing contact without its re-approach task has waited `reapproach_days`
    (the task falls due); None for every other contact."""
    since = _awaiting_reapproach(record, engagements, situation.rules)
    if since is None:
        return None
    return since + timedelta(days=situation.rules.bad_timing.reapproach_days)


def _awaiting_reapproach(
    record: Record, engagements: Sequence[Engagement], rules: Rules
) -> datetime | None:
    """When a Bad Timing contact was set so, unless its re-approach task exists (None)."""
    status = rules.lead_status.bad_timing
    if record.get("hs_lead_status") != status:
        return None
    since = status_set_at(record, status)
    if since is None:
        raise CannotJudge(
            f"cannot tell when lead status became {status}: no hs_lead_status history"
        )
    return None if has_task_about(engagements, "reapproach", _ref(since)) else since


def _ref(since: datetime) -> str:
    return str(int(since.timestamp() * 1000))


plan_bad_timing = engagement_planner(RULE, _decide)

DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=plan_bad_timing,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    # Time passing, not an edit, makes the task due; a re-approach task edited or completed
    # is seen in the task feed.
    triggers=on_changes_and_deadlines(ENGAGEMENT_KINDS, next_deadline),
)
