"""The sandbox's rows: records with their property history, tables, owners, static lists,
and the timestamps HubSpot speaks (ISO-8601 out, epoch milliseconds or ISO in)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

FIRST_IDS = {
    "contacts": 1001,
    "emails": 50001,
    "calls": 60001,
    "meetings": 70001,
    "tasks": 80001,
    "notes": 90001,
    "deals": 30001,
}


@lru_cache(maxsize=262_144)
def iso(ms: int) -> str:
    """Epoch milliseconds -> HubSpot's ISO-8601 form (`2026-01-02T03:04:05.678Z`)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@lru_cache(maxsize=65536)
def parse_ms(value: str) -> int | None:
    """Epoch-ms string or ISO-8601 (date or datetime) -> epoch ms; None when not a time."""
    value = value.strip()
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return to_ms(parsed)


class Record:
    """One CRM object: numeric id, set properties, per-property history (oldest first)."""

    __slots__ = ("created", "history", "id", "props", "updated")

    def __init__(self, id_: int, props: dict[str, str], created: int) -> None:
        self.id = id_
        self.props = props
        self.created = created
        self.updated = created
        self.history: dict[str, list[tuple[str, int, str]]] | None = None

    def add_history(self, name: str, value: str, ms: int, source: str = "API") -> None:
        if self.history is None:
            self.history = {}
        self.history.setdefault(name, []).append((value, ms, source))


class Table:
    """Records of one object type, with ids sorted for bisecting."""

    def __init__(self, object_type: str) -> None:
        self.type = object_type
        self.records: dict[int, Record] = {}
        self.ids: list[int] = []
        self.next_id = FIRST_IDS[object_type]
        self.version = 0  # bumped on every change; search caches key on it

    def add(self, record: Record) -> None:
        if self.ids and record.id < self.ids[-1]:
            bisect.insort(self.ids, record.id)
        else:
            self.ids.append(record.id)
        self.records[record.id] = record
        self.next_id = max(self.next_id, record.id + 1)
        self.version += 1


@dataclass
class Owner:
    id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    user_id: int | None
    archived: bool = False
    teams: list[dict[str, Any]] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": None if self.archived else self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "archived": self.archived,
            "teams": self.teams,
        }


@dataclass
class StaticList:
    id: str
    name: str
    created: int
    updated: int
    members: dict[int, int] = field(default_factory=dict)  # record id -> membership ms
    version: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "listId": self.id,
            "listVersion": self.version,
            "name": self.name,
            "processingType": "MANUAL",
            "processingStatus": "COMPLETE",
            "objectTypeId": "0-1",
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "filtersUpdatedAt": iso(self.created),
            "createdById": "1",
            "updatedById": "1",
            "size": len(self.members),
        }


class ValidationError(Exception):
    """A write HubSpot refuses as a whole: 400 VALIDATION_ERROR with per-property details."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
