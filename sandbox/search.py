"""`POST /crm/v3/objects/{type}/search`: filters, sorting, paging and HubSpot's limits.

A query's matches (without its keyset filter `hs_object_id GT/GTE x`) are computed once and
cached per table version as a sorted id list; a page is then a bisect plus a slice, so paging
through 100,000 contacts by `hs_object_id` costs O(page) per request, and `total` is free.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sandbox.schema import PROPERTIES, resolve_type
from sandbox.store import Store
from sandbox.tables import Record, parse_ms

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS, MAX_LIMIT, MAX_RESULTS = 5, 6, 18, 200, 10_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
QUERY_PROPERTIES = (
    "firstname",
    "lastname",
    "email",
    "company",
    "hs_task_subject",
    "hs_email_subject",
    "hs_call_title",
    "hs_meeting_title",
)
_TOKEN_SPLIT = re.compile(r"[^\w*]+")

Predicate = Callable[[Record], bool]


class SearchError(ValueError):
    """A request HubSpot answers with 400 VALIDATION_ERROR."""


class SearchCache:
    """Sorted matching ids per (object type, query shape), valid for one table version."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[int, list[int]]] = OrderedDict()

    def get(self, key: str, version: int) -> list[int] | None:
        hit = self.entries.get(key)
        if hit is None or hit[0] != version:
            return None
        self.entries.move_to_end(key)
        return hit[1]

    def put(self, key: str, version: int, ids: list[int]) -> None:
        self.entries[key] = (version, ids)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def search(
    store: Store,
    object_type: str,
    body: dict[str, Any],
    cache: SearchCache,
    max_results: int = MAX_RESULTS,
) -> dict:
    """Answer one search request body (already JSON-decoded); paging stops at `max_results`."""
    groups = body.get("filterGroups") or []
    _check_limits(groups)
    limit = _int(body.get("limit", 10), "limit")
    if not 0 < limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}; got {limit}")
    after = _int(body.get("after") or 0, "after")
    if after < 0:
        raise SearchError(f"after must not be negative; got {after}")
    if after + limit > max_results:
        raise SearchError(
            f"Paging past {max_results} results is not supported: after={after} limit={limit}"
        )
    sort_name, descending = _sort(body.get("sorts") or [])
    bound, groups = _keyset(groups, sort_name, descending)
    query = (body.get("query") or "").strip().lower()
    key = json.dumps([object_type, groups, sort_name, descending, query], sort_keys=True)
    table = store.tables[object_type]
    view = store.search_view(object_type)  # search-lag overlay: uncached while non-empty
    ids = None if view else cache.get(key, table.version)
    if ids is None:
        ids = _matches(store, object_type, groups, sort_name, descending, query, view)
        if not view:
            cache.put(key, table.version, ids)
    start = 0
    if bound is not None:
        op, value = bound
        start = (bisect.bisect_right if op == "GT" else bisect.bisect_left)(ids, value)
    total = len(ids) - start
    page = ids[start + after : start + after + limit]
    properties = body.get("properties") or None
    answer: dict[str, Any] = {
        "total": total,
        "results": [
            store.render(object_type, view.get(i) or table.records[i], properties) for i in page
        ],
    }
    if after + limit < total:
        answer["paging"] = {"next": {"after": str(after + limit)}}
    return answer


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchError(f"{name} must be an integer; got {value!r}") from None


def _check_limits(groups: Any) -> None:
    shape_ok = isinstance(groups, list) and all(
        isinstance(g, dict)
        and isinstance(g.get("filters") or [], list)
        and all(isinstance(f, dict) for f in g.get("filters") or [])
        for g in groups
    )
    if not shape_ok:
        raise SearchError("filterGroups must be a list of {filters: [...]} objects")
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"Too many filter groups: {len(groups)} (max {MAX_GROUPS})")
    total = 0
    for group in groups:
        filters = group.get("filters") or []
        if len(filters) > MAX_PER_GROUP:
            raise SearchError(f"Too many filters in a group: {len(filters)} (max {MAX_PER_GROUP})")
        total += len(filters)
        for f in filters:
            if f.get("operator") not in OPERATORS:
                raise SearchError(f"Unknown operator {f.get('operator')!r}")
            if not f.get("propertyName"):
                raise SearchError("Every filter needs a propertyName")
    if total > MAX_FILTERS:
        raise SearchError(f"Too many filters: {total} (max {MAX_FILTERS})")


def _sort(sorts: list[Any]) -> tuple[str, bool]:
    """Only the first sort applies (HubSpot honours one). Strings `-name` sort descending."""
    if not sorts:
        return "hs_object_id", False
    first = sorts[0]
    if isinstance(first, str):
        return first.lstrip("-"), first.startswith("-")
    name = first.get("propertyName") or "hs_object_id"
    return name, str(first.get("direction", "ASCENDING")).upper() == "DESCENDING"


def _keyset(
    groups: list[dict[str, Any]], sort_name: str, descending: bool
) -> tuple[tuple[str, int] | None, list[dict[str, Any]]]:
    """Split off an `hs_object_id GT/GTE x` present in every group (ascending id sort only)."""
    if not groups or sort_name != "hs_object_id" or descending:
        return None, groups
    bounds, rest = set(), []
    for group in groups:
        filters = group.get("filters") or []
        keys = [
            f
            for f in filters
            if f.get("propertyName") == "hs_object_id" and f.get("operator") in ("GT", "GTE")
        ]
        if len(keys) != 1:
            return None, groups
        try:
            bounds.add((keys[0]["operator"], int(str(keys[0].get("value")))))
        except ValueError:
            return None, groups
        rest.append({"filters": [f for f in filters if f is not keys[0]]})
    if len(bounds) != 1:
        return None, groups
    return bounds.pop(), rest


