"""The demo seed: deterministic, scaled, and true to the scenario table in sandbox/seed.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.seed import ARCHIVED_OWNER, GROUPS, NO_EMAIL_OWNER, group_sizes, seed_store
from sandbox.seeder import CONNECTED, DAY
from sandbox.store import Store
from sandbox.tables import Record, parse_ms

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> tuple[Store, dict[str, range]]:
    store = Store(NOW)
    return store, seed_store(store, "demo")


def contacts(demo: tuple[Store, dict[str, range]], group: str) -> list[Record]:
    store, ranges = demo
    return [store.get("contacts", i) for i in ranges[group]]


def engagements(store: Store, record: Record) -> list[tuple[str, dict[str, str]]]:
    return [
        (kind, store.get(kind, eid).props)
        for kind in ("emails", "calls", "meetings", "tasks")
        for eid in store.associated("contacts", record.id, kind)
    ]


def outbound(kind: str, props: dict[str, str]) -> bool:
    if kind == "emails":
        return props["hs_email_direction"] == "EMAIL" and props["hs_email_status"] not in (
            "BOUNCED",
            "FAILED",
        )
    return kind == "calls" and props["hs_call_direction"] == "OUTBOUND"


def new_since(record: Record) -> int:
    versions = (record.history or {}).get("hs_lead_status", [])
    news = [ms for value, ms, _ in versions if value == "NEW"]
    return news[-1] if news else record.created


def touches(store: Store, record: Record) -> list[int]:
    since = new_since(record)
    return sorted(
        t
        for kind, props in engagements(store, record)
        if outbound(kind, props) and (t := parse_ms(props["hs_timestamp"]) or 0) > since
    )


def answered_within(store: Store, record: Record, days: int) -> bool:
    cutoff = store.anchor_ms - days * DAY
    for kind, props in engagements(store, record):
        at = parse_ms(props["hs_timestamp"]) or 0
        answer = (
            (kind == "emails" and props["hs_email_direction"] == "INCOMING_EMAIL")
            or (kind == "calls" and props["hs_call_disposition"] == CONNECTED)
            or kind == "meetings"
        )
        if answer and at >= cutoff:
            return True
    return False


def test_group_sizes_add_up() -> None:
    assert sum(group_sizes(None).values()) == 300
    assert group_sizes(None) == {g.name: g.count for g in GROUPS}
    scaled = group_sizes(100_000)
    assert sum(scaled.values()) == 100_000 and scaled["mql_hot"] == 6666


def test_seed_is_deterministic() -> None:
    def snapshot() -> list[tuple]:
        store = Store(NOW)
        seed_store(store, "demo")
        return [
            (kind, r.id, sorted(r.props.items()), r.created)
            for kind, table in store.tables.items()
            for r in table.records.values()
        ]

    assert snapshot() == snapshot()


def test_empty_seed_has_owners_only() -> None:
    store = Store(NOW)
    assert seed_store(store, "empty") == {}
    assert len(store.owners) == 5
    assert all(not t.records for t in store.tables.values())


def test_promote_groups(demo: tuple[Store, dict[str, range]]) -> None:
    def scores(group: str) -> list[float | None]:
        return [
            float(s) if (s := r.props.get("lead_score")) else None for r in contacts(demo, group)
        ]

    assert min(scores("mql_hot")) == 50 and all(s >= 50 for s in scores("mql_hot"))
    assert {49.5, 49.0} <= set(scores("mql_cold")) and all(s < 50 for s in scores("mql_cold"))
    assert scores("mql_no_score") == [None] * 10
    owners = {
        g: {r.props.get("hubspot_owner_id") for r in contacts(demo, g)}
        for g in ("mql_hot_unowned", "mql_hot_archived_owner", "mql_hot_owner_no_email")
    }
    assert owners == {
        "mql_hot_unowned": {None},
        "mql_hot_archived_owner": {ARCHIVED_OWNER},
        "mql_hot_owner_no_email": {NO_EMAIL_OWNER},
    }
    odd = contacts(demo, "mql_hot_odd_names")
    names = [r.props["firstname"] + r.props["lastname"] for r in odd]
    assert "🚀" in names[0] and "<b>" in names[1] and len(names[2]) > 300


def test_attempted_groups(demo: tuple[Store, dict[str, range]]) -> None:
    store = demo[0]
    for group in ("new_emailed", "new_called", "new_connected_call", "new_imported"):
        assert all(touches(store, r) for r in contacts(demo, group)), group
    for group in ("new_inbound_only", "new_forwarded", "new_bounced", "new_touched_before"):
        assert not any(touches(store, r) for r in contacts(demo, group)), group
        assert all(engagements(store, r) for r in contacts(demo, group)), group
    for record in contacts(demo, "new_imported"):
        assert "hs_lead_status" not in (record.history or {})
        sql = parse_ms(record.props["hs_lifecyclestage_salesqualifiedlead_date"])
        assert sql is not None and touches(store, record)[0] > sql


def test_followup_and_recycle_groups(demo: tuple[Store, dict[str, range]]) -> None:
    store, day = demo[0], DAY

    def last_touch_days(record: Record) -> float:
        return (store.anchor_ms - touches(store, record)[-1]) / day

    for record in contacts(demo, "attempted_stale"):
        assert len(touches(store, record)) == 2 and last_touch_days(record) >= 2
    for record in contacts(demo, "attempted_recent"):
        assert last_touch_days(record) < 2
    for record in contacts(demo, "attempted_four_old"):
        assert len(touches(store, record)) == 4
    exhausted = ("attempted_exhausted", "attempted_exhausted_old_reply")
    for group in exhausted:
        for record in contacts(demo, group):
            assert len(touches(store, record)) == 5 and not answered_within(store, record, 14)
    for group in (
        "attempted_exhausted_replied",
        "attempted_exhausted_connected",
        "attempted_exhausted_meeting",
    ):
        assert all(answered_within(store, r, 14) for r in contacts(demo, group)), group
    interests = [r.props.get("product_interest") for r in contacts(demo, "unqualified")]
    assert sorted(map(str, interests)) == sorted(
        map(str, ["analytics"] * 3 + ["crm"] * 3 + ["payments"] * 3 + [None] * 2 + ["hardware"])
    )
    held = {
        g: [r.props for r in contacts(demo, g)]
        for g in ("unqualified_in_sequence", "unqualified_next_activity", "unqualified_with_deal")
    }
    assert all(p["hs_sequences_is_enrolled"] == "true" for p in held["unqualified_in_sequence"])
    assert all(
        parse_ms(p["notes_next_activity_date"]) > store.anchor_ms
        for p in held["unqualified_next_activity"]
    )
    assert all(p["num_associated_deals"] == "1" for p in held["unqualified_with_deal"])


def test_open_leadops_tasks(demo: tuple[Store, dict[str, range]]) -> None:
    store = demo[0]

    def open_marked(record: Record, marker: str) -> bool:
        return any(
            kind == "tasks" and marker in p["hs_task_body"] and p["hs_task_status"] != "COMPLETED"
            for kind, p in engagements(store, record)
        )

    assert all(
        open_marked(r, "[leadops:first_touch]") for r in contacts(demo, "new_with_open_task")
    )
    for group in ("new_with_done_task", "new_with_other_task"):
        assert not any(open_marked(r, "[leadops:first_touch]") for r in contacts(demo, group))
    assert all(
        open_marked(r, "[leadops:next_attempt]")
        for r in contacts(demo, "attempted_stale_with_task")
    )
