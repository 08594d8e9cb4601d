"""What incremental cycles remember between runs: each judged contact's next deadline per
rule, each rule's last full judgment (the config it judged with), and what runs cost.

One SQL database per installation (SQLite under the outbox folder by default; any
SQLAlchemy URL, e.g. PostgreSQL, to share it between workers), keyed by portal:

- `deadlines`: (portal, rule, contact) → the instant at which time alone may change the
  rule's decision about the contact (`rules.triggers.DeadlinePassed`). A cycle judges the
  contacts whose instant has come, and every judgment replaces (or clears) the row.
- `baselines`: (portal, rule) → the rules-config digest of the rule's last full judgment.
  None, or another digest (the rules file changed), and the next run judges in full.
- `run_costs`: (portal, flow) → the calls its last run spent (`leadops check` projects them).

Example:
    ```python
    from datetime import UTC, datetime, timedelta

    from runstate.deadlines import RunStateStore

    store = RunStateStore("sqlite://")  # in memory
    now = datetime.now(UTC)
    store.keep_deadlines("12345", "followup", {"101": now + timedelta(days=2), "102": None})
    print(store.due("12345", "followup", now + timedelta(days=3)))  # ['101']
    ```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from config.settings import Settings

_metadata = MetaData()
deadlines = Table(
    "leadops_deadlines",
    _metadata,
    Column("portal", String(32), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("contact_id", String(32), primary_key=True),
    Column("due_ms", BigInteger, nullable=False, index=True),
)
baselines = Table(
    "leadops_baselines",
    _metadata,
    Column("portal", String(32), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("config_hash", String(64), nullable=False),
    Column("judged_ms", BigInteger, nullable=False),
)
run_costs = Table(
    "leadops_run_costs",
    _metadata,
    Column("portal", String(32), primary_key=True),
    Column("flow", String(64), primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)


def state_url(settings: Settings) -> str:
    """`leadops_state_url`, else a SQLite file in the outbox folder (beside the journal)."""
    if settings.leadops_state_url:
        return settings.leadops_state_url
    folder = Path(settings.outbox_dir) / ".state"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'leadops.db').resolve()}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


_engines: dict[str, Engine] = {}


class RunStateStore:
    """The run state of every portal in one database (tables created on first use)."""

    def __init__(self, url: str) -> None:
        if url not in _engines:  # one connection pool per database and process
            _engines[url] = create_engine(url)
            _metadata.create_all(_engines[url])
        self.engine = _engines[url]

    @classmethod
    def for_settings(cls, settings: Settings) -> RunStateStore:
        return cls(state_url(settings))

    def due(self, portal: str, rule: str, now: datetime) -> list[str]:
        """Contacts whose deadline for `rule` is at or before `now`."""
        query = select(deadlines.c.contact_id).where(
            and_(
                deadlines.c.portal == portal,
                deadlines.c.rule == rule,
                deadlines.c.due_ms <= _ms(now),
            )
        )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query.order_by(deadlines.c.due_ms))]

    def keep_deadlines(self, portal: str, rule: str, found: Mapping[str, datetime | None]) -> None:
        """Replace the given contacts' deadlines (None removes one)."""
        if not found:
            return
        key = and_(deadlines.c.portal == portal, deadlines.c.rule == rule)
        rows = [
            {"portal": portal, "rule": rule, "contact_id": cid, "due_ms": _ms(when)}
            for cid, when in found.items()
            if when is not None
        ]
        with self.engine.begin() as conn:
            conn.execute(delete(deadlines).where(key, deadlines.c.contact_id.in_(list(found))))
            if rows:
                conn.execute(insert(deadlines), rows)

    def baseline(self, portal: str, rule: str) -> str | None:
        """The config digest of the rule's last full judgment on the portal, if any."""
        query = select(baselines.c.config_hash).where(
            baselines.c.portal == portal, baselines.c.rule == rule
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def set_baseline(self, portal: str, rule: str, config_hash: str, judged: datetime) -> None:
        row = {"config_hash": config_hash, "judged_ms": _ms(judged)}
        self._upsert(baselines, {"portal": portal, "rule": rule}, row)

    def record_cost(self, portal: str, flow: str, calls: int, at: datetime) -> None:
        key = {"portal": portal, "flow": flow}
        self._upsert(run_costs, key, {"calls": calls, "at_ms": _ms(at)})

    def last_costs(self, portal: str | None = None) -> dict[str, tuple[int, datetime]]:
        """`{flow: (calls, when)}` of each flow's last run (on one portal, or the latest
        of any portal)."""
        query = select(run_costs).order_by(run_costs.c.at_ms)
        if portal is not None:
            query = query.where(run_costs.c.portal == portal)
        with self.engine.connect() as conn:
            return {
                row.flow: (row.calls, datetime.fromtimestamp(row.at_ms / 1000, UTC))
                for row in conn.execute(query)
            }

    def _upsert(self, table: Table, key: Mapping[str, str], values: Mapping[str, object]) -> None:
        where = [table.c[name] == value for name, value in key.items()]
        with self.engine.begin() as conn:
            changed = conn.execute(update(table).where(*where).values(**values)).rowcount
            if not changed:
                conn.execute(insert(table).values(**key, **values))
