"""A digest's CSV attachment sized for mail servers: plain while small, zipped past
`ZIP_ABOVE`, and cut to the rows that fit when even the zip would make the message bigger
than the portal's `leadops_digest_max_bytes`.

At 300,000 contacts one owner's CSV holds ~73,000 lines: 10 MB of text, 14 MB once base64
encoded in the mail, past the 10 MB many mail servers accept. Deflate shrinks such a CSV
(repetitive columns, record links) more than tenfold (73,334 synthetic lines: a 0.65 MB mail),
and a `.zip` opens natively on Windows and macOS. The zip is written from the CSV's file a
chunk at a time (`zipfile`, never the whole CSV in memory) into a temporary file beside it,
and streamed from there into the outbox like the CSV.

When the zip is still too big, `fit_attachment` keeps the CSV's first rows (sections in digest
order: overdue first touches first) and asks `compose` for a body that says how many lines
were left out; the Message-ID does not change (it names the digest's content, not its size),
so a re-rendered run finds its message already in the outbox and nothing is sent twice.

Example:
    ```python
    from email.policy import default

    from notify.mime_file import TextBody
    from notify.zipped import ZipBody

    csv = TextBody()
    csv.write("section,contact\\r\\n")
    csv.write("New SQLs,Ada Lovelace\\r\\n")
    body = ZipBody(csv, rows=1, member="lines.csv")
    print(body.size, b"".join(body.encoded("base64", default))[:20])
    ```
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.policy import Policy
from tempfile import SpooledTemporaryFile

from notify.mime_file import IN_MEMORY, FileBackedMessage, TextBody, base64_lines, wire_size

ZIP_ABOVE = 1_000_000  # bytes of CSV past which it goes out zipped (smaller: a plain CSV)
SHRINK = 0.98  # of the rows estimated to fit, a cut keeps this share (a margin: fewer retries)


@dataclass(frozen=True)
class Zipped:
    """A zipped attachment: how many of the digest's lines it holds (`kept`), of `total`."""

    kept: int
    total: int

    @property
    def left_out(self) -> int:
        return self.total - self.kept


class ZipBody:
    """A zip, in a temporary file, of the first `rows` rows (after the header) of a CSV."""

    def __init__(self, csv: TextBody, rows: int, member: str) -> None:
        self._file = SpooledTemporaryFile(max_size=IN_MEMORY, dir=csv.folder)  # noqa: SIM115
        end = csv.ends[rows]  # ends[0] is the header's
        info = zipfile.ZipInfo(member, date_time=datetime.now(UTC).timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = end  # tells zipfile up front whether it needs ZIP64
        with zipfile.ZipFile(self._file, "w") as archive, archive.open(info, "w") as out:
            for chunk in csv.read_until(end):
                out.write(chunk)
        self.size = self._file.tell()

    def transfer_encoding(self, policy: Policy) -> str:
        return "base64"

    def encoded(self, encoding: str, policy: Policy) -> Iterator[bytes]:
        yield from base64_lines(self._file, policy)

    def close(self) -> None:
        self._file.close()


def fit_attachment(
    csv: TextBody,
    compose: Callable[[Zipped | None], FileBackedMessage],
    filename: str,
    max_bytes: int,
) -> FileBackedMessage:
    """The message `compose` makes, with the CSV attached as it fits under `max_bytes` (as
    SMTP counts): plain when it is at most `ZIP_ABOVE` and fits, else zipped, else the zip of
    the first rows that fit. `compose(None)` makes the message for a plain CSV, `compose(
    Zipped(...))` for a zip, saying how many lines it holds. `filename` ends in `.csv`."""
    rows = len(csv.ends) - 1  # after the header
    if csv.size <= ZIP_ABOVE:
        message = compose(None)
        message.attach_text(csv, subtype="csv", filename=filename)
        if wire_size(message) <= max_bytes:
            return message
    keep = rows
    message = compose(Zipped(keep, rows))
    while True:
        body = ZipBody(csv, keep, filename)
        message.attach_file(
            body, maintype="application", subtype="zip", filename=filename[:-4] + ".zip"
        )
        size = wire_size(message)
        if size <= max_bytes or keep == 0:
            return message  # keep == 0: only the body is left (the setting's minimum avoids it)
        body.close()
        keep = _fewer(keep, size - max_bytes, body.size)
        message = compose(Zipped(keep, rows))


def _fewer(keep: int, over: int, zipped: int) -> int:
    """Rows to try next: fewer by what `over` bytes of the encoded zip hold, and a margin."""
    encoded_per_row = zipped * 78 / 57 / max(keep, 1)  # base64 lines of 76 + CRLF per 57 bytes
    estimate = math.floor((keep - over / encoded_per_row) * SHRINK)
    return max(0, min(keep - 1, estimate))
