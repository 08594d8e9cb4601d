"""Associations v4 writes with the default (HUBSPOT_DEFINED) type, for seeding scripts.

Shapes from HubSpot's Associations v4 OpenAPI spec (HubSpot-public-api-spec-collection,
`CRM/Associations` v4): `PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/
default/{toObjectType}/{toObjectId}` and `POST /crm/v4/associations/{fromObjectType}/
{toObjectType}/batch/associate/default` (body `{"inputs": [{"from": {"id"}, "to": {"id"}}]}`)
both answer 200 with a `BatchResponsePublicDefaultAssociation`: `results` of `{"from": {"id"},
"to": {"id"}, "associationSpec": {"associationCategory", "associationTypeId"}}`. The sandbox
lists the association in both directions, as it stores it. The spec documents no 207 here,
so (strict) an unknown record refuses the whole request. Linking an engagement to a contact
recomputes the contact's activity roll-ups (`sandbox.rollups`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.rollups import refresh_contact
from sandbox.schema import association_type_id
from sandbox.web import (
    BATCH_LIMIT,
    Sandbox,
    bad_request,
    batch_inputs,
    batch_response,
    label,
    not_found,
    object_type_of,
    read_object,
)


def association_write_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    def link(src: str, from_id: str, dst: str, to_id: str) -> list[dict[str, Any]]:
        """Store one default association (both ways); its `results` entries."""
        forward, reverse = association_type_id(src, dst), association_type_id(dst, src)
        if forward is None or reverse is None:
            raise bad_request(f"No default association type from {src} to {dst}")
        store.associate(src, int(from_id), dst, int(to_id), forward, reverse)
        for otype, record_id in ((src, from_id), (dst, to_id)):
            if otype == "contacts":
                refresh_contact(store, int(record_id))
        return [_spec(from_id, to_id, forward), _spec(to_id, from_id, reverse)]

    def missing(pairs: list[tuple[str, str]]) -> list[str]:
        return [rid for otype, rid in pairs if store.get(otype, rid) is None]

    @api.put("/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")
    async def associate_one(from_type: str, from_id: str, to_type: str, to_id: str) -> JSONResponse:
        src, dst = object_type_of(from_type), object_type_of(to_type)
        started = store.clock()
        unknown = missing([(src, from_id), (dst, to_id)])
        if unknown:
            raise not_found(f"No {label(src)} or {label(dst)} with id(s) {', '.join(unknown)}")
        return batch_response(link(src, from_id, dst, to_id), [], started, 200, store.clock())

    @api.post("/crm/v4/associations/{from_type}/{to_type}/batch/associate/default")
    async def associate_batch(from_type: str, to_type: str, request: Request) -> JSONResponse:
        src, dst = object_type_of(from_type), object_type_of(to_type)
        started = store.clock()
        inputs = batch_inputs(await read_object(request), BATCH_LIMIT)
        pairs = [(_id_of(item, "from"), _id_of(item, "to")) for item in inputs]
        unknown = missing([(src, f) for f, _ in pairs] + [(dst, t) for _, t in pairs])
        if unknown:
            raise bad_request(
                f"Some records do not exist: {', '.join(unknown)}", context={"ids": unknown}
            )
        results = [entry for f, t in pairs for entry in link(src, f, dst, t)]
        return batch_response(results, [], started, 200, store.clock())


def _id_of(item: dict[str, Any], side: str) -> str:
    ref = item.get(side)
    record_id = ref.get("id") if isinstance(ref, dict) else None
    if record_id is None or not str(record_id).isdigit():
        raise bad_request(f"Every input needs {side}.id, a record id; got {ref!r}")
    return str(record_id)


def _spec(from_id: str, to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "from": {"id": from_id},
        "to": {"id": to_id},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
    }
