"""Recycle: MQLs/SQLs that went nowhere go back to Lead and into a nurture list.

Candidates (stage MQL or SQL only): lead status Unqualified; or Attempted with at least
`min_attempts` outbound touches since New and no reply or connection in the last
`no_reply_days` (an incoming email, a call with a connected outcome, or any meeting that
started, is scheduled or was booked in that window). Each gives two Changes: stage → Lead
with the configured lead status (the apply layer clears the stage first), and the nurture
list for the contact's product interest (the default list when unknown).

Held back, without a skip: enrolled in a sequence, a next activity in the future, or
associated deals. Bad Timing contacts are never candidates: they wait for their re-approach
(`rules.bad_timing`), whatever their attempts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from config.rules import Recycle, Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record, parse_time
from rules import kit as common
from rules.definition import RuleDef, Situation
from rules.kit import (
    RESOLUTION,
    SQL_DATE,
    CannotJudge,
    Engagements,
    Filter,
    change,
    eq,
    fmt,
    is_connected_call,
    new_time_or_skip,
    not_has,
    plan_each,
    touches_since,
    update,
)
from rules.triggers import on_changes_and_deadlines

RULE: RuleName = "recycle"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("email", "call", "meeting")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY
HOLD_PROPERTIES = ("hs_sequences_is_enrolled", "notes_next_activity_date", "num_associated_deals")


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(
        SQL_DATE, *HOLD_PROPERTIES, rules.recycle.product_interest_property
    )


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """OR-ed groups (one search each): stage MQL/SQL/none × lead status Unqualified/Attempted.

    "No stage" finds a contact whose earlier recycle cleared the stage but could not set it.
    """
    statuses = (rules.lead_status.unqualified, rules.lead_status.attempted)
    stages = [[eq("lifecyclestage", rules.stages.mql)], [eq("lifecyclestage", rules.stages.sql)]]
    stages.append([not_has("lifecyclestage")])
    return [[*stage, eq("hs_lead_status", status)] for stage in stages for status in statuses]


def plan_recycle(
    contacts: Iterable[Record], engagements: Engagements, situation: Situation
) -> list[Change]:
    rules, now = situation.rules, situation.now
    return plan_each(RULE, contacts, lambda r: _decide(r, engagements.get(r.id, ()), rules, now))


def _decide(
    record: Record, engagements: Sequence[Engagement], rules: Rules, now: datetime
) -> list[Change]:
    if record.get("lifecyclestage") not in (rules.stages.mql, rules.stages.sql, None):
        return []
    reason = _recycle_reason(record, engagements, rules, now)
    if reason is None or _held_back(record, now):
        return []
    properties = {"lifecyclestage": rules.stages.lead, "hs_lead_status": rules.recycle.lead_status}
    list_name, list_reason = nurture_list(record, rules.recycle)
    return [
        update(RULE, record, properties, reason),
        change(RULE, record, list_reason, list_name=list_name),
    ]


def _recycle_reason(
    record: Record, engagements: Sequence[Engagement], rules: Rules, now: datetime
) -> str | None:
    status, config = record.get("hs_lead_status"), rules.recycle
    if status == rules.lead_status.unqualified:
        return f"lead status {status}"
    if status != rules.lead_status.attempted:
        return None
    new_at = new_time_or_skip(record, rules)
    attempts = len(touches_since(engagements, new_at))
    if attempts < config.min_attempts:
        return None
    since = now - timedelta(days=config.no_reply_days)
    if any(is_answer(e, rules, since) for e in engagements):
        return None
    return (
        f"{attempts} outbound touches since {rules.lead_status.new} on {fmt(new_at)}, "
        f"no reply, connection or meeting in {config.no_reply_days:g} days"
    )


def is_answer(engagement: Engagement, rules: Rules, since: datetime) -> bool:
    """A reply, a connected call or a meeting at or after `since`."""
    return any(when >= since for when in answer_times(engagement, rules))


def answer_times(engagement: Engagement, rules: Rules) -> tuple[datetime, ...]:
    """The instants that make `engagement` an answer when recent (none: not an answer)."""
    times: tuple[datetime | None, ...] = ()
    reply = engagement.kind == "email" and engagement.get("hs_email_direction") == "INCOMING_EMAIL"
    if reply or is_connected_call(engagement, rules):
        times = (engagement.timestamp,)
    elif engagement.kind == "meeting":
        times = (
            engagement.timestamp,
            parse_time(engagement.get("hs_meeting_start_time")),
            parse_time(engagement.get("hs_createdate")),
        )
    return tuple(when for when in times if when is not None)


def next_deadline(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> datetime | None:
    """The first instant after now at which time alone may change the decision: the latest
    answer leaving the `no_reply_days` window (Attempted), or a planned next activity's date
    passing (Attempted or Unqualified: either is held back until then)."""
    rules, now = situation.rules, situation.now
    status = record.get("hs_lead_status")
    if status not in (rules.lead_status.attempted, rules.lead_status.unqualified):
        return None
    moments: list[datetime] = []
    if status == rules.lead_status.attempted:
        window = timedelta(days=rules.recycle.no_reply_days)
        # An answer at `t` counts while now - window <= t: it stops counting just after t + window.
        moments += [t + window + RESOLUTION for e in engagements for t in answer_times(e, rules)]
    next_activity = parse_time(record.get("notes_next_activity_date"))
    if next_activity is not None:
        moments.append(next_activity)
    return min((m for m in moments if m > now), default=None)


def _held_back(record: Record, now: datetime) -> bool:
    """Enrolled in a sequence, a next activity planned, or deals: leave the contact alone."""
    if (record.get("hs_sequences_is_enrolled") or "").strip().lower() == "true":
        return True
    next_activity = record.get("notes_next_activity_date")
    if next_activity is not None:
        when = parse_time(next_activity)
        if when is None:
            raise CannotJudge(f"notes_next_activity_date is not a date: {next_activity!r}")
        if when > now:
            return True
    return _deal_count(record) > 0


def _deal_count(record: Record) -> float:
    raw = record.get("num_associated_deals")
    if raw is None:
        return 0
    try:
        count = float(raw)
    except ValueError:
        count = math.nan
    if not math.isfinite(count):
        raise CannotJudge(f"num_associated_deals is not a number: {raw!r}")
    return count


def nurture_list(record: Record, config: Recycle) -> tuple[str, str]:
    """The list for the contact's product interest and why (a multi-select's first known value)."""
    prop = config.product_interest_property
    raw = record.get(prop)
    if raw is None:
        return config.default_list, f"no {prop}: default nurture list"
    known = {name.lower() for name in config.nurture_lists}
    for value in raw.split(";"):
        if value.strip().lower() in known:
            return config.list_for(value), f"{prop} {value.strip()!r}"
    return config.default_list, f"{prop} {raw!r} has no nurture list: default nurture list"


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_recycle,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    # Replies, calls and meetings logged, and answers growing old or holds ending with time.
    triggers=on_changes_and_deadlines(ENGAGEMENT_KINDS, next_deadline),
)
