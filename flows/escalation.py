"""First-touch SLA escalation in a cycle: find the breaches, alert managers once, remember.

After the rules ran (with follow-up among them) and when `sla.enabled`: the New leads whose
breach may have changed (`flows.sla_window`: every New lead in a full judgment) are read
with their lead-status history, emails, calls and tasks, in batches; `rules.sla` says which are
in breach and compares them with the breaches already told (`runstate.breaches`). A writing,
notifying run then writes one alert per new breach to the outbox, records the breaches as
told, and delivers; owners get the new breaches at the top of their digest (`notices`). The
outbox write comes first and the alert's Message-ID depends only on the breach: a run killed
between the two re-renders the same alert, which the outbox drops as a copy. Dry runs and
runs with notify off report the breaches and tell no one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prefect.utilities.annotations import quote

from config.settings import DEFAULT_UI_DOMAIN
from flows.engine import RunContext
from flows.sla_window import (
    deadlines_of,
    describe,
    lead_batches,
    settle,
    sla_window,
    triggered_leads,
)
from model.changes import Change, ChangeResult, Outcome
from notify.breaches import plan_breach_alerts, render_breach_alert
from notify.outbox import deliver_outbox, write_outbox
from notify.plan import SLA_NOTICE
from rules import followup
from rules.sla import (
    Breach,
    Escalation,
    escalation,
    find_breaches,
    late_touches,
    told_contact,
    told_fields,
)
from runstate.breaches import BreachBook
from tasks.crm import load_engagements

ENGAGEMENTS = {kind: followup.DEFINITION.engagements[kind] for kind in ("email", "call", "task")}


def escalate(ctx: RunContext, results: Sequence[ChangeResult], notes: list[str]) -> Escalation:
    """This run's breaches compared with those told; alerts sent when the run notifies.

    `results` are the rules' results: a lead attempted moved this run was touched (late, if
    its breach was told), which closes the breach with the touch named. Which leads are
    judged: `flows.sla_window` (every New lead, or those whose breach may have changed).
    """
    breaches: list[Breach] = []
    touched = {
        r.change.contact_id: r.change.reason
        for r in results
        if r.change.rule == "attempted" and r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
    }
    # Leads this run moved (or, dry, would move) off New: search may still show them as New.
    moved = {
        r.change.contact_id
        for r in results
        if r.outcome in (Outcome.APPLIED, Outcome.PLANNED)
        and r.change.properties.get("hs_lead_status", ctx.rules.lead_status.new)
        != ctx.rules.lead_status.new
    }
    book = BreachBook(ctx.settings)
    told = book.read()
    window = sla_window(ctx)
    notes.append(describe(window))
    triggered: list[str] = []
    if window.since is not None:
        told_contacts = [told_contact(key, fields) for key, fields in told.items()]
        triggered = triggered_leads(ctx, window.since, results, told_contacts)
    situation, properties = ctx.situation, followup.contact_properties(ctx.rules)
    deadlines: dict[str, datetime | None] = {}
    for ids, records in lead_batches(
        ctx, window, triggered, properties, followup.PROPERTIES_WITH_HISTORY
    ):
        activity = load_engagements(ctx.gateway, quote(ids), ENGAGEMENTS)
        breaches += find_breaches([r for r in records if r.id not in moved], activity, situation)
        touched.update(late_touches(records, activity, situation))
        deadlines |= deadlines_of(ids, records, activity, ctx)
    judged = None if window.full else set(triggered)
    result = escalation(breaches, told, touched, judged)
    if ctx.params.dry_run or not ctx.params.notify:
        return result
    alerts = plan_breach_alerts(
        result.new,
        ctx.owners(),
        ctx.rules,
        portal_id=ctx.settings.hubspot_portal_id or "0",
        ui_domain=ctx.settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
    )
    if alerts:
        write_outbox(ctx.settings, [render_breach_alert(alert, ctx.rules) for alert in alerts])
    closed = {c.key for c in result.closed}
    still = {key: fields for key, fields in told.items() if key not in closed}
    book.write(still | {b.key: told_fields(b) for b in result.new})
    settle(ctx, window, deadlines)
    if alerts:
        deliver_outbox(ctx.settings)
    return result


def notices(result: Escalation | None) -> list[ChangeResult]:
    """The new breaches as digest notices for their owners (nothing is written to HubSpot)."""
    if result is None:
        return []
    return [
        ChangeResult(
            Change(SLA_NOTICE, b.contact_id, b.contact_name, b.owner_id, b.reason),
            Outcome.APPLIED,
        )
        for b in result.new
    ]
