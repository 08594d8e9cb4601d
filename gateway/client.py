"""The HubSpot gateway: the only code that calls HubSpot.

`HubSpotGateway` owns one hubspot-api-client and builds its API objects once. Every request
is paced (token buckets below HubSpot's limits, plus a Prefect global concurrency limit when
`hubspot_global_limit` is set), given `(connect, read)` timeouts, retried when that is safe
(tenacity: 429/423/477/5xx gateways/network; creates only when nothing can be duplicated),
counted per endpoint in `gateway.calls`, and failures become `HubSpotError` with HubSpot's
message, category, status, correlation id and endpoint. Searches are keyset-paged by
`hs_object_id` (no 10,000-result cap); batch calls are chunked to HubSpot's sizes and report
each record that failed.

Example:
    ```python
    from config.settings import Settings
    from gateway.client import HubSpotGateway

    settings = Settings(hubspot_access_token="sandbox-token", hubspot_base_url="http://127.0.0.1:8765")
    gateway = HubSpotGateway(settings)
    mqls = [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}]
    for page in gateway.search("contacts", mqls, ["email", "lifecyclestage"]):
        print(len(page), page[0].id, page[0].get("email"))
    print(gateway.calls)  # Counter({'POST /crm/v3/objects/contacts/search': 1})
    ```
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from config.settings import Settings
from gateway.budget import DailyBudget
from gateway.calls import CallPolicy
from gateway.sdk import OBJECT_TYPES, Apis, build_client, fast_datetimes
from gateway.types import (
    BatchResult,
    DailyLimitReached,
    Filter,
    HubSpotError,
    ListAddResult,
    NewTask,
    PortalIdentity,
    PropertyInfo,
    RecordError,
)
from gateway.wire import (
    batch_result,
    chunks,
    collect_links,
    keyset_filter,
    next_after,
    search_body,
    task_input,
    to_deal_stages,
    to_owner,
    to_record,
    traced_result,
    unique,
    with_id,
)
from model.records import DealStage, Owner, Record

logger = logging.getLogger(__name__)

T = TypeVar("T")

BATCH_SIZE = 100
HISTORY_BATCH_SIZE = 50  # batch reads with propertiesWithHistory (HUBSPOT.md)
ASSOCIATION_BATCH = 1000
LIST_ADD_BATCH = 1000
MEMBERSHIPS_READ_BATCH = 100  # HubSpot states no limit: the usual CRM batch size, to be safe
OWNERS_PAGE = 100
CONTACT_TYPE_ID = "0-1"
FATAL_STATUSES = (401, 403)  # every later call would fail the same way


class HubSpotGateway(CallPolicy):
    """Owns one hubspot-api-client; every call goes through `CallPolicy` (pacing, retries,
    counting: `calls`, `retries`, `rate_limited`). `sleep` and `clock` are injectable so
    tests need not wait."""

    def __init__(
        self,
        settings: Settings,
        *,
        token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, sleep=sleep, clock=clock)
        self._apis = Apis.build(build_client(settings, token or settings.access_token()))
        fast_datetimes()

    # ---- reads -------------------------------------------------------------------------

    def search(
        self,
        object_type: str,
        filters: Sequence[Filter],
        properties: Sequence[str],
        *,
        page_size: int = 200,
    ) -> Iterator[list[Record]]:
        """Pages (lists of ≤200 records) of every match, keyset-paged by hs_object_id.

        `filters` form one AND group (at most 5: paging adds `hs_object_id GT <last id>`).
        Each page is a fresh query sorted by `hs_object_id`, so HubSpot's 10,000-result
        cap never applies, and no query is spent on an empty last page. Raises ValueError
        at once (not when iterated) for a search HubSpot would refuse.
        """
        api = _for_type(self._apis.search, object_type)
        body = search_body(filters, properties, page_size)
        return self._search_pages(api, f"POST /crm/v3/objects/{object_type}/search", body)

    def _search_pages(
        self, api: Any, endpoint: str, body: dict[str, Any]
    ) -> Iterator[list[Record]]:
        filters, page_size, last_id = body["filterGroups"][0]["filters"], body["limit"], None
        while True:
            keyset = [] if last_id is None else [keyset_filter(last_id)]
            query = body | {"filterGroups": [{"filters": filters + keyset}]}
            response = self._call(endpoint, api.do_search, query, search=True)
            page = [to_record(result) for result in response.results or []]
            if page:
                yield page
            if len(page) < page_size or response.total == len(page):
                return
            last_id = page[-1].id

    def batch_read(
        self,
        object_type: str,
        ids: Iterable[str],
        properties: Sequence[str],
        *,
        history: Sequence[str] = (),
    ) -> BatchResult:
        """The records with these ids, 100 per call (50 with `history`: HubSpot's cap for
        property histories); `history` fills `Record.history` (newest first). Ids HubSpot
        does not return come back in `failed`."""
        api = _for_type(self._apis.batch, object_type)
        endpoint = f"POST /crm/v3/objects/{object_type}/batch/read"
        result = BatchResult()
        for chunk in chunks(unique(ids), HISTORY_BATCH_SIZE if history else BATCH_SIZE):
            body = {
                "properties": with_id(properties),
                "propertiesWithHistory": list(history),
                "inputs": [{"id": record_id} for record_id in chunk],
            }
            result.add(batch_result(self._call(endpoint, api.read, body), chunk))
        return result

    def associations(
        self, from_type: str, to_type: str, ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """`{from_id: [to_id, ...]}` for every id given (empty list when none), 1,000 ids
        per call, following each id's own paging so no association is lost."""
        endpoint = f"POST /crm/v4/associations/{from_type}/{to_type}/batch/read"
        links: dict[str, list[str]] = {record_id: [] for record_id in unique(ids)}
        pending: list[dict[str, str]] = [{"id": record_id} for record_id in links]
        while pending:
            inputs, pending = pending[:ASSOCIATION_BATCH], pending[ASSOCIATION_BATCH:]
            response = self._call(
                endpoint, self._apis.associations.get_page, from_type, to_type, {"inputs": inputs}
            )
            pending += collect_links(response, links)
            _log_association_errors(endpoint, response)
        return {from_id: list(dict.fromkeys(to_ids)) for from_id, to_ids in links.items()}

    def find_list(self, name: str) -> str | None:
        """The id of the contact list with this name (case-insensitive), or None."""
        endpoint = "GET /crm/v3/lists/object-type-id/0-1/name/{listName}"
        try:
            response = self._call(endpoint, self._apis.lists.get_by_name, name, CONTACT_TYPE_ID)
        except HubSpotError as exc:
            if exc.status == 404:
                return None
            raise
        return str(response.list.list_id)

    def list_memberships(self, ids: Iterable[str]) -> dict[str, set[str]]:
        """`{record id: {list id, ...}}`: the lists each contact is in, 100 contacts per call
        (`POST /crm/v3/lists/records/memberships/batch/read`), whatever the lists' sizes.
        Contacts HubSpot does not know come back with no lists."""
        endpoint = "POST /crm/v3/lists/records/memberships/batch/read"
        found: dict[str, set[str]] = {record_id: set() for record_id in unique(ids)}
        for chunk in chunks(list(found), MEMBERSHIPS_READ_BATCH):
            inputs = [{"objectTypeId": CONTACT_TYPE_ID, "recordId": i} for i in chunk]
            answer = self._raw(endpoint, {"inputs": inputs})
            for result in answer.get("results") or []:
                lists = {str(m.get("listId")) for m in result.get("recordListMemberships") or []}
                found.setdefault(str(result.get("recordId")), set()).update(lists)
        return found

    def portal_identity(self) -> PortalIdentity:
        """The portal's id, timezone and UI domain (`GET /account-info/v3/details`)."""
        answer = self._raw("GET /account-info/v3/details")
        identity = PortalIdentity(
            portal_id=str(answer.get("portalId") or ""),
            time_zone=str(answer.get("timeZone") or ""),
            ui_domain=str(answer.get("uiDomain") or ""),
        )
        # The DAILY stop message names the portal's midnight; a zone Python lacks is skipped.
        with contextlib.suppress(ValueError, KeyError):
            self._zone = ZoneInfo(identity.time_zone)
        return identity

    def start_daily_budget(self, share: float) -> DailyBudget:
        """Cap this run's requests at `share` of the portal's daily budget (`gateway.budget`),
        counting what leadops spent today already when HubSpot tells (legacy private apps;
        403/404 otherwise). Once spent, every call raises `DailyLimitReached`."""
        self.budget = DailyBudget(share)
        try:
            answer = self._raw("GET /account-info/v3/api-usage/daily/private-apps")
        except HubSpotError as exc:
            if exc.status not in (403, 404):
                raise
            return self.budget
        usage = next(iter(answer.get("results") or []), {})
        # Taken as counting the usage request itself, which the run already counted.
        used = int(usage.get("currentUsage") or 0)
        self.budget.spent_before = max(0, used - self.budget.calls)
        self.budget.limit = self.budget.limit or int(usage.get("usageLimit") or 0) or None
        return self.budget

    def _raw(self, endpoint: str, body: Any = None) -> dict[str, Any]:
        """An endpoint hubspot-api-client 12.0.0 has no method for, through one of its
        generated ApiClients (same host, token, timeouts and errors as the rest), as a dict."""
        method, path = endpoint.split(" ", 1)
        api_client = self._apis.lists.api_client
        answer = self._call(
            endpoint,
            api_client.call_api,
            path,
            method,
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body,
            response_types_map={200: "object", 207: "object"},
            auth_settings=["oauth2"],
            _return_http_data_only=True,
        )
        return answer if isinstance(answer, dict) else {}

    def owners(self) -> list[Owner]:
        """Every owner, active and archived (deactivated users keep owning records)."""
        found: dict[str, Owner] = {}
        for archived in (False, True):
            for owner in self._owner_pages(archived):
                found.setdefault(owner.id, owner)
        return list(found.values())

    def _owner_pages(self, archived: bool) -> Iterator[Owner]:
        after: str | None = None
        while True:
            page = self._call(
                "GET /crm/v3/owners/",
                self._apis.owners.get_page,
                after=after,
                limit=OWNERS_PAGE,
                archived=archived,
            )
            for owner in page.results or []:
                yield to_owner(owner, archived)
            after = next_after(page)
            if after is None:
                return

    def property_info(self, object_type: str, name: str) -> PropertyInfo | None:
        """Type, field type, option values and read-only flag of a property; None if absent."""
        endpoint = f"GET /crm/v3/properties/{object_type}/{{propertyName}}"
        try:
            prop = self._call(endpoint, self._apis.properties.get_by_name, object_type, name)
        except HubSpotError as exc:
            if exc.status == 404:
                return None
            raise
        metadata = prop.modification_metadata
        options = [o for o in prop.options or [] if o.value is not None]
        return PropertyInfo(
            name=str(prop.name or name),
            type=str(prop.type or ""),
            field_type=str(prop.field_type or ""),
            options=tuple(str(o.value) for o in options),
            read_only=bool(metadata and metadata.read_only_value),
            labels={str(o.value): str(o.label) for o in options if o.label},
        )

    def deal_stages(self) -> dict[tuple[str, str], DealStage]:
        """Every stage of every deal pipeline by (pipeline id, stage id), with whether it is
        closed (`metadata.isClosed`) and its probability (`GET /crm/v3/pipelines/deals`:
        all pipelines in one answer, no paging)."""
        endpoint = "GET /crm/v3/pipelines/{objectType}"
        answer = self._call(endpoint, self._apis.pipelines.get_all, "deals")
        return {
            (stage.pipeline_id, stage.stage_id): stage
            for pipeline in answer.results or []
            for stage in to_deal_stages(pipeline)
        }

    # ---- writes ------------------------------------------------------------------------

    def batch_update(
        self, object_type: str, updates: Mapping[str, Mapping[str, str]]
    ) -> BatchResult:
        """Write properties (`{id: {name: value}}`; `""` clears), 100 records per call.

        Per-record errors (207) come back in `failed`; a batch HubSpot refuses whole (400)
        is split in halves until the bad records are isolated, so the good ones are applied.
        """
        api = _for_type(self._apis.batch, object_type)
        endpoint = f"POST /crm/v3/objects/{object_type}/batch/update"
        result = BatchResult()
        for chunk in chunks(list(updates.items()), BATCH_SIZE):
            result.add(
                _bisect(chunk, lambda part: self._update(api, endpoint, part), lambda u: u[0])
            )
        return result

    def _update(
        self, api: Any, endpoint: str, chunk: Sequence[tuple[str, Mapping[str, str]]]
    ) -> BatchResult:
        body = {"inputs": [{"id": i, "properties": dict(props)} for i, props in chunk]}
        response = self._call(endpoint, api.update, body)
        return batch_result(response, [record_id for record_id, _ in chunk])

    def create_tasks(self, tasks: Sequence[NewTask]) -> BatchResult:
        """Create tasks, 100 per call, each associated with its contact (type 204) and
        assigned to its owner; a failed task is reported under its contact's id.

        Each input carries an `objectWriteTraceId`, so HubSpot can fail one task alone (207)
        and name it; a batch refused whole (400: nothing was created) is split in halves
        until the bad tasks are isolated, so the good ones are still created, once. A batch
        whose fate is unknown (timeout or 5xx after sending) is not retried, to never
        duplicate a task: its tasks come back in `failed`. `created_for` names each created
        task's contact (the answer comes in no guaranteed order)."""
        endpoint = "POST /crm/v3/objects/tasks/batch/create"
        api = self._apis.batch["tasks"]
        # Trace ids only need to be unique within one call; stable ones keep cassettes valid.
        traced = [(f"leadops-{n}", task) for n, task in enumerate(tasks)]
        result = BatchResult()
        for chunk in chunks(traced, BATCH_SIZE):
            result.add(
                _bisect(
                    chunk,
                    lambda part: self._create(api, endpoint, part),
                    lambda item: item[1].contact_id,
                )
            )
        # The answer's `objectWriteTraceId` is optional in HubSpot's schema: a task that
        # does not echo it is named by its association instead (one call per 1,000 tasks).
        unnamed = [r.id for r in result.succeeded if r.id not in result.created_for]
        if unnamed:
            try:
                links = self.associations("tasks", "contacts", unnamed)
            except HubSpotError as exc:  # the tasks exist: report them, matched by body
                logger.warning("could not read the new tasks' contacts: %s", exc)
                links = {}
            result.created_for |= {task: ids[0] for task, ids in links.items() if len(ids) == 1}
        return result

    def _create(self, api: Any, endpoint: str, chunk: Sequence[tuple[str, NewTask]]) -> BatchResult:
        body = {"inputs": [task_input(task, trace) for trace, task in chunk]}
        response = self._call(endpoint, api.create, body, creates=True)
        return traced_result(response, {trace: task.contact_id for trace, task in chunk})

    def find_or_create_list(self, name: str) -> str:
        """The id of the static (MANUAL) contact list with this name, created if missing."""
        found = self.find_list(name)
        if found is not None:
            return found
        body = {"name": name, "objectTypeId": CONTACT_TYPE_ID, "processingType": "MANUAL"}
        try:
            response = self._call(
                "POST /crm/v3/lists/", self._apis.lists.create, body, creates=True
            )
        except HubSpotError as exc:
            _raise_if_fatal(exc)
            # Another run may have made it, or our create went through unanswered.
            found = self.find_list(name)
            if found is None:
                raise
            return found
        return str(response.list.list_id)

    def add_to_list(self, list_id: str, ids: Iterable[str]) -> ListAddResult:
        """Add records to a static list, 1,000 per call; members already there are kept."""
        requested = unique(ids)
        added: list[str] = []
        missing: list[str] = []
        for chunk in chunks(requested, LIST_ADD_BATCH):
            response = self._call(
                "PUT /crm/v3/lists/{listId}/memberships/add",
                self._apis.memberships.add,
                list_id,
                chunk,
            )
            added += [str(i) for i in response.records_ids_added or []]
            missing += [str(i) for i in response.record_ids_missing or []]
        known = set(added) | set(missing)
        already = tuple(i for i in requested if i not in known)
        return ListAddResult(list_id, tuple(added), already, tuple(missing))

    # ---- undo ----------------------------------------------------------------------------

    def archive(self, object_type: str, ids: Iterable[str]) -> BatchResult:
        """Archive records (HubSpot's recycle bin), 100 per call.

        `POST /crm/v3/objects/{type}/batch/archive` takes `{"inputs": [{"id": …}]}` and
        answers 204 with no body (HubSpot's CRM objects OpenAPI specs, e.g. `CRM/Tasks` v3):
        a chunk that answers is taken as archived whole. A chunk refused whole (400) is split
        as batch updates are, so the good records still go; failed ones come back in `failed`.
        """
        api = _for_type(self._apis.batch, object_type)
        endpoint = f"POST /crm/v3/objects/{object_type}/batch/archive"

        def send(chunk: Sequence[str]) -> BatchResult:
            self._call(endpoint, api.archive, {"inputs": [{"id": i} for i in chunk]})
            return BatchResult(succeeded=[Record(i) for i in chunk])

        result = BatchResult()
        for chunk in chunks(unique(ids), BATCH_SIZE):
            result.add(_bisect(chunk, send, lambda record_id: record_id))
        return result

    def remove_from_list(self, list_id: str, ids: Iterable[str]) -> tuple[str, ...]:
        """Remove records from a static list, 1,000 per call; the ids HubSpot removed.

        `PUT /crm/v3/lists/{listId}/memberships/remove` takes a bare JSON array of record ids
        and answers `recordIdsRemoved` (HubSpot's Lists v3 OpenAPI spec); records that are not
        members, or do not exist, are ignored."""
        removed: list[str] = []
        for chunk in chunks(unique(ids), LIST_ADD_BATCH):
            response = self._call(
                "PUT /crm/v3/lists/{listId}/memberships/remove",
                self._apis.memberships.remove,
                list_id,
                chunk,
            )
            removed += [str(i) for i in response.record_ids_removed or []]
        return tuple(removed)


