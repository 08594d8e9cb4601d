"""Watermarks: how far each rule has looked, per portal, kept in Prefect Variables.

One Variable per portal and rule, named `leadops_watermark_<portal>_<rule>`, holding JSON such
as `{"until": "2026-11-23T12:00:00+00:00"}`. Ops can read and edit it in the Prefect UI
(Variables); moving it back makes the next scheduled run look further back.

Example:
    ```python
    from datetime import UTC, datetime

    from runstate.watermark import advance_watermark, window_start

    until = datetime.now(UTC)
    since = window_start("12345", "promote")  # None before the first run: everything
    # ... run the rule over [since, until) ...
    advance_watermark("12345", "promote", until)  # only after the run succeeded
    ```
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

DEFAULT_OVERLAP = timedelta(minutes=30)
PREFIX = "leadops_watermark"


class WatermarkError(ValueError):
    """A watermark Variable holds something that is not a timestamp; the message says which."""


class VariableStore(Protocol):
    """Where watermarks live: Prefect Variables in production, a dict in tests."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: Any) -> None: ...


class PrefectVariables:
    """Watermarks as Prefect Variables (JSON values, editable in the UI)."""

    def get(self, name: str) -> Any:
        from prefect.variables import Variable

        return Variable.get(name)

    def set(self, name: str, value: Any) -> None:
        from prefect.variables import Variable

        Variable.set(name, value, overwrite=True)


def variable_name(portal_id: str, rule: str) -> str:
    """A valid Prefect Variable name: lowercase letters, digits and underscores only."""
    slug = re.sub(r"[^a-z0-9]+", "_", f"{portal_id}_{rule}".lower()).strip("_")
    return f"{PREFIX}_{slug}"


def _parse(name: str, value: Any) -> datetime:
    """`{"until": ISO}` (what we write) or a bare ISO string (a hand edit), as aware UTC."""
    raw = value.get("until") if isinstance(value, dict) else value
    try:
        moment = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise WatermarkError(
            f"Variable {name!r} holds {value!r}; expected "
            '{"until": "2026-01-31T00:00:00+00:00"} (an ISO timestamp). '
            "Fix or delete it in the Prefect UI (Variables)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def read_watermark(
    portal_id: str, rule: str, store: VariableStore | None = None
) -> datetime | None:
    """The instant up to which `rule` has run successfully on the portal; None if never."""
    name = variable_name(portal_id, rule)
    value = (store or PrefectVariables()).get(name)
    return None if value is None else _parse(name, value)


def advance_watermark(
    portal_id: str, rule: str, until: datetime, store: VariableStore | None = None
) -> datetime:
    """Move the watermark to `until` unless it is already later; return the watermark now held.

    Never moves backwards, so a late or repeated run cannot make the next one skip contacts.
    """
    store = store or PrefectVariables()
    if until.tzinfo is None:
        raise ValueError(f"until must be timezone-aware, got {until.isoformat()}")
    until = until.astimezone(UTC)
    current = read_watermark(portal_id, rule, store)
    if current is not None and current >= until:
        return current
    store.set(variable_name(portal_id, rule), {"until": until.isoformat()})
    return until


def window_start(
    portal_id: str,
    rule: str,
    since: datetime | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    store: VariableStore | None = None,
) -> datetime | None:
    """Where an event-based rule's window starts in this run (it ends at the run's instant).

    An explicit `since` (a backfill window, a manual run) wins. Otherwise it is the watermark
    minus `overlap` (HubSpot's search index lags behind writes; the rules are idempotent, so
    looking twice is harmless), or None — everything — before the first run.
    """
    if since is not None:
        return since
    watermark = read_watermark(portal_id, rule, store)
    return None if watermark is None else watermark - overlap
