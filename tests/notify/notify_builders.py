"""Changes, results and owners for the notification tests (a small, realistic cycle)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from model.changes import Change, ChangeResult, Outcome, TaskSpec
from model.records import Owner

DUE = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
GRACE = Owner("7", "grace@example.com", "Grace", "Hopper")
ALAN = Owner("8", "alan@example.com", "Alan", "Turing")
IDLE = Owner("9", "idle@example.com", "Idle", "Owner")  # owns nothing new this run
ARCHIVED = Owner("10", "gone@example.com", "Gone", "Away", archived=True)
NO_EMAIL = Owner("11", None, "No", "Email")
OWNERS = {o.id: o for o in (GRACE, ALAN, IDLE, ARCHIVED, NO_EMAIL)}


def record_link(contact_id: str, portal: str = "12345") -> str:
    return f"https://app.hubspot.com/contacts/{portal}/record/0-1/{contact_id}"


def promote(contact_id: str, name: str, owner: str | None, score: int = 72) -> Change:
    return Change(
        "promote",
        contact_id,
        name,
        owner,
        f"score {score} ≥ 50",
        before={"lifecyclestage": "marketingqualifiedlead", "hs_lead_status": None},
        properties={"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "NEW"},
    )


def new_lead(contact_id: str, name: str, owner: str | None) -> Change:
    return Change(
        "new_lead",
        contact_id,
        name,
        owner,
        "SQL without lead status (created by hand or a form)",
        before={"hs_lead_status": None},
        properties={"hs_lead_status": "NEW"},
    )


def task(contact_id: str, name: str, owner: str | None, subject: str | None = None) -> Change:
    spec = TaskSpec("first_touch", subject or f"First touch: {name}", "body", DUE, "CALL", "HIGH")
    return Change("followup", contact_id, name, owner, "lead status NEW since today", task=spec)


def attempted(contact_id: str, name: str, owner: str | None) -> Change:
    return Change(
        "attempted",
        contact_id,
        name,
        owner,
        "outbound call on 2026-11-22 10:00 UTC",
        before={"hs_lead_status": "NEW"},
        properties={"hs_lead_status": "ATTEMPTED_TO_CONTACT"},
    )


def connected(contact_id: str, name: str, owner: str | None) -> Change:
    return Change(
        "connected",
        contact_id,
        name,
        owner,
        "connected inbound call on 2026-11-22 15:30 UTC",
        before={"hs_lead_status": "ATTEMPTED_TO_CONTACT"},
        properties={"hs_lead_status": "CONNECTED"},
    )


# What the portal's property definitions label these values (read once per run).
LABELS = {
    "hs_lead_status": {
        "NEW": "New",
        "ATTEMPTED_TO_CONTACT": "Attempted to contact",
        "CONNECTED": "Connected",
    },
    "lifecyclestage": {"marketingqualifiedlead": "Marketing qualified lead"},
}


def recycle(contact_id: str, name: str, owner: str | None, nurture: str) -> list[Change]:
    update = Change(
        "recycle",
        contact_id,
        name,
        owner,
        "lead status UNQUALIFIED",
        before={"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "UNQUALIFIED"},
        properties={"lifecyclestage": "lead", "hs_lead_status": ""},
    )
    membership = Change(
        "recycle", contact_id, name, owner, "product interest crm", list_name=nurture
    )
    return [update, membership]


def applied(*changes: Change) -> list[ChangeResult]:
    return [ChangeResult(c, Outcome.APPLIED) for c in changes]


def cycle_results() -> list[ChangeResult]:
    """Grace: one of each section; Alan: a task; orphans routed to ops; a failure; a skip."""
    results = applied(
        promote("101", "Ada Lovelace", "7"),
        task("101", "Ada Lovelace", "7"),
        attempted("102", "Bob Byte", "7"),
        *recycle("103", "Cy Cle", "7", "Nurture - CRM"),
        task("201", "Dee Dee", "8"),
        new_lead("301", "Orphan Annie", None),
        promote("302", "Archie Ved", "10"),
        attempted("303", "Nomail Ned", "11"),
        promote("304", "Lost Lou", "999"),
    )
    failed = ChangeResult(promote("401", "Fay Ling", "8"), Outcome.FAILED, "HTTP 500 from HubSpot")
    skipped = replace(promote("402", "Sky Pped", "8"), skip=True, reason="lead_score is 'n/a'")
    return [*results, failed, ChangeResult(skipped, Outcome.SKIPPED)]
