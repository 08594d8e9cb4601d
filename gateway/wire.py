"""HubSpot's wire format: request bodies out, answers in. Pure: no calls, no state."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway.types import BatchResult, Filter, NewTask, RecordError
from model.records import DealStage, Owner, Record, parse_time

T = TypeVar("T")

SEARCH_PAGE_MAX = 200
FILTERS_PER_GROUP = 6  # HubSpot's limit; the keyset filter takes one
SEARCH_BODY_MAX = 3000  # characters
TASK_TO_CONTACT = 204
KEYSET_SORT = {"propertyName": "hs_object_id", "direction": "ASCENDING"}


def unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(i) for i in ids))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def with_id(properties: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(["hs_object_id", *properties]))


def search_body(
    filters: Sequence[Filter], properties: Sequence[str], page_size: int
) -> dict[str, Any]:
    """The first page's search body; ValueError for a search HubSpot would refuse."""
    if not 1 <= page_size <= SEARCH_PAGE_MAX:
        raise ValueError(f"page_size must be 1..{SEARCH_PAGE_MAX}, got {page_size}")
    if len(filters) >= FILTERS_PER_GROUP:
        raise ValueError(
            f"a search takes at most {FILTERS_PER_GROUP} filters per group and paging adds "
            f"one (hs_object_id GT <last id>): got {len(filters)} filters, use at most "
            f"{FILTERS_PER_GROUP - 1} and check the rest in code"
        )
    wire = [wire_filter(f) for f in filters]
    body = {
        "filterGroups": [{"filters": wire}],
        "sorts": [KEYSET_SORT],
        "properties": with_id(properties),
        "limit": page_size,
    }
    paged = body | {"filterGroups": [{"filters": [*wire, keyset_filter("9" * 19)]}]}
    size = len(json.dumps(paged, default=str))
    if size > SEARCH_BODY_MAX:
        raise ValueError(
            f"the search body would be {size} characters, over HubSpot's {SEARCH_BODY_MAX}: "
            "ask for fewer properties or use shorter filter values"
        )
    return body


def wire_filter(search_filter: Filter) -> dict[str, object]:
    """A filter with its values as strings, as HubSpot wants them on the wire."""
    if "propertyName" not in search_filter or "operator" not in search_filter:
        raise ValueError(f"a filter needs propertyName and operator: {dict(search_filter)!r}")
    wire = dict(search_filter)
    for key in ("value", "highValue"):
        if key in wire:
            wire[key] = wire_value(wire[key])
    if isinstance(wire.get("values"), list | tuple):
        wire["values"] = [wire_value(v) for v in wire["values"]]  # type: ignore[union-attr]
    return wire


def wire_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def keyset_filter(last_id: str) -> dict[str, str]:
    return {"propertyName": "hs_object_id", "operator": "GT", "value": last_id}


def task_input(task: NewTask, trace_id: str) -> dict[str, Any]:
    """A batch-create input; `objectWriteTraceId` lets HubSpot fail this input alone (207)
    instead of the whole batch (HubSpot's error-handling guide, "Multi-status errors")."""
    properties = dict(task.properties)
    if task.owner_id:
        properties["hubspot_owner_id"] = task.owner_id
    association = {
        "to": {"id": task.contact_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}],
    }
    return {"properties": properties, "associations": [association], "objectWriteTraceId": trace_id}


def next_after(page: Any) -> str | None:
    paging = getattr(page, "paging", None)
    after = getattr(getattr(paging, "next", None), "after", None)
    return str(after) if after else None


def to_record(obj: Any) -> Record:
    history = {
        name: versions(values) for name, values in (obj.properties_with_history or {}).items()
    }
    return Record(id=str(obj.id), properties=dict(obj.properties or {}), history=history)


def versions(values: Iterable[Any]) -> tuple[tuple[str | None, datetime | None], ...]:
    """(value, timestamp) pairs, newest first."""
    pairs = [(v.value, timestamp(v.timestamp)) for v in values or []]
    oldest = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(pairs, key=lambda pair: pair[1] or oldest, reverse=True))


