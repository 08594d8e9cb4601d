"""What the HubSpot gateway takes and gives back: filters, batch outcomes, errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from model.changes import ChangeResult
from model.records import Record

# A search filter exactly as HubSpot takes it, e.g.
# {"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}
Filter = Mapping[str, object]


@dataclass(frozen=True)
class RecordError:
    """One record a batch call could not process, with HubSpot's reason.

    `id` is the record's id; for a task that could not be created, its contact's id;
    None when HubSpot did not say which record the error is about.
    """

    id: str | None
    message: str
    category: str | None = None
    status: int | None = None


@dataclass
class BatchResult:
    """What a batch operation did: the records that succeeded and those that failed.

    `created_for` (batch creates): a created record's id -> the id of the record it was
    created for (a task's contact), for each created record whose input is known.
    """

    succeeded: list[Record] = field(default_factory=list)
    failed: list[RecordError] = field(default_factory=list)
    created_for: dict[str, str] = field(default_factory=dict)

    def add(self, other: BatchResult) -> BatchResult:
        """Append another chunk's outcome to this one (returns self)."""
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.created_for |= other.created_for
        return self


@dataclass(frozen=True)
class PropertyInfo:
    name: str
    type: str  # "string", "number", "enumeration", "datetime", "bool", ...
    field_type: str
    options: tuple[str, ...]  # internal values of an enumeration's options
    read_only: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # option value -> label


@dataclass(frozen=True)
class ListAddResult:
    list_id: str
    added: tuple[str, ...]
    already_members: tuple[str, ...]
    missing: tuple[str, ...]  # record ids HubSpot does not know


@dataclass(frozen=True)
class NewTask:
    """A task to create, associated with one contact (association type 204)."""

    contact_id: str
    owner_id: str | None
    properties: Mapping[str, str]  # hs_timestamp, hs_task_subject, hs_task_body, ...


@dataclass(frozen=True)
class PortalIdentity:
    """Who the token's portal is (`GET /account-info/v3/details`): its id, IANA timezone and
    UI domain (`app.hubspot.com`, or `app-eu1.hubspot.com` for EU-hosted portals)."""

    portal_id: str
    time_zone: str
    ui_domain: str


class HubSpotError(RuntimeError):
    """A non-retryable HubSpot answer, or retries exhausted: status, message, correlation id."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        endpoint: str | None = None,
    ):
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.endpoint = endpoint
        super().__init__(message)


class DailyLimitReached(HubSpotError):
    """HubSpot's DAILY limit: nothing more can be done until the portal's midnight.

    `results` is what the interrupted work did before the stop: the layers that write
    (applying a batch, running a rule) add theirs before passing the exception on, so the
    run can still report and tell what it changed.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.results: list[ChangeResult] = []
