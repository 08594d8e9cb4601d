"""The lead report for people: one view of the tables (names on one line, record links, long
lists cut for mail), rendered by `templates/lead_report.*.j2` as an email (HTML with the
charts inline by Content-ID, plain text beside it) or as a standalone HTML file.

Example:
    ```python
    from notify.report_charts import draw_charts
    from notify.report_render import report_messages

    messages = report_messages(report, draw_charts(report), rules, portal_id="12345",
                               ui_domain="app.hubspot.com", run_name="weekly-1")
    ```
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from config.rules import Rules
from insights.outcomes import OUTCOMES
from insights.report import LeadReport
from notify.render import build_message, render_parts
from notify.text import OPS_NAME, message_id, one_line, record_url

MAIL_ROWS = 50  # listed contacts shown per section in mail; the CSV has them all


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _count_rate(count: int, share: float | None) -> str:
    return f"{count}" if share is None else f"{count} ({100 * share:.0f} %)"


def report_view(
    report: LeadReport,
    *,
    portal_id: str,
    ui_domain: str,
    notes: Sequence[str] = (),
    scope: str = "",
    limit: int | None = MAIL_ROWS,
) -> dict[str, Any]:
    """What the templates show: the report's tables with names made one-line and linked."""
    tables = report.tables()

    def listed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            row
            | {
                "name": one_line(row["contact"]),
                "owner": one_line(row["owner"], 80),
                "url": record_url(portal_id, row["contact_id"], ui_domain),
            }
            for row in rows[:limit]
        ]

    def owned(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row | {"owner": one_line(row["owner"], 80)} for row in rows]

    return {
        "since": f"{report.since:%Y-%m-%d}",
        "until": f"{report.until:%Y-%m-%d %H:%M} UTC",
        "contacts": report.contacts,
        "scope": scope,
        "notes": list(notes),
        "outcomes": OUTCOMES,
        "outcome_labels": [o.replace("_", " ").capitalize() for o in OUTCOMES],
        "funnel": tables["funnel"],
        "time_in_status": owned(tables["time_in_status"]),
        "stuck": listed(tables["stuck"]),
        "stuck_total": report.stuck.total(),
        "stuck_days": report.rules.report.stuck_days,
        "sla_hours": report.rules.report.first_touch_sla_hours,
        "first_touch": owned(tables["first_touch"]),
        "breaches": listed(tables["sla_breaches"]),
        "breaches_total": report.breaches.total(),
        "score_property": report.rules.promote.score_property,
        "threshold": report.rules.promote.threshold,
        "score_bands": tables["score_bands"],
        "what_if": tables["what_if"],
    }


def render_report(
    view: Mapping[str, Any], subject: str, images: Mapping[str, str]
) -> tuple[str, str]:
    """(plain text, HTML); `images` maps a chart name to its `src` (a cid: URL or a file)."""
    return render_parts(
        "lead_report",
        view=view,
        subject=subject,
        images=images,
        num=_num,
        count_rate=_count_rate,
    )


def _cid(name: str, run_name: str) -> str:
    return f"{name}.{hashlib.sha256(run_name.encode()).hexdigest()[:8]}@leadops"


def report_message(
    view: Mapping[str, Any],
    charts: Mapping[str, bytes],
    rules: Rules,
    *,
    to: Address,
    run_name: str,
) -> EmailMessage:
    """The report as `multipart/alternative`: text, then HTML in `multipart/related` with
    every chart inline (`<img src="cid:…">`, so mail clients show them without fetching)."""
    subject = f"leadops lead report {view['since']} – {view['until']}"
    if view["scope"]:
        subject += f" ({view['scope']})"
    cids = {name: _cid(name, run_name) for name in charts}
    parts = render_report(view, subject, {name: f"cid:{cid}" for name, cid in cids.items()})
    content = repr((sorted(view.items(), key=str), to.addr_spec))
    msg = build_message(
        rules,
        to=to,
        subject=subject,
        parts=parts,
        msg_id=message_id(run_name, "report", to.addr_spec, content, rules.notify.sender),
    )
    html = msg.get_body(("html",))
    assert html is not None
    for name, png in charts.items():
        html.add_related(png, "image", "png", cid=f"<{cids[name]}>", filename=f"{name}.png")
    return msg


def report_messages(
    report: LeadReport,
    charts: Mapping[str, bytes],
    rules: Rules,
    *,
    portal_id: str,
    ui_domain: str,
    run_name: str,
    notes: Sequence[str] = (),
    manager_charts: Mapping[str, Mapping[str, bytes]] | None = None,
) -> list[EmailMessage]:
    """The report to ops, and to each manager in `report.managers` for their owners (charts
    of their own view from `manager_charts`, by manager email, else the portal's)."""
    common = {"portal_id": portal_id, "ui_domain": ui_domain, "notes": notes}
    ops = Address(display_name=OPS_NAME, addr_spec=rules.notify.ops_email)
    messages = [
        report_message(report_view(report, **common), charts, rules, to=ops, run_name=run_name)
    ]
    for email, owner_ids in rules.report.managers.items():
        mine = report.for_owners(owner_ids)
        names = ", ".join(mine.owner_name(o) for o in owner_ids)
        view = report_view(mine, scope=one_line(f"owners: {names}", 120), **common)
        their_charts = (manager_charts or {}).get(email, charts)
        messages.append(
            report_message(
                view, their_charts, rules, to=Address(addr_spec=email), run_name=run_name
            )
        )
    return messages
