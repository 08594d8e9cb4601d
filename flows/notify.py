"""Owner notifications: one digest per owner after each cycle, an ops summary, failure alerts.

The planning is pure: `plan_digests` groups the run's *applied* changes by recipient into
sections (New SQLs, Tasks created, Moved to Attempted, Recycled), routing contacts whose owner
cannot be reached (none, archived, no usable email) to the ops address with the reason;
`plan_ops_summary` collects counts, failures and skips for ops. Rendering uses the Jinja
templates in `templates/` (HTML with autoescape, plain text without) into `multipart/alternative`
messages with a deterministic Message-ID. `notify_owners` (a Prefect task) renders, writes the
outbox and delivers it (see `tasks.email`); `alert_ops_on_failure` is an `on_failure` /
`on_crashed` hook that mails ops when a flow run fails.

Example:
    ```python
    from config.rules import Rules
    from flows.notify import plan_digests, render_digest
    from leadops.model import Change, ChangeResult, Outcome, Owner

    change = Change("promote", "101", "Ada Lovelace", "7", "score 72 ≥ 50",
                    properties={"lifecyclestage": "salesqualifiedlead"})
    owners = {"7": Owner("7", "grace@example.com", "Grace", "Hopper")}
    digests = plan_digests([ChangeResult(change, Outcome.APPLIED)], owners, Rules(),
                           portal_id="12345", run_name="amber-fox")
    print(render_digest(digests[0], Rules()).get_body(("plain",)).get_content())
    ```
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State

from config.rules import Rules, load_rules
from config.settings import Settings
from leadops.model import Change, ChangeResult, Outcome, Owner
from tasks.email import (
    DeliveryReport,
    deliver_outbox,
    run_logger,
    scrub,
    secrets_of,
    write_outbox,
)
from tasks.identity import DEFAULT_UI_DOMAIN

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RECORD_URL = "https://{domain}/contacts/{portal}/record/0-1/{contact}"
NEW_SQLS, TASKS, ATTEMPTED, RECYCLED = "New SQLs", "Tasks created", "Moved to Attempted", "Recycled"
COLUMNS: Mapping[str, tuple[str, ...]] = {
    NEW_SQLS: ("Score", "Why"),
    TASKS: ("Task", "Due", "Why"),
    ATTEMPTED: ("Change", "Why"),
    RECYCLED: ("Nurture list", "Why"),
}
OPS_NAME = "ops"
MAX_TEXT = 200  # longest contact-controlled value shown (names, task subjects)
MAX_ERROR = 2000  # longest error text in an alert
SUMMARY_LIMIT = 50  # failures / skips listed in the ops summary
SMTP_LINE_LIMIT = 990  # bytes per body line SMTP allows (998), with a margin
_SCORE = re.compile(r"\bscore (\S+) ≥")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


# ---------------------------------------------------------------- records the templates read


@dataclass(frozen=True)
class DigestLine:
    """One contact in a section: its name, record link, one value per section column.

    `note` says why an ops digest holds it ("no owner", "owner archived: …").
    """

    contact_id: str
    name: str
    url: str
    values: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...]
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True)
class Digest:
    """Everything one recipient is told about one run."""

    run_name: str
    recipient: str
    owner_name: str
    sections: tuple[Section, ...]
    for_ops: bool = False

    @property
    def total(self) -> int:
        return sum(len(section.lines) for section in self.sections)


@dataclass(frozen=True)
class SummaryLine:
    """A failed or skipped change in the ops summary."""

    contact_id: str
    name: str
    url: str
    rule: str
    text: str


@dataclass(frozen=True)
class RuleCount:
    rule: str
    applied: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class OpsSummary:
    """The short run summary ops receive: counts, who got a digest, failures and skips."""

    run_name: str
    counts: tuple[RuleCount, ...]
    digests: tuple[tuple[str, str, int], ...]  # (name, address, lines)
    failures: tuple[SummaryLine, ...]
    skipped: tuple[SummaryLine, ...]
    more_failures: int = 0
    more_skipped: int = 0
    routed_to_ops: int = 0


@dataclass(frozen=True)
class FailureAlert:
    """What ops are told when a flow run fails or crashes."""

    flow_name: str
    run_name: str
    state: str
    error: str
    url: str | None = None


# ---------------------------------------------------------------- small pure helpers


def one_line(text: object, limit: int = MAX_TEXT) -> str:
    """`text` on one line (CR, LF and other breaks become spaces), at most `limit` characters.

    Example:
        ```python
        from flows.notify import one_line

        assert one_line("Ada\\r\\nBcc: x@evil.test") == "Ada Bcc: x@evil.test"
        ```
    """
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def text_block(text: str, limit: int) -> str:
    """Multi-line text (an error) with line breaks normalised and other control characters
    removed, at most `limit` characters."""
    lines = (re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", line) for line in text.splitlines())
    flat = "\n".join(lines).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def record_url(portal_id: str, contact_id: str, ui_domain: str = DEFAULT_UI_DOMAIN) -> str:
    """The contact's HubSpot record page, on the portal's UI domain (EU: app-eu1.hubspot.com)."""
    return RECORD_URL.format(
        domain=quote(ui_domain, safe=""),
        portal=quote(portal_id, safe=""),
        contact=quote(contact_id, safe=""),
    )


def usable_email(value: str | None) -> bool:
    """A single plain address that an email header can carry."""
    if not value or not _EMAIL.match(value):
        return False
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError):
        return False
    return True


def _digest_of(text: str, size: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24].strip("-") or "run"


def message_id(run_name: str, kind: str, recipient: str, content: str, sender: str) -> str:
    """A Message-ID that depends only on the run, the kind, the recipient and the content.

    The same run re-rendering the same digest gets the same id (so the outbox never sends it
    twice); a retried run that has *new* changes for someone gets a new id (so they are not
    lost).
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "leadops.invalid"
    unique = _digest_of(f"{run_name}\0{content}", 8)  # the full run name: the slug is cut
    parts = (_slug(run_name), kind, _digest_of(recipient.lower(), 8), unique)
    return f"<{'.'.join(parts)}@{domain}>"


