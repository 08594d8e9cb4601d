"""Meeting Scheduled: a contact with a meeting booked moves up to Meeting Scheduled; a meeting
that ended without an outcome gets a task for the owner to record it.

- A meeting counts when its outcome is not one of `meeting_scheduled.ignored_outcomes`
  (canceled, no-show) and it starts in the future or was booked (`hs_createdate`) after the
  contact became New. New, Attempted and Connected contacts move; higher rungs and outcomes
  never move back (`rules.ladder`).
- A counted meeting that started after New and ended (`hs_meeting_end_time`, else its start)
  before now with no outcome (unset, or still SCHEDULED) needs its outcome recorded: one task
  per contact naming every such meeting, its body marked `[leadops:meeting_outcome:<id>]`
  per meeting, so no meeting ever gets a second task (open or done).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from config.rules import Rules
from model.changes import Change, RuleName
from model.records import Engagement, EngagementKind, Record, parse_time
from rules import kit as common
from rules import ladder
from rules.definition import RuleDef, Situation, engagement_planner
from rules.kit import (
    RESOLUTION,
    SQL_DATE,
    Filter,
    fmt,
    new_time_or_skip,
    status_groups,
    update,
)
from rules.tasks import has_task_about, task_change
from rules.triggers import on_changes_and_deadlines

RULE: RuleName = "meeting_scheduled"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("meeting", "task")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY
NO_OUTCOME = frozenset({None, "SCHEDULED"})


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(SQL_DATE)


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """OR-ed groups (one search each): New, Attempted, Connected, Meeting Scheduled."""
    roles = rules.lead_status
    return status_groups(roles.new, roles.attempted, roles.connected, roles.meeting_scheduled)


def _decide(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> list[Change]:
    rules, now, tz = situation.rules, situation.now, situation.tz
    meetings = _judged_meetings(record, engagements, rules)
    if not meetings:
        return []
    new_at = new_time_or_skip(record, rules)
    booked = [m for m in meetings if _starts_after(m, now) or _booked_after(m, new_at)]
    changes: list[Change] = []
    target = rules.lead_status.meeting_scheduled
    if booked and ladder.can_move(record, target, rules):
        changes.append(update(RULE, record, {"hs_lead_status": target}, _why(booked[0], now)))
    awaiting = _awaiting_outcome(meetings, engagements, new_at)
    unrecorded = [m for m in awaiting if _ended_before(m, now)]
    if unrecorded:
        changes.append(_outcome_task(record, unrecorded, rules, now, tz))
    return changes


def next_deadline(
    record: Record, engagements: Sequence[Engagement], situation: Situation
) -> datetime | None:
    """The first instant after now at which time alone may change the decision: a meeting
    booked before New starting (it no longer counts as ahead), or a meeting awaiting its
    outcome ending (its record-outcome task falls due)."""
    rules, now = situation.rules, situation.now
    meetings = _judged_meetings(record, engagements, rules)
    if not meetings:
        return None
    new_at = new_time_or_skip(record, rules)
    moments = [_starts(m) for m in meetings if not _booked_after(m, new_at)]
    # A meeting counts as ended once now is past its end: just after it.
    ends = (_ends(m) for m in _awaiting_outcome(meetings, engagements, new_at))
    moments += [end + RESOLUTION for end in ends if end is not None]
    return min((m for m in moments if m is not None and m > now), default=None)


def _judged_meetings(
    record: Record, engagements: Sequence[Engagement], rules: Rules
) -> list[Engagement]:
    """The counted meetings of a contact on the rungs the rule judges (none otherwise)."""
    roles = rules.lead_status
    statuses = (roles.new, roles.attempted, roles.connected, roles.meeting_scheduled)
    if record.get("hs_lead_status") not in statuses:
        return []
    return [m for m in engagements if counts(m, rules)]


def _awaiting_outcome(
    meetings: Sequence[Engagement], engagements: Sequence[Engagement], new_at: datetime
) -> list[Engagement]:
    """Meetings since New with no outcome and no record-outcome task yet (ended or not)."""
    return [
        m
        for m in meetings
        if _starts_after(m, new_at)
        and m.get("hs_meeting_outcome") in NO_OUTCOME
        and not has_task_about(engagements, "meeting_outcome", m.id)
    ]


def counts(engagement: Engagement, rules: Rules) -> bool:
    """A meeting that was not canceled or missed."""
    return (
        engagement.kind == "meeting"
        and engagement.get("hs_meeting_outcome") not in rules.meeting_scheduled.ignored_outcomes
    )


def _starts(meeting: Engagement) -> datetime | None:
    return parse_time(meeting.get("hs_meeting_start_time")) or meeting.timestamp


def _booked_after(meeting: Engagement, new_at: datetime) -> bool:
    booked = parse_time(meeting.get("hs_createdate"))
    return booked is not None and booked > new_at


def _starts_after(meeting: Engagement, moment: datetime) -> bool:
    start = _starts(meeting)
    return start is not None and start > moment


def _ends(meeting: Engagement) -> datetime | None:
    return parse_time(meeting.get("hs_meeting_end_time")) or _starts(meeting)


def _ended_before(meeting: Engagement, now: datetime) -> bool:
    end = _ends(meeting)
    return end is not None and end < now


def _describe(meeting: Engagement) -> str:
    title = meeting.get("hs_meeting_title")
    start = _starts(meeting)
    when = fmt(start) if start else "an unknown date"
    return f"'{title}' on {when}" if title else f"meeting {meeting.id} on {when}"


def _why(meeting: Engagement, now: datetime) -> str:
    start = _starts(meeting)
    if start is not None and start > now:
        return f"meeting {_describe(meeting)} is booked"
    booked = parse_time(meeting.get("hs_createdate"))
    return f"meeting {_describe(meeting)}, booked on {fmt(booked) if booked else '?'}"


def _outcome_task(
    record: Record, meetings: Sequence[Engagement], rules: Rules, now: datetime, tz: ZoneInfo
) -> Change:
    config = rules.meeting_scheduled.record_outcome
    described = ", ".join(_describe(m) for m in meetings)
    return task_change(
        RULE,
        record,
        "meeting_outcome",
        config,
        reason=f"meeting {described} ended without an outcome",
        due_from=now,
        business_hours=rules.followup.business_hours,
        tz=tz,
        variables={"meeting": described},
        refs=[m.id for m in meetings],
    )


plan_meetings = engagement_planner(RULE, _decide)

DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_meetings,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
    # Booking a meeting or recording its outcome need not touch the contact: the engagement
    # feed names it; meetings starting and ending make decisions change with time alone.
    triggers=on_changes_and_deadlines(ENGAGEMENT_KINDS, next_deadline),
)
