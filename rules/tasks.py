"""Tasks leadops creates for owners: how they are recognised later, when they are due, how
they are written from a template. Pure.

A task leadops created carries a marker line at the end of `hs_task_body`:
`[leadops:<kind>]`, or `[leadops:<kind>:<ref>]` when it is about one thing (a meeting's id,
the day a status was set), so that thing never gets a second task. `hs_task_body` is rich
text: markers are matched with tags and entities stripped (HUBSPOT.md). A task is open until
its `hs_task_status` is COMPLETED.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import get_args
from zoneinfo import ZoneInfo

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from config.rules import BusinessHours, TaskTemplate
from model.changes import Change, RuleName, TaskKind, TaskSpec
from model.records import Engagement, Record
from rules.kit import CannotJudge, as_utc, change

_MARKER = re.compile(r"\[leadops:(" + "|".join(get_args(TaskKind)) + r")(?::([^\]\s]+))?\]")
_TAG = re.compile(r"<[^>]*>")
_jinja = SandboxedEnvironment(autoescape=False)


def task_marker(kind: TaskKind, ref: str | None = None) -> str:
    """The line leadops ends a task body with, to recognise its own tasks later."""
    return f"[leadops:{kind}:{ref}]" if ref else f"[leadops:{kind}]"


def marker_of(task: TaskSpec) -> str:
    """The marker line a planned task's body ends with (`task_change` writes it): its kind's
    marker, with the refs of what it is about; the kind's bare marker for any other body."""
    line = task.body.rsplit("\n", 1)[-1]
    return line if line.startswith(f"[leadops:{task.kind}") else task_marker(task.kind)


def task_marks(engagement: Engagement) -> list[tuple[TaskKind, str | None]]:
    """Every (kind, ref) marker in a task's body, in order; [] for anything else."""
    if engagement.kind != "task":
        return []
    found = _MARKER.findall(plain_text(engagement.get("hs_task_body") or ""))
    return [(kind, ref or None) for kind, ref in found]


def task_kind(engagement: Engagement) -> TaskKind | None:
    """The kind of a task leadops created (the last marker in its body), else None."""
    marks = task_marks(engagement)
    return marks[-1][0] if marks else None


def plain_text(body: str) -> str:
    """A task body with HTML tags and entities stripped: `hs_task_body` is rich text, and a
    task a person edits in HubSpot comes back as `<p>…<br>…</p>` with entities (HUBSPOT.md)."""
    return html.unescape(_TAG.sub("", body))


def is_open(task: Engagement) -> bool:
    return task.get("hs_task_status") != "COMPLETED"


def has_open_task(engagements: Iterable[Engagement], kind: TaskKind) -> bool:
    return any(task_kind(e) == kind and is_open(e) for e in engagements)


def has_task_about(engagements: Iterable[Engagement], kind: TaskKind, ref: str) -> bool:
    """A leadops task of `kind` about `ref` exists, open or done: it is never made twice."""
    return any((kind, ref) in task_marks(e) for e in engagements)


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


def contact_variables(record: Record) -> dict[str, str]:
    """What task templates may say about the contact (`{{ contact.name }}` ...)."""
    return {
        "name": record.name,
        "id": record.id,
        "email": record.get("email") or "",
        "company": record.get("company") or "",
    }


def task_change(
    rule: RuleName,
    record: Record,
    kind: TaskKind,
    template: TaskTemplate,
    *,
    reason: str,
    due_from: datetime,
    business_hours: BusinessHours,
    tz: ZoneInfo,
    variables: Mapping[str, object],
    refs: Sequence[str] = (),
) -> Change:
    """A task Change from a template: subject and body rendered with `variables` (plus
    `contact` and `reason`), due `due_in_hours` working hours after `due_from`. The body ends
    with one marker line: the kind's marker, or one marker per ref (each thing the task is
    about). A template that fails to render raises `CannotJudge` (a skip)."""
    context = {"contact": contact_variables(record), "reason": reason, **variables}
    subject, body = _render(template.subject, context), _render(template.body, context)
    marker = " ".join(task_marker(kind, ref) for ref in refs) or task_marker(kind)
    task = TaskSpec(
        kind=kind,
        subject=" ".join(subject.split()),
        body=f"{body.rstrip()}\n\n{marker}" if body.strip() else marker,
        due=due_at(due_from, template.due_in_hours, business_hours, tz),
        type=template.type,
        priority=template.priority,
    )
    return change(rule, record, reason, task=task)


@lru_cache(maxsize=64)
def _compile(source: str) -> Template:
    return _jinja.from_string(source)


def _render(source: str, variables: Mapping[str, object]) -> str:
    try:
        return _compile(source).render(variables)
    except Exception as exc:  # a user's template may fail in any way: report, don't crash
        raise CannotJudge(f"task template {source!r} failed: {type(exc).__name__}: {exc}") from exc
