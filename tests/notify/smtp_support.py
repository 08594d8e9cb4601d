"""A real SMTP server (aiosmtpd on 127.0.0.1) and settings for it, for the notification tests.

Every message the server accepts is kept in `SmtpServer.messages` (envelope recipients plus
the parsed message). The fixtures that start it live in conftest.py.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config.settings import Settings

SMTP_USER = "leadops-mailer"
SMTP_PASSWORD = "pw-S3CR3T-d0-n0t-leak-7f3a"  # recognisable: must never appear anywhere
HUBSPOT_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
PORTAL = "12345"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    size: int = 0  # bytes as received (lines end in CRLF)

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


@dataclass
class Handler:
    """Keeps what the server accepted; refuses recipients listed in `refuse`."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos), message, len(envelope.original_content)
        )
        self.messages.append(received)
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode() == SMTP_USER and auth_data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    handler: Handler
    controller: Controller | None = None
    size_limit: int | None = None  # advertised as ESMTP SIZE (None: aiosmtpd's 32 MiB)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def start(self) -> None:
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
            **({"data_size_limit": self.size_limit} if self.size_limit else {}),
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def smtp_settings(outbox: Path, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "hubspot_access_token": HUBSPOT_TOKEN,
        "hubspot_portal_id": PORTAL,
        "smtp_server": "127.0.0.1",
        "smtp_port": port,
        "smtp_type": "INSECURE",
        "outbox_dir": outbox,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
