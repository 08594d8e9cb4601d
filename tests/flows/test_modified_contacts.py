"""The shared read of the modified contacts (`flows.modified`): matching in memory finds every
contact HubSpot's search finds, and the shared read gives way when the rules' own searches
cost less."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.modified import MAX_PAGES, may_match, read_modified, searches_needed
from model.records import Record
from sandbox.search import SearchCache, search
from sandbox.store import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STAGES = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "customer", "")
STATUSES = ("NEW", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING", "UNQUALIFIED", "")
VALUES = {
    "lifecyclestage": STAGES,
    "hs_lead_status": STATUSES,
    "lead_score": ("50", "50.0", "7", "", "n/a"),
    "company": ("Acme", "ACME", "acme inc", ""),
}
# what a search may ask for: any value, or its lowercase (numbers: valid ones only)
WANTED = {name: [v for v in values if v and v != "n/a"] for name, values in VALUES.items()}
contact = st.fixed_dictionaries(
    {name: st.sampled_from(values) for name, values in VALUES.items()}
).map(lambda props: {k: v for k, v in props.items() if v})
condition = st.sampled_from(list(VALUES)).flatmap(
    lambda name: st.one_of(
        st.just({"propertyName": name, "operator": "HAS_PROPERTY"}),
        st.just({"propertyName": name, "operator": "NOT_HAS_PROPERTY"}),
        st.sampled_from(WANTED[name]).flatmap(
            lambda value: st.sampled_from([value, value.lower()]).map(
                lambda v: {"propertyName": name, "operator": "EQ", "value": v}
            )
        ),
    )
)


@settings(max_examples=200, deadline=None)
@given(st.lists(contact, min_size=1, max_size=8), st.lists(condition, min_size=1, max_size=3))
def test_every_contact_the_search_finds_matches_in_memory(
    contacts: list[dict[str, str]], group: list[dict[str, Any]]
) -> None:
    store = Store()
    for props in contacts:
        store.insert("contacts", props, 0)
    body = {"filterGroups": [{"filters": group}], "properties": list(VALUES), "limit": 200}
    answer = search(store, "contacts", body, SearchCache())
    for result in answer["results"]:
        assert may_match(result["properties"], group), (result["properties"], group)


def test_matching_in_memory_leaves_out_what_surely_does_not_match() -> None:
    new = [{"propertyName": "hs_lead_status", "operator": "EQ", "value": "NEW"}]
    unset = [{"propertyName": "hs_lead_status", "operator": "NOT_HAS_PROPERTY"}]
    assert not may_match({"hs_lead_status": "CONNECTED"}, new)
    assert not may_match({"hs_lead_status": None}, new)
    assert not may_match({"hs_lead_status": "NEW"}, unset)
    # an operator only HubSpot judges keeps the contact (the planner rechecks)
    assert may_match({}, [{"propertyName": "lead_score", "operator": "GT", "value": "50"}])


def test_searching_each_group_costs_a_call_per_group_and_per_page_of_matches() -> None:
    assert searches_needed([0, 0, 0]) == 3
    assert searches_needed([200, 201, 1]) == 1 + 2 + 1


class PagedGateway:
    """A gateway whose contact search answers `pages`, counting the pages asked for."""

    def __init__(self, pages: Sequence[Sequence[Record]]) -> None:
        self.pages, self.calls = pages, 0

    def search(self, *_args: Any, **_kwargs: Any) -> Iterator[list[Record]]:
        for page in self.pages:
            self.calls += 1
            yield list(page)


def _pages(count: int, status: str, last: int = 200) -> list[list[Record]]:
    sizes = [200] * (count - 1) + [last]
    ids = iter(range(1, 200 * count + 1))
    return [[Record(str(next(ids)), {"hs_lead_status": status}) for _ in range(n)] for n in sizes]


GROUPS = [[{"propertyName": "hs_lead_status", "operator": "EQ", "value": s}] for s in STATUSES[:4]]


def _read(gateway: PagedGateway) -> Any:
    return read_modified(gateway, NOW - timedelta(hours=1), NOW, ["hs_lead_status"], GROUPS)  # type: ignore[arg-type]


def test_the_shared_read_is_used_when_it_costs_no_more_than_the_groups_own_searches() -> None:
    # 3 pages of New leads: the groups' own searches would need 3 (NEW) + 1 + 1 + 1 calls
    gateway = PagedGateway(_pages(3, "NEW", last=50))
    found = _read(gateway)
    assert found is not None and gateway.calls == 3
    assert sum(len(page) for page in found.matching(GROUPS[:1], ["hs_lead_status"], set())) == 450
    assert list(found.matching(GROUPS[1:2], ["hs_lead_status"], set())) == [[], [], []]
    left_out = {"1", "2"}
    assert sum(len(p) for p in found.matching(GROUPS[:1], [], left_out)) == 448


def test_the_shared_read_gives_way_when_the_modified_contacts_are_outside_every_group() -> None:
    # Customers edited in bulk: the 4 groups' own searches need 4 calls; the shared read
    # stops after 4 pages, before the 5th
    gateway = PagedGateway(_pages(30, "UNQUALIFIED"))
    assert _read(gateway) is None
    assert gateway.calls == 4


def test_the_shared_read_holds_at_most_max_pages() -> None:
    groups = [[]] * (MAX_PAGES * 2)  # the groups' own searches would need more
    gateway = PagedGateway(_pages(MAX_PAGES + 5, "NEW"))
    assert read_modified(gateway, NOW, NOW, [], groups) is None  # type: ignore[arg-type]
    assert gateway.calls == MAX_PAGES


def test_the_rules_search_on_their_own_when_their_properties_do_not_fit_one_search() -> None:
    class RefusingGateway(PagedGateway):
        def search(self, *_args: Any, **_kwargs: Any) -> Iterator[list[Record]]:
            raise ValueError("the search body would be 3,400 characters, over HubSpot's 3000")

    gateway = RefusingGateway([])
    assert _read(gateway) is None


def test_a_contact_read_outside_every_group_is_surely_outside_an_unread_one_is_not() -> None:
    found = _read(
        PagedGateway(
            [
                [Record("1", {"hs_lead_status": "NEW"})],
            ]
        )
    )
    bad_timing = [[{"propertyName": "hs_lead_status", "operator": "EQ", "value": "BAD_TIMING"}]]
    assert found.surely_outside(["1", "2"], bad_timing) == {"1"}  # "2" was not read
    assert found.surely_outside(["1", "2"], GROUPS) == set()