def _matches(
    store: Store,
    object_type: str,
    groups: list[dict[str, Any]],
    sort_name: str,
    descending: bool,
    query: str,
    view: dict[int, Record | None],
) -> list[int]:
    """Matching ids in result order; `view` overrides records (None hides one)."""
    table = store.tables[object_type]

    def record(i: int) -> Record:
        return view.get(i) or table.records[i]

    compiled = [[_compile(store, object_type, f) for f in g.get("filters") or []] for g in groups]
    if compiled and all(compiled):

        def keep(r: Record) -> bool:
            return any(all(p(r) for p in group) for group in compiled)
    else:  # no groups, or a group without filters, matches everything

        def keep(r: Record) -> bool:
            return True

    hidden = {i for i, r in view.items() if r is None}
    ids = [i for i in table.ids if i not in hidden and keep(record(i))]
    if query:
        ids = [i for i in ids if _query_match(record(i), query)]
    if sort_name == "hs_object_id":
        return ids[::-1] if descending else ids
    pdef = PROPERTIES[object_type].get(sort_name)
    numeric = pdef is not None and pdef.type in ("number", "datetime")

    def sort_key(i: int) -> tuple[int, Any, int]:
        raw = store.value(object_type, record(i), sort_name)
        if raw is None:
            return (1, 0, i)
        return (0, _number(raw, pdef.type if pdef else "string") if numeric else raw.lower(), i)

    present = sorted(
        (i for i in ids if store.value(object_type, record(i), sort_name) is not None),
        key=sort_key,
        reverse=descending,
    )
    missing = [i for i in ids if store.value(object_type, record(i), sort_name) is None]
    return present + missing


def _query_match(record: Record, query: str) -> bool:
    return any(query in (record.props.get(p) or "").lower() for p in QUERY_PROPERTIES)


def _number(raw: str, type_: str) -> float | None:
    if type_ == "datetime":
        ms = parse_ms(raw)
        return None if ms is None else float(ms)
    try:
        return float(raw)
    except ValueError:
        return None


def _compile(store: Store, object_type: str, f: dict[str, Any]) -> Predicate:
    name, op = f["propertyName"], f["operator"]
    if name.startswith("associations."):
        other = resolve_type(name.split(".", 1)[1])
        if other is None or op not in ("EQ", "IN"):
            raise SearchError(f"Unsupported association filter {name} {op}")
        wanted = {int(v) for v in (f.get("values") or [f.get("value")]) if str(v).isdigit()}
        return lambda r: bool(wanted & store.associated(object_type, r.id, other).keys())
    pdef = PROPERTIES[object_type].get(name)
    if pdef is None:
        raise SearchError(f"There was a problem with the request: unknown property {name!r}")
    type_ = pdef.type
    numeric = type_ in ("number", "datetime")
    case_fold = type_ == "string"

    def get(r: Record) -> str | None:
        value = store.value(object_type, r, name)
        return None if value == "" else value

    if op == "HAS_PROPERTY":
        return lambda r: get(r) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda r: get(r) is None
    if op in ("IN", "NOT_IN"):
        values = {str(v) for v in f.get("values") or []}

        # HubSpot compares string properties lowercased: IN wants lowercase values.
        def member(r: Record) -> bool:
            v = get(r)
            return v is not None and (v.lower() if case_fold else v) in values

        return member if op == "IN" else (lambda r: not member(r))
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(f.get("value", "")).lower()
        pattern = re.compile(re.escape(token).replace(r"\*", ".*") + r"\Z")

        def contains(r: Record) -> bool:
            v = get(r)
            if v is None:
                return False
            words = [w for w in _TOKEN_SPLIT.split(v.lower()) if w] + [v.lower()]
            return any(pattern.match(w) for w in words)

        return contains if op == "CONTAINS_TOKEN" else (lambda r: not contains(r))
    if op == "BETWEEN":
        low, high = f.get("value"), f.get("highValue")
        if low is None or high is None:
            raise SearchError("BETWEEN needs value and highValue")
        ge, le = _comparator("GTE", str(low), type_), _comparator("LTE", str(high), type_)
        return lambda r: (v := get(r)) is not None and ge(v) and le(v)
    if f.get("value") is None:
        raise SearchError(f"Operator {op} needs a value")
    target = str(f["value"])
    if op in ("EQ", "NEQ"):
        if numeric:
            cmp = _comparator("EQ", target, type_)

            def equal(r: Record) -> bool:
                v = get(r)
                return v is not None and cmp(v)
        else:
            wanted = target.lower() if case_fold else target

            def equal(r: Record) -> bool:
                v = get(r)
                return v is not None and (v.lower() if case_fold else v) == wanted

        return equal if op == "EQ" else (lambda r: not equal(r))
    cmp = _comparator(op, target, type_)
    return lambda r: (v := get(r)) is not None and cmp(v)


def _comparator(op: str, target: str, type_: str) -> Callable[[str], bool]:
    """Compare a stored value with a filter value: numerically for numbers and dates."""
    if type_ in ("number", "datetime"):
        bound = _number(target, type_)
        if bound is None:
            raise SearchError(f"{target!r} is not a valid {type_} filter value")

        def conv(v: str) -> Any:
            return _number(v, type_)

        key: Any = bound
    else:

        def conv(v: str) -> Any:
            return v.lower()

        key = target.lower()
    tests: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda x: x == key,
        "LT": lambda x: x < key,
        "LTE": lambda x: x <= key,
        "GT": lambda x: x > key,
        "GTE": lambda x: x >= key,
    }
    test = tests[op]
    return lambda v: (x := conv(v)) is not None and test(x)
