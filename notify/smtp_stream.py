"""Send an outbox file over an open SMTP connection a chunk at a time, as written.

`smtplib.SMTP.send_message` needs the message parsed (`email.message_from_bytes`), flattens
it again and quotes it in memory: about nine copies of it at once (85 MB of Python allocations
for a 9.7 MB message, measured). `send_file` does what `send_message` and `sendmail` do for
our messages, reading the file a line at a time: the envelope from the `From`, `To` and `Cc`
headers (the outbox never writes `Bcc`), `MAIL FROM` with the `SIZE` parameter when the
server takes it (RFC 1870), `RCPT TO` for each recipient, then `DATA` with every line ended by
CRLF and a leading dot doubled (RFC 5321 4.5.2), sent `CHUNK` bytes at a time. Errors are
`smtplib`'s own (`SMTPSenderRefused`, `SMTPRecipientsRefused`, `SMTPDataError`, …), after the
same `RSET` `sendmail` sends.

A message with a non-ASCII address needs `SMTPUTF8` and a re-encoding `smtplib` knows:
`international` tells the caller to send it with `send_message` (a rare, small message).

Example:
    ```python
    import smtplib
    from pathlib import Path

    from notify.smtp_stream import send_file

    with smtplib.SMTP("127.0.0.1", 8025) as server:
        send_file(server, Path("outbox/pending/run-1.digest.ab12.cd34.eml"), size=12_345)
    ```
"""

from __future__ import annotations

import contextlib
import smtplib
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

CHUNK = 64 * 1024  # bytes sent at a time


def read_headers(path: Path) -> EmailMessage:
    """The message's headers, read up to the blank line that ends them (not the body)."""
    lines = []
    with path.open("rb") as file:
        for line in file:
            if not line.strip(b"\r\n"):
                break
            lines.append(line)
    return BytesHeaderParser(policy=policy.default).parsebytes(b"".join(lines) + b"\n")


def envelope(headers: EmailMessage) -> tuple[str, list[str]]:
    """The sender and recipients `send_message` would take from these headers."""
    sender = getaddresses([str(headers.get("Sender") or headers.get("From") or "")])
    recipients = getaddresses([str(v) for f in ("To", "Cc") for v in headers.get_all(f, [])])
    return sender[0][1] if sender else "", [addr for _, addr in recipients if addr]


def international(headers: EmailMessage) -> bool:
    sender, recipients = envelope(headers)
    return not all(address.isascii() for address in (sender, *recipients))


def send_file(server: smtplib.SMTP, path: Path, size: int) -> None:
    """Send the message in `path` (`size`: its bytes on the wire) to its `To`/`Cc`."""
    sender, recipients = envelope(read_headers(path))
    server.ehlo_or_helo_if_needed()
    options = [f"size={size}"] if server.has_extn("size") else []
    code, reply = server.mail(sender, options)
    if code != 250:
        _abandon(server, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = server.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == 421:
            server.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _abandon(server, 0)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = server.docmd("data")
    if code != 354:
        _abandon(server, code)
        raise smtplib.SMTPDataError(code, reply)
    _send_lines(server, path)
    code, reply = server.getreply()
    if code != 250:
        _abandon(server, code)
        raise smtplib.SMTPDataError(code, reply)


def _send_lines(server: smtplib.SMTP, path: Path) -> None:
    """The message, each line ended by CRLF and dot-stuffed, then the lone dot that ends it."""
    batch, held = [], 0
    with path.open("rb") as file:
        for raw in file:
            line = raw.rstrip(b"\n").rstrip(b"\r")
            batch.append(b"." + line + b"\r\n" if line.startswith(b".") else line + b"\r\n")
            held += len(line) + 3
            if held >= CHUNK:
                server.send(b"".join(batch))
                batch, held = [], 0
    server.send(b"".join(batch) + b".\r\n")


def _abandon(server: smtplib.SMTP, code: int) -> None:
    """End the failed transaction as `sendmail` does: close on 421, else `RSET`."""
    if code == 421:
        server.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            server.rset()
