"""A big text attachment kept on disk and streamed into the outbox file, byte for byte the
part `EmailMessage.add_attachment(text)` would have made in memory.

A digest of 29,000 changes attaches a CSV of every line (megabytes, and several copies of it
while the message is built and serialised). `TextBody` takes the text a row at a time into a
temporary file (in memory while small), holding it as the `email` package's content manager
would (`email.contentmanager._encode_text`: lines split as `bytes.splitlines` splits them,
joined by the policy's line separator) and noting what that package's choice of transfer
encoding looks at: the longest line, whether it is ASCII, the first ten lines.
`FileBackedMessage.attach_text` adds the part with that encoding and a placeholder body
(`attach_file` does the same for any `FileBody`, such as the zip of `notify.zipped`);
`write_to` serialises the message with the email package and writes the encoded body in place
of the placeholder, a chunk at a time. `wire_size` is the message's size as SMTP sends it.

Example:
    ```python
    from notify.mime_file import FileBackedMessage, TextBody

    body = TextBody()
    body.write("section,contact\\r\\nNew SQLs,Ada Lovelace\\r\\n")
    message = FileBackedMessage()
    message["Subject"], message["Message-ID"] = "hi", "<demo.1@leadops>"
    message.set_content("see the attachment")
    message.attach_text(body, subtype="csv", filename="lines.csv")
    with open("/tmp/demo.eml", "wb") as out:
        message.write_to(out)
    ```
"""

from __future__ import annotations

import binascii
import uuid
from array import array
from collections.abc import Iterator
from email import policy as email_policy
from email.message import EmailMessage
from email.policy import Policy
from email.quoprimime import body_encode
from io import BytesIO
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import BinaryIO, Protocol

IN_MEMORY = 256 * 1024  # bytes a body keeps in memory before it moves to its temporary file
CHUNK = 57 * 1024  # bytes encoded at a time: whole base64 lines of 57 bytes (76 characters)
SNIFFED_LINES = 10  # the lines `email` compares quoted-printable and base64 on


class FileBody(Protocol):
    """An attachment's body kept in a file: its transfer encoding and its encoded bytes."""

    def transfer_encoding(self, policy: Policy) -> str: ...

    def encoded(self, encoding: str, policy: Policy) -> Iterator[bytes]: ...


