"""Shared pieces of the sandbox's HTTP layer: runtime settings, HubSpot-style errors, helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import JSONResponse

from sandbox.faults import Gatekeeper, Limits, error_body
from sandbox.schema import resolve_type
from sandbox.search import SearchCache
from sandbox.store import Store
from sandbox.tables import iso

BATCH_LIMIT = 100
# HubSpot caps batch reads that ask for property histories at 50 inputs (400 VALIDATION_ERROR
# with HISTORY_LIMIT_MESSAGE). Sources: HUBSPOT.md; hubspot-api-client `PROPERTY_HISTORY_MAX_SIZE`
# (hubspot/utils/objects.py); activepieces/Pipedream/dlt chunk history reads to 50 for this error.
HISTORY_BATCH_LIMIT = 50
HISTORY_LIMIT_MESSAGE = (
    "The maximum number of inputs supported in a batch request for property histories is 50. "
    "Please reduce the number of items and try again"
)
SEARCH_BODY_LIMIT = 3000
ASSOCIATION_BATCH_LIMIT = 1000
MEMBERSHIP_PAGE_LIMIT = 250
# HubSpot documents no size limit for `memberships/add` (HUBSPOT.md, "Lists v3"): unsettled, so
# the sandbox is strict and refuses more than the 1,000 ids the gateway sends per call.
MEMBERSHIP_ADD_LIMIT = 1000
MEMBERSHIPS_READ_LIMIT = 100  # records per memberships batch read (unstated by HubSpot)
OWNER_PAGE_LIMIT = 500


@dataclass
class SandboxConfig:
    """Behaviours HubSpot leaves unsettled, switchable at runtime (`PUT /_sandbox/config`).

    bad_id_mode: unknown ids in a batch update give a 207 with per-record errors, or a 400 for
        the whole batch.
    association_page_size: associations per input before `paging.next.after` (HubSpot: 500).
    empty_associations: an existing record without associations is reported as a 207 error
        (`NO_ASSOCIATIONS_FOUND`, as HubSpot does) or as a result with an empty `to`.
    search_lag_ms: how long search keeps seeing a record as it was before a write (created
        records: not at all). HubSpot's index lags a few seconds; 0 (default) = no lag.
    search_result_cap: how far one search query pages (HubSpot: 10,000); lower it to reach
        the cap cheaply in tests.
    portal_id, time_zone, ui_domain: what `GET /account-info/v3/details` answers (an EU
        portal's `uiDomain` is `app-eu1.hubspot.com`).
    trace_echo: a batch create's results carry their input's `objectWriteTraceId`. HubSpot's
        reference lists the field as optional on results: its 2026-03 examples echo it, the
        v3 ones do not (developers.hubspot.com, "Create a batch of objects").
    created_order: the order of a batch create's results. HubSpot does not guarantee the
        input order (HUBSPOT.md, "Batch endpoints"): "reversed" (default) keeps a client from
        leaning on it.
    """

    bad_id_mode: Literal["207", "400"] = "207"
    association_page_size: int = 500
    empty_associations: Literal["error", "empty"] = "error"
    search_lag_ms: int = 0
    search_result_cap: int = 10_000
    portal_id: int = 12345
    time_zone: str = "UTC"
    ui_domain: str = "app.hubspot.com"
    trace_echo: bool = True
    created_order: Literal["input", "reversed"] = "reversed"

    def __post_init__(self) -> None:
        if self.bad_id_mode not in ("207", "400"):
            raise ValueError("bad_id_mode must be '207' or '400'")
        if self.empty_associations not in ("error", "empty"):
            raise ValueError("empty_associations must be 'error' or 'empty'")
        if self.created_order not in ("input", "reversed"):
            raise ValueError("created_order must be 'input' or 'reversed'")
        if int(self.association_page_size) < 1:
            raise ValueError("association_page_size must be at least 1")
        if int(self.search_lag_ms) < 0:
            raise ValueError("search_lag_ms must not be negative")
        if int(self.search_result_cap) < 1:
            raise ValueError("search_result_cap must be at least 1")
        if int(self.portal_id) < 1:
            raise ValueError("portal_id must be a positive integer")
        try:
            ZoneInfo(self.time_zone)
        except (KeyError, ValueError):
            raise ValueError(f"time_zone {self.time_zone!r} is not an IANA timezone") from None


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


def bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, error_body(message, "VALIDATION_ERROR", **extra))


def not_found(message: str) -> ApiError:
    return ApiError(404, error_body(message, "OBJECT_NOT_FOUND"))


async def read_json(request: Request) -> Any:
    """The request's JSON (None for an empty body); 400 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return await request.json()
    except ValueError:
        raise bad_request("Invalid input JSON on line 1: the body is not valid JSON") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); 400 for anything else."""
    body = await read_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("Invalid input JSON: expected an object")
    return body


def object_type_of(name: str) -> str:
    resolved = resolve_type(name)
    if resolved is None:
        raise bad_request(f"Unable to infer object type from: {name}")
    return resolved


def batch_response(
    results: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    started: int,
    ok_status: int,
    now: int,
) -> JSONResponse:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(now),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return JSONResponse(body, status_code=207 if errors else ok_status)


def record_error(
    message: str, ids: list[str], category: str = "OBJECT_NOT_FOUND", **extra: Any
) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"ids": ids},
        "errors": [],
        "links": {},
        **extra,
    }


def label(object_type: str) -> str:
    return object_type.rstrip("s").upper()


def batch_inputs(body: Any, limit: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise bad_request("inputs is required and must be a list")
    if len(inputs) > limit:
        raise bad_request(
            f"Batch input limit exceeded: {len(inputs)} inputs (max {limit})",
            context={"maxInputs": [str(limit)]},
        )
    if not all(isinstance(item, dict) for item in inputs):
        raise bad_request("Every input must be an object")
    return inputs


def paging_int(value: Any, name: str, default: int, minimum: int = 0) -> int:
    """A paging number (`limit`, `after`, `offset`...) from a query string or body; a missing
    one is `default`. Anything not a whole number >= `minimum` is HubSpot's 400
    VALIDATION_ERROR naming the parameter (ErrorDetail `in`, per HubSpot's OpenAPI specs),
    never a 500."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or isinstance(value, bool | float):
        message = f"{name} must be a whole number of at least {minimum}; got {value!r}"
        raise bad_request(
            message, errors=[{"message": message, "in": name, "code": "INVALID_INTEGER"}]
        )
    return number


def query_page(request: Request, default_limit: int, max_limit: int) -> tuple[int, int]:
    """`(limit, after)` from a paged GET's query string; `limit` is capped at `max_limit`."""
    q = request.query_params
    limit = paging_int(q.get("limit"), "limit", default_limit, minimum=1)
    return min(limit, max_limit), paging_int(q.get("after"), "after", 0)


def properties_param(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return [str(v) for v in value]
