"""A digest, the records its templates read, and `DigestWriter`, which builds one a line at a
time keeping only what the mail shows.

The mail shows each section's first `SECTION_LIMIT` lines and every section's count; the
attached CSV holds every line. `DigestWriter` keeps those first lines and counts in memory,
the rest in a temporary file per section (in memory while small), and when it is finished
reads them back once, in section order, to hash them for the Message-ID and to write the CSV
into a `TextBody`. So a recipient with 29,000 changes costs what one with 50 does, plus files.

The Message-ID hashes what it always hashed, the repr of `(sections, owner name)` with every
line, fed piece by piece: the same digest gets the same id as before, and a digest planned from
disk the same as one planned in memory.

Example:
    ```python
    from notify.digest import NEW_SQLS, DigestLine, DigestWriter

    writer = DigestWriter("amber-fox", "grace@example.com", "Grace Hopper")
    writer.add(NEW_SQLS, DigestLine("101", "Ada Lovelace", "https://…", ("72", "score 72 ≥ 50")))
    digest = writer.finish()
    print(digest.total, digest.capped, digest.content_hash[:8])
    ```
"""

from __future__ import annotations

import csv
import io
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import SpooledTemporaryFile

from notify.mime_file import IN_MEMORY, TextBody
from notify.text import content_hasher

NEW_SQLS, TASKS, ATTEMPTED, RECYCLED = "New SQLs", "Tasks created", "Moved to Attempted", "Recycled"
LADDER = "Moved up the ladder"
BREACHED, NEW_MQLS = "First touch overdue", "New MQLs"
COLUMNS: Mapping[str, tuple[str, ...]] = {  # in digest order: overdue first touches on top
    BREACHED: ("Why",),
    NEW_MQLS: ("Why",),
    NEW_SQLS: ("Score", "Why"),
    TASKS: ("Task", "Due", "Why"),
    ATTEMPTED: ("Change", "Why"),
    LADDER: ("Change", "Why"),
    RECYCLED: ("Nurture list", "Why"),
}
SECTION_LIMIT = 50  # lines per digest section in the mail; every line is in the attached CSV
CSV_HEADER = ("section", "contact", "details", "sent to ops because", "record")
SPILL = 1000  # lines a section holds in memory before they go to its file


@dataclass(frozen=True)
class DigestLine:
    """One contact in a section: its name, record link, one value per section column.

    `note` says why an ops digest holds it ("no owner", "owner archived: …").
    """

    contact_id: str
    name: str
    url: str
    values: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    """A digest section: its first `SECTION_LIMIT` lines (what the mail shows) and how many
    it has (`count`; the attached CSV has every one), `routed` of them to ops."""

    title: str
    columns: tuple[str, ...]
    shown: tuple[DigestLine, ...]
    count: int
    routed: int = 0

    @property
    def hidden(self) -> int:
        return self.count - len(self.shown)


@dataclass(frozen=True)
class Digest:
    """Everything one recipient is told about one run. `content_hash` names its content in
    the Message-ID; `attachment`, when a section is capped, holds the CSV of every line."""

    run_name: str
    recipient: str
    owner_name: str
    sections: tuple[Section, ...]
    for_ops: bool = False
    content_hash: str = ""
    attachment: TextBody | None = field(default=None, compare=False, repr=False)

    @property
    def total(self) -> int:
        return sum(section.count for section in self.sections)

    @property
    def capped(self) -> bool:
        """Some section shows only its first lines: the rest is in the attached CSV."""
        return any(section.hidden for section in self.sections)

    @property
    def routed(self) -> int:
        """Lines sent to ops because their owner could not be reached."""
        return sum(section.routed for section in self.sections)

    def tally(self) -> DigestTally:
        return DigestTally(self.owner_name, self.recipient, self.total, self.routed)


@dataclass(frozen=True)
class DigestTally:
    """What the ops summary says of a digest once it is sent: who got it, how many lines."""

    owner_name: str
    recipient: str
    total: int
    routed: int


