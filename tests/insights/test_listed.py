"""Listed contacts are streamed: every one is counted and handed on as found, each owner's
longest are kept, and the kept rows are exactly the first rows of the full listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from config.rules import Rules
from insights.build import BREACH, STUCK, ReportBuilder
from insights.listed import Listed, Shortlist, longest_first
from model.records import Record

UNTIL = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def listed(contact_id: str, owner: str, hours: float) -> Listed:
    since = UNTIL - timedelta(hours=hours)
    return Listed(contact_id, f"C{contact_id}", owner, "NEW", since, None, hours)


items = st.lists(
    st.builds(
        listed,
        st.integers(1, 40).map(str),
        st.sampled_from(["", "101", "102"]),
        st.sampled_from([1.0, 2.5, 30.0, 30.0, 400.0]),  # ties: the contact id decides
    ),
    max_size=60,
)


@given(items, st.integers(1, 5))
def test_a_shortlist_keeps_each_owners_longest_and_counts_them_all(
    found: list[Listed], keep: int
) -> None:
    shortlist = Shortlist(keep)
    for item in found:
        shortlist.add(item)
    owners = {item.owner_id for item in found}
    expected = []
    for owner in owners:
        theirs = sorted((i for i in found if i.owner_id == owner), key=longest_first)
        expected += theirs[:keep]
        assert shortlist.counts[owner] == len(theirs)
    assert sorted(shortlist.items(), key=repr) == sorted(expected, key=repr)
    assert shortlist.total() == len(found)
    mine = shortlist.for_owners({"101", "999"})
    assert mine.total() == sum(1 for i in found if i.owner_id == "101")
    assert {i.owner_id for i in mine.items()} <= {"101"}


def new_lead(contact_id: str, owner: str, days: float) -> Record:
    """A contact New for `days` days, with no touch: stuck, and an SLA breach."""
    since = UNTIL - timedelta(days=days)
    props = {"hs_lead_status": "NEW", "hubspot_owner_id": owner, "lifecyclestage": "lead"}
    return Record(contact_id, props, {"hs_lead_status": (("NEW", since),)})


def test_the_builder_hands_on_every_listed_contact_and_keeps_the_longest() -> None:
    leads = [new_lead(str(n), "101" if n % 3 else "102", 3 + n) for n in range(1, 13)]
    heard: list[tuple[str, str]] = []

    def build(keep: int) -> dict[str, list[dict]]:
        builder = ReportBuilder(
            Rules(),
            since=UNTIL - timedelta(days=30),
            until=UNTIL,
            owners={},
            on_listed=lambda kind, item: heard.append((kind, item.contact_id)),
            keep_listed=keep,
        )
        for start in range(0, len(leads), 5):
            builder.add(leads[start : start + 5], {})
        report = builder.finish()
        assert (report.stuck.total(), report.breaches.total()) == (12, 12)
        return report.tables()

    everything = build(keep=100)
    assert sorted(heard) == sorted((kind, r.id) for r in leads for kind in (STUCK, BREACH))
    short = build(keep=2)
    for name in ("stuck", "sla_breaches"):
        rows = everything[name]
        owner_rows = {o: [r for r in rows if r["owner_id"] == o] for o in ("101", "102")}
        assert short[name] == owner_rows["101"][:2] + owner_rows["102"][:2]
        assert [r["contact_id"] for r in owner_rows["101"][:2]] == ["11", "10"]  # the longest
    assert {k: v for k, v in short.items() if k not in ("stuck", "sla_breaches")} == {
        k: v for k, v in everything.items() if k not in ("stuck", "sla_breaches")
    }
