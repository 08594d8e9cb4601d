"""The lead report: a read-only flow (it writes nothing to HubSpot) that reads SQLs, lead
statuses with their histories, first touches and MQL scores in batches, computes the report
in pure code (`insights`), and publishes it as charts in an email to ops (and managers), files,
CSV and Prefect artifacts.

Reads: contact searches (keyset-paged, 200 a page), batch reads with
`propertiesWithHistory` (50 a call, HubSpot's cap), and the associations and engagements of
contacts that became New in the window (1,000 contacts a batch). Only aggregates stay in
memory between batches: listed contacts go to the CSV as they are found, and each owner's
longest (`insights.listed.LISTED_KEPT`) are kept for the email, the artifacts and the HTML.

Example:
    ```python
    from flows.lead_report import ReportParams, lead_report

    summary = lead_report(ReportParams(email=False))  # settings from HUBSPOT_* / .env
    print(summary["files"]["html"])
    ```
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.rules import Rules, load_rules
from config.settings import DEFAULT_UI_DOMAIN, Settings
from flows.artifact_keys import artifact_key
from flows.engine import gateway_for, window_filters
from flows.params import RunSettings
from gateway.client import Filter, HubSpotGateway
from gateway.identity import settings_for_portal
from insights.build import ReportBuilder
from insights.report import LeadReport
from model.records import Record
from notify.alerts import ALERT_HOOKS
from notify.deliver import current_run_name
from notify.outbox import deliver_outbox, write_outbox
from notify.report_files import LISTED_CSV, ListedCsv, write_report_files
from notify.report_render import report_messages, report_view
from rules.kit import ENGAGEMENT_PROPERTIES, SQL_DATE, contact_properties, eq, has
from tasks.crm import load_engagements, read_contacts, unique_batches

HISTORY = ("lifecyclestage", "hs_lead_status")
ARTIFACT_ROWS = 1000
TOUCH_PROPERTIES = {kind: ENGAGEMENT_PROPERTIES[kind] for kind in ("email", "call")}


class ReportParams(BaseModel):
    """Which SQLs the report covers: those that became SQL in `[since, until)`; stuck leads
    and MQL scores are judged as of `until`."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(
        default=None, description="Window start; empty: `report.lookback_days` before until."
    )
    until: datetime | None = Field(default=None, description="Window end; now if empty.")
    email: bool = Field(default=True, description="Mail the report (report.email must be on).")

    @model_validator(mode="after")
    def _ordered(self) -> ReportParams:
        if self.since and self.until and self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")
        return self

    def window(self, rules: Rules) -> tuple[datetime, datetime]:
        until = (self.until or datetime.now(UTC)).astimezone(UTC)
        since = self.since or until - timedelta(days=rules.report.lookback_days)
        return since.astimezone(UTC), until


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def candidate_searches(rules: Rules, since: datetime, until: datetime) -> list[list[Filter]]:
    """Contacts the report needs history for: SQLs of the window, leads New or Attempted now
    (stuck), and contacts with a lead status modified in the window (time in status)."""
    roles = rules.lead_status
    became_sql = [
        {"propertyName": SQL_DATE, "operator": "GTE", "value": _ms(since)},
        {"propertyName": SQL_DATE, "operator": "LT", "value": _ms(until)},
    ]
    return [
        became_sql,
        [eq("hs_lead_status", roles.new)],
        [eq("hs_lead_status", roles.attempted)],
        [has("hs_lead_status"), *window_filters(since, until)],
    ]


def candidates(gateway: HubSpotGateway, searches: list[list[Filter]]) -> Iterator[list[Record]]:
    """Every search's matches (ids only), each contact once, in batches of 1,000."""
    pages = (page for f in searches for page in gateway.search("contacts", f, ["hs_object_id"]))
    return unique_batches(pages, set())


@task(name="report-batch", cache_policy=NO_CACHE)
def report_batch(
    gateway: HubSpotGateway, ids: Sequence[str], builder: ReportBuilder, history: Sequence[str]
) -> int:
    """Read one batch of contacts with history (and the touches of its New leads) and count
    it into the builder; returns how many were read. The records never leave the task:
    Prefect keeps a link to every element of a list a task returns until the flow run ends
    (~25 MB at 100,000 contacts)."""
    rules = builder.rules
    properties = contact_properties(SQL_DATE, rules.promote.score_property)
    records = read_contacts.fn(gateway, ids, properties, history)
    fresh = [r.id for r in records if builder.needs_touches(r)]
    touches = load_engagements.fn(gateway, fresh, TOUCH_PROPERTIES) if fresh else {}
    builder.add(records, touches)
    return len(records)


def read_report(
    gateway: HubSpotGateway, builder: ReportBuilder, rules: Rules, since: datetime, until: datetime
) -> None:
    """Feed the builder batch by batch: contacts with history, touches of New leads, MQLs."""
    logger = get_run_logger()
    searches = candidate_searches(rules, since, until)
    history = [*HISTORY, rules.promote.score_property]
    for number, found in enumerate(candidates(gateway, searches), start=1):
        ids = [record.id for record in found]
        read = report_batch(gateway, quote(ids), quote(builder), history)
        logger.info("batch %d: %d contacts read (%d in all)", number, read, builder.contacts)
    mqls = [eq("lifecyclestage", rules.stages.mql)]
    for page in gateway.search("contacts", mqls, ["lifecyclestage", rules.promote.score_property]):
        builder.add_mqls(page)