# ---------------------------------------------------------------- routing and sections


def route(owner_id: str | None, owners: Mapping[str, Owner]) -> tuple[Owner | None, str]:
    """The owner to mail, or None and why the contact goes to ops instead."""
    if not owner_id:
        return None, "no owner"
    owner = owners.get(owner_id)
    if owner is None:
        return None, f"owner {one_line(owner_id, 40)} not found"
    if owner.archived:
        return None, f"owner archived: {one_line(owner.name)}"
    if not owner.email:
        return None, f"owner has no email: {one_line(owner.name)}"
    if not usable_email(owner.email):
        return None, f"owner email is not usable: {one_line(owner.name)}"
    return owner, ""


def section_of(change: Change) -> str | None:
    """The digest section a change belongs to (None: not something owners are told)."""
    if change.skip:
        return None
    if change.task is not None:
        return TASKS
    if change.rule in ("promote", "new_lead") and change.properties:
        return NEW_SQLS
    if change.rule == "attempted" and change.properties:
        return ATTEMPTED
    if change.rule == "recycle":
        return RECYCLED
    return None


def _values(title: str, changes: Sequence[Change]) -> tuple[str, ...]:
    """The section's column values for one contact (several changes only for Recycled)."""
    first = changes[0]
    if title == NEW_SQLS:
        score = _SCORE.search(first.reason)
        return (score.group(1) if score else "—", one_line(first.reason))
    if title == TASKS:
        task = first.task
        assert task is not None
        due = f"{task.due:%a %Y-%m-%d %H:%M %Z}"
        return (one_line(task.subject), due, one_line(first.reason))
    if title == ATTEMPTED:
        return (one_line(first.describe()), one_line(first.reason))
    update = next((c for c in changes if c.properties), None)
    lists = [c.list_name for c in changes if c.list_name]
    return (one_line(", ".join(lists)) or "—", one_line(update.reason if update else "—"))


def _lines(
    title: str, items: Sequence[tuple[Change, str]], portal_id: str, ui_domain: str
) -> tuple[DigestLine, ...]:
    """Section lines; Recycled merges a contact's update and list change into one line."""
    groups: dict[str, list[tuple[Change, str]]] = {}
    for index, (change, note) in enumerate(items):
        key = change.contact_id if title == RECYCLED else str(index)
        groups.setdefault(key, []).append((change, note))
    return tuple(
        DigestLine(
            contact_id=group[0][0].contact_id,
            name=one_line(group[0][0].contact_name) or f"contact {group[0][0].contact_id}",
            url=record_url(portal_id, group[0][0].contact_id, ui_domain),
            values=_values(title, [change for change, _ in group]),
            note=group[0][1],
        )
        for group in groups.values()
    )


