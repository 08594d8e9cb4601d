"""Bad Timing: a contact a person set to Bad Timing gets one re-approach task once it has been
Bad Timing for `bad_timing.reapproach_days`.

When the status was set comes from the `hs_lead_status` history (the start of its latest run
of Bad Timing); a contact without that history cannot be judged (a skip). The task's body is
marked `[leadops:reapproach:<epoch ms the status was set>]`: one task per time a contact is
set to Bad Timing, never a second one (open or done). leadops never changes a Bad Timing
status, and recycle never takes Bad Timing contacts (`rules.ladder`, `rules.recycle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules.definition import RuleDef, Situation
from rules.kit import (
    CannotJudge,
    Engagements,
    Filter,
    eq,
    fmt,
    plan_with_engagements,
    status_set_at,
)
from rules.tasks import has_task_about, task_change

RULE: RuleName = "bad_timing"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("task",)
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties()


def search_filters(rules: Rules) -> list[Filter]:
    return [eq("hs_lead_status", rules.lead_status.bad_timing)]


def plan_bad_timing(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> list[Change]:
    rules, now, tz = situation.rules, situation.now, situation.tz
    decide = lambda r, e: _decide(r, e, rules, now, tz)  # noqa: E731
    return plan_with_engagements(RULE, contacts, engagements, decide)


def _decide(
    record: Record, engagements: Sequence[Engagement], rules: Rules, now: datetime, tz: ZoneInfo
) -> list[Change]:
    status = rules.lead_status.bad_timing
    if record.get("hs_lead_status") != status:
        return []
    since = status_set_at(record, status)
    if since is None:
        raise CannotJudge(
            f"cannot tell when lead status became {status}: no hs_lead_status history"
        )
    config = rules.bad_timing
    waited = now - since
    ref = str(int(since.timestamp() * 1000))
    if waited < timedelta(days=config.reapproach_days) or has_task_about(
        engagements, "reapproach", ref
    ):
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
            refs=[ref],
        )
    ]


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=lambda rules: [search_filters(rules)],
    properties=contact_properties,
    plan=plan_bad_timing,
    event_based=False,  # time passing, not an edit, makes the task due
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
)
