"""Object routes (search, batch read/update/create, single get/create) and associations v4."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.faults import error_body
from sandbox.rollups import refresh_contacts_of
from sandbox.schema import PROPERTIES, association_type_id
from sandbox.search import SearchError, search
from sandbox.store import Store
from sandbox.tables import Record, ValidationError
from sandbox.web import (
    ASSOCIATION_BATCH_LIMIT,
    BATCH_LIMIT,
    HISTORY_BATCH_LIMIT,
    HISTORY_LIMIT_MESSAGE,
    SEARCH_BODY_LIMIT,
    ApiError,
    Sandbox,
    bad_request,
    batch_inputs,
    batch_response,
    label,
    not_found,
    object_type_of,
    paging_int,
    properties_param,
    read_object,
    record_error,
)


def records_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.post("/crm/v3/objects/{object_type}/search")
    async def do_search(object_type: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        raw = await request.body()
        if len(raw.decode("utf-8", "replace")) > SEARCH_BODY_LIMIT:
            raise bad_request(f"The search request body is over {SEARCH_BODY_LIMIT} characters")
        body = await read_object(request)
        try:
            return JSONResponse(search(store, otype, body, sb.cache, sb.config.search_result_cap))
        except SearchError as exc:
            raise bad_request(str(exc)) from None

    @api.post("/crm/v3/objects/{object_type}/batch/read")
    async def batch_read(object_type: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        started = store.clock()
        body = await read_object(request)
        inputs = batch_inputs(body, BATCH_LIMIT)
        props = properties_param(body.get("properties"))
        history = properties_param(body.get("propertiesWithHistory"))
        if history and len(inputs) > HISTORY_BATCH_LIMIT:
            raise bad_request(HISTORY_LIMIT_MESSAGE)
        results, missing = [], []
        for item in inputs:
            record = store.get(otype, item.get("id"))
            if record is None:
                missing.append(str(item.get("id")))
            else:
                results.append(store.render(otype, record, props, history))
        errors = _unknown_ids("get", otype, missing)
        return batch_response(results, errors, started, 200, store.clock())

    @api.post("/crm/v3/objects/{object_type}/batch/update")
    async def batch_update(object_type: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        started = store.clock()
        inputs = batch_inputs(await read_object(request), BATCH_LIMIT)
        ids = [str(item.get("id")) for item in inputs]
        if len(set(ids)) != len(ids):
            raise bad_request(
                "Duplicate IDs found in batch input: "
                + ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
            )
        cleaned = [_validate(store, otype, item.get("properties") or {}, False) for item in inputs]
        records = [store.get(otype, i) for i in ids]
        missing = [i for i, r in zip(ids, records, strict=True) if r is None]
        if missing and sb.config.bad_id_mode == "400":
            raise bad_request(
                f"Could not update some {label(otype)} objects: ids {missing} do not exist",
                context={"ids": missing},
            )
        results = []
        for record, clean in zip(records, cleaned, strict=True):
            if record is not None:
                store.apply(otype, record, clean)
                refresh_contacts_of(store, otype, record)
                results.append(store.render(otype, record, list(clean)))
        errors = _unknown_ids("update", otype, missing)
        return batch_response(results, errors, started, 200, store.clock())

    @api.post("/crm/v3/objects/{object_type}/batch/create")
    async def batch_create(object_type: str, request: Request) -> JSONResponse:
        """HubSpot's error-handling guide ("Multi-status errors"): a batch create reports
        failed inputs one by one (207, by trace id) only when every input carries an
        `objectWriteTraceId`; otherwise one bad input (a bad option value, an association
        to a record that does not exist) fails the whole batch and nothing is created."""
        otype = object_type_of(object_type)
        started = store.clock()
        inputs = batch_inputs(await read_object(request), BATCH_LIMIT)
        traced = all(isinstance(item.get("objectWriteTraceId"), str) for item in inputs)
        prepared, errors = [], []
        for item in inputs:
            try:
                prepared.append((item, _prepare(store, otype, item)))
            except ApiError as exc:
                if not traced:
                    raise
                errors.append(_traced_error(exc, item["objectWriteTraceId"]))
        results = []
        for item, (clean, links) in prepared:
            record = _create(store, otype, clean, links)
            rendered = store.render(otype, record, list(clean))
            if traced and sb.config.trace_echo:
                rendered["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(rendered)
        if sb.config.created_order == "reversed":
            results.reverse()
        return batch_response(results, errors, started, 201, store.clock())

    @api.post("/crm/v3/objects/{object_type}")
    async def create_one(object_type: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        clean, links = _prepare(store, otype, await read_object(request))
        record = _create(store, otype, clean, links)
        return JSONResponse(store.render(otype, record, list(clean)), status_code=201)

    @api.get("/crm/v3/objects/{object_type}/{record_id}")
    async def get_one(object_type: str, record_id: str, request: Request) -> JSONResponse:
        otype = object_type_of(object_type)
        record = store.get(otype, record_id)
        if record is None:
            raise not_found(f"Object not found.  objectId are usually numeric. ({record_id})")
        q = request.query_params
        props = [p for v in q.getlist("properties") for p in properties_param(v)]
        history = [p for v in q.getlist("propertiesWithHistory") for p in properties_param(v)]
        return JSONResponse(store.render(otype, record, props, history))


def _validate(store: Store, otype: str, props: dict[str, Any], creating: bool) -> dict[str, str]:
    try:
        return store.validate(otype, props, creating)
    except ValidationError as exc:
        raise ApiError(
            400,
            error_body(
                exc.message,
                "VALIDATION_ERROR",
                errors=[
                    {
                        "message": e["message"],
                        "code": e["error"],
                        "context": {"propertyName": [e["name"]]},
                    }
                    for e in exc.errors
                ],
            ),
        ) from None


Link = tuple[str, int, int]  # (target type, target id, association type id)


def _prepare(store: Store, otype: str, item: dict[str, Any]) -> tuple[dict[str, str], list[Link]]:
    """A create input's clean properties and associations; ApiError when HubSpot refuses it.
    A wrong association type id is ignored silently (HubSpot leaves the record unassociated)."""
    clean = _validate(store, otype, item.get("properties") or {}, True)
    links: list[Link] = []
    for assoc in item.get("associations") or []:
        to_id = str((assoc.get("to") or {}).get("id", ""))
        for spec in assoc.get("types") or []:
            type_id = spec.get("associationTypeId")
            target = next((t for t in PROPERTIES if association_type_id(otype, t) == type_id), None)
            if target is None:
                continue
            if store.get(target, to_id) is None:
                raise bad_request(
                    f"{label(target)} {to_id} does not exist", context={"ids": [to_id]}
                )
            links.append((target, int(to_id), type_id))
    if otype == "contacts" and clean.get("email"):
        email = clean["email"].lower()
        for existing in store.tables["contacts"].records.values():
            if (existing.props.get("email") or "").lower() == email:
                raise ApiError(
                    409,
                    error_body(f"Contact already exists. Existing ID: {existing.id}", "CONFLICT"),
                )
    return clean, links


def _create(store: Store, otype: str, clean: dict[str, str], links: list[Link]) -> Record:
    record = store.create(otype, clean)
    for target, to_id, type_id in links:
        reverse = association_type_id(target, otype) or type_id
        store.associate(otype, record.id, target, to_id, type_id, reverse)
    refresh_contacts_of(store, otype, record)
    return record


def _traced_error(exc: ApiError, trace_id: str) -> dict[str, Any]:
    """One failed input of a traced batch create: its error, named by its trace id
    (`context.objectWriteTraceId`, as HubSpot's SDK models of a 207 answer show)."""
    body = {k: v for k, v in exc.body.items() if k != "correlationId"}
    return {
        **body,
        "context": {**body.get("context", {}), "objectWriteTraceId": [trace_id]},
        "errors": body.get("errors", []),
        "links": {},
    }


def association_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    async def read_associations(from_type: str, to_type: str, request: Request) -> JSONResponse:
        src, dst = object_type_of(from_type), object_type_of(to_type)
        started = store.clock()
        inputs = batch_inputs(await read_object(request), ASSOCIATION_BATCH_LIMIT)
        size = sb.config.association_page_size
        results, missing, empty = [], [], []
        for item in inputs:
            from_id = str(item.get("id"))
            if store.get(src, from_id) is None:
                missing.append(from_id)
                continue
            links = list(store.associated(src, int(from_id), dst).items())
            if not links and sb.config.empty_associations == "error":
                empty.append(from_id)
                continue
            offset = paging_int(item.get("after"), "after", 0)
            page = links[offset : offset + size]
            result: dict[str, Any] = {
                "from": {"id": from_id},
                "to": [
                    {
                        "toObjectId": to_id,
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                        ],
                    }
                    for to_id, type_id in page
                ],
            }
            if offset + size < len(links):
                result["paging"] = {"next": {"after": str(offset + size), "link": None}}
            results.append(result)
        errors = []
        if missing:
            errors.append(
                record_error(
                    f"Could not find some {label(src)} objects: {', '.join(missing)}", missing
                )
            )
        for from_id in empty:
            errors.append(_no_associations(src, dst, from_id))
        return batch_response(results, errors, started, 200, store.clock())


def _unknown_ids(verb: str, otype: str, missing: list[str]) -> list[dict[str, Any]]:
    """HubSpot's per-record error for ids it does not know (none when every id exists)."""
    if not missing:
        return []
    message = (
        f"Could not {verb} some {label(otype)} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    return [record_error(message, missing)]


def _no_associations(src: str, dst: str, from_id: str) -> dict[str, Any]:
    """HubSpot's 207 error for a record with no associations of the asked type: its context
    names the record and both types, singular and lower case (not `ids`), as public
    integrations quote it (e.g. "No company is associated with deal 515690208449.",
    context `{"fromObjectId": ["515690208449"], "fromObjectType": ["deal"],
    "toObjectType": ["company"]}`)."""
    src_name, dst_name = label(src).lower(), label(dst).lower()
    return record_error(
        f"No {dst_name} is associated with {src_name} {from_id}.",
        [from_id],
        subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
        context={
            "fromObjectId": [from_id],
            "fromObjectType": [src_name],
            "toObjectType": [dst_name],
        },
    )
