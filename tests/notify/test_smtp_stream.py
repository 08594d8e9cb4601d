"""Delivery streams each outbox file to the SMTP server as written: lines a mail server would
take for the end of the message arrive intact, and sending a big message costs a few
kilobytes, not copies of the message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from config.settings import Settings
from notify.outbox import deliver_outbox, write_outbox

from smtp_support import SmtpServer, free_port, smtp_settings


def message(body: str, attachment: bytes = b"") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "leadops <leadops@example.com>"
    msg["To"] = "Grace Hopper <grace@example.com>"
    msg["Cc"] = "ops@example.com"
    msg["Subject"] = "streamed"
    msg["Message-ID"] = "<run-1.digest.stream@leadops>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="zip", filename="x.zip")
    return msg


def test_lines_starting_with_a_dot_arrive_as_written(smtp: SmtpServer, settings: Settings) -> None:
    body = "first\n.\n.hidden behind a dot\n..two dots\nlast\n"
    write_outbox(settings, [message(body)])
    report = deliver_outbox(settings)

    assert report.sent == ["run-1.digest.stream.eml"] and report.errors == {}
    [received] = smtp.messages
    assert received.rcpt_tos == ["grace@example.com", "ops@example.com"]
    assert received.mail_from == "leadops@example.com"
    assert received.text().replace("\r\n", "\n") == body  # SMTP's CRLF, as smtplib sent it


@pytest.fixture
def sink_smtp() -> Iterator[int]:
    """aiosmtpd in its own process, discarding what it receives: this process's memory is
    then the sender's alone."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ]
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait(timeout=30)


def test_sending_a_big_message_does_not_hold_it_in_memory(sink_smtp: int, tmp_path: Path) -> None:
    settings = smtp_settings(tmp_path / "outbox", sink_smtp)
    [path] = write_outbox(settings, [message("see the zip", os.urandom(3_000_000))])
    assert path.stat().st_size > 4_000_000  # base64

    tracemalloc.start()
    try:
        report = deliver_outbox(settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.sent == [path.name]
    assert peak < 1_000_000, peak  # smtplib's send_message held ~9 copies: 36 MB here
