"""The HubSpot gateway: the only code that calls HubSpot.

CONTRACT STUB — bodies are being implemented. Signatures are fixed; other modules code against them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from config.settings import Settings
from leadops.model import Owner, Record

# A search filter exactly as HubSpot takes it, e.g.
# {"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}
Filter = Mapping[str, object]


@dataclass(frozen=True)
class RecordError:
    """One record a batch call could not process, with HubSpot's reason."""

    id: str | None
    message: str
    category: str | None = None
    status: int | None = None


@dataclass
class BatchResult:
    """What a batch operation did: the records that succeeded and those that failed."""

    succeeded: list[Record] = field(default_factory=list)
    failed: list[RecordError] = field(default_factory=list)


@dataclass(frozen=True)
class PropertyInfo:
    name: str
    type: str  # "string", "number", "enumeration", "datetime", "bool", ...
    field_type: str
    options: tuple[str, ...]  # internal values of an enumeration's options
    read_only: bool = False


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
    """HubSpot's DAILY limit: nothing more can be done until the portal's midnight."""


class HubSpotGateway:
    """Owns one hubspot-api-client, paces and retries every call, counts calls per endpoint."""

    calls: Counter[str]

    def __init__(self, settings: Settings, *, token: str | None = None) -> None: ...

    def search(
        self,
        object_type: str,
        filters: Sequence[Filter],
        properties: Sequence[str],
        *,
        page_size: int = 200,
    ) -> Iterator[list[Record]]:
        """Pages (lists of ≤200 records) of every match, keyset-paged by hs_object_id."""
        raise NotImplementedError

    def batch_read(
        self,
        object_type: str,
        ids: Iterable[str],
        properties: Sequence[str],
        *,
        history: Sequence[str] = (),
    ) -> BatchResult:
        raise NotImplementedError

    def batch_update(
        self, object_type: str, updates: Mapping[str, Mapping[str, str]]
    ) -> BatchResult:
        raise NotImplementedError

    def create_tasks(self, tasks: Sequence[NewTask]) -> BatchResult:
        raise NotImplementedError

    def associations(
        self, from_type: str, to_type: str, ids: Iterable[str]
    ) -> dict[str, list[str]]:
        raise NotImplementedError

    def find_list(self, name: str) -> str | None:
        raise NotImplementedError

    def find_or_create_list(self, name: str) -> str:
        raise NotImplementedError

    def add_to_list(self, list_id: str, ids: Iterable[str]) -> ListAddResult:
        raise NotImplementedError

    def list_members(self, list_id: str) -> set[str]:
        raise NotImplementedError

    def owners(self) -> list[Owner]:
        raise NotImplementedError

    def property_info(self, object_type: str, name: str) -> PropertyInfo | None:
        raise NotImplementedError