@dataclass
class _Bucket:
    recipient: str
    name: str
    for_ops: bool = False
    items: dict[str, list[tuple[Change, str]]] = field(default_factory=dict)


def _bucket_changes(
    changes: Iterable[Change], owners: Mapping[str, Owner], rules: Rules
) -> list[_Bucket]:
    buckets: dict[str, _Bucket] = {}
    for change in changes:
        title = section_of(change)
        if title is None:
            continue
        owner, note = route(change.owner_id, owners)
        address = owner.email if owner and owner.email else rules.notify.ops_email
        name = owner.name if owner else OPS_NAME
        bucket = buckets.setdefault(address.lower(), _Bucket(address, one_line(name)))
        bucket.for_ops = bucket.for_ops or owner is None
        bucket.items.setdefault(title, []).append((change, note))
    return sorted(buckets.values(), key=lambda b: (b.for_ops, b.name.lower(), b.recipient))


def plan_digests(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
) -> list[Digest]:
    """One digest per recipient with something new; only applied changes are told.

    Contacts without a reachable owner go to `rules.notify.ops_email`, each with the reason.
    """
    applied = (r.change for r in results if r.outcome is Outcome.APPLIED)
    return [
        Digest(
            run_name=run_name,
            recipient=bucket.recipient,
            owner_name=bucket.name,
            sections=tuple(
                Section(
                    title, COLUMNS[title], _lines(title, bucket.items[title], portal_id, ui_domain)
                )
                for title in COLUMNS
                if title in bucket.items
            ),
            for_ops=bucket.for_ops,
        )
        for bucket in _bucket_changes(applied, owners, rules)
    ]


def routed_to_ops(digests: Iterable[Digest]) -> int:
    """How many digest lines went to ops because their owner could not be reached."""
    return sum(1 for d in digests for s in d.sections for line in s.lines if line.note)


def _summary_lines(
    results: Sequence[ChangeResult], outcome: Outcome, portal_id: str, ui_domain: str
) -> list[SummaryLine]:
    return [
        SummaryLine(
            contact_id=r.change.contact_id,
            name=one_line(r.change.contact_name) or f"contact {r.change.contact_id}",
            url=record_url(portal_id, r.change.contact_id, ui_domain),
            rule=r.change.rule,
            text=one_line(r.error if outcome is Outcome.FAILED else r.change.reason, 500),
        )
        for r in results
        if r.outcome is outcome
    ]


def plan_ops_summary(
    results: Sequence[ChangeResult],
    digests: Sequence[Digest],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
) -> OpsSummary | None:
    """The ops run summary, or None when it is switched off or the run changed nothing."""
    if not rules.notify.ops_summary or not results:
        return None
    counts: dict[str, Counter[Outcome]] = {}
    for result in results:
        counts.setdefault(result.change.rule, Counter())[result.outcome] += 1
    failures = _summary_lines(results, Outcome.FAILED, portal_id, ui_domain)
    skipped = _summary_lines(results, Outcome.SKIPPED, portal_id, ui_domain)
    return OpsSummary(
        run_name=run_name,
        counts=tuple(
            RuleCount(rule, c[Outcome.APPLIED], c[Outcome.FAILED], c[Outcome.SKIPPED])
            for rule, c in counts.items()
        ),
        digests=tuple((d.owner_name, d.recipient, d.total) for d in digests),
        failures=tuple(failures[:SUMMARY_LIMIT]),
        skipped=tuple(skipped[:SUMMARY_LIMIT]),
        more_failures=max(0, len(failures) - SUMMARY_LIMIT),
        more_skipped=max(0, len(skipped) - SUMMARY_LIMIT),
        routed_to_ops=routed_to_ops(digests),
    )


# ---------------------------------------------------------------- rendering


@lru_cache(maxsize=1)
def html_env() -> Environment:
    """Jinja for the HTML parts: autoescape on, undefined names are errors."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )


@lru_cache(maxsize=1)
def text_env() -> Environment:
    """Jinja for plain-text parts: no escaping, tidy whitespace."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["zip"] = zip
    return env


def render_parts(name: str, **context: Any) -> tuple[str, str]:
    """`templates/<name>.txt.j2` and `<name>.html.j2` rendered with the same context."""
    text = text_env().get_template(f"{name}.txt.j2").render(**context)
    html = html_env().get_template(f"{name}.html.j2").render(**context)
    return text, html


