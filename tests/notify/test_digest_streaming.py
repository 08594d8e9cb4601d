"""A big digest is planned keeping only what its mail shows and its CSV attachment streams
from a file into the outbox: the very message (Message-ID, text, attachment bytes) the
in-memory digest made, at a memory cost that does not grow with the recipient's changes."""

from __future__ import annotations

import csv
import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

import notify.digest
import notify.mime_file
from config.rules import Rules
from config.settings import Settings
from model.changes import ChangeResult, Outcome
from notify.digest import Digest, DigestLine
from notify.mime_file import FileBackedMessage, TextBody
from notify.outbox import write_outbox
from notify.plan import plan_digests
from notify.render import render_digest
from notify.text import slug

from notify_builders import GRACE, OWNERS, attempted, promote, recycle, task

RUN = "cycle-amber-fox-1a2b3c4d"
LINKS = {"portal_id": "12345", "run_name": RUN}


@dataclass(frozen=True)
class Section:
    """The section record the Message-ID used to hash (its repr): every line in memory."""

    title: str
    columns: tuple[str, ...]
    lines: tuple[DigestLine, ...]


def results_for_grace(contacts: int, name: str) -> Iterator[ChangeResult]:
    """A big owner's changes in run order: tasks, SQLs, moves and recycles interleaved."""
    for n in range(contacts):
        contact, who = str(1000 + n), f"{name} {n}"
        kind = n % 4
        if kind == 3:
            changes = recycle(contact, who, GRACE.id, "Nurture - General")
        else:
            changes = [(task, promote, attempted)[kind](contact, who, GRACE.id)]
        for change in changes:
            yield ChangeResult(change, Outcome.APPLIED)


def in_memory_reference(
    monkeypatch: pytest.MonkeyPatch, results: list[ChangeResult], rules: Rules
) -> tuple[str, str]:
    """What the in-memory digest hashed and attached: every line held (a mail that shows
    them all), its Message-ID from the repr of all sections, its CSV as one string."""
    with monkeypatch.context() as patched:
        patched.setattr(notify.digest, "SECTION_LIMIT", 10**9)
        [whole] = plan_digests(results, OWNERS, rules, **LINKS)
    sections = tuple(Section(s.title, s.columns, s.shown) for s in whole.sections)
    content = repr((sections, whole.owner_name))
    hashed = hashlib.sha256(f"{RUN}\0{content}".encode()).hexdigest()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "contact", "details", "sent to ops because", "record"])
    for section in sections:
        for line in section.lines:
            details = [
                f"{column}: {value}"
                for column, value in zip(section.columns, line.values, strict=True)
                if value != "—"
            ]
            writer.writerow([section.title, line.name, "\n".join(details), line.note, line.url])
    return hashed, out.getvalue()


def attachment_of(message: Message) -> Message:
    [part] = [p for p in message.walk() if p.get_content_disposition() == "attachment"]
    return part


@pytest.mark.parametrize("name", ["Contact", "Zoë Ærøskøbing 北京"], ids=["ascii", "utf-8"])
def test_a_big_digest_is_the_message_the_in_memory_one_was(
    tmp_path: Path, rules: Rules, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(notify.digest, "SPILL", 100)  # lines go to files from the 101st
    monkeypatch.setattr(notify.mime_file, "IN_MEMORY", 4096)  # and the files to disk
    results = list(results_for_grace(3000, name))
    hashed, csv_text = in_memory_reference(monkeypatch, results, rules)

    [digest] = plan_digests(iter(results), OWNERS, rules, **LINKS, folder=tmp_path)
    message = render_digest(digest, rules)
    settings = Settings(_env_file=None, outbox_dir=tmp_path / "outbox")
    [written] = write_outbox(settings, [message])

    assert digest.capped and digest.total == 3000
    assert message["Message-ID"] == render_digest_id(digest, hashed, rules)
    expected = EmailMessage()
    filename = f"leadops-{slug(RUN)}-{slug(digest.owner_name)}.csv"
    expected.add_attachment(csv_text, subtype="csv", filename=filename)
    expected = message_from_bytes(expected.as_bytes(policy=policy.default), policy=policy.default)
    on_disk = message_from_bytes(written.read_bytes(), policy=policy.default)
    streamed, old = attachment_of(on_disk), attachment_of(expected)
    assert streamed.items() == old.items()
    assert streamed.get_payload() == old.get_payload()  # the encoded bytes, as sent
    assert streamed.get_content() == csv_text.replace("\r\n", "\n")  # as email reads it
    assert len(list(csv.reader(io.StringIO(csv_text)))) == 1 + 3000


def render_digest_id(digest: Digest, hashed: str, rules: Rules) -> str:
    """The Message-ID the in-memory digest had: the run, the recipient, its content's hash."""
    who = hashlib.sha256(digest.recipient.lower().encode()).hexdigest()[:8]
    domain = rules.notify.sender.rpartition("@")[2].rstrip(">") or "leadops.invalid"
    return f"<{slug(RUN)}.digest.{who}.{hashed[:8]}@{domain}>"


@pytest.mark.parametrize(
    "text",
    [
        "a,b\r\nc,d\r\n",  # short ASCII lines: 7bit
        "Zoë,b\r\n北京,d\r\n",  # short lines, not ASCII: 8bit
        "x" * 200 + ",y \r\n" * 3 + "tail\t\r\n",  # long ASCII: quoted-printable
        ("北京" * 60 + "\r\n") * 30,  # long, mostly not ASCII: base64
    ],
    ids=["7bit", "8bit", "quoted-printable", "base64"],
)
def test_a_text_body_is_encoded_as_the_email_package_encodes_it(text: str) -> None:
    body = TextBody()
    for row in text.splitlines(keepends=True):
        body.write(row)
    streamed = FileBackedMessage()
    streamed.set_content("see the attachment")
    streamed.attach_text(body, subtype="csv", filename="lines.csv")
    old = EmailMessage()
    old.set_content("see the attachment")
    old.add_attachment(text, subtype="csv", filename="lines.csv")

    parsed = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in (streamed, old)]

    ours, theirs = (attachment_of(m) for m in parsed)
    assert ours.items() == theirs.items()
    assert ours.get_payload() == theirs.get_payload()
    assert ours.get_content() == text.replace("\r\n", "\n")


def peak_planning(contacts: int, rules: Rules, folder: Path) -> int:
    """Peak traced memory (bytes) of planning one owner's digest of `contacts` changes read
    one at a time (as from the spool)."""
    tracemalloc.start()
    try:
        [digest] = plan_digests(task_results(contacts), OWNERS, rules, **LINKS, folder=folder)
        assert digest.total == contacts
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def task_results(contacts: int) -> Iterator[ChangeResult]:
    for n in range(contacts):
        yield ChangeResult(task(str(n), f"Contact {n}", GRACE.id), Outcome.APPLIED)


def test_planning_a_30k_change_owner_keeps_memory_flat(tmp_path: Path, rules: Rules) -> None:
    small = peak_planning(3_000, rules, tmp_path)
    big = peak_planning(30_000, rules, tmp_path)

    # ten times the changes: the same lines kept (the first 50) and the same buffers; held in
    # memory, 30,000 lines and their CSV were tens of MB
    assert big < small * 1.5 + 512 * 1024, (small, big)
    assert big < 4 * 1024 * 1024, big
