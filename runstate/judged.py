"""What each rule last saw of what it judged (`flows.settled` computes and compares it):

- of a contact, a fingerprint of the properties the rule decides with, after its own writes
  (subject: the contact id);
- of an engagement, for the contact it was read with, its `hs_lastmodifieddate` as the rule
  read it, or as HubSpot answered the rule's own task creation (subject: `engagement_key`,
  e.g. `task/123@101`; a task the rule created: `task/123@created`).

Kept in the run-state database (`runstate.deadlines`), table `leadops_judged`:
(portal, rule, subject) → what was seen, and the instant of the cycle that saw it. Only
judgments younger than the watermarks' overlap are useful (older changes are outside every
window), so each cycle prunes the older rows: the table holds about two cycles' judgments.

Example:
    ```python
    from datetime import UTC, datetime

    from runstate.deadlines import RunStateStore
    from runstate.judged import JudgedStore

    judged = JudgedStore(RunStateStore("sqlite://"))
    judged.keep("12345", "followup", {"101": "3f2a"}, datetime.now(UTC))
    print(judged.seen("12345", "followup", ["101", "102"]))  # {'101': '3f2a'}
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import BigInteger, Column, MetaData, String, Table, and_, delete, insert, select
from sqlalchemy.engine import Engine

from runstate.deadlines import RunStateStore

_metadata = MetaData()
judged = Table(
    "leadops_judged",
    _metadata,
    Column("portal", String(32), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("subject", String(96), primary_key=True),
    Column("seen", String(64), nullable=False),
    Column("judged_ms", BigInteger, nullable=False, index=True),
)
_ready: set[int] = set()
_IN_CHUNK = 500  # ids per IN (...) query: under SQLite's bound-parameter limit


def engagement_key(kind: str, engagement_id: str, contact_id: str) -> str:
    """The subject of an engagement as seen for one of its contacts (ids are unique within
    one object type only; a rule that judged one contact of an engagement has not judged
    the others)."""
    return f"{kind}/{engagement_id}@{contact_id}"


def created_task_key(task_id: str) -> str:
    """The subject of a task the rule created, whichever contact it was created for: it
    counts as seen only while that one contact is all it has (`flows.settled`)."""
    return f"task/{task_id}@created"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class JudgedStore:
    """What each rule saw of the contacts and engagements it judged, per portal."""

    def __init__(self, state: RunStateStore) -> None:
        self.engine: Engine = state.engine
        if id(self.engine) not in _ready:
            _metadata.create_all(self.engine)
            _ready.add(id(self.engine))

    def seen(self, portal: str, rule: str, subjects: Iterable[str]) -> dict[str, str]:
        """What the rule last saw of each given subject it saw."""
        wanted = list(dict.fromkeys(subjects))
        found: dict[str, str] = {}
        key = and_(judged.c.portal == portal, judged.c.rule == rule)
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                query = select(judged.c.subject, judged.c.seen).where(
                    key, judged.c.subject.in_(chunk)
                )
                found.update({row[0]: row[1] for row in conn.execute(query)})
        return found

    def keep(self, portal: str, rule: str, seen: Mapping[str, str | None], at: datetime) -> None:
        """Replace what the rule saw of the given subjects (None forgets one: judged next
        time)."""
        if not seen:
            return
        key = and_(judged.c.portal == portal, judged.c.rule == rule)
        rows = [
            {
                "portal": portal,
                "rule": rule,
                "subject": subject,
                "seen": value,
                "judged_ms": _ms(at),
            }
            for subject, value in seen.items()
            if value is not None
        ]
        ids = list(seen)
        with self.engine.begin() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                conn.execute(delete(judged).where(key, judged.c.subject.in_(chunk)))
            if rows:
                conn.execute(insert(judged), rows)

    def prune(self, portal: str, before: datetime) -> None:
        """Forget the portal's judgments made before `before`."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(judged).where(judged.c.portal == portal, judged.c.judged_ms < _ms(before))
            )