def _subject(rules: Rules, digest: Digest) -> str:
    template = SandboxedEnvironment(autoescape=False).from_string(rules.notify.subject)
    return one_line(template.render(total=digest.total, owner=digest.owner_name), 250)


def build_message(
    rules: Rules, *, to: Address, subject: str, parts: tuple[str, str], msg_id: str
) -> EmailMessage:
    """A `multipart/alternative` message (text, then HTML) from the configured sender."""
    msg = EmailMessage()
    msg["From"] = one_line(rules.notify.sender, 300)
    msg["To"] = to
    msg["Subject"] = one_line(subject, 250)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = msg_id
    msg.set_content(parts[0], cte=_text_cte(parts[0]))
    msg.add_alternative(parts[1], subtype="html")
    return msg


def _text_cte(text: str) -> str:
    """8bit keeps the plain part readable in the outbox; quoted-printable past SMTP's line limit."""
    longest = max((len(line.encode("utf-8")) for line in text.splitlines()), default=0)
    return "8bit" if longest <= SMTP_LINE_LIMIT else "quoted-printable"


def render_digest(digest: Digest, rules: Rules) -> EmailMessage:
    """The owner's digest as an email: To the recipient, Subject from `notify.subject`."""
    subject = _subject(rules, digest)
    parts = render_parts("digest", digest=digest, subject=subject)
    content = repr((digest.sections, digest.owner_name))
    return build_message(
        rules,
        to=Address(display_name=digest.owner_name, addr_spec=digest.recipient),
        subject=subject,
        parts=parts,
        msg_id=message_id(
            digest.run_name, "digest", digest.recipient, content, rules.notify.sender
        ),
    )


def render_ops_summary(summary: OpsSummary, rules: Rules) -> EmailMessage:
    """The ops run summary as an email to `notify.ops_email`."""
    totals = [sum(getattr(c, k) for c in summary.counts) for k in ("applied", "failed", "skipped")]
    subject = (
        f"leadops run {one_line(summary.run_name, 80)}: {totals[0]} applied, "
        f"{totals[1]} failed, {totals[2]} skipped"
    )
    ops = rules.notify.ops_email
    return build_message(
        rules,
        to=Address(display_name=OPS_NAME, addr_spec=ops),
        subject=subject,
        parts=render_parts("ops_summary", summary=summary, subject=subject),
        msg_id=message_id(summary.run_name, "summary", ops, repr(summary), rules.notify.sender),
    )


def render_failure_alert(alert: FailureAlert, rules: Rules) -> EmailMessage:
    """The failure alert as an email to `notify.ops_email`."""
    subject = f"leadops: {alert.flow_name} run {alert.run_name} {alert.state.lower()}"
    ops = rules.notify.ops_email
    return build_message(
        rules,
        to=Address(display_name=OPS_NAME, addr_spec=ops),
        subject=subject,
        parts=render_parts("failure_alert", alert=alert, subject=one_line(subject, 250)),
        msg_id=message_id(alert.run_name, "alert", ops, repr(alert), rules.notify.sender),
    )


# ---------------------------------------------------------------- Prefect side


@dataclass
class NotifySummary:
    """What `notify_owners` did: digests written, whether ops got a summary, the delivery."""

    run_name: str
    digests: int
    recipients: list[str]
    routed_to_ops: int
    ops_summary: bool
    written: list[str]
    delivery: DeliveryReport

    def describe(self) -> str:
        return f"{self.digests} digest(s) for run {self.run_name}; {self.delivery.describe()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "run_name": self.run_name,
            "digests": self.digests,
            "recipients": len(self.recipients),
            "routed_to_ops": self.routed_to_ops,
            "ops_summary": self.ops_summary,
            "written": len(self.written),
            "delivery": self.delivery.as_dict(),
        }


def current_run_name() -> str:
    """`<flow-run name>-<first 8 of its id>`: unique per run, the same when it is retried."""
    from prefect.runtime import flow_run

    run_id = str(flow_run.id or "")
    if not run_id:
        return f"manual-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return f"{flow_run.name}-{run_id[:8]}"


def _scrubbed(result: ChangeResult, secrets: Sequence[str]) -> ChangeResult:
    name = scrub(result.change.contact_name, secrets)
    reason = scrub(result.change.reason, secrets)
    error = result.error and scrub(result.error, secrets)
    if (name, reason, error) == (result.change.contact_name, result.change.reason, result.error):
        return result  # nothing to mask: no copy (a 100k-contact run has ~77k results)
    change = replace(result.change, contact_name=name, reason=reason)
    return replace(result, change=change, error=error)