class TextBody:
    """A text attachment's body in a temporary file (unnamed, so nothing is left behind),
    with what the `email` package's choice of transfer encoding looks at, its size, and
    where each record (what one `write` took) ends."""

    def __init__(self, folder: Path | None = None, linesep: str = "\n") -> None:
        self.folder = folder  # where its temporary file goes (None: the system's)
        self._file = SpooledTemporaryFile(max_size=IN_MEMORY, dir=folder)  # noqa: SIM115
        self._linesep = linesep.encode("ascii")
        self.longest = 0
        self.ascii = True
        self.head: list[bytes] = []
        self.size = 0
        self.ends = array("q")  # byte offset after each record

    def write(self, text: str) -> None:
        """Append a record: text that ends at a line break (a CSV row with its terminator)."""
        lines = text.encode("utf-8").splitlines()
        for line in lines:
            self.longest = max(self.longest, len(line))
            self.ascii = self.ascii and line.isascii()
            if len(self.head) < SNIFFED_LINES:
                self.head.append(line)
            self._file.write(line + self._linesep)
            self.size += len(line) + len(self._linesep)
        self.ends.append(self.size)

    def read_until(self, end: int) -> Iterator[bytes]:
        """The raw bytes from the start up to offset `end` (a record's end), a chunk at a time."""
        self._file.seek(0)
        left = end
        while left > 0 and (chunk := self._file.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk

    def transfer_encoding(self, policy: Policy) -> str:
        """What `email.contentmanager._encode_text` picks for this text under `policy`."""
        if self.longest <= policy.max_line_length:
            if self.ascii:
                return "7bit"
            if policy.cte_type == "8bit":
                return "8bit"
        sniff = b"".join(line + self._linesep for line in self.head)
        quoted = body_encode(sniff.decode("latin-1"), policy.max_line_length)
        return "base64" if len(quoted) > len(binascii.b2a_base64(sniff)) else "quoted-printable"

    def encoded(self, encoding: str, policy: Policy) -> Iterator[bytes]:
        """The body in `encoding`, a chunk at a time, as the `email` package encodes it."""
        self._file.seek(0)
        if encoding in ("7bit", "8bit"):
            yield from iter(lambda: self._file.read(CHUNK), b"")
        elif encoding == "base64":
            yield from base64_lines(self._file, policy)
        else:  # quoted-printable encodes line by line: whole lines at a time
            while lines := self._file.readlines(CHUNK):
                text = b"".join(lines).decode("latin-1")
                yield body_encode(text, policy.max_line_length).encode("ascii")

    def close(self) -> None:
        self._file.close()


def base64_lines(file: BinaryIO, policy: Policy) -> Iterator[bytes]:
    """`file` from its start in base64 lines as the `email` package writes them."""
    file.seek(0)
    per_line = policy.max_line_length // 4 * 3
    for chunk in iter(lambda: file.read(per_line * 1024), b""):
        yield b"".join(
            binascii.b2a_base64(chunk[start : start + per_line])
            for start in range(0, len(chunk), per_line)
        )


class FileBackedMessage(EmailMessage):
    """An email whose attachment stays in its file (a `FileBody`) until it is written out."""

    def __init__(self, policy: Policy = email_policy.default) -> None:
        super().__init__(policy)
        self._attached: tuple[FileBody, str, bytes] | None = None

    def attach_text(self, body: TextBody, *, subtype: str, filename: str) -> None:
        """Attach `body` as `add_attachment(text, subtype=…, filename=…)` would (same headers,
        same transfer encoding); its bytes join only in `write_to`."""
        encoding = body.transfer_encoding(self.policy)
        placeholder = f"leadops-attachment-{uuid.uuid4().hex}\n"
        self.add_attachment(placeholder, subtype=subtype, filename=filename, cte=encoding)
        self._hold(body, encoding, placeholder)

    def attach_file(self, body: FileBody, *, maintype: str, subtype: str, filename: str) -> None:
        """Attach a binary `body` (base64) as `add_attachment(data, maintype, subtype, …)`."""
        placeholder = f"leadops-attachment-{uuid.uuid4().hex}\n"
        self.add_attachment(
            placeholder.encode("ascii"), maintype=maintype, subtype=subtype, filename=filename
        )
        self._hold(body, body.transfer_encoding(self.policy), placeholder)

    def _hold(self, body: FileBody, encoding: str, placeholder: str) -> None:
        part = self.get_payload()[-1]
        part.set_payload(placeholder)  # as is, whatever the encoding: it is replaced
        self._attached = (body, encoding, placeholder.encode("ascii"))

    def write_to(self, out: BinaryIO, policy: Policy = email_policy.default) -> None:
        """Serialise the message into `out`, the attachment's body streamed from its file."""
        whole = super().as_bytes(policy=policy)
        if self._attached is None:
            out.write(whole)
            return
        body, encoding, placeholder = self._attached
        before, found, after = whole.partition(placeholder)
        assert found, "the attachment's placeholder is missing from the serialised message"
        out.write(before)
        for chunk in body.encoded(encoding, policy):
            out.write(chunk)
        out.write(after)

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None) -> bytes:
        """The whole message in memory (tests, small messages); the outbox uses `write_to`."""
        buffer = BytesIO()
        self.write_to(buffer, policy or self.policy)
        return buffer.getvalue()


def wire_bytes(data: bytes) -> int:
    """How many bytes `data` (lines ending in LF or CRLF) makes on the wire: SMTP sends
    every line ending as CRLF."""
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


def file_wire_size(path: Path) -> int:
    """`wire_bytes` of a file, read a chunk at a time."""
    with path.open("rb") as file:
        return sum(wire_bytes(chunk) for chunk in iter(lambda: file.read(CHUNK), b""))


class _WireCounter:
    """A sink counting the bytes SMTP sends of what is written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += wire_bytes(data)
        return len(data)


def wire_size(message: FileBackedMessage) -> int:
    """The message's size in bytes as SMTP sends it (lines ending in CRLF), which is what
    servers' size limits (ESMTP `SIZE`, RFC 1870) count; its attachment is streamed to count."""
    counter = _WireCounter()
    message.write_to(counter)  # type: ignore[arg-type]
    return counter.size
