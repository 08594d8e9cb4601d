"""The FastAPI app: HubSpot's CRM paths over a `Store`, plus admin endpoints under `/_sandbox/`.

`create_app(store, token=..., limits=...)` returns an ASGI app (FastAPI wrapped in the
gatekeeping middleware of `sandbox.faults`); `app.state.sandbox` holds the runtime settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.faults import (
    Faults,
    Gatekeeper,
    GateMiddleware,
    Limits,
    Stats,
    error_body,
    settings_from_json,
)
from sandbox.schema import PROPERTIES, association_type_id, resolve_type
from sandbox.search import SearchCache, SearchError, search
from sandbox.seed import seed_store
from sandbox.store import Record, Store, ValidationError, iso

BATCH_LIMIT = 100
SEARCH_BODY_LIMIT = 3000
ASSOCIATION_BATCH_LIMIT = 1000
MEMBERSHIP_PAGE_LIMIT = 250
OWNER_PAGE_LIMIT = 500


@dataclass
class SandboxConfig:
    """Behaviours HubSpot leaves unsettled, switchable at runtime (`PUT /_sandbox/config`).

    bad_id_mode: unknown ids in a batch update give a 207 with per-record errors, or a 400 for
        the whole batch.
    association_page_size: associations per input before `paging.next.after` (HubSpot: 500).
    empty_associations: an existing record without associations is reported as a 207 error
        (`NO_ASSOCIATIONS_FOUND`, as HubSpot does) or as a result with an empty `to`.
    """

    bad_id_mode: Literal["207", "400"] = "207"
    association_page_size: int = 500
    empty_associations: Literal["error", "empty"] = "error"

    def __post_init__(self) -> None:
        if self.bad_id_mode not in ("207", "400"):
            raise ValueError("bad_id_mode must be '207' or '400'")
        if self.empty_associations not in ("error", "empty"):
            raise ValueError("empty_associations must be 'error' or 'empty'")
        if int(self.association_page_size) < 1:
            raise ValueError("association_page_size must be at least 1")


class Sandbox:
    """Everything one running app needs: state, settings, counters."""

    def __init__(self, store: Store, token: str, limits: Limits) -> None:
        self.store = store
        self.gate = Gatekeeper(token, limits)
        self.config = SandboxConfig()
        self.cache = SearchCache()


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def _bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, error_body(message, "VALIDATION_ERROR", **extra))


def _not_found(message: str) -> ApiError:
    return ApiError(404, error_body(message, "OBJECT_NOT_FOUND"))


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise _bad_request("Invalid input JSON on line 1: the body is not valid JSON") from None


def _object_type(name: str) -> str:
    resolved = resolve_type(name)
    if resolved is None:
        raise _bad_request(f"Unable to infer object type from: {name}")
    return resolved


def _batch(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int,
           ok_status: int, now: int) -> JSONResponse:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(started),
                            "completedAt": iso(now)}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return JSONResponse(body, status_code=207 if errors else ok_status)


def _record_error(message: str, ids: list[str], category: str = "OBJECT_NOT_FOUND",
                  **extra: Any) -> dict[str, Any]:
    return {"status": "error", "category": category, "message": message,
            "context": {"ids": ids}, "errors": [], "links": {}, **extra}


def _label(object_type: str) -> str:
    return object_type.rstrip("s").upper()


def _inputs(body: Any, limit: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise _bad_request("inputs is required and must be a list")
    if len(inputs) > limit:
        raise _bad_request(f"Batch input limit exceeded: {len(inputs)} inputs (max {limit})",
                           context={"maxInputs": [str(limit)]})
    return inputs


def _properties_param(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return [str(v) for v in value]


def create_app(
    store: Store,
    *,
    token: str = "sandbox-token",
    limits: Limits | None = None,
) -> GateMiddleware:
    """The sandbox ASGI app over `store`. `.app.state.sandbox` is the `Sandbox`."""
    sb = Sandbox(store, token, limits or Limits())
    api = FastAPI(title="leadops HubSpot sandbox", docs_url="/_sandbox/docs",
                  openapi_url="/_sandbox/openapi.json", redoc_url=None)
    api.state.sandbox = sb

    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    _records_routes(api, sb)
    _association_routes(api, sb)
    _list_routes(api, sb)
    _owner_property_routes(api, sb)
    _admin_routes(api, sb)
    return GateMiddleware(api, sb.gate)


# ---- records ---------------------------------------------------------------------------------


def _records_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.post("/crm/v3/objects/{object_type}/search")
    async def do_search(object_type: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        raw = await request.body()
        if len(raw.decode("utf-8", "replace")) > SEARCH_BODY_LIMIT:
            raise _bad_request(f"The search request body is over {SEARCH_BODY_LIMIT} characters")
        body = await _json(request)
        try:
            return JSONResponse(search(store, otype, body or {}, sb.cache))
        except SearchError as exc:
            raise _bad_request(str(exc)) from None

    @api.post("/crm/v3/objects/{object_type}/batch/read")
    async def batch_read(object_type: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        started = store.clock()
        body = await _json(request)
        inputs = _inputs(body, BATCH_LIMIT)
        props = _properties_param(body.get("properties"))
        history = _properties_param(body.get("propertiesWithHistory"))
        results, missing = [], []
        for item in inputs:
            record = store.get(otype, item.get("id"))
            if record is None:
                missing.append(str(item.get("id")))
            else:
                results.append(store.render(otype, record, props, history))
        errors = []
        if missing:
            errors.append(_record_error(
                f"Could not get some {_label(otype)} objects, they may be deleted or not exist. "
                "Check that ids are valid.", missing))
        return _batch(results, errors, started, 200, store.clock())

    @api.post("/crm/v3/objects/{object_type}/batch/update")
    async def batch_update(object_type: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        started = store.clock()
        inputs = _inputs(await _json(request), BATCH_LIMIT)
        ids = [str(item.get("id")) for item in inputs]
        if len(set(ids)) != len(ids):
            raise _bad_request("Duplicate IDs found in batch input: " + ", ".join(
                sorted({i for i in ids if ids.count(i) > 1})))
        cleaned = [_validate(store, otype, item.get("properties") or {}, False) for item in inputs]
        records = [store.get(otype, i) for i in ids]
        missing = [i for i, r in zip(ids, records, strict=True) if r is None]
        if missing and sb.config.bad_id_mode == "400":
            raise _bad_request(f"Could not update some {_label(otype)} objects: ids {missing} "
                               "do not exist", context={"ids": missing})
        results = []
        for record, clean in zip(records, cleaned, strict=True):
            if record is not None:
                store.apply(otype, record, clean)
                results.append(store.render(otype, record, list(clean)))
        errors = []
        if missing:
            errors.append(_record_error(
                f"Could not update some {_label(otype)} objects, they may be deleted or not "
                "exist. Check that ids are valid.", missing))
        return _batch(results, errors, started, 200, store.clock())

    @api.post("/crm/v3/objects/{object_type}/batch/create")
    async def batch_create(object_type: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        started = store.clock()
        inputs = _inputs(await _json(request), BATCH_LIMIT)
        cleaned = [_validate(store, otype, item.get("properties") or {}, True) for item in inputs]
        results, errors = [], []
        for item, clean in zip(inputs, cleaned, strict=True):
            try:
                record = _create(store, otype, clean, item.get("associations") or [])
            except ApiError as exc:
                errors.append({**exc.body, "context": exc.body.get("context", {}),
                               "errors": [], "links": {}})
                continue
            results.append(store.render(otype, record, list(clean)))
        return _batch(results, errors, started, 201, store.clock())

    @api.post("/crm/v3/objects/{object_type}")
    async def create_one(object_type: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        body = await _json(request)
        clean = _validate(store, otype, (body or {}).get("properties") or {}, True)
        record = _create(store, otype, clean, (body or {}).get("associations") or [])
        return JSONResponse(store.render(otype, record, list(clean)), status_code=201)

    @api.get("/crm/v3/objects/{object_type}/{record_id}")
    async def get_one(object_type: str, record_id: str, request: Request) -> JSONResponse:
        otype = _object_type(object_type)
        record = store.get(otype, record_id)
        if record is None:
            raise _not_found(f"Object not found.  objectId are usually numeric. ({record_id})")
        q = request.query_params
        props = [p for v in q.getlist("properties") for p in _properties_param(v)]
        history = [p for v in q.getlist("propertiesWithHistory") for p in _properties_param(v)]
        return JSONResponse(store.render(otype, record, props, history))


def _validate(store: Store, otype: str, props: dict[str, Any], creating: bool) -> dict[str, str]:
    try:
        return store.validate(otype, props, creating)
    except ValidationError as exc:
        raise ApiError(400, error_body(exc.message, "VALIDATION_ERROR",
                                       errors=[{"message": e["message"], "code": e["error"],
                                                "context": {"propertyName": [e["name"]]}}
                                               for e in exc.errors])) from None


def _create(store: Store, otype: str, clean: dict[str, str],
            associations: list[dict[str, Any]]) -> Record:
    """Create a record with its associations; a wrong association type id is ignored silently."""
    links: list[tuple[str, int, int]] = []
    for assoc in associations:
        to_id = str((assoc.get("to") or {}).get("id", ""))
        for spec in assoc.get("types") or []:
            type_id = spec.get("associationTypeId")
            target = next((t for t in PROPERTIES if association_type_id(otype, t) == type_id), None)
            if target is None:
                continue  # HubSpot quirk: a wrong type id leaves the record unassociated
            if store.get(target, to_id) is None:
                raise _bad_request(f"{_label(target)} {to_id} does not exist",
                                   context={"ids": [to_id]})
            links.append((target, int(to_id), type_id))
    if otype == "contacts" and clean.get("email"):
        email = clean["email"].lower()
        for existing in store.tables["contacts"].records.values():
            if (existing.props.get("email") or "").lower() == email:
                raise ApiError(409, error_body(
                    f"Contact already exists. Existing ID: {existing.id}", "CONFLICT"))
    record = store.insert(otype, {}, store.clock())
    store.apply(otype, record, clean)
    for target, to_id, type_id in links:
        reverse = association_type_id(target, otype) or type_id
        store.associate(otype, record.id, target, to_id, type_id, reverse)
    return record


# ---- associations ----------------------------------------------------------------------------


def _association_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    async def read_associations(from_type: str, to_type: str, request: Request) -> JSONResponse:
        src, dst = _object_type(from_type), _object_type(to_type)
        started = store.clock()
        inputs = _inputs(await _json(request), ASSOCIATION_BATCH_LIMIT)
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
            offset = int(item.get("after") or 0)
            page = links[offset : offset + size]
            result: dict[str, Any] = {
                "from": {"id": from_id},
                "to": [{"toObjectId": to_id, "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]}
                    for to_id, type_id in page],
            }
            if offset + size < len(links):
                result["paging"] = {"next": {"after": str(offset + size), "link": None}}
            results.append(result)
        errors = []
        if missing:
            errors.append(_record_error(
                f"Could not find some {_label(src)} objects: {', '.join(missing)}", missing))
        for from_id in empty:
            errors.append(_record_error(
                f"No {_label(dst).lower()} is associated with {_label(src).lower()} {from_id}.",
                [from_id], subCategory="crm.associations.NO_ASSOCIATIONS_FOUND"))
        return _batch(results, errors, started, 200, store.clock())


# ---- lists -----------------------------------------------------------------------------------


def _list_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    def find(list_id: str) -> Any:
        static = store.lists.get(list_id)
        if static is None:
            raise _not_found(f"List {list_id} does not exist.")
        return static

    @api.post("/crm/v3/lists/")
    @api.post("/crm/v3/lists", include_in_schema=False)
    async def create_list(request: Request) -> JSONResponse:
        body = await _json(request) or {}
        name = str(body.get("name") or "").strip()
        if not name:
            raise _bad_request("name is required")
        if body.get("objectTypeId", "0-1") != "0-1":
            raise _bad_request("The sandbox only has contact lists (objectTypeId 0-1)")
        if body.get("processingType", "MANUAL") != "MANUAL":
            raise _bad_request("The sandbox only has static lists (processingType MANUAL)")
        if store.find_list(name) is not None:
            raise _bad_request(f"A list named '{name}' already exists.",
                               subCategory="ILS.DUPLICATE_LIST_NAMES")
        return JSONResponse({"list": store.create_list(name).to_json()})

    @api.get("/crm/v3/lists/object-type-id/{object_type_id}/name/{name}")
    async def get_by_name(object_type_id: str, name: str) -> JSONResponse:
        static = store.find_list(name) if object_type_id == "0-1" else None
        if static is None:
            raise _not_found(f"List does not exist with name {name} and object type "
                             f"{object_type_id}.")
        return JSONResponse({"list": static.to_json()})

    @api.post("/crm/v3/lists/search")
    async def search_lists(request: Request) -> JSONResponse:
        body = await _json(request) or {}
        query = str(body.get("query") or "").casefold()
        ids = {str(i) for i in body.get("listIds") or []}
        found = [lst for lst in store.lists.values()
                 if query in lst.name.casefold() and (not ids or lst.id in ids)]
        offset, count = int(body.get("offset") or 0), int(body.get("count") or 20)
        page = found[offset : offset + count]
        return JSONResponse({
            "lists": [{**lst.to_json(), "additionalProperties": {}} for lst in page],
            "total": len(found),
            "offset": offset + len(page),
            "hasMore": offset + len(page) < len(found),
        })

    @api.get("/crm/v3/lists/{list_id}")
    async def get_list(list_id: str) -> JSONResponse:
        return JSONResponse({"list": find(list_id).to_json()})

    @api.put("/crm/v3/lists/{list_id}/memberships/add")
    async def add_members(list_id: str, request: Request) -> JSONResponse:
        static = find(list_id)
        body = await _json(request)
        if not isinstance(body, list):
            raise _bad_request("The body must be a JSON array of record ids")
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
        return JSONResponse({"recordsIdsAdded": added, "recordIdsMissing": missing,
                             "recordIdsRemoved": []})

    @api.get("/crm/v3/lists/{list_id}/memberships")
    async def members(list_id: str, request: Request) -> JSONResponse:
        static = find(list_id)
        q = request.query_params
        limit = min(int(q.get("limit") or 100), MEMBERSHIP_PAGE_LIMIT)
        offset = int(q.get("after") or 0)
        ids = sorted(static.members)
        page = ids[offset : offset + limit]
        body: dict[str, Any] = {
            "results": [{"recordId": str(i), "membershipTimestamp": iso(static.members[i])}
                        for i in page],
            "total": len(ids),
        }
        if offset + limit < len(ids):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return JSONResponse(body)


# ---- owners and properties -------------------------------------------------------------------


def _owner_property_routes(api: FastAPI, sb: Sandbox) -> None:
    store = sb.store

    @api.get("/crm/v3/owners/")
    @api.get("/crm/v3/owners", include_in_schema=False)
    async def owners(request: Request) -> JSONResponse:
        q = request.query_params
        archived = q.get("archived", "false").lower() == "true"
        email = q.get("email")
        limit = min(int(q.get("limit") or 100), OWNER_PAGE_LIMIT)
        offset = int(q.get("after") or 0)
        found = [o for o in store.owners.values() if o.archived == archived
                 and (email is None or (o.email or "").lower() == email.lower())]
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"results": [o.to_json() for o in page]}
        if offset + limit < len(found):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return JSONResponse(body)

    @api.get("/crm/v3/owners/{owner_id}")
    async def owner(owner_id: str) -> JSONResponse:
        found = store.owners.get(owner_id)
        if found is None:
            raise _not_found(f"Owner {owner_id} does not exist")
        return JSONResponse(found.to_json())

    @api.get("/crm/v3/properties/{object_type}")
    async def all_properties(object_type: str) -> JSONResponse:
        otype = _object_type(object_type)
        created = iso(store.anchor_ms)
        return JSONResponse({"results": [p.to_json(otype, created)
                                         for p in PROPERTIES[otype].values()]})

    @api.get("/crm/v3/properties/{object_type}/{name}")
    async def one_property(object_type: str, name: str) -> JSONResponse:
        otype = _object_type(object_type)
        pdef = PROPERTIES[otype].get(name)
        if pdef is None:
            raise ApiError(404, error_body(
                f"Unable to find property {name} for object type {object_type}",
                "OBJECT_NOT_FOUND", subCategory="PropertyError.PROPERTY_NOT_FOUND",
                context={"propertyName": [name]}))
        return JSONResponse(pdef.to_json(otype, iso(store.anchor_ms)))


# ---- admin -----------------------------------------------------------------------------------


def _admin_routes(api: FastAPI, sb: Sandbox) -> None:
    store, gate = sb.store, sb.gate

    def refuse(exc: Exception) -> ApiError:
        return ApiError(400, {"status": "error", "message": str(exc)})

    @api.get("/_sandbox/stats")
    async def stats() -> dict[str, Any]:
        return gate.stats.to_json()

    @api.post("/_sandbox/stats/reset")
    async def reset_stats() -> dict[str, Any]:
        gate.stats = Stats()
        return gate.stats.to_json()

    @api.get("/_sandbox/faults")
    async def get_faults() -> dict[str, Any]:
        return asdict(gate.faults)

    @api.put("/_sandbox/faults")
    async def put_faults(request: Request) -> dict[str, Any]:
        """Replace the fault settings (omitted fields are reset to off)."""
        try:
            gate.set_faults(settings_from_json(Faults, await _json(request) or {}))
        except ValueError as exc:
            raise refuse(exc) from None
        return asdict(gate.faults)

    @api.get("/_sandbox/limits")
    async def get_limits() -> dict[str, Any]:
        return asdict(gate.limits)

    @api.put("/_sandbox/limits")
    async def put_limits(request: Request) -> dict[str, Any]:
        """Change the given limits (null disables one); omitted ones stay."""
        try:
            gate.limits = settings_from_json(Limits, await _json(request), gate.limits)
        except ValueError as exc:
            raise refuse(exc) from None
        gate.window.clear()
        gate.search_window.clear()
        gate.daily_used = 0
        return asdict(gate.limits)

    @api.get("/_sandbox/config")
    async def get_config() -> dict[str, Any]:
        return asdict(sb.config)

    @api.put("/_sandbox/config")
    async def put_config(request: Request) -> dict[str, Any]:
        try:
            config = settings_from_json(SandboxConfig, await _json(request), sb.config)
        except ValueError as exc:
            raise refuse(exc) from None
        sb.config = config
        return asdict(config)

    @api.post("/_sandbox/owners", status_code=201)
    async def add_owner(request: Request) -> dict[str, Any]:
        body = await _json(request) or {}
        owner = store.add_owner(body.get("email"), body.get("firstName"), body.get("lastName"),
                                archived=bool(body.get("archived", False)),
                                owner_id=body.get("id"))
        return owner.to_json()

    @api.post("/_sandbox/seed")
    async def reseed(request: Request) -> dict[str, Any]:
        """Replace all data: `{"seed": "demo"|"empty", "contacts": N, "now": ISO}`."""
        body = await _json(request) or {}
        seed = body.get("seed", "demo")
        if seed not in ("demo", "empty"):
            raise refuse(ValueError("seed must be demo or empty"))
        now = datetime.fromisoformat(body["now"]) if body.get("now") else None
        store.reset(now)
        sb.cache = SearchCache()
        seed_store(store, seed, body.get("contacts"))
        return {"seed": seed, **{t: len(tbl.records) for t, tbl in store.tables.items()}}
