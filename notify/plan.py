"""Who hears what after a run: one digest per owner, an ops summary, failure alerts. Pure.

`plan_digests` groups the run's *applied* changes by recipient into sections (New SQLs, Tasks
created, Moved to Attempted, Moved up the ladder, Recycled), property values shown by their
labels in the portal (`labels`, read once per run; a value without one shows as itself),
routing contacts whose owner cannot be reached (none, archived, no usable email) to the ops
address with the reason; `plan_ops_summary` collects
counts, failures and skips for ops. Then `notify.render` turns them into emails,
`notify.outbox` keeps them until sent, and `notify.deliver` sends them from a run.

Example:
    ```python
    from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN
    from model.changes import Change, ChangeResult, Outcome
    from model.records import Owner
    from notify.plan import plan_digests

    change = Change("promote", "101", "Ada Lovelace", "7", "score 72 ≥ 50",
                    properties={"lifecyclestage": "salesqualifiedlead"})
    owners = {"7": Owner("7", "grace@example.com", "Grace", "Hopper")}
    digests = plan_digests([ChangeResult(change, Outcome.APPLIED)], owners, Rules(),
                           portal_id="12345", run_name="amber-fox")
    print(digests[0].recipient, digests[0].total)
    ```
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import quote

from config.rules import Rules
from config.settings import DEFAULT_UI_DOMAIN
from model.changes import Change, ChangeResult, Outcome
from model.records import Owner

RECORD_URL = "https://{domain}/contacts/{portal}/record/0-1/{contact}"
NEW_SQLS, TASKS, ATTEMPTED, RECYCLED = "New SQLs", "Tasks created", "Moved to Attempted", "Recycled"
LADDER = "Moved up the ladder"
LADDER_RULES = ("open_deal", "meeting_scheduled", "connected")
BREACHED, NEW_MQLS = "First touch overdue", "New MQLs"
SLA_NOTICE = "sla"  # the rule name of the notices `flows.escalation` adds for breaches
COLUMNS: Mapping[str, tuple[str, ...]] = {  # in digest order: overdue first touches on top
    BREACHED: ("Why",),
    NEW_MQLS: ("Why",),
    NEW_SQLS: ("Score", "Why"),
    TASKS: ("Task", "Due", "Why"),
    ATTEMPTED: ("Change", "Why"),
    LADDER: ("Change", "Why"),
    RECYCLED: ("Nurture list", "Why"),
}
PROPERTY_NAMES = {"hs_lead_status": "Lead status", "lifecyclestage": "Lifecycle stage"}
Labels = Mapping[str, Mapping[str, str]]  # property -> option value -> label
OPS_NAME = "ops"
MAX_TEXT = 200  # longest contact-controlled value shown (names, task subjects)
MAX_CELL = 80  # characters per table cell: one long name must not push every column away
MAX_ERROR = 2000  # longest error text in an alert
SUMMARY_LIMIT = 50  # failures / skips listed in the ops summary
SECTION_LIMIT = 50  # lines per digest section in the mail; every line is in the attached CSV
_SCORE = re.compile(r"^\S+ (-?\d[\d.]*) [≥>≤<=≠]")  # the first number a reason compares
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
    """A digest section; the mail shows its first `SECTION_LIMIT` lines, the attached CSV
    every line."""

    title: str
    columns: tuple[str, ...]
    lines: tuple[DigestLine, ...]

    @property
    def shown(self) -> tuple[DigestLine, ...]:
        return self.lines[:SECTION_LIMIT]

    @property
    def hidden(self) -> int:
        return max(0, len(self.lines) - SECTION_LIMIT)


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

    @property
    def capped(self) -> bool:
        """Some section shows only its first lines: the rest is in the attached CSV."""
        return any(section.hidden for section in self.sections)

    @property
    def routed(self) -> int:
        """Lines sent to ops because their owner could not be reached."""
        return sum(1 for s in self.sections for line in s.lines if line.note)

    def tally(self) -> DigestTally:
        return DigestTally(self.owner_name, self.recipient, self.total, self.routed)


@dataclass(frozen=True)
class DigestTally:
    """What the ops summary says of a digest once it is sent: who got it, how many lines."""

    owner_name: str
    recipient: str
    total: int
    routed: int


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
    """What ops are told when a flow run fails or crashes (the first of a streak), or, with
    state "Recovered", when it works again after `failures` failed runs."""

    flow_name: str
    run_name: str
    state: str
    error: str
    url: str | None = None
    portal: str = ""
    deployment: str = ""
    failures: int = 1

    @property
    def recovered(self) -> bool:
        return self.state == "Recovered"


# ---------------------------------------------------------------- small pure helpers


def one_line(text: object, limit: int = MAX_TEXT) -> str:
    """`text` on one line (CR, LF and other breaks become spaces), at most `limit` characters.

    Example:
        ```python
        from notify.plan import one_line

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


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24].strip("-") or "run"


def message_id(run_name: str, kind: str, recipient: str, content: str, sender: str) -> str:
    """A Message-ID that depends only on the run, the kind, the recipient and the content.

    The same run re-rendering the same digest gets the same id (so the outbox never sends it
    twice); a retried run that has *new* changes for someone gets a new id (so they are not
    lost).
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "leadops.invalid"
    unique = _digest_of(f"{run_name}\0{content}", 8)  # the full run name: the slug is cut
    parts = (slug(run_name), kind, _digest_of(recipient.lower(), 8), unique)
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
    if change.rule == SLA_NOTICE:
        return BREACHED
    if change.rule == "qualify" and change.properties:
        return NEW_MQLS
    if change.rule in ("promote", "new_lead") and change.properties:
        return NEW_SQLS
    if change.rule == "attempted" and change.properties:
        return ATTEMPTED
    if change.rule in LADDER_RULES and change.properties:
        return LADDER
    if change.rule == "recycle":
        return RECYCLED
    return None


def labelled(change: Change, labels: Labels) -> str:
    """`Lead status: Attempted to contact → Connected`: each property written, its values by
    their labels in the portal (a value without one shows as itself; ∅ for none)."""

    def shown(prop: str, value: str | None) -> str:
        return labels.get(prop, {}).get(value, value) if value else "∅"

    return "; ".join(
        f"{PROPERTY_NAMES.get(prop, prop)}: {shown(prop, change.before.get(prop))} → "
        f"{shown(prop, value)}"
        for prop, value in change.properties.items()
    )


def _values(title: str, changes: Sequence[Change], tz: tzinfo, labels: Labels) -> tuple[str, ...]:
    """The section's column values for one contact (several changes only for Recycled);
    due times in the portal's timezone."""
    first = changes[0]
    if title in (BREACHED, NEW_MQLS):
        return (one_line(first.reason),)
    if title == NEW_SQLS:
        score = _SCORE.search(first.reason)
        return (score.group(1) if score else "—", one_line(first.reason))
    if title == TASKS:
        task = first.task
        assert task is not None
        due = f"{task.due.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"
        return (one_line(task.subject), due, one_line(first.reason))
    if title in (ATTEMPTED, LADDER):
        return (one_line(labelled(first, labels)), one_line(first.reason))
    update = next((c for c in changes if c.properties), None)
    lists = [c.list_name for c in changes if c.list_name]
    return (one_line(", ".join(lists)) or "—", one_line(update.reason if update else "—"))


def _lines(
    title: str,
    items: Sequence[tuple[Change, str]],
    portal_id: str,
    ui_domain: str,
    tz: tzinfo,
    labels: Labels,
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
            values=_values(title, [change for change, _ in group], tz, labels),
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

    @property
    def order(self) -> tuple[bool, str, str]:
        """Digests go out owners first, by name, then ops."""
        return (self.for_ops, self.name.lower(), self.recipient)


@dataclass(frozen=True)
class Recipient:
    """Who is told of a change, and why ops when its owner cannot be reached (`note`)."""

    address: str
    name: str
    note: str

    @property
    def key(self) -> str:
        return self.address.lower()


def recipient_of(change: Change, owners: Mapping[str, Owner], rules: Rules) -> Recipient | None:
    """Whose digest tells `change` (None: owners are not told of it)."""
    if section_of(change) is None:
        return None
    owner, note = route(change.owner_id, owners)
    address = owner.email if owner and owner.email else rules.notify.ops_email
    return Recipient(address, one_line(owner.name if owner else OPS_NAME), note)


def _bucket_changes(
    changes: Iterable[Change], owners: Mapping[str, Owner], rules: Rules
) -> list[_Bucket]:
    buckets: dict[str, _Bucket] = {}
    for change in changes:
        who = recipient_of(change, owners, rules)
        if who is None:
            continue
        bucket = buckets.setdefault(who.key, _Bucket(who.address, who.name))
        bucket.for_ops = bucket.for_ops or bool(who.note)
        bucket.items.setdefault(section_of(change) or "", []).append((change, who.note))
    return sorted(buckets.values(), key=lambda b: b.order)


def plan_digests(
    results: Sequence[ChangeResult],
    owners: Mapping[str, Owner],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
    timezone: tzinfo = UTC,
    labels: Labels | None = None,
) -> list[Digest]:
    """One digest per recipient with something new; only applied changes are told.

    Contacts without a reachable owner go to `rules.notify.ops_email`, each with the reason.
    Due times are shown in `timezone` (the portal's); `labels` (property -> value -> label,
    from the portal's property definitions) make values readable.
    """
    applied = (r.change for r in results if r.outcome is Outcome.APPLIED)
    return [
        Digest(
            run_name=run_name,
            recipient=bucket.recipient,
            owner_name=bucket.name,
            sections=tuple(
                Section(
                    title,
                    COLUMNS[title],
                    _lines(
                        title, bucket.items[title], portal_id, ui_domain, timezone, labels or {}
                    ),
                )
                for title in COLUMNS
                if title in bucket.items
            ),
            for_ops=bucket.for_ops,
        )
        for bucket in _bucket_changes(applied, owners, rules)
    ]


def routed_to_ops(digests: Iterable[Digest | DigestTally]) -> int:
    """How many digest lines went to ops because their owner could not be reached."""
    return sum(d.routed for d in digests)


def _summary_line(result: ChangeResult, portal_id: str, ui_domain: str) -> SummaryLine:
    change = result.change
    return SummaryLine(
        contact_id=change.contact_id,
        name=one_line(change.contact_name) or f"contact {change.contact_id}",
        url=record_url(portal_id, change.contact_id, ui_domain),
        rule=change.rule,
        text=one_line(result.error if result.outcome is Outcome.FAILED else change.reason, 500),
    )


def plan_ops_summary(
    results: Iterable[ChangeResult],
    digests: Sequence[Digest | DigestTally],
    rules: Rules,
    *,
    portal_id: str,
    run_name: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
) -> OpsSummary | None:
    """The ops run summary, or None when it is switched off or the run changed nothing.

    `results` are read once (a big run's come from disk); the failures and skips listed are
    the first `SUMMARY_LIMIT` of each, the rest counted."""
    if not rules.notify.ops_summary:
        return None
    counts: dict[str, Counter[Outcome]] = {}
    listed: dict[Outcome, list[SummaryLine]] = {Outcome.FAILED: [], Outcome.SKIPPED: []}
    seen: Counter[Outcome] = Counter()
    for result in results:
        seen[result.outcome] += 1
        if result.change.rule != SLA_NOTICE:  # a breach notice is told, not applied
            counts.setdefault(result.change.rule, Counter())[result.outcome] += 1
        lines = listed.get(result.outcome)
        if lines is not None and len(lines) < SUMMARY_LIMIT:
            lines.append(_summary_line(result, portal_id, ui_domain))
    if not seen:
        return None
    return OpsSummary(
        run_name=run_name,
        counts=tuple(
            RuleCount(rule, c[Outcome.APPLIED], c[Outcome.FAILED], c[Outcome.SKIPPED])
            for rule, c in counts.items()
        ),
        digests=tuple((d.owner_name, d.recipient, d.total) for d in digests),
        failures=tuple(listed[Outcome.FAILED]),
        skipped=tuple(listed[Outcome.SKIPPED]),
        more_failures=max(0, seen[Outcome.FAILED] - SUMMARY_LIMIT),
        more_skipped=max(0, seen[Outcome.SKIPPED] - SUMMARY_LIMIT),
        routed_to_ops=routed_to_ops(digests),
    )
