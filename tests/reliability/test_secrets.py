"""A recognisable HubSpot token and SMTP password never appear in any log line (local or sent
to the Prefect API), artifact, outbox or journal file, delivered email, cassette, console
output or error text, on a successful run and on a forced failure."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from portal_state import NOW, FastRetries, api_logs_of, artifacts_of, point_at, run_state

from sandbox.server import running_sandbox

from support import CASSETTES

pytestmark = pytest.mark.usefixtures("prefect_harness")

TOKEN = "pat-na1-SECRET-TOKEN-1234"
SMTP_USER = "leadops-mailer"
SMTP_PASSWORD = "smtp-PASSWORD-s3cr3t-5678"
SECRETS = (TOKEN, SMTP_PASSWORD)


class Inbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.raw.append(envelope.original_content)
        return "250 Message accepted"


def _login(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode() == SMTP_USER and auth_data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on 127.0.0.1 that requires the recognisable password."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_login, auth_require_tls=False
    )
    controller.start()
    yield port, inbox
    controller.stop()


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_token_and_smtp_password_never_appear_anywhere(
    fast: FastRetries,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    smtp: tuple[int, Inbox],
) -> None:
    port, inbox = smtp
    caplog.set_level(logging.DEBUG)
    with running_sandbox(seed="demo", now=NOW, token=TOKEN) as handle:
        point_at(monkeypatch, handle, outbox)
        for name, value in {
            "SMTP_SERVER": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_TYPE": "INSECURE",
            "SMTP_USERNAME": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
        }.items():
            monkeypatch.setenv(name, value)

        ok = run_state()
        assert ok.is_completed()
        delivered = len(inbox.raw)
        assert delivered >= 2  # digests and the ops summary went out through the login

        handle.set_faults(server_errors=1.0)  # HubSpot down: the run fails
        failed = run_state()
        handle.set_faults()
        assert failed.is_failed()
        assert len(inbox.raw) > delivered  # the failure alert went out too

    runs = [ok.state_details.flow_run_id, failed.state_details.flow_run_id]
    texts: dict[str, str] = {}
    texts["state messages"] = f"{ok.message}\n{failed.message}"
    with pytest.raises(Exception) as raised:  # the exception the failed flow raised
        failed.result()
    texts["exception"] = f"{raised.typename}: {raised.value}\n{raised.value!r}"
    formatter = logging.Formatter()
    texts["log records"] = "\n".join(formatter.format(r) for r in caplog.records)
    console = capfd.readouterr()
    texts["console"] = console.out + console.err
    for run_id in runs:
        texts[f"API logs {run_id}"] = "\n".join(api_logs_of(run_id))
        texts[f"artifacts {run_id}"] = "\n".join(
            f"{a.key} {a.description} {a.data}" for a in artifacts_of(run_id)
        )
    for path in files_under(outbox, CASSETTES):
        texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for number, raw in enumerate(inbox.raw):
        message = message_from_bytes(raw, policy=policy.default)
        texts[f"email {number}"] = raw.decode("utf-8", "replace") + "\n".join(
            part.get_content() for part in message.walk() if not part.is_multipart()
        )

    assert len(caplog.records) > 50 and any("API logs" in k and v for k, v in texts.items())
    assert any("artifacts" in k and "lifecycle-cycle-changes" in v for k, v in texts.items())
    assert any("/outbox/" in k for k in texts) and any("cassettes" in k for k in texts)
    leaks = {name: [s for s in SECRETS if s in text] for name, text in texts.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
