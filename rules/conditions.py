"""Judging a contact against groups of conditions (`config.conditions`), and the HubSpot
search filters that narrow the candidates first. Pure; shared by promote and qualify.

A group matches when all its conditions hold; the groups are OR-ed, the first match names
the reason ("fit 42 ≥ 30 and engagement 25 ≥ 20"). A property read as a number that holds
something else ("n/a") makes its group undecidable: when no group matches and one is
undecidable, the contact is a skip naming the property and the value (`CannotJudge`).

Missing values: comparisons, `=`, `in` and `has` are false; `!=`, `not-in` and `not-has` are
true (the contact does not have that value). `in` / `not-in` split multi-select values
(`a;b`, HubSpot's checkbox format) and look for any overlap.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config.conditions import SYMBOLS, Condition, Group, as_number, condition_properties, show
from config.rules import Rules
from model.records import Record
from rules.kit import CannotJudge, Filter

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
    "!=": operator.ne,
}
# What search can narrow without hiding a contact the planner must see. A number compared as
# a number only narrows to contacts having a value: a GTE filter would silently drop a value
# that is not a number ("n/a"), which the planner reports as a skip. Texts compare exactly
# (EQ). `in` only narrows to contacts having a value (IN's case rules on enumerations are
# unsettled, HUBSPOT.md); `!=` / `not-in` are left to the planner (whether NEQ matches
# contacts without the property is undocumented).
# Filters one search may carry: HubSpot's 6 a group minus the gateway's keyset-paging filter,
# minus the run window (`lastmodifieddate` from/to) event-based rules add.
SEARCH_FILTERS = 6 - 1 - 2


@dataclass(frozen=True)
class Match:
    """The group that matched, with each condition's text for the reason."""

    group: Group
    parts: tuple[str, ...]

    @property
    def reason(self) -> str:
        return " and ".join(self.parts)


class _Unreadable(Exception):
    """A value a numeric condition cannot read; the message names property and value."""


def _holds(condition: Condition, raw: str | None) -> tuple[bool, str]:
    """Whether `condition` holds for the raw value, and its text for a reason."""
    op, label = condition.op, condition.label
    if op in ("has", "not-has"):
        present = raw is not None
        text = f"{label} {show(raw)}" if present else f"{label} has no value"
        return present == (op == "has"), text
    if op in ("in", "not-in"):
        values = tuple(condition.value or ())
        found = set() if raw is None else {part.strip() for part in raw.split(";")}
        overlap = bool(found.intersection(values))
        text = f"{label} {show(raw) if raw is not None else '∅'} {op} {', '.join(values)}"
        return overlap == (op == "in"), text
    expected = condition.value
    if condition.numeric:
        if raw is None:
            return op == "!=", f"{label} has no value"
        number = as_number(raw)
        if number is None:
            raise _Unreadable(f"{condition.property} is not a number: {raw!r}")
        held = _COMPARE[op](number, float(expected))  # type: ignore[arg-type]
        return held, f"{label} {show(number)} {SYMBOLS[op]} {show(expected)}"
    held = (raw == expected) if op == "=" else (raw != expected)
    return held, f"{label} {show(raw) if raw is not None else '∅'} {SYMBOLS[op]} {expected}"


def evaluate(groups: Sequence[Group], record: Record) -> Match | None:
    """The first group whose every condition holds for `record`, else None.

    Raises `CannotJudge` when no group matches and one could not be decided because a
    numeric condition read something that is not a finite number.
    """
    unreadable: str | None = None
    for group in groups:
        parts: list[str] = []
        problem: str | None = None
        for condition in group:
            try:
                held, text = _holds(condition, record.get(condition.property))
            except _Unreadable as exc:
                problem = problem or str(exc)
                continue
            if not held:
                break
            parts.append(text)
        else:
            if problem is None:
                return Match(group, tuple(parts))
            unreadable = unreadable or problem
    if unreadable is not None:
        raise CannotJudge(unreadable)
    return None


def search_filter(condition: Condition) -> Filter | None:
    """The HubSpot search filter a condition implies for every match, when there is one."""
    op, prop = condition.op, condition.property
    if op in ("has", "in") or (condition.numeric and op != "!="):
        return {"propertyName": prop, "operator": "HAS_PROPERTY"}
    if op == "not-has":
        return {"propertyName": prop, "operator": "NOT_HAS_PROPERTY"}
    if op == "=":
        return {"propertyName": prop, "operator": "EQ", "value": str(condition.value)}
    return None


def search_groups(base: Sequence[Filter], groups: Sequence[Group]) -> list[list[Filter]]:
    """One AND group per condition group: `base` plus the filters its conditions imply, as
    many as fit (`SEARCH_FILTERS`). The planner evaluates every condition, so a filter left
    out only widens the search."""
    room = max(0, SEARCH_FILTERS - len(base))
    searches = []
    for group in groups:
        implied = [f for f in (search_filter(c) for c in group) if f is not None]
        unique = list({repr(sorted(f.items())): f for f in implied}.values())
        searches.append([*base, *unique[:room]])
    return searches


def template_values(record: Record, rules: Rules) -> dict[str, str]:
    """What task templates may use besides `contact`: every property the promote and qualify
    conditions read, by name, and `score`: the first property compared as a number (the
    score property with the old `score_property` key). Missing values are empty."""
    groups = [*rules.promote.conditions, *rules.qualify.conditions]
    values = {prop: record.get(prop) or "" for prop in condition_properties(groups)}
    scored = next((c.property for group in groups for c in group if c.numeric), None)
    values["score"] = (record.get(scored) or "") if scored else ""
    return values


def read_by_templates(rules: Rules) -> list[str]:
    """The contact properties `template_values` reads."""
    return condition_properties([*rules.promote.conditions, *rules.qualify.conditions])
