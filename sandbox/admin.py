"""Admin endpoints under `/_sandbox/` (no auth): stats, faults, limits, config, owners, seed."""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request

from sandbox.faults import Faults, Limits, Stats, settings_from_json
from sandbox.search import SearchCache
from sandbox.seed import seed_store
from sandbox.web import ApiError, Sandbox, SandboxConfig, not_found, read_object


def as_rich_text(text: str) -> str:
    """Plain text as HubSpot's rich-text editor saves it: entities escaped, each line break a
    `<br>`, the whole in one paragraph. Source: HUBSPOT.md (Tasks: `hs_task_body` is a
    rich-text field; a task a person edits in HubSpot comes back as HTML)."""
    lines = html.escape(text, quote=True).split("\n")
    return f"<p>{'<br>'.join(lines)}</p>"


def admin_routes(api: FastAPI, sb: Sandbox) -> None:
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
            gate.set_faults(settings_from_json(Faults, await read_object(request)))
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
            gate.limits = settings_from_json(Limits, await read_object(request), gate.limits)
        except ValueError as exc:
            raise refuse(exc) from None
        gate.window.clear()
        gate.search_window.clear()
        gate.association_window.clear()
        gate.daily_used = 0
        return asdict(gate.limits)

    @api.get("/_sandbox/config")
    async def get_config() -> dict[str, Any]:
        return asdict(sb.config)

    @api.put("/_sandbox/config")
    async def put_config(request: Request) -> dict[str, Any]:
        try:
            config = settings_from_json(SandboxConfig, await read_object(request), sb.config)
        except ValueError as exc:
            raise refuse(exc) from None
        sb.config = config
        store.search_lag_ms = int(config.search_lag_ms)
        return asdict(config)

    @api.post("/_sandbox/tasks/{task_id}/edit")
    async def edit_task(task_id: str, request: Request) -> dict[str, Any]:
        """Save a task as a person would in HubSpot's editor: `{"hs_task_body": text}` (or the
        current body when omitted) is stored as rich text (see `as_rich_text`)."""
        record = store.get("tasks", task_id)
        if record is None:
            raise not_found(f"task {task_id} does not exist")
        body = await read_object(request)
        text = body.get("hs_task_body", record.props.get("hs_task_body") or "")
        store.apply("tasks", record, {"hs_task_body": as_rich_text(str(text))})
        return store.render("tasks", record, ["hs_task_body"])

    @api.post("/_sandbox/owners", status_code=201)
    async def add_owner(request: Request) -> dict[str, Any]:
        body = await read_object(request)
        owner = store.add_owner(
            body.get("email"),
            body.get("firstName"),
            body.get("lastName"),
            archived=bool(body.get("archived", False)),
            owner_id=body.get("id"),
        )
        return owner.to_json()

    @api.post("/_sandbox/seed")
    async def reseed(request: Request) -> dict[str, Any]:
        """Replace all data: `{"seed": "demo"|"empty", "contacts": N, "now": ISO}`."""
        body = await read_object(request)
        seed = body.get("seed", "demo")
        if seed not in ("demo", "empty"):
            raise refuse(ValueError("seed must be demo or empty"))
        if body.get("now"):
            now: datetime | None = datetime.fromisoformat(body["now"].replace("Z", "+00:00"))
        else:  # keep a fixed clock fixed
            now = datetime.fromtimestamp(store.anchor_ms / 1000, UTC) if store.fixed else None
        store.reset(now)
        sb.cache = SearchCache()
        seed_store(store, seed, body.get("contacts"))
        return {"seed": seed, **{t: len(tbl.records) for t, tbl in store.tables.items()}}