class _Lines:
    """One section's lines: the first `SECTION_LIMIT` and the count in memory, every line in
    a temporary file (pickled `SPILL` at a time) once there are more than `SPILL`."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.shown: list[DigestLine] = []
        self.count = self.routed = 0
        self._pending: list[DigestLine] = []
        self._file: SpooledTemporaryFile[bytes] | None = None

    def add(self, line: DigestLine) -> None:
        self.count += 1
        self.routed += bool(line.note)
        if len(self.shown) < SECTION_LIMIT:
            self.shown.append(line)
        self._pending.append(line)
        if len(self._pending) >= SPILL:
            if self._file is None:
                self._file = SpooledTemporaryFile(max_size=IN_MEMORY, dir=self.folder)  # noqa: SIM115
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def __iter__(self) -> Iterator[DigestLine]:
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    yield from pickle.load(self._file)
                except EOFError:
                    break
        yield from self._pending

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class DigestWriter:
    """Builds one recipient's digest from lines added in any section order (`add`), then
    `finish`. `folder`: where the temporary files go (None: the system's)."""

    def __init__(
        self, run_name: str, recipient: str, owner_name: str, folder: Path | None = None
    ) -> None:
        self.run_name, self.recipient, self.owner_name = run_name, recipient, owner_name
        self.folder = folder
        self.for_ops = False
        self._sections: dict[str, _Lines] = {}

    @property
    def order(self) -> tuple[bool, str, str]:
        """Digests go out owners first, by name, then ops."""
        return (self.for_ops, self.owner_name.lower(), self.recipient)

    def add(self, title: str, line: DigestLine) -> None:
        lines = self._sections.get(title)
        if lines is None:
            lines = self._sections[title] = _Lines(self.folder)
        lines.add(line)

    def finish(self) -> Digest:
        """The digest, its lines read back once for the Message-ID's hash and the CSV."""
        titles = [title for title in COLUMNS if title in self._sections]
        capped = any(self._sections[t].count > SECTION_LIMIT for t in titles)
        hasher = content_hasher(self.run_name)
        attachment = TextBody(self.folder) if capped else None
        rows = _CsvRows(attachment)
        rows.write(CSV_HEADER)
        hasher.update(b"((")  # repr((sections, owner_name)), as the Message-ID always hashed
        for index, title in enumerate(titles):
            lines = self._sections[title]
            opening = f"{', ' if index else ''}Section(title={title!r}, "
            hasher.update(f"{opening}columns={COLUMNS[title]!r}, lines=(".encode())
            for number, line in enumerate(lines):
                hasher.update(f"{', ' if number else ''}{line!r}".encode())
                rows.write_line(title, line)
            hasher.update(b",))" if lines.count == 1 else b"))")
            lines.close()
        hasher.update(f"{',' if len(titles) == 1 else ''}), {self.owner_name!r})".encode())
        return Digest(
            run_name=self.run_name,
            recipient=self.recipient,
            owner_name=self.owner_name,
            sections=tuple(
                Section(title, COLUMNS[title], tuple(lines.shown), lines.count, lines.routed)
                for title, lines in ((t, self._sections[t]) for t in titles)
            ),
            for_ops=self.for_ops,
            content_hash=hasher.hexdigest(),
            attachment=attachment,
        )


class _CsvRows:
    """The attached CSV, a row at a time (nothing when the digest is not capped)."""

    def __init__(self, body: TextBody | None) -> None:
        self.body = body
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def write(self, row: tuple[str, ...] | list[str]) -> None:
        if self.body is None:
            return
        self._writer.writerow(row)
        self.body.write(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()

    def write_line(self, title: str, line: DigestLine) -> None:
        if self.body is None:
            return
        details = [
            f"{column}: {value}"
            for column, value in zip(COLUMNS[title], line.values, strict=True)
            if value != "—"
        ]
        self.write([title, line.name, "\n".join(details), line.note, line.url])
