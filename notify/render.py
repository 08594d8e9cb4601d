"""Digests, ops summaries and failure alerts as emails: the Jinja templates in `templates/`
(HTML with autoescape, plain text without) in `multipart/alternative` messages with a
deterministic Message-ID.

Example:
    ```python
    from config.rules import Rules
    from notify.render import render_digest

    message = render_digest(digest, Rules())  # a Digest from notify.plan.plan_digests
    print(message["Subject"], message.get_body(("plain",)).get_content())
    ```
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from config.rules import Rules
from notify.digest import Digest
from notify.mime_file import FileBackedMessage
from notify.ops_plan import FailureAlert, OpsSummary
from notify.text import OPS_NAME, hashed_message_id, message_id, one_line, slug
from notify.zipped import Zipped, fit_attachment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SMTP_LINE_LIMIT = 990  # bytes per body line SMTP allows (998), with a margin


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
) -> FileBackedMessage:
    """A `multipart/alternative` message (text, then HTML) from the configured sender."""
    msg = FileBackedMessage()
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


def render_digest(digest: Digest, rules: Rules, max_bytes: int | None = None) -> EmailMessage:
    """The owner's digest as an email: To the recipient, Subject from `notify.subject`; a
    capped digest attaches the CSV of every line (streamed from its file when written). With
    `max_bytes` (`leadops_digest_max_bytes`) a big CSV goes out zipped, and cut to the rows
    that fit when even the zip would make the message bigger (`notify.zipped`)."""
    subject = _subject(rules, digest)
    msg_id = hashed_message_id(
        digest.run_name, "digest", digest.recipient, digest.content_hash, rules.notify.sender
    )

    def compose(zipped: Zipped | None = None) -> FileBackedMessage:
        return build_message(
            rules,
            to=Address(display_name=digest.owner_name, addr_spec=digest.recipient),
            subject=subject,
            parts=render_parts("digest", digest=digest, subject=subject, zipped=zipped),
            msg_id=msg_id,
        )

    if digest.attachment is None:
        return compose()
    name = f"leadops-{slug(digest.run_name)}-{slug(digest.owner_name)}.csv"
    if max_bytes is None:
        message = compose()
        message.attach_text(digest.attachment, subtype="csv", filename=name)
        return message
    return fit_attachment(digest.attachment, compose, name, max_bytes)


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
    """The failure alert (or recovery notice) as an email to `notify.ops_email`."""
    where = f" on {alert.portal}" if alert.portal else ""
    if alert.recovered:
        subject = (
            f"leadops: {alert.deployment or alert.flow_name}{where} recovered after "
            f"{alert.failures} failed run(s)"
        )
    else:
        subject = f"leadops: {alert.flow_name} run {alert.run_name} {alert.state.lower()}{where}"
    ops = rules.notify.ops_email
    return build_message(
        rules,
        to=Address(display_name=OPS_NAME, addr_spec=ops),
        subject=subject,
        parts=render_parts("failure_alert", alert=alert, subject=one_line(subject, 250)),
        msg_id=message_id(alert.run_name, "alert", ops, repr(alert), rules.notify.sender),
    )
