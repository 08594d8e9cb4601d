"""First-touch SLA breach alerts for managers: one email per breach, never two.

`plan_breach_alerts` (pure) addresses each new breach to the owner's manager
(`sla.managers`, by owner id or email), else `sla.escalation_email`, else ops;
`render_breach_alert` makes the email. Its Message-ID depends only on the breach and the
recipient, so an alert re-rendered after a killed run is dropped by the outbox as a copy.

Example:
    ```python
    from datetime import UTC, datetime

    from config.rules import Rules
    from model.records import Owner
    from notify.breaches import plan_breach_alerts, render_breach_alert
    from rules.sla import Breach

    now = datetime.now(UTC)
    breach = Breach("101", "Ada Lovelace", "7", now, now, "no outbound touch 4 hour(s) …")
    owners = {"7": Owner("7", "grace@example.com", "Grace", "Hopper")}
    [alert] = plan_breach_alerts([breach], owners, Rules(), portal_id="12345")
    print(render_breach_alert(alert, Rules())["To"])  # ops: no manager configured
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN
from model.records import Owner
from notify.plan import route
from notify.render import build_message, render_parts
from notify.text import OPS_NAME, message_id, one_line, record_url
from rules.sla import Breach


@dataclass(frozen=True)
class BreachAlert:
    """What a manager is told about one breach."""

    key: str
    recipient: str
    contact_name: str
    owner_name: str
    reason: str
    url: str
    note: str = ""  # why the owner could not be named (no owner, archived, …)


def plan_breach_alerts(
    breaches: Iterable[Breach],
    owners: Mapping[str, Owner],
    rules: Rules,
    *,
    portal_id: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
) -> list[BreachAlert]:
    alerts = []
    for breach in breaches:
        owner = owners.get(breach.owner_id or "")
        reachable, note = route(breach.owner_id, owners)
        manager = rules.sla.manager_of(breach.owner_id, owner.email if owner else None)
        alerts.append(
            BreachAlert(
                key=breach.key,
                recipient=manager or rules.notify.ops_email,
                contact_name=one_line(breach.contact_name) or f"contact {breach.contact_id}",
                owner_name=one_line(owner.name) if owner else "nobody",
                reason=one_line(breach.reason, 500),
                url=record_url(portal_id, breach.contact_id, ui_domain),
                note="" if reachable else note,
            )
        )
    return alerts


def render_breach_alert(alert: BreachAlert, rules: Rules) -> EmailMessage:
    subject = f"leadops: first-touch SLA missed for {alert.contact_name}"
    return build_message(
        rules,
        to=Address(
            display_name=OPS_NAME if alert.recipient == rules.notify.ops_email else "",
            addr_spec=alert.recipient,
        ),
        subject=subject,
        parts=render_parts("breach_alert", alert=alert, subject=one_line(subject, 250)),
        msg_id=message_id("sla-breach", "breach", alert.recipient, alert.key, rules.notify.sender),
    )