def timestamp(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(value) if isinstance(value, str) else None


def batch_result(response: Any, requested: Sequence[str] | None) -> BatchResult:
    """Records and per-record errors of a 200/201/207 batch answer. With `requested`,
    ids HubSpot neither returned nor reported count as failed too."""
    succeeded = [to_record(result) for result in response.results or []]
    failed = [e for error in getattr(response, "errors", None) or [] for e in record_errors(error)]
    if requested is not None:
        seen = {record.id for record in succeeded} | {error.id for error in failed}
        failed += [
            RecordError(i, "HubSpot's answer did not include this record")
            for i in requested
            if i not in seen
        ]
    return BatchResult(succeeded, failed)


def traced_result(response: Any, contact_of: Mapping[str, str]) -> BatchResult:
    """Tasks created and failed in a batch-create answer whose inputs carried trace ids
    (`contact_of`: trace id -> contact id). Errors name their inputs in
    `context.objectWriteTraceId`; a failed task is reported under its contact's id. When every
    created task echoes its trace id, a task neither created nor reported counts as failed.
    `created_for` names each created task's contact by the trace id the task echoes."""
    results = response.results or []
    errors = getattr(response, "errors", None) or []
    failed: list[RecordError] = []
    for error in errors:
        traces = _traces(error)
        failed += record_errors(error, [contact_of.get(t, t) for t in traces] or None)
    echoed = {getattr(result, "object_write_trace_id", None) for result in results}
    if None not in echoed:
        named = echoed | {trace for error in errors for trace in _traces(error)}
        failed += [
            RecordError(contact, "HubSpot's answer did not include this task")
            for trace, contact in contact_of.items()
            if trace not in named
        ]
    created_for = {
        str(result.id): contact_of[trace]
        for result in results
        if (trace := getattr(result, "object_write_trace_id", None)) in contact_of
    }
    return BatchResult([to_record(result) for result in results], failed, created_for)


def _traces(error: Any) -> list[str]:
    context = getattr(error, "context", None)
    traces = context.get("objectWriteTraceId") if isinstance(context, dict) else None
    return [str(trace) for trace in traces or []]


def record_errors(error: Any, ids: Sequence[str] | None = None) -> list[RecordError]:
    """One RecordError per record the error names (`ids`, else its `context.ids`)."""
    message = getattr(error, "message", None) or "HubSpot reported an error without a message"
    category = getattr(error, "category", None)
    if ids is None:
        context = getattr(error, "context", None)
        ids = context.get("ids") if isinstance(context, dict) else None
    return [RecordError(str(i), message, category) for i in ids or []] or [
        RecordError(None, message, category)
    ]


def collect_links(response: Any, links: dict[str, list[str]]) -> list[dict[str, str]]:
    """Add one answer's associations to `links`; the inputs still to page through."""
    more: list[dict[str, str]] = []
    for result in response.results or []:
        from_id = str(result._from.id)
        links.setdefault(from_id, []).extend(str(to.to_object_id) for to in result.to or [])
        after = next_after(result)
        if after:
            more.append({"id": from_id, "after": after})
    return more


def to_owner(owner: Any, archived: bool) -> Owner:
    return Owner(
        id=str(owner.id),
        email=owner.email,
        first_name=owner.first_name,
        last_name=owner.last_name,
        archived=archived or bool(owner.archived),
    )


def to_deal_stages(pipeline: Any) -> list[DealStage]:
    """A pipeline's stages. HubSpot's spec types stage `metadata` as string values
    (`{"isClosed": "true", "probability": "1.0"}`); booleans and numbers are read too."""
    found = []
    for stage in pipeline.stages or []:
        metadata = stage.metadata or {}
        found.append(
            DealStage(
                pipeline_id=str(pipeline.id),
                stage_id=str(stage.id),
                label=str(stage.label or stage.id),
                closed=str(metadata.get("isClosed", "")).strip().lower() == "true",
                probability=_number(metadata.get("probability")),
                pipeline_label=str(pipeline.label or ""),
            )
        )
    return found


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None
