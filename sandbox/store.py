"""The sandbox's in-memory state: records, property history, associations, owners, lists.

Records are kept per object type in a dict by numeric id plus a sorted id list, so keyset
paging (`hs_object_id GT x`) can bisect. A record stores only the properties that are set;
history is kept only for properties that were ever written with a timestamp.
All mutation goes through `Store` methods so validation and HubSpot's quirks live in one place.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from sandbox.schema import (
    DEAL_PIPELINES,
    DEFAULT_PROPERTIES,
    ENGAGEMENT_DEFAULT_PROPERTIES,
    ENGAGEMENT_TYPES,
    LIFECYCLE_ORDER,
    LIFECYCLE_OTHER,
    OBJECT_TYPES,
    PROPERTIES,
    STAGE_DATE,
    PropertyDef,
    created_property,
    modified_property,
)
from sandbox.tables import Owner, Record, StaticList, Table, ValidationError, iso, parse_ms, to_ms


class Store:
    """Everything the sandbox holds; all writes go through `validate` + `apply`/`create`."""

    def __init__(self, now: datetime | None = None) -> None:
        self.search_lag_ms = 0  # HubSpot's search index lags writes by a few seconds
        self.reset(now)

    def reset(self, now: datetime | None = None) -> None:
        """Forget everything. With `now`, the clock starts there and runs with real time;
        without, it is the real time. `anchor_ms` (now, or the real time rounded down to the
        hour) is what the seed's relative dates count from."""
        self.fixed = now is not None
        real = int(time.time() * 1000)
        self.anchor_ms = to_ms(now) if now is not None else real - real % 3_600_000
        self._mono = time.monotonic()
        self.tables: dict[str, Table] = {t: Table(t) for t in OBJECT_TYPES}
        # (from type, to type) -> from id -> {to id: association type id}
        self.assoc: dict[tuple[str, str], dict[int, dict[int, int]]] = {}
        self.owners: dict[str, Owner] = {}
        self.lists: dict[str, StaticList] = {}
        self.next_list_id = 1
        self.next_owner_id = 70000001
        # While a written record's entry is pending (search lag), search sees its state
        # before the write (None: created, not visible yet).
        self.pending: dict[str, dict[int, tuple[int, Record | None]]] = {
            t: {} for t in OBJECT_TYPES
        }

    def clock(self) -> int:
        """Current sandbox time in epoch ms (see `reset`)."""
        if not self.fixed:
            return int(time.time() * 1000)
        return self.anchor_ms + int((time.monotonic() - self._mono) * 1000)

    # ---- records -------------------------------------------------------------------------

    def insert(self, object_type: str, props: dict[str, str], created: int) -> Record:
        """Add a record with trusted properties (the seed and validated creates use this)."""
        table = self.tables[object_type]
        record = Record(table.next_id, props, created)
        table.add(record)
        return record

    def get(self, object_type: str, record_id: str | int) -> Record | None:
        try:
            return self.tables[object_type].records.get(int(record_id))
        except (TypeError, ValueError):
            return None

    def value(self, object_type: str, record: Record, name: str) -> str | None:
        """A property's current value as a string, computed ones included."""
        if name == "hs_object_id":
            return str(record.id)
        if name == created_property(object_type):
            return iso(record.created)
        if name == modified_property(object_type):
            return iso(record.updated)
        return record.props.get(name)

    def validate(self, object_type: str, props: dict[str, Any], creating: bool) -> dict[str, str]:
        """Normalise written values or raise ValidationError listing every bad property."""
        defs = PROPERTIES[object_type]
        errors: list[dict[str, Any]] = []
        clean: dict[str, str] = {}
        for name, raw in props.items():
            pdef = defs.get(name)
            if pdef is None:
                errors.append(
                    _prop_error(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
                continue
            if pdef.read_only:
                errors.append(
                    _prop_error(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a read only property; its value cannot be set.',
                    )
                )
                continue
            value = str(raw).lower() if isinstance(raw, bool) else "" if raw is None else str(raw)
            problem = self._check_value(pdef, value)
            if problem:
                errors.append(
                    _prop_error(
                        name,
                        "INVALID_OPTION"
                        if pdef.type == "enumeration"
                        else "INVALID_" + pdef.type.upper(),
                        problem,
                    )
                )
                continue
            clean[name] = self._normalise(pdef, value)
        if creating and object_type in ENGAGEMENT_TYPES and not clean.get("hs_timestamp"):
            errors.append(_prop_error("hs_timestamp", "REQUIRED", "hs_timestamp is required"))
        if object_type == "deals":
            errors += _deal_errors(clean, creating)
        if errors:
            raise ValidationError("Property values were not valid: " + _summary(errors), errors)
        return clean

    def _check_value(self, pdef: PropertyDef, value: str) -> str | None:
        if value == "":
            return None
        if pdef.name == "hubspot_owner_id":
            # Archived (deactivated) owners keep owning records, so their ids are accepted.
            return None if value in self.owners else f"{value} is not a valid owner id"
        if pdef.name in ("pipeline", "dealstage"):
            return None  # options depend on the pipeline: `_deal_errors`
        if pdef.type == "enumeration" and value not in pdef.option_values():
            return f"{value} was not one of the allowed options: " + ", ".join(
                f"[label: {v!r} value: {v!r}]" for v in pdef.option_values()
            )
        if pdef.type == "number":
            try:
                float(value)
            except ValueError:
                return f"{value} is not a valid number"
        if pdef.type == "datetime" and parse_ms(value) is None:
            return f"{value} is not a valid datetime (epoch ms or ISO-8601)"
        if pdef.type == "bool" and value not in ("true", "false"):
            return f"{value} is not a valid boolean"
        return None

    @staticmethod
    def _normalise(pdef: PropertyDef, value: str) -> str:
        if value and pdef.type == "datetime":
            return iso(parse_ms(value) or 0)
        return value

    def create(self, object_type: str, clean: dict[str, str]) -> Record:
        """A new record from validated values (history and stage dates as for a write)."""
        record = self.insert(object_type, {}, self.clock())
        if self.search_lag_ms:
            self.pending[object_type][record.id] = (self.clock() + self.search_lag_ms, None)
        self.apply(object_type, record, clean)
        return record

    def apply(
        self, object_type: str, record: Record, clean: dict[str, str], source: str = "API"
    ) -> None:
        """Write validated values with HubSpot's rules: "" clears, stages only move forward."""
        now = self.clock()
        if self.search_lag_ms:
            pending = self.pending[object_type]
            stale = pending[record.id][1] if record.id in pending else _copy(record)
            pending[record.id] = (now + self.search_lag_ms, stale)
        for name, value in clean.items():
            current = record.props.get(name)
            stage_write = name == "lifecyclestage" and current and value
            if stage_write and not _stage_may_move(current, value):
                continue  # HubSpot ignores a backward stage write silently
            if (current or "") == value:
                continue
            if value == "":
                record.props.pop(name, None)
            else:
                record.props[name] = value
            record.add_history(name, value, now, source)
            if name == "lifecyclestage" and value in LIFECYCLE_ORDER:
                stamp = STAGE_DATE[value]
                record.props[stamp] = iso(now)
                record.add_history(stamp, record.props[stamp], now, "CALCULATED")
        record.updated = now
        self.tables[object_type].version += 1

    def archive(self, object_type: str, record: Record) -> None:
        """Remove a record with its associations (HubSpot's archive; the sandbox keeps no bin)."""
        table = self.tables[object_type]
        del table.records[record.id]
        table.ids.remove(record.id)
        table.version += 1
        self.pending[object_type].pop(record.id, None)
        for (src, dst), links in self.assoc.items():
            if src == object_type:
                links.pop(record.id, None)
            elif dst == object_type:
                for targets in links.values():
                    targets.pop(record.id, None)

    def search_view(self, object_type: str) -> dict[int, Record | None]:
        """Records search still sees in their earlier state (None = not visible yet)."""
        pending, now = self.pending[object_type], self.clock()
        for record_id in [i for i, (until, _) in pending.items() if until <= now]:
            del pending[record_id]
        return {record_id: stale for record_id, (_, stale) in pending.items()}

    def render(
        self,
        object_type: str,
        record: Record,
        properties: list[str] | None,
        with_history: list[str] | None = None,
    ) -> dict[str, Any]:
        """A record as HubSpot answers it: requested properties (null when unset)."""
        defs = PROPERTIES[object_type]
        names = properties or list(
            DEFAULT_PROPERTIES.get(object_type, ENGAGEMENT_DEFAULT_PROPERTIES)
        )
        props = {n: self.value(object_type, record, n) for n in names if n in defs}
        for name in ("hs_object_id", created_property(object_type), modified_property(object_type)):
            props[name] = self.value(object_type, record, name)  # HubSpot always sends these
        body: dict[str, Any] = {
            "id": str(record.id),
            "properties": props,
            "createdAt": iso(record.created),
            "updatedAt": iso(record.updated),
            "archived": False,
        }
        if with_history:
            body["propertiesWithHistory"] = {
                n: self.history(object_type, record, n) for n in with_history if n in defs
            }
        return body

    def history(self, object_type: str, record: Record, name: str) -> list[dict[str, Any]]:
        """Versions newest first; a set value with no recorded write dates from creation."""
        versions = (record.history or {}).get(name)
        if not versions:
            current = self.value(object_type, record, name)
            versions = [] if current is None else [(current, record.created, "CRM_UI")]
        return [
            {"value": v, "timestamp": iso(ms), "sourceType": src, "sourceId": "sandbox"}
            for v, ms, src in reversed(versions)
        ]

    # ---- associations --------------------------------------------------------------------

    def associate(
        self,
        from_type: str,
        from_id: int,
        to_type: str,
        to_id: int,
        type_id: int,
        reverse_type_id: int,
    ) -> None:
        """Store an association in both directions."""
        self.assoc.setdefault((from_type, to_type), {}).setdefault(from_id, {})[to_id] = type_id
        self.assoc.setdefault((to_type, from_type), {}).setdefault(to_id, {})[from_id] = (
            reverse_type_id
        )

    def associated(self, from_type: str, from_id: int, to_type: str) -> dict[int, int]:
        return self.assoc.get((from_type, to_type), {}).get(from_id, {})

    # ---- owners and lists ----------------------------------------------------------------

    def add_owner(
        self,
        email: str | None,
        first_name: str | None,
        last_name: str | None,
        archived: bool = False,
        owner_id: str | None = None,
    ) -> Owner:
        now = self.clock()
        oid = owner_id or str(self.next_owner_id)
        if oid.isdigit():
            self.next_owner_id = max(self.next_owner_id, int(oid) + 1)
        owner = Owner(
            oid,
            email,
            first_name,
            last_name,
            user_id=1001 + len(self.owners),
            archived=archived,
            created=now,
            updated=now,
        )
        self.owners[oid] = owner
        return owner

    def create_list(self, name: str) -> StaticList:
        now = self.clock()
        static = StaticList(str(self.next_list_id), name, now, now)
        self.next_list_id += 1
        self.lists[static.id] = static
        return static

    def find_list(self, name: str) -> StaticList | None:
        wanted = name.casefold()
        return next((lst for lst in self.lists.values() if lst.name.casefold() == wanted), None)


def _copy(record: Record) -> Record:
    """A detached copy of a record's current state (for the search-lag view)."""
    copy = Record(record.id, dict(record.props), record.created)
    copy.updated = record.updated
    return copy


def _stage_may_move(current: str, new: str) -> bool:
    if LIFECYCLE_OTHER in (current, new):
        return True
    if current not in LIFECYCLE_ORDER or new not in LIFECYCLE_ORDER:
        return True
    return LIFECYCLE_ORDER.index(new) >= LIFECYCLE_ORDER.index(current)


def _deal_errors(clean: dict[str, str], creating: bool) -> list[dict[str, Any]]:
    """HubSpot's deals guide: a deal is created with `dealname` and `dealstage` (and
    `pipeline`, else the default one); the stage must belong to the pipeline. Strict: an
    update naming a stage without its pipeline must name a stage of some pipeline."""
    errors = []
    if creating:
        errors += [
            _prop_error(name, "REQUIRED", f"{name} is required to create a deal")
            for name in ("dealname", "dealstage")
            if not clean.get(name)
        ]
    pipelines = {pipeline.id: pipeline for pipeline in DEAL_PIPELINES}
    pipeline_id = clean.get("pipeline") or ("default" if creating else None)
    if pipeline_id and pipeline_id not in pipelines:
        message = f"{pipeline_id} is not a valid pipeline id: " + ", ".join(pipelines)
        return [*errors, _prop_error("pipeline", "INVALID_OPTION", message)]
    stage = clean.get("dealstage")
    allowed = [pipelines[pipeline_id]] if pipeline_id else list(pipelines.values())
    if stage and not any(pipeline.stage(stage) for pipeline in allowed):
        where = f"pipeline {pipeline_id}" if pipeline_id else "any pipeline"
        message = f"{stage} is not a valid deal stage of {where}"
        errors.append(_prop_error("dealstage", "INVALID_OPTION", message))
    return errors


def _prop_error(name: str, code: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": code, "name": name}


def _summary(errors: list[dict[str, Any]]) -> str:
    return json.dumps(errors, separators=(",", ":"))
