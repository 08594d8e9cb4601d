"""The records the rules plan over, as the gateway reads them: contacts, engagements, owners."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

# HubSpot's default lifecycle stages, earliest first: stages only move forward along this.
STAGE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)


def parse_time(value: str | None) -> datetime | None:
    """HubSpot timestamps (ISO-8601 or epoch milliseconds) as aware UTC datetimes; None if bad."""
    if value is None or value == "":
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """A HubSpot object as the gateway returns it: id, string properties, optional history.

    `history` maps a property to its (value, timestamp) versions, newest first, when the
    read asked for `propertiesWithHistory`.
    """

    id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    history: Mapping[str, tuple[tuple[str | None, datetime | None], ...]] = field(
        default_factory=dict
    )

    def get(self, name: str) -> str | None:
        value = self.properties.get(name)
        return None if value == "" else value

    def time(self, name: str) -> datetime | None:
        return parse_time(self.get(name))

    @property
    def name(self) -> str:
        first, last = self.get("firstname") or "", self.get("lastname") or ""
        return f"{first} {last}".strip() or self.get("email") or f"contact {self.id}"


# What the rules read per contact through associations: engagements, and deals.
EngagementKind = Literal["email", "call", "meeting", "task", "deal"]


@dataclass(frozen=True)
class Engagement:
    """An email, call, meeting, task or deal associated with one or more contacts."""

    id: str
    kind: EngagementKind
    properties: Mapping[str, str | None]
    contact_ids: tuple[str, ...] = ()

    def get(self, name: str) -> str | None:
        value = self.properties.get(name)
        return None if value == "" else value

    @property
    def timestamp(self) -> datetime | None:
        return parse_time(self.get("hs_timestamp"))


@dataclass(frozen=True)
class Owner:
    id: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    archived: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip() or self.email or self.id

    @property
    def reachable(self) -> bool:
        return not self.archived and bool(self.email)


@dataclass(frozen=True)
class DealStage:
    """A stage of a deal pipeline (`GET /crm/v3/pipelines/deals`): closed or open."""

    pipeline_id: str
    stage_id: str
    label: str
    closed: bool
    probability: float | None = None
    pipeline_label: str = ""
