"""Mail delivery: an on-disk outbox, and SMTP through prefect-email.

Every message is first written to `settings.outbox_dir/pending/` as a `.eml` file named after its
deterministic Message-ID; `deliver_outbox` then sends what is pending, oldest first, and moves
each file to `sent/` only once the SMTP server has accepted it. So:

* with no SMTP configured (the demo), `pending/` is the readable outbox;
* a message that fails stays in `pending/` and is retried by the next delivery;
* a message whose file is already in `sent/` is never sent again (a retried run re-renders the
  same Message-ID, finds it delivered and drops the copy);
* a message bigger than the SMTP server says it accepts (ESMTP `SIZE`, RFC 1870) is not
  attempted: it stays in `pending/` and every delivery reports it (`DeliveryReport.too_big`)
  with its size, the server's limit and what to do.

SMTP goes through prefect-email: the `EmailServerCredentials` block (loaded by name from
`settings.smtp_credentials_block`, or built from the `smtp_*` settings) opens the connection
with `get_server()`, and we stream our own pre-built message file over that connection
(`notify.smtp_stream`; `server.send_message` only for a non-ASCII address). prefect-email's
`email_send_message` task is not used because it builds its own `multipart/mixed` message and
cannot carry our Message-ID.

Example:
    ```python
    from email.message import EmailMessage

    from config.settings import Settings
    from notify.outbox import deliver_outbox, write_outbox

    settings = Settings(outbox_dir="/tmp/leadops-outbox")  # no SMTP: messages stay pending
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "me@example.com", "you@example.com", "hi"
    msg["Message-ID"] = "<demo.digest.1@leadops>"
    msg.set_content("hello")
    write_outbox(settings, [msg])
    print(deliver_outbox(settings).describe())
    ```
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from pathlib import Path

from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from prefect_email import EmailServerCredentials
from pydantic import SecretStr

from config.settings import Settings
from notify.mime_file import FileBackedMessage, file_wire_size
from notify.smtp_stream import international, read_headers, send_file
from runstate.files import exclusive_lock, write_atomically

MASK = "********"
SMTP_TIMEOUT = 30.0  # seconds; a silent SMTP server must not hang the run
# Token shapes worth masking even when we do not hold the value (HubSpot private apps, bearers).
_TOKEN_SHAPES = re.compile(r"(?i)\bpat-[a-z0-9]+-[0-9a-f-]{8,}|\bbearer\s+[\w.~+/=-]+")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Outbox:
    """The outbox folder: `pending/` (to deliver, or to read in the demo) and `sent/`."""

    root: Path

    @property
    def pending(self) -> Path:
        return self.root / "pending"

    @property
    def sent(self) -> Path:
        return self.root / "sent"

    def pending_files(self) -> list[Path]:
        """Pending messages, oldest first (leftovers from earlier runs go out first)."""
        if not self.pending.is_dir():
            return []
        files = self.pending.glob("*.eml")
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the outbox lock, so two runs never send the same pending file (POSIX)."""
        self.pending.mkdir(parents=True, exist_ok=True)
        self.sent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.root / ".lock"):
            yield


@dataclass
class DeliveryReport:
    """What one `deliver_outbox` call did. `errors` maps a file name to its SMTP error (or
    why it was not attempted); `too_big`: files bigger than the SMTP server accepts."""

    outbox: Path
    smtp: bool
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    too_big: list[str] = field(default_factory=list)

    @property
    def pending_dir(self) -> Path:
        return Outbox(self.outbox).pending

    def describe(self) -> str:
        """One line for people, e.g. `3 message(s) waiting in outbox/pending (no SMTP ...)`."""
        if not self.smtp:
            return (
                f"{len(self.pending)} message(s) waiting in {self.pending_dir} "
                "(no SMTP configured: open the .eml files with any mail client)"
            )
        text = f"{len(self.sent)} message(s) sent by SMTP"
        if self.pending:
            text += f"; {len(self.pending)} left in {self.pending_dir} for the next run"
        if self.too_big:
            text += (
                f"; {len(self.too_big)} too big for the SMTP server, not attempted "
                "(lower LEADOPS_DIGEST_MAX_BYTES to its limit)"
            )
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "outbox": str(self.outbox),
            "smtp": self.smtp,
            "sent": len(self.sent),
            "already_sent": len(self.already_sent),
            "pending": len(self.pending),
            "errors": dict(self.errors),
            "too_big": list(self.too_big),
        }


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a flow or task run, else the `leadops.email` logger."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("leadops.email")