def _for_type(apis: Mapping[str, Any], object_type: str) -> Any:
    try:
        return apis[object_type]
    except KeyError:
        known = ", ".join(OBJECT_TYPES)
        raise ValueError(f"unknown object type {object_type!r}: use one of {known}") from None


# ---- helpers: answers -----------------------------------------------------------------


def _raise_if_fatal(exc: HubSpotError) -> None:
    """Re-raise failures that every later call would meet too (token, scope, daily limit)."""
    if isinstance(exc, DailyLimitReached) or exc.status in FATAL_STATUSES:
        raise exc


def _bisect(
    chunk: Sequence[T], send: Callable[[Sequence[T]], BatchResult], id_of: Callable[[T], str]
) -> BatchResult:
    """`send(chunk)`; a chunk HubSpot refuses whole (400) is split in halves until the bad
    inputs are isolated, so the good ones go through. `id_of` names an input's record."""
    try:
        return send(chunk)
    except HubSpotError as exc:
        if exc.status != 400 or len(chunk) == 1:
            return BatchResult(failed=_chunk_failed(exc, [id_of(item) for item in chunk]))
        half = len(chunk) // 2
        return _bisect(chunk[:half], send, id_of).add(_bisect(chunk[half:], send, id_of))


def _chunk_failed(exc: HubSpotError, ids: Sequence[str]) -> list[RecordError]:
    """Every record of a chunk that failed as a whole, unless the failure is fatal."""
    _raise_if_fatal(exc)
    return [RecordError(i, str(exc), exc.category, exc.status) for i in ids]


def _log_association_errors(endpoint: str, response: Any) -> None:
    errors = getattr(response, "errors", None) or []
    if errors:
        sample = "; ".join(sorted({str(getattr(e, "message", "")) for e in errors})[:3])
        logger.info("HubSpot %s: %d per-id errors, e.g. %s", endpoint, len(errors), sample)
