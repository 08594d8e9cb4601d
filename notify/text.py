"""Text as messages show it: one line, bounded, record links, addresses, Message-IDs. Pure.

Example:
    ```python
    from notify.text import one_line, record_url

    assert one_line("Ada\\r\\nBcc: x@evil.test") == "Ada Bcc: x@evil.test"
    print(record_url("12345", "101"))  # https://app.hubspot.com/contacts/12345/record/0-1/101
    ```
"""

from __future__ import annotations

import hashlib
import re
from email.headerregistry import Address
from email.utils import parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from config.settings import DEFAULT_UI_DOMAIN

if TYPE_CHECKING:
    from hashlib import _Hash

RECORD_URL = "https://{domain}/contacts/{portal}/record/0-1/{contact}"
OPS_NAME = "ops"
MAX_TEXT = 200  # longest contact-controlled value shown (names, task subjects)
MAX_CELL = 80  # characters per table cell: one long name must not push every column away
MAX_ERROR = 2000  # longest error text in an alert
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def one_line(text: object, limit: int = MAX_TEXT) -> str:
    """`text` on one line (CR, LF and other breaks become spaces), at most `limit` characters.

    Example:
        ```python
        from notify.text import one_line

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


@lru_cache(maxsize=4096)  # asked once per change told, of a few owners' addresses
def usable_email(value: str | None) -> bool:
    """A single plain address that an email header can carry."""
    if not value or not _EMAIL.match(value):
        return False
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError):
        return False
    return True


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24].strip("-") or "run"


def content_hasher(run_name: str) -> _Hash:
    """The hash a message's content feeds (`message_id`), seeded with the full run name (its
    slug in the id is cut). A digest feeds it line by line as it reads its lines back."""
    return hashlib.sha256(f"{run_name}\0".encode())


def message_id(run_name: str, kind: str, recipient: str, content: str, sender: str) -> str:
    """A Message-ID that depends only on the run, the kind, the recipient and the content.

    The same run re-rendering the same digest gets the same id (so the outbox never sends it
    twice); a retried run that has *new* changes for someone gets a new id (so they are not
    lost).
    """
    hasher = content_hasher(run_name)
    hasher.update(content.encode("utf-8"))
    return hashed_message_id(run_name, kind, recipient, hasher.hexdigest(), sender)


def hashed_message_id(
    run_name: str, kind: str, recipient: str, content_hash: str, sender: str
) -> str:
    """`message_id` for content already hashed with `content_hasher`."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "leadops.invalid"
    who = hashlib.sha256(recipient.lower().encode("utf-8")).hexdigest()[:8]
    return f"<{'.'.join((slug(run_name), kind, who, content_hash[:8]))}@{domain}>"
