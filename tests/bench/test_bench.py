"""The benchmark's models on hand-made data, and one tiny run that yields every figure.

No assertion on speed: timings depend on the machine.
"""

from __future__ import annotations

import pytest

from bench.minimum import (
    ACCOUNT_DETAILS,
    API_USAGE,
    CONTACTS_READ,
    CONTACTS_UPDATE,
    LIST_ADD_ENDPOINT,
    LIST_CREATE,
    LIST_FIND,
    OWNERS,
    PROPERTY,
    SEARCH,
    TASKS_CREATE,
    associations_endpoint,
    limit_seconds,
    minimum_calls,
    read_endpoint,
    split,
)
from bench.naive import naive_calls
from bench.workload import RuleWork, Workload

from support import SEED_CYCLE_COUNTS


def workload() -> Workload:
    return Workload(
        contacts=5000,
        properties_checked=4,
        active_owners=150,
        archived_owners=0,
        list_names=2,
        lists_missing=["Nurture - CRM"],
        rules=[
            RuleWork(name="promote", search_matches=[401], candidates=401, forward_updates=250),
            RuleWork(name="new_lead", search_matches=[0], candidates=0),
            RuleWork(
                name="attempted",
                search_matches=[1200],
                candidates=1200,
                history=True,
                engagements={"emails": 950, "calls": 0},
                forward_updates=100,
            ),
            RuleWork(
                name="recycle",
                search_matches=[200, 0, 30],
                candidates=230,
                history=True,
                engagements={"meetings": 1},
                backward_updates=101,
                list_adds={"Nurture - CRM": 1001, "Nurture - General": 3},
                tasks=0,
            ),
        ],
    )


def test_minimum_counts_pages_batches_and_association_reads() -> None:
    calls = minimum_calls(workload())
    assert calls[PROPERTY] == 4
    assert calls[OWNERS] == 2 + 1  # 150 active: two pages; archived: one (empty) page
    assert calls[LIST_FIND] == 2 and calls[LIST_CREATE] == 1
    # promote 401 → 3 pages; new_lead 0 → 1; attempted 1200 → 6; recycle 200/0/30 → 1+1+1
    assert calls[SEARCH] == 3 + 1 + 6 + 3
    # history reads, 50 per call: 1200 → 24, 230 → 5; read-back of 101 backward moves → 2
    assert calls[CONTACTS_READ] == 24 + 5 + 2
    assert calls[ACCOUNT_DETAILS] == calls[API_USAGE] == 1  # the portal's identity, the budget
    assert calls[associations_endpoint("emails")] == 2  # 1,200 ids, 1,000 per call
    assert calls[associations_endpoint("calls")] == 2  # read even when nothing is found
    assert calls[read_endpoint("emails")] == 10 and read_endpoint("calls") not in calls
    assert calls[associations_endpoint("meetings")] == 1 and calls[read_endpoint("meetings")] == 1
    # 250 → 3, 100 → 1, backward 101 → clear 2 + set 2
    assert calls[CONTACTS_UPDATE] == 3 + 1 + 4
    assert calls[LIST_ADD_ENDPOINT] == 2 + 1
    assert TASKS_CREATE not in calls
    requests, searches = split(calls)
    assert searches == 13 and requests == sum(calls.values())  # searches count in both


def test_limit_imposed_time_follows_the_rolling_windows() -> None:
    assert limit_seconds(0, 0) == 0
    assert limit_seconds(190, 5) == 0  # one burst each
    assert limit_seconds(191, 0) == 10
    assert limit_seconds(450, 70) == 20  # requests bind: 190 + 190 + 70
    assert limit_seconds(100, 500) == 99  # searches bind: 5 per second


def test_naive_baseline_is_per_record() -> None:
    calls = naive_calls(workload())
    assert calls["GET /crm/v3/objects/contacts/{id}"] == 1200 + 230 + 101
    assert calls["PATCH /crm/v3/objects/contacts/{id}"] == 250 + 100 + 2 * 101
    assert calls["PUT /crm/v3/lists/{listId}/memberships/add"] == 1004
    assert calls[SEARCH] == minimum_calls(workload())[SEARCH]
    assert sum(calls.values()) > 10 * sum(minimum_calls(workload()).values())


def test_workload_round_trips_through_json() -> None:
    original = workload()
    assert Workload.from_dict(original.as_dict()) == original


@pytest.mark.usefixtures("prefect_harness")
def test_a_tiny_run_reports_every_figure() -> None:
    from prefect.settings import PREFECT_API_URL

    from bench.run import run_sizes

    [result] = run_sizes(
        [300], limited=False, notify=False, prefect_api_url=PREFECT_API_URL.value()
    )
    for key in (
        "calls",
        "calls_total",
        "minimum",
        "minimum_total",
        "calls_ratio",
        "wall_s",
        "limit_s",
        "wall_ratio",
        "prefect",
        "rate_limited_429",
        "peak_rss_mb",
        "naive_total",
        "naive_factor",
    ):
        assert key in result, key
    # From the seed's written table: `changes_expected` comes from the planners under test.
    assert result["changes_by_rule"] == SEED_CYCLE_COUNTS
    assert result["changes_expected"] == SEED_CYCLE_COUNTS
    assert result["failed"] == 0 and result["rate_limited_429"] == 0
    assert result["calls_total"] >= result["minimum_total"] > 0
    assert result["naive_total"] > result["calls_total"]
    assert result["prefect"]["task_runs"] > 0 and result["peak_rss_mb"] > 0