def missing_statuses(gateway: HubSpotGateway, rules: Rules) -> list[str]:
    """Configured statuses the portal's hs_lead_status lacks: reported, never an error (the
    report counts none of them)."""
    info = gateway.property_info("contacts", "hs_lead_status")
    options = set(info.options) if info else set()
    roles = rules.lead_status
    wanted = {roles.connected, roles.open_deal, rules.report.meeting_scheduled_status}
    wanted |= {roles.new, roles.attempted, roles.unqualified}
    return sorted(wanted - options)


def publish_artifacts(report: LeadReport, notes: list[str], settings: Settings) -> None:
    """Every table as a Prefect table artifact (listed contacts: the first `ARTIFACT_ROWS`;
    Prefect refuses events of many MB), and a markdown summary."""
    totals = listed_totals(report)
    for name, rows in report.tables().items():
        total = totals.get(name, len(rows))
        shown = f"; the first {min(ARTIFACT_ROWS, len(rows))} of {total}, all in the CSV"
        create_table_artifact(
            key=artifact_key(f"lead-report-{name.replace('_', '-')}", settings),
            table=rows[:ARTIFACT_ROWS] or [{"note": "(none)"}],
            description=f"Lead report: {name.replace('_', ' ')}"
            + (shown if total > ARTIFACT_ROWS else ""),
        )
    create_markdown_artifact(
        key=artifact_key("lead-report-summary", settings),
        markdown=summary_markdown(report, notes),
        description="Lead report",
    )


def listed_totals(report: LeadReport) -> dict[str, int]:
    """How many contacts each list has (the tables keep each owner's longest only)."""
    return {"stuck": report.stuck.total(), "sla_breaches": report.breaches.total()}


def summary_markdown(report: LeadReport, notes: list[str]) -> str:
    tables = report.tables()
    total = tables["funnel"][-1] if tables["funnel"] else {"sqls": 0}
    overall = next(iter(tables["first_touch"]), {})
    lines = [
        "# Lead report",
        "",
        f"Window: {report.since.isoformat()} → {report.until.isoformat()}  ",
        f"Contacts read: {report.contacts}",
        "",
        "| what | value |",
        "|---|---|",
        f"| SQLs in the window | {total['sqls']} |",
        f"| stuck leads | {report.stuck.total()} |",
        f"| first touch within SLA | {overall.get('share_within_sla', '–')} |",
        f"| SLA breaches | {report.breaches.total()} |",
    ]
    return "\n".join([*lines, "", *[f"- {note}" for note in notes]])


def run_lead_report(params: ReportParams, settings: Settings | None = None) -> dict:
    """Read, compute, publish. Returns counts, the files written and the API calls made."""
    settings = settings or Settings()
    rules = load_rules(settings.lifecycle_config)
    since, until = params.window(rules)
    gateway = gateway_for(settings)
    calls_at_start = gateway.calls.copy()
    gateway.start_daily_budget(settings.leadops_daily_budget_share)
    settings = settings_for_portal(settings, gateway.portal_identity())
    owners = {owner.id: owner for owner in gateway.owners()}
    notes = [
        f"lead status {value!r} is not an option of hs_lead_status in this portal: counted as none"
        for value in missing_statuses(gateway, rules)
    ]
    links = {
        "portal_id": settings.hubspot_portal_id or "0",
        "ui_domain": settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
    }
    folder = settings.report_dir / f"lead-report-{until:%Y%m%dT%H%MZ}"
    with ListedCsv(folder / LISTED_CSV, owners, **links) as listed:
        builder = ReportBuilder(
            rules,
            since=since,
            until=until,
            owners=owners,
            tz=settings.timezone,
            on_listed=listed.write,
        )
        read_report(gateway, builder, rules, since, until)
    report = builder.finish()
    # matplotlib loads here, not at import: `prefect deploy` imports every flow module.
    from notify.report_charts import draw_charts

    charts = draw_charts(report)
    run_name = current_run_name()
    view = report_view(report, notes=notes, limit=None, **links)
    files = write_report_files(report, charts, view, folder)
    publish_artifacts(report, notes, settings)
    delivery = None
    if params.email and rules.report.email:
        manager_charts = {
            email: draw_charts(report.for_owners(ids))
            for email, ids in rules.report.managers.items()
        }
        messages = report_messages(
            report,
            charts,
            rules,
            run_name=run_name,
            notes=notes,
            manager_charts=manager_charts,
            **links,
        )
        write_outbox(settings, messages)
        delivery = deliver_outbox(settings)
    calls = gateway.calls - calls_at_start
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "contacts": report.contacts,
        "tables": {name: len(rows) for name, rows in report.tables().items()}
        | listed_totals(report),
        "stuck_by_owner": dict(report.stuck.counts),
        "files": {name: str(path.resolve()) for name, path in files.items()},
        "email": delivery.describe() if delivery else "not sent (email off)",
        "api_calls": sum(calls.values()),
        "calls": dict(calls),
        "notes": notes,
    }


@flow(name="lead-report", **ALERT_HOOKS)
def lead_report(params: ReportParams = ReportParams(), settings: RunSettings = None) -> dict:
    """The read-only lead report: funnel, time in status, stuck leads, first-touch SLA and
    score calibration, as charts by email, files and artifacts. Writes nothing to HubSpot."""
    return run_lead_report(params, settings)
