"""Follow-up: HubSpot tasks for the owner, never duplicated.

- lead status New and no open leadops first-touch task → a first-touch task;
- lead status Attempted, the last outbound touch since New at least `after_days` ago (or,
  with none, New itself), fewer than `max_attempts` touches since New, and no open leadops
  next-attempt task → a next-attempt task.

A task leadops created carries a marker line at the end of `hs_task_body`
(`[leadops:first_touch]`, `[leadops:next_attempt]`); a task is open until its
`hs_task_status` is COMPLETED. Contacts without an owner still get (unassigned) tasks.
Due dates count working hours in the portal's business hours (`due_at`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from config.rules import BusinessHours, Rules, TaskTemplate
from model.changes import Change, RuleName, TaskSpec
from model.records import Engagement, EngagementKind, Record
from rules import kit as common
from rules.conditions import read_by_templates, template_values
from rules.definition import RuleDef, Situation
from rules.kit import (
    SQL_DATE,
    CannotJudge,
    Engagements,
    Filter,
    as_utc,
    became_new_at,
    change,
    eq,
    fmt,
    new_time_or_skip,
    plan_each,
    touches_since,
)

RULE: RuleName = "followup"
ENGAGEMENT_KINDS: tuple[EngagementKind, ...] = ("email", "call", "task")
PROPERTIES_WITH_HISTORY: tuple[str, ...] = common.LEAD_STATUS_HISTORY

TaskKind = Literal["first_touch", "next_attempt"]
_MARKER = re.compile(r"\[leadops:(" + "|".join(get_args(TaskKind)) + r")\]")
_TAG = re.compile(r"<[^>]*>")
_jinja = SandboxedEnvironment(autoescape=False)


def contact_properties(rules: Rules) -> list[str]:
    return common.contact_properties(SQL_DATE, *read_by_templates(rules))


def search_filter_groups(rules: Rules) -> list[list[Filter]]:
    """Two OR-ed groups (one search each): lead status New, lead status Attempted."""
    return [
        [eq("hs_lead_status", rules.lead_status.new)],
        [eq("hs_lead_status", rules.lead_status.attempted)],
    ]


def task_marker(kind: TaskKind) -> str:
    """The line leadops ends a task body with, to recognise its own tasks later."""
    return f"[leadops:{kind}]"


def task_kind(engagement: Engagement) -> TaskKind | None:
    """The kind of a task leadops created (the last marker in its body), else None."""
    if engagement.kind != "task":
        return None
    found = _MARKER.findall(plain_text(engagement.get("hs_task_body") or ""))
    return found[-1] if found else None


def plain_text(body: str) -> str:
    """A task body with HTML tags and entities stripped: `hs_task_body` is rich text, and a
    task a person edits in HubSpot comes back as `<p>…<br>…</p>` with entities (HUBSPOT.md)."""
    return html.unescape(_TAG.sub("", body))


def is_open(task: Engagement) -> bool:
    return task.get("hs_task_status") != "COMPLETED"


def has_open_task(engagements: Iterable[Engagement], kind: TaskKind) -> bool:
    return any(task_kind(e) == kind and is_open(e) for e in engagements)


def due_at(start: datetime, hours: float, business_hours: BusinessHours, tz: ZoneInfo) -> datetime:
    """`start` plus `hours` working hours, in UTC.

    Working time is [start, end) wall-clock time in `tz` on each day (weekdays only when
    `skip_weekends`); a start outside it rolls to the next opening. Durations are real
    elapsed time, so a DST change inside a day's hours is counted correctly.
    """
    cursor, remaining = as_utc(start), timedelta(hours=hours)
    day = cursor.astimezone(tz).date()
    while True:
        window = _working_window(day, business_hours, tz)
        if window and cursor < window[1]:
            begin = max(cursor, window[0])
            if begin + remaining <= window[1]:
                return begin + remaining
            remaining -= window[1] - begin
        day += timedelta(days=1)


def _working_window(
    day: date, business_hours: BusinessHours, tz: ZoneInfo
) -> tuple[datetime, datetime] | None:
    if business_hours.skip_weekends and day.weekday() >= 5:
        return None
    opens = datetime.combine(day, business_hours.start, tzinfo=tz).astimezone(UTC)
    closes = datetime.combine(day, business_hours.end, tzinfo=tz).astimezone(UTC)
    return (opens, closes) if closes > opens else None


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


def _task(
    record: Record,
    rules: Rules,
    kind: TaskKind,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    days: int,
    attempts: int,
) -> Change:
    template: TaskTemplate = getattr(rules.followup, kind)
    variables = {
        **template_values(record, rules),  # `score` and the properties conditions read
        "contact": {
            "name": record.name,
            "id": record.id,
            "email": record.get("email") or "",
            "company": record.get("company") or "",
        },
        "reason": reason,
        "days": days,
        "attempts": attempts,
    }
    subject, body = _render(template.subject, variables), _render(template.body, variables)
    task = TaskSpec(
        kind=kind,
        subject=" ".join(subject.split()),
        body=f"{body.rstrip()}\n\n{task_marker(kind)}" if body.strip() else task_marker(kind),
        due=due_at(now, template.due_in_hours, rules.followup.business_hours, tz),
        type=template.type,
        priority=template.priority,
    )
    return change(RULE, record, reason, task=task)


@lru_cache(maxsize=64)
def _compile(source: str) -> Template:
    return _jinja.from_string(source)


def _render(source: str, variables: dict[str, object]) -> str:
    try:
        return _compile(source).render(variables)
    except Exception as exc:  # a user's template may fail in any way: report, don't crash
        raise CannotJudge(f"task template {source!r} failed: {type(exc).__name__}: {exc}") from exc


DEFINITION = RuleDef(
    name=RULE,
    description=__doc__.splitlines()[0],
    searches=search_filter_groups,
    properties=contact_properties,
    plan=plan_followups,
    event_based=False,
    history=PROPERTIES_WITH_HISTORY,
    engagement_kinds=ENGAGEMENT_KINDS,
)
