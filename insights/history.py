"""Reading a contact's property history: when it reached a stage, its lead-status spells.

HubSpot returns histories newest first (`Record.history`); everything here works oldest first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from model.records import Record
from rules.kit import SQL_DATE, as_utc

STAGE = "lifecyclestage"
STATUS = "hs_lead_status"


@dataclass(frozen=True)
class Spell:
    """One stretch of a lead status: from `start` to `end` (None: still in it)."""

    status: str
    start: datetime
    end: datetime | None

    def hours(self, until: datetime) -> float:
        return ((self.end or until) - self.start).total_seconds() / 3600


def oldest_first(record: Record, prop: str) -> list[tuple[str, datetime]]:
    """The property's versions with a readable time, oldest first ("" for cleared)."""
    versions = [(value or "", as_utc(when)) for value, when in record.history.get(prop, ()) if when]
    return sorted(versions, key=lambda version: version[1])


def first_reached(record: Record, values: Collection[str]) -> datetime | None:
    """When the property `lifecyclestage` first took one of `values` (None: never, per history)."""
    return next((when for value, when in oldest_first(record, STAGE) if value in values), None)


def became_sql_at(record: Record, sql: str) -> datetime | None:
    """When the contact first became an SQL: the stage history, else HubSpot's SQL date."""
    return first_reached(record, {sql}) or record.time(SQL_DATE)


def value_at(record: Record, prop: str, when: datetime) -> str | None:
    """The property's value at `when` by its history (None if not set yet); the current value
    when the read brought no history for it."""
    versions = oldest_first(record, prop)
    if not versions:
        return record.get(prop)
    value = None
    for version, at in versions:
        if at > when:
            break
        value = version or None
    return value


def spells(record: Record) -> list[Spell]:
    """The contact's lead-status spells, oldest first. Repeated writes of the same value
    continue a spell; a cleared status ends it."""
    found: list[Spell] = []
    current: tuple[str, datetime] | None = None
    for value, when in oldest_first(record, STATUS):
        if current and value == current[0]:
            continue
        if current:
            found.append(Spell(current[0], current[1], when))
        current = (value, when) if value else None
    if current:
        found.append(Spell(current[0], current[1], None))
    return found


def statuses_ever(record: Record) -> set[str]:
    """Every lead-status value the contact ever had (its current one included)."""
    seen = {value for value, _ in oldest_first(record, STATUS) if value}
    current = record.get(STATUS)
    return seen | ({current} if current else set())


def stages_ever(record: Record) -> set[str]:
    seen = {value for value, _ in oldest_first(record, STAGE) if value}
    current = record.get(STAGE)
    return seen | ({current} if current else set())
