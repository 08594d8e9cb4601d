"""Team channels: one message per run to Slack, Microsoft Teams or any webhook, through
Prefect's notification blocks (`SlackWebhook`, `MicrosoftTeamsWebhook`,
`CustomWebhookNotificationBlock`).

`plan_channel_post` (pure) writes the run's message: the summary (changes per rule), the
failures and the first-touch SLA breaches, as `channels.post` asks, with record links and
never a secret (the text is scrubbed). `post_to_channels` loads each block named in
`channels.blocks` (`<block type slug>/<block name>`, e.g. `slack-webhook/sales-team`),
posts, retries a failed post (tenacity) and reports what happened; it never raises, so a
channel that is down never fails the run. Webhook URLs live in the blocks (secret fields),
never in the rules file or in a report.

Example:
    ```python
    from notify.channels import ChannelPost, post_to_channels

    post = ChannelPost(subject="leadops run amber-fox: 3 applied", body="promote: 3 applied")
    report = post_to_channels(post, ["slack-webhook/sales-team"], secrets=[])
    print(report.describe())
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import Retrying, stop_after_attempt, wait_exponential
from tenacity.wait import WaitBaseT

from config.settings import DEFAULT_UI_DOMAIN
from model.changes import ChangeResult
from notify.outbox import scrub
from notify.text import one_line, record_url
from rules.sla import Escalation

LISTED = 10  # failures or breaches named in a message; the counts cover all
ATTEMPTS = 3
BACKOFF = wait_exponential(multiplier=1, min=1, max=10)


@dataclass(frozen=True)
class ChannelPost:
    subject: str
    body: str


@dataclass
class ChannelReport:
    """What `post_to_channels` did: channels posted to, and the error of each that failed."""

    posted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"channels: posted to {len(self.posted)}"
        if self.failed:
            errors = "; ".join(f"{name}: {error}" for name, error in self.failed.items())
            text += f", failed {len(self.failed)} after {ATTEMPTS} attempts ({errors})"
        return text


def plan_channel_post(
    *,
    run_name: str,
    counts: Mapping[str, Mapping[str, int]],
    failures: Sequence[ChangeResult],
    escalation: Escalation | None,
    stopped: Sequence[str] = (),
    post: Iterable[str] = ("summary", "failures", "breaches"),
    portal_id: str,
    ui_domain: str = DEFAULT_UI_DOMAIN,
    secrets: Sequence[str] = (),
) -> ChannelPost | None:
    """The run's one channel message, or None when it has nothing to say."""
    wanted, lines = set(post), []
    totals = {k: sum(c.get(k, 0) for c in counts.values()) for k in ("applied", "failed")}
    if "summary" in wanted and counts:
        lines.append("Changes per rule:")
        lines += [
            f"- {rule}: {c.get('applied', 0)} applied, {c.get('failed', 0)} failed, "
            f"{c.get('skipped', 0)} skipped"
            for rule, c in counts.items()
        ]
    if "failures" in wanted and (failures or stopped):
        lines += ["", f"Failures ({len(failures)}):", *[f"- {one_line(s, 300)}" for s in stopped]]
        lines += [
            f"- {one_line(r.change.contact_name)} ({r.change.rule}): {one_line(r.error, 300)} "
            f"{record_url(portal_id, r.change.contact_id, ui_domain)}"
            for r in failures[:LISTED]
        ]
        lines += _more(len(failures))
    breaches = escalation.new if escalation else ()
    if "breaches" in wanted and escalation and (breaches or escalation.closed):
        lines += ["", f"First-touch SLA: {len(breaches)} new breach(es):"]
        lines += [
            f"- {one_line(b.contact_name)}: {one_line(b.reason, 300)} "
            f"{record_url(portal_id, b.contact_id, ui_domain)}"
            for b in breaches[:LISTED]
        ]
        lines += _more(len(breaches))
        if escalation.closed:
            lines.append(f"{len(escalation.closed)} breach(es) closed (touched late or moved on).")
    if not lines:
        return None
    subject = (
        f"leadops run {one_line(run_name, 80)}: {totals['applied']} applied, "
        f"{totals['failed']} failed, {len(breaches)} new SLA breach(es)"
    )
    return ChannelPost(scrub(subject, secrets), scrub("\n".join(lines), secrets))


def _more(count: int) -> list[str]:
    return [f"- … and {count - LISTED} more (see the run report)"] if count > LISTED else []


def _load(name: str) -> Any:
    import prefect.blocks.notifications  # noqa: F401  (registers the notification block types)
    from prefect.blocks.core import Block

    return Block.load(name)


def _webhook_url(block: Any) -> str:
    url = getattr(block, "url", "")
    return url.get_secret_value() if hasattr(url, "get_secret_value") else str(url or "")


def post_to_channels(
    post: ChannelPost,
    blocks: Iterable[str],
    secrets: Sequence[str],
    *,
    attempts: int = ATTEMPTS,
    wait: WaitBaseT = BACKOFF,
) -> ChannelReport:
    """Post `post` once to every named block, retrying each up to `attempts` times; never
    raises. Errors are reported without the webhook URL (it is a credential)."""
    report = ChannelReport()
    for name in blocks:
        hidden = list(secrets)
        try:
            block = _load(name)
            hidden.append(_webhook_url(block))
            for attempt in Retrying(stop=stop_after_attempt(attempts), wait=wait, reraise=True):
                with attempt, block.raise_on_failure():
                    block.notify(post.body, post.subject)
        except Exception as exc:  # a channel must never fail the run: report it
            report.failed[name] = one_line(scrub(f"{type(exc).__name__}: {exc}", hidden), 300)
        else:
            report.posted.append(name)
    return report