def compose(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
) -> tuple[list[Digest], list[EmailMessage]]:
    """The run's digests and every message to send (digests, then the ops summary)."""
    digests, messages, _ = compose_lazily(results, owners, rules, settings, run_name)
    return digests, list(messages)


def compose_lazily(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str,
) -> tuple[list[Digest], Iterator[EmailMessage], bool]:
    """As `compose`, but each message is rendered only when iterated (one in memory at a
    time: a digest of 25,000 changes is ~15 MB of email); the flag: an ops summary is last."""
    secrets = secrets_of(settings)
    clean = [_scrubbed(r, secrets) for r in results]
    links = {
        "portal_id": settings.hubspot_portal_id or "0",
        "ui_domain": settings.hubspot_ui_domain or DEFAULT_UI_DOMAIN,
        "run_name": run_name,
    }
    digests = plan_digests(clean, owners, rules, **links)
    summary = plan_ops_summary(clean, digests, rules, **links)
    del clean
    ops = [summary] if summary is not None else []
    messages = chain(
        (render_digest(d, rules) for d in digests),
        (render_ops_summary(s, rules) for s in ops),
    )
    return digests, messages, summary is not None


@task(name="notify-owners", cache_policy=NO_CACHE)
def notify_owners(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    settings: Settings,
    run_name: str | None = None,
) -> NotifySummary:
    """Render each owner's digest (and the ops summary), write them to the outbox, deliver.

    Call it after the rules have been applied; dry runs should not call it. `run_name` names
    the messages (default: the current flow run's name and id), so it must be stable across
    retries of one run and unique across runs.
    """
    run_name = run_name or current_run_name()
    digests, messages, ops_summary = compose_lazily(results, owners, rules, settings, run_name)
    written = write_outbox(settings, messages)
    delivery = deliver_outbox(settings)
    summary = NotifySummary(
        run_name=run_name,
        digests=len(digests),
        recipients=[d.recipient for d in digests],
        routed_to_ops=routed_to_ops(digests),
        ops_summary=ops_summary,
        written=[p.name for p in written],
        delivery=delivery,
    )
    run_logger().info(summary.describe())
    return summary


def run_url(flow_run_id: object) -> str | None:
    """The run's page in the Prefect UI, when `PREFECT_UI_URL` (or the API URL) is set."""
    from prefect.settings import get_current_settings

    base = get_current_settings().ui_url
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None


def send_failure_alert(
    flow: Flow[..., Any],
    flow_run: FlowRun,
    state: State,
    settings: Settings | None = None,
    rules: Rules | None = None,
) -> DeliveryReport | None:
    """Mail ops about a failed or crashed run through the outbox; never raises.

    `settings` and `rules` default to the environment and `settings.lifecycle_config`.
    Returns the delivery report, or None when the alert could not even be written.
    """
    secrets: list[str] = []
    try:
        settings = settings or Settings()
        secrets = secrets_of(settings)
        rules = rules or load_rules(settings.lifecycle_config)
        error = scrub(str(state.message or state.name or "no message"), secrets)
        alert = FailureAlert(
            flow_name=one_line(flow.name, 100),
            run_name=one_line(flow_run.name, 100),
            state=one_line(state.name or "Failed", 40),
            error=text_block(error, MAX_ERROR),
            url=run_url(flow_run.id),
        )
        write_outbox(settings, [render_failure_alert(alert, rules)])
        report = deliver_outbox(settings)
    except Exception as exc:  # a hook must never raise: it would hide the real failure
        run_logger().warning("could not send the failure alert: %s", scrub(repr(exc), secrets))
        return None
    if report.errors:
        run_logger().warning("failure alert not delivered yet: %s", report.describe())
    return report


def alert_ops_on_failure(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
    """Prefect state hook: email ops that a flow run failed or crashed.

    Example:
        ```python
        from prefect import flow

        from flows.notify import alert_ops_on_failure

        @flow(on_failure=[alert_ops_on_failure], on_crashed=[alert_ops_on_failure])
        def nightly() -> None:
            raise RuntimeError("boom")  # ops get "leadops: nightly run <name> failed"
        ```
    """
    send_failure_alert(flow, flow_run, state)
