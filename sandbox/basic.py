"""Single-record routes seeding scripts and the contract suite use (list, update, archive),
and batch archive (`leadops undo` deletes the tasks a run created).

Shapes follow HubSpot's CRM objects OpenAPI specs (HubSpot-public-api-spec-collection,
`CRM/Contacts` v3): `GET /crm/v3/objects/{type}` answers `{"results", "paging": {"next":
{"after", "link"}}}` (`limit` default 10, at most 100; `properties` comma-separated or repeated),
`PATCH /crm/v3/objects/{type}/{id}` answers the record (200), `DELETE` answers 204 with no
body. An update follows the same rules as a batch update (`Store.apply`: "" clears, the
lifecycle stage only moves forward). Unknown ids are 404 (strict: HubSpot's answer for
archiving an unknown id is not documented).

`POST /crm/v3/objects/{type}/batch/archive` (same specs, e.g. `CRM/Tasks` v3: body
`BatchInputSimplePublicObjectId` = `{"inputs": [{"id"}]}`, answer 204 with no content) archives
up to 100 records. The spec does not say what unknown ids do: the sandbox is strict and
refuses the whole batch (400, nothing archived) naming them.
"""

from __future__ import annotations

import bisect
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.records import _validate
from sandbox.rollups import refresh_contact, refresh_contacts_of
from sandbox.tables import Record
from sandbox.web import (
    BATCH_LIMIT,
    Sandbox,
    bad_request,
    batch_inputs,
    not_found,
    object_type_of,
    properties_param,
    query_page,
    read_object,
)

LIST_PAGE_LIMIT = 100


def basic_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    def existing(otype: str, record_id: str) -> Record:
        record = store.get(otype, record_id)
        if record is None:
            raise not_found(f"Object not found.  objectId are usually numeric. ({record_id})")
        return record

    @api.get("/crm/v3/objects/{object_type}")
    async def list_page(object_type: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        limit, after = query_page(request, 10, LIST_PAGE_LIMIT)
        props = [p for v in request.query_params.getlist("properties") for p in properties_param(v)]
        table = store.tables[otype]
        start = bisect.bisect_left(table.ids, after)
        page = table.ids[start : start + limit + 1]
        body: dict[str, Any] = {
            "results": [store.render(otype, table.records[i], props) for i in page[:limit]]
        }
        if len(page) > limit:
            body["paging"] = {"next": {"after": str(page[limit]), "link": None}}
        return JSONResponse(body)

    @api.patch("/crm/v3/objects/{object_type}/{record_id}")
    async def update_one(object_type: str, record_id: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        record = existing(otype, record_id)
        body = await read_object(request)
        clean = _validate(store, otype, body.get("properties") or {}, False)
        store.apply(otype, record, clean)
        refresh_contacts_of(store, otype, record)
        return JSONResponse(store.render(otype, record, list(clean)))

    def archive(otype: str, record: Record) -> None:
        contacts = list(store.associated(otype, record.id, "contacts"))
        store.archive(otype, record)
        for contact_id in contacts:
            refresh_contact(store, contact_id)

    @api.delete("/crm/v3/objects/{object_type}/{record_id}", status_code=204)
    async def archive_one(object_type: str, record_id: str) -> Response:
        otype = object_type_of(object_type)
        archive(otype, existing(otype, record_id))
        return Response(status_code=204)

    @api.post("/crm/v3/objects/{object_type}/batch/archive", status_code=204)
    async def archive_batch(object_type: str, request: Request) -> Response:
        otype = object_type_of(object_type)
        ids = [
            str(item.get("id")) for item in batch_inputs(await read_object(request), BATCH_LIMIT)
        ]
        records = {i: store.get(otype, i) for i in dict.fromkeys(ids)}
        missing = [i for i, record in records.items() if record is None]
        if missing:
            raise bad_request(
                f"Could not archive some {otype}: ids {missing} do not exist",
                context={"ids": missing},
            )
        for record in records.values():
            assert record is not None
            archive(otype, record)
        return Response(status_code=204)
