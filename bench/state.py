"""A sandbox's end state and what owners were told, for comparing runs (soak, tests).

`snapshot(handle)` is the portal as HubSpot would show it (every contact's stage and lead
status, leadops tasks per contact, list memberships); `told(outbox)` is every digest line in
the outbox (pending and sent) as a Counter, so a line told twice or never shows up as a
difference against a clean run.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from config.settings import Settings
from sandbox.server import SandboxHandle

_SECTION = re.compile(r"^([A-Z][A-Z ]+) \((\d+)\)$")
_PORTAL_IN_URL = re.compile(r"(/contacts/)\d+(/record/)")
_SINCE = re.compile(r"since (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


@dataclass(frozen=True)
class PortalState:
    contacts: dict[str, tuple[str | None, str | None]]  # id -> (lifecyclestage, hs_lead_status)
    tasks: dict[str, tuple[tuple[str, ...], ...]]  # contact id -> its leadops tasks, sorted
    lists: dict[str, tuple[int, ...]]  # list name -> sorted member ids

    def duplicate_tasks(self) -> dict[str, list[tuple[str, ...]]]:
        return {
            c: [t for t, n in Counter(tasks).items() if n > 1]
            for c, tasks in self.tasks.items()
            if len(set(tasks)) != len(tasks)
        }


def bench_settings(handle: SandboxHandle, outbox: Path, **overrides: object) -> Settings:
    """Settings for cycles against a bench's sandbox, the gateway's pacing out of the way
    (benches count calls; the sandbox runs without HubSpot's limits)."""
    return Settings(
        _env_file=None,
        hubspot_base_url=handle.url,
        hubspot_access_token=handle.token,
        hubspot_requests_per_10s=1000,
        hubspot_association_requests_per_10s=1000,
        hubspot_searches_per_second=5,
        outbox_dir=outbox,
        **overrides,
    )


def snapshot(handle: SandboxHandle) -> PortalState:
    store = handle.store
    started = datetime.fromtimestamp(store.anchor_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    contacts = {
        str(r.id): (r.props.get("lifecyclestage") or None, r.props.get("hs_lead_status") or None)
        for r in store.tables["contacts"].records.values()
    }
    tasks: dict[str, list[tuple[str, ...]]] = {}
    for task in store.tables["tasks"].records.values():
        body = task.props.get("hs_task_body") or ""
        if "[leadops:" not in body:
            continue
        row = (
            _written_at_masked(body, started),
            task.props.get("hs_task_subject") or "",
            task.props.get("hs_timestamp") or "",
            task.props.get("hs_task_status") or "",
            task.props.get("hubspot_owner_id") or "",
        )
        for contact_id in store.associated("tasks", task.id, "contacts"):
            tasks.setdefault(str(contact_id), []).append(row)
    lists = {lst.name: tuple(sorted(lst.members)) for lst in store.lists.values()}
    return PortalState(contacts, {c: tuple(sorted(t)) for c, t in tasks.items()}, lists)


def _written_at_masked(body: str, started: str) -> str:
    """A task body whose "since" instant the run itself wrote (a status set at the sandbox's
    running clock) compares equal across runs: a slower run crosses a minute boundary."""
    return _SINCE.sub(lambda m: "since <this run>" if m.group(1) >= started else m.group(0), body)


def digest_items(path: Path) -> list[tuple[str, ...]]:
    """(recipient, section, name, detail lines…, record URL) for each line of one digest."""
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    recipient = str(msg["To"])
    for part in msg.iter_attachments():  # a capped digest: every line is in its CSV
        if part.get_content_type() == "text/csv":
            return _csv_items(recipient, part.get_content())
        if part.get_content_type() == "application/zip":  # a big CSV goes out zipped
            with zipfile.ZipFile(io.BytesIO(part.get_content())) as archive:
                [member] = archive.namelist()
                return _csv_items(recipient, archive.read(member).decode("utf-8"))
    text = msg.get_body(("plain",)).get_content()
    items: list[tuple[str, ...]] = []
    section, current = "", None
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        if line.startswith("- "):
            if current:
                items.append(tuple(current))
            current = [recipient, section, line[2:]]
        elif line.startswith("  ") and current is not None:
            current.append(_comparable(line.strip()))
        elif current is not None:
            items.append(tuple(current))
            current = None
    if current:
        items.append(tuple(current))
    return items


def _comparable(detail: str) -> str:
    """A digest detail line as runs on different test portals can compare it: each portal has
    its own id, and due times are shown in the portal's timezone (the due instant itself is
    compared in `PortalState.tasks`)."""
    if detail.startswith("Due: "):
        return "Due: <in the portal's timezone>"
    return _PORTAL_IN_URL.sub(r"\1<portal>\2", detail)


def _csv_items(recipient: str, text: str) -> list[tuple[str, ...]]:
    """The same items as the text part gives, from a digest's CSV attachment."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return [
        (
            recipient,
            row["section"].upper(),
            row["contact"],
            *(_comparable(detail) for detail in row["details"].split("\n") if detail),
            *(
                [f"Sent to ops because: {row['sent to ops because']}"]
                if row["sent to ops because"]
                else []
            ),
            _comparable(row["record"]),
        )
        for row in rows
    ]


def outbox_files(outbox: Path) -> list[Path]:
    return sorted(p for sub in ("pending", "sent") for p in (outbox / sub).glob("*.eml"))


def told(outbox: Path) -> Counter[tuple[str, ...]]:
    """Every digest line in the outbox; a Counter, so duplicates count twice."""
    found: Counter[tuple[str, ...]] = Counter()
    for path in outbox_files(outbox):
        if ".digest." in path.name:
            found.update(digest_items(path))
    return found
