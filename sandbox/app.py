"""The sandbox ASGI app: HubSpot's CRM paths over a `Store`, admin endpoints under `/_sandbox/`.

`create_app(store, token=..., limits=...)` returns FastAPI wrapped in the gatekeeping middleware
of `sandbox.faults`; `app.app.state.sandbox` is the `Sandbox` (settings, counters, cache).
Routes live in `sandbox.records` (objects, associations), `sandbox.basic` (single-record
list/update/archive), `sandbox.associations` (association writes), `sandbox.portal` (lists,
owners, properties), `sandbox.pipelines` (deal pipelines), `sandbox.account` (portal
identity, daily usage) and `sandbox.admin`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox import account, admin, associations, basic, pipelines, portal, records
from sandbox.faults import Limits
from sandbox.gate import GateMiddleware
from sandbox.store import Store
from sandbox.web import ApiError, Sandbox


def create_app(
    store: Store,
    *,
    token: str = "sandbox-token",
    limits: Limits | None = None,
) -> GateMiddleware:
    """The sandbox ASGI app over `store`. `.app.state.sandbox` is the `Sandbox`."""
    sb = Sandbox(store, token, limits or Limits())
    api = FastAPI(
        title="leadops HubSpot sandbox",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    api.state.sandbox = sb

    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    records.records_routes(api, sb)
    records.association_routes(api, sb)
    basic.basic_routes(api, sb)
    associations.association_write_routes(api, sb)
    portal.list_routes(api, sb)
    portal.owner_property_routes(api, sb)
    pipelines.pipeline_routes(api, sb)
    account.account_routes(api, sb)
    admin.admin_routes(api, sb)
    return GateMiddleware(api, sb.gate)
