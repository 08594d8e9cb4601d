"""Lists v3 (static contact lists), owners and property definitions."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.faults import error_body
from sandbox.schema import PROPERTIES
from sandbox.tables import StaticList, iso
from sandbox.web import (
    MEMBERSHIP_ADD_LIMIT,
    MEMBERSHIP_PAGE_LIMIT,
    MEMBERSHIPS_READ_LIMIT,
    OWNER_PAGE_LIMIT,
    ApiError,
    Sandbox,
    bad_request,
    batch_inputs,
    batch_response,
    not_found,
    object_type_of,
    paging_int,
    query_page,
    read_json,
    read_object,
    record_error,
)


async def record_ids(request: Request) -> list[Any]:
    """A membership add or remove body: a bare JSON array of at most
    `MEMBERSHIP_ADD_LIMIT` record ids."""
    body = await read_json(request)
    if not isinstance(body, list):
        raise bad_request("The body must be a JSON array of record ids")
    if len(body) > MEMBERSHIP_ADD_LIMIT:
        raise bad_request(
            f"Too many record ids: {len(body)} (max {MEMBERSHIP_ADD_LIMIT})",
            context={"maxInputs": [str(MEMBERSHIP_ADD_LIMIT)]},
        )
    return body


def list_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    def find(list_id: str) -> StaticList:
        static = store.lists.get(list_id)
        if static is None:
            raise not_found(f"List {list_id} does not exist.")
        return static

    @api.post("/crm/v3/lists/")
    @api.post("/crm/v3/lists", include_in_schema=False)
    async def create_list(request: Request) -> JSONResponse:
        body = await read_object(request)
        name = str(body.get("name") or "").strip()
        if not name:
            raise bad_request("name is required")
        if body.get("objectTypeId", "0-1") != "0-1":
            raise bad_request("The sandbox only has contact lists (objectTypeId 0-1)")
        if body.get("processingType", "MANUAL") != "MANUAL":
            raise bad_request("The sandbox only has static lists (processingType MANUAL)")
        if store.find_list(name) is not None:
            raise bad_request(
                f"A list named '{name}' already exists.", subCategory="ILS.DUPLICATE_LIST_NAMES"
            )
        return JSONResponse({"list": store.create_list(name).to_json()})

    @api.get("/crm/v3/lists/object-type-id/{object_type_id}/name/{name}")
    async def get_by_name(object_type_id: str, name: str) -> JSONResponse:
        static = store.find_list(name) if object_type_id == "0-1" else None
        if static is None:
            raise not_found(
                f"List does not exist with name {name} and object type {object_type_id}."
            )
        return JSONResponse({"list": static.to_json()})

    @api.post("/crm/v3/lists/search")
    async def search_lists(request: Request) -> JSONResponse:
        body = await read_object(request)
        query = str(body.get("query") or "").casefold()
        ids = {str(i) for i in body.get("listIds") or []}
        found = [
            lst
            for lst in store.lists.values()
            if query in lst.name.casefold() and (not ids or lst.id in ids)
        ]
        offset = paging_int(body.get("offset"), "offset", 0)
        count = paging_int(body.get("count"), "count", 20, minimum=1)
        page = found[offset : offset + count]
        return JSONResponse(
            {
                "lists": [{**lst.to_json(), "additionalProperties": {}} for lst in page],
                "total": len(found),
                "offset": offset + len(page),
                "hasMore": offset + len(page) < len(found),
            }
        )

    @api.get("/crm/v3/lists/{list_id}")
    async def get_list(list_id: str) -> JSONResponse:
        return JSONResponse({"list": find(list_id).to_json()})

    @api.delete("/crm/v3/lists/{list_id}", status_code=204)
    async def delete_list(list_id: str) -> Response:
        """204, no body (HubSpot's Lists v3 OpenAPI spec: `DELETE /crm/v3/lists/{listId}`)."""
        del store.lists[find(list_id).id]
        return Response(status_code=204)

    @api.put("/crm/v3/lists/{list_id}/memberships/add")
    async def add_members(list_id: str, request: Request) -> JSONResponse:
        static = find(list_id)
        body = await record_ids(request)
        added, missing, now = [], [], store.clock()
        for raw in body:
            rid = str(raw)
            if store.get("contacts", rid) is None:
                missing.append(rid)
            elif int(rid) not in static.members:
                static.members[int(rid)] = now
                added.append(rid)
        if added:
            static.updated = now
        return JSONResponse(
            {"recordsIdsAdded": added, "recordIdsMissing": missing, "recordIdsRemoved": []}
        )

    @api.put("/crm/v3/lists/{list_id}/memberships/remove")
    async def remove_members(list_id: str, request: Request) -> JSONResponse:
        """HubSpot's Lists v3 OpenAPI spec: a bare JSON array of record ids; "records that do
        not exist or that are not members of the list are ignored"; the answer is
        `MembershipsUpdateResponse` (`recordIdsRemoved`, `recordIdsMissing`, `recordsIdsAdded`).
        The spec states no size limit: the sandbox refuses more than the add endpoint takes."""
        static = find(list_id)
        body = await record_ids(request)
        removed, missing = [], []
        for raw in body:
            rid = str(raw)
            if store.get("contacts", rid) is None:
                missing.append(rid)
            elif static.members.pop(int(rid), None) is not None:
                removed.append(rid)
        if removed:
            static.updated = store.clock()
        return JSONResponse(
            {"recordsIdsAdded": [], "recordIdsMissing": missing, "recordIdsRemoved": removed}
        )

    @api.get("/crm/v3/lists/{list_id}/memberships")
    async def members(list_id: str, request: Request) -> JSONResponse:
        static = find(list_id)
        limit, offset = query_page(request, 100, MEMBERSHIP_PAGE_LIMIT)
        ids = sorted(static.members)
        page = ids[offset : offset + limit]
        body: dict[str, Any] = {
            "results": [
                {"recordId": str(i), "membershipTimestamp": iso(static.members[i])} for i in page
            ],
            "total": len(ids),
        }
        if offset + limit < len(ids):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return JSONResponse(body)

    @api.post("/crm/v3/lists/records/memberships/batch/read")
    async def memberships_of_records(request: Request) -> JSONResponse:
        """The lists each record is in (HubSpot's Lists v3 OpenAPI spec: request
        `BatchInputRecordIdInput` = `{"inputs": [{"objectTypeId", "recordId"}]}`, answer
        `BatchResponseRecordIdWithMemberships`, 200 or 207). The spec states no input limit:
        the sandbox is strict and refuses more than `MEMBERSHIPS_READ_LIMIT` (HubSpot's usual
        CRM batch size); ids of records that do not exist are 207 errors."""
        started = store.clock()
        inputs = batch_inputs(await read_object(request), MEMBERSHIPS_READ_LIMIT)
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for item in inputs:
            type_id, record_id = item.get("objectTypeId"), str(item.get("recordId") or "")
            if type_id != "0-1" or not record_id.isdigit():
                raise bad_request(
                    "Every input needs objectTypeId '0-1' (contacts, the sandbox's only list "
                    f"type) and a numeric recordId; got {item}"
                )
            if store.get("contacts", record_id) is None:
                missing.append(record_id)
                continue
            results.append(
                {
                    "objectTypeId": type_id,
                    "recordId": record_id,
                    "recordListMemberships": [
                        {
                            "listId": static.id,
                            "listVersion": static.version,
                            "firstAddedTimestamp": iso(static.members[int(record_id)]),
                            "lastAddedTimestamp": iso(static.members[int(record_id)]),
                            "isPublicList": False,
                        }
                        for static in store.lists.values()
                        if int(record_id) in static.members
                    ],
                }
            )
        errors = [record_error("Some records do not exist.", missing)] if missing else []
        return batch_response(results, errors, started, 200, store.clock())


# ---- owners and properties -------------------------------------------------------------------


def owner_property_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.get("/crm/v3/owners/")
    @api.get("/crm/v3/owners", include_in_schema=False)
    async def owners(request: Request) -> JSONResponse:
        q = request.query_params
        archived = q.get("archived", "false").lower() == "true"
        email = q.get("email")
        limit, offset = query_page(request, 100, OWNER_PAGE_LIMIT)
        found = [
            o
            for o in store.owners.values()
            if o.archived == archived
            and (email is None or (o.email or "").lower() == email.lower())
        ]
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"results": [o.to_json() for o in page]}
        if offset + limit < len(found):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return JSONResponse(body)

    @api.get("/crm/v3/owners/{owner_id}")
    async def owner(owner_id: str) -> JSONResponse:
        found = store.owners.get(owner_id)
        if found is None:
            raise not_found(f"Owner {owner_id} does not exist")
        return JSONResponse(found.to_json())

    @api.get("/crm/v3/properties/{object_type}")
    async def all_properties(object_type: str) -> JSONResponse:
        otype = object_type_of(object_type)
        created = iso(store.anchor_ms)
        return JSONResponse(
            {"results": [p.to_json(otype, created) for p in PROPERTIES[otype].values()]}
        )

    @api.get("/crm/v3/properties/{object_type}/{name}")
    async def one_property(object_type: str, name: str) -> JSONResponse:
        otype = object_type_of(object_type)
        pdef = PROPERTIES[otype].get(name)
        if pdef is None:
            raise ApiError(
                404,
                error_body(
                    f"Unable to find property {name} for object type {object_type}",
                    "OBJECT_NOT_FOUND",
                    subCategory="PropertyError.PROPERTY_NOT_FOUND",
                    context={"propertyName": [name]},
                ),
            )
        return JSONResponse(pdef.to_json(otype, iso(store.anchor_ms)))