def secrets_of(settings: Settings) -> list[str]:
    """The secret values a message, log or error must never show (SMTP password, token)."""
    values: Iterable[SecretStr | None] = (settings.smtp_password, settings.hubspot_access_token)
    return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with every given secret (raw or HTML-escaped) and token-shaped string masked.

    Example:
        ```python
        from notify.outbox import scrub

        print(scrub("login failed for hunter2", ["hunter2"]))  # login failed for ********
        ```
    """
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, MASK).replace(escape(secret), MASK)
    return _TOKEN_SHAPES.sub(MASK, text)


def message_filename(msg: EmailMessage) -> str:
    """The outbox file name for a message: its Message-ID, made filesystem-safe, + `.eml`."""
    message_id = str(msg.get("Message-ID") or "").strip("<> ")
    if not message_id:
        raise ValueError("an outbox message needs a Message-ID (it names the file)")
    local = message_id.split("@", 1)[0]
    return _UNSAFE_NAME.sub("-", local).strip("-.")[:200] + ".eml"


def write_outbox(settings: Settings, messages: Iterable[EmailMessage]) -> list[Path]:
    """Write messages to `pending/` (tmp + rename); skip those already pending or sent.

    Returns the paths of the files written now.
    """
    outbox, written = Outbox(settings.outbox_dir), []
    with outbox.locked():
        for msg in messages:
            name = message_filename(msg)
            if (outbox.sent / name).exists() or (outbox.pending / name).exists():
                continue
            if isinstance(msg, FileBackedMessage):  # its attachment streams from a file
                write_atomically(outbox.pending / name, msg.write_to)
            else:
                write_atomically(outbox.pending / name, msg.as_bytes(policy=policy.default))
            written.append(outbox.pending / name)
    return written


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_server or settings.smtp_credentials_block)


def smtp_credentials(settings: Settings) -> EmailServerCredentials:
    """prefect-email credentials: the named block, else built from the `smtp_*` settings."""
    if settings.smtp_credentials_block:
        return EmailServerCredentials.load(settings.smtp_credentials_block)
    return EmailServerCredentials(
        smtp_server=settings.smtp_server,
        smtp_type=settings.smtp_type,
        smtp_port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password or SecretStr(""),
    )


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """Give sockets created inside a timeout (prefect-email's `get_server` takes none; the
    connection keeps it for the whole session)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _error_text(exc: BaseException, secrets: Sequence[str]) -> str:
    return scrub(f"{type(exc).__name__}: {exc}", secrets)[:500]


def deliver_outbox(settings: Settings) -> DeliveryReport:
    """Send every pending message through prefect-email; move each to `sent/` once accepted.

    Without SMTP configured nothing is sent and the report lists the readable pending files.
    Never raises for SMTP trouble: failures stay pending and are reported with the SMTP error
    (secrets masked).
    """
    outbox = Outbox(settings.outbox_dir)
    report = DeliveryReport(outbox=outbox.root, smtp=smtp_configured(settings))
    with outbox.locked():
        todo = _drop_already_sent(outbox, report)
        if report.smtp and todo:
            _send_all(settings, outbox, todo, report)
        report.pending = [p.name for p in outbox.pending_files()]
    run_logger().info(
        "outbox: %d sent, %d pending, %d error(s)",
        len(report.sent),
        len(report.pending),
        len(report.errors),
    )
    return report


def _drop_already_sent(outbox: Outbox, report: DeliveryReport) -> list[Path]:
    """Remove pending copies of delivered messages; return what is left to send."""
    todo = []
    for path in outbox.pending_files():
        if (outbox.sent / path.name).exists():
            path.unlink()
            report.already_sent.append(path.name)
        else:
            todo.append(path)
    return todo


def _send_all(settings: Settings, outbox: Outbox, todo: list[Path], report: DeliveryReport) -> None:
    secrets = secrets_of(settings)
    try:
        credentials = smtp_credentials(settings)
        secrets += [credentials.password.get_secret_value()] if credentials.password else []
        with socket_timeout(SMTP_TIMEOUT):
            server = credentials.get_server()
    except Exception as exc:  # connection, TLS, login or block errors: retry next run
        error = _error_text(exc, secrets)
        run_logger().warning("SMTP unavailable, %d message(s) stay pending: %s", len(todo), error)
        report.errors.update(dict.fromkeys((p.name for p in todo), error))
        return
    with server:
        limit = size_limit(server)
        for path in todo:
            if not _send_one(server, outbox, path, report, secrets, limit):
                break


def size_limit(server: smtplib.SMTP) -> int | None:
    """The largest message the server accepts, in bytes, from its ESMTP `SIZE` keyword
    (RFC 1870; `SIZE 0` or none: it names no limit)."""
    try:
        server.ehlo_or_helo_if_needed()
    except smtplib.SMTPException:
        return None  # sending will meet (and report) the same trouble
    value = server.esmtp_features.get("size", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _too_big(path: Path, to: str, size: int, limit: int) -> str:
    """Why a message is not attempted, and what to do, for people."""
    return (
        f"{path.name} (to {to}) is {size:,} bytes, more than the {limit:,} the SMTP server "
        f"accepts (its ESMTP SIZE): not attempted, it stays in pending/. Set "
        f"LEADOPS_DIGEST_MAX_BYTES to at most {limit:,} so later digests fit; this message "
        "can only go through a server that takes it (or delete it: every change it lists is "
        "in its run's changes CSV, which the run report names)."
    )


def _send_one(
    server: smtplib.SMTP,
    outbox: Outbox,
    path: Path,
    report: DeliveryReport,
    secrets: list[str],
    limit: int | None,
) -> bool:
    """Send one file, streamed from disk (`notify.smtp_stream`); False when the connection is
    gone (stop, the rest stay pending). A file bigger than the server's `limit` is reported
    and not attempted."""
    headers, size = read_headers(path), file_wire_size(path)
    if limit is not None and size > limit:
        report.too_big.append(path.name)
        report.errors[path.name] = _too_big(path, str(headers.get("To", "?")), size, limit)
        run_logger().warning("not sent: %s", report.errors[path.name])
        return True
    try:
        if international(headers):  # SMTPUTF8: smtplib re-encodes it (rare, small)
            server.send_message(message_from_bytes(path.read_bytes(), policy=policy.default))
        else:
            send_file(server, path, size)
    except smtplib.SMTPServerDisconnected as exc:
        report.errors[path.name] = _error_text(exc, secrets)
        run_logger().warning(
            "SMTP connection lost, the rest stay pending: %s", report.errors[path.name]
        )
        return False
    except (smtplib.SMTPException, OSError) as exc:
        report.errors[path.name] = _error_text(exc, secrets)
        run_logger().warning("not sent, stays pending: %s: %s", path.name, report.errors[path.name])
        return True
    os.replace(path, outbox.sent / path.name)
    report.sent.append(path.name)
    return True
