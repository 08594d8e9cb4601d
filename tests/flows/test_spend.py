"""What runs cost a day: a run's projection at its schedule, and the schedules' check."""

from __future__ import annotations

import pytest

from flows.spend import budget_findings, projection, runs_per_day


@pytest.mark.parametrize(
    ("spec", "per_day"),
    [
        ({"cron": "*/15 * * * *"}, 96),
        ({"cron": "30 3 * * *"}, 1),
        ({"cron": "0 9 * * 1-5"}, 5 / 7),
        ({"interval": 600}, 144),
    ],
)
def test_runs_a_day_of_a_schedule(spec: dict, per_day: float) -> None:
    assert runs_per_day(spec) == pytest.approx(per_day)


def test_a_run_reports_its_calls_and_their_daily_share() -> None:
    text = projection(17, 96, daily_limit=None, share=0.2)
    assert text == (
        "HubSpot API calls: 17 this run; every 15 min that is ≈ 1,632 a day, 0.25% of the "
        "portal's 650,000 (a Professional portal's; HubSpot did not say), within leadops' 20% share"
    )
    assert "over leadops' 20% share" in projection(3_803, 96, daily_limit=650_000, share=0.2)


def test_check_warns_when_the_schedules_would_spend_more_than_the_share() -> None:
    schedules = {"cycle": [{"cron": "*/15 * * * *"}], "reconcile": [{"cron": "30 3 * * *"}]}
    fine = budget_findings(
        schedules, {"lifecycle-cycle": 20, "reconcile": 700}, daily_limit=None, share=0.2
    )
    assert [f.level for f in fine] == ["ok", "ok", "ok"]
    assert fine[0].message == "every 15 min × 20 calls (last run) ≈ 1,920 a day"
    heavy = budget_findings(schedules, {"lifecycle-cycle": 3_803}, daily_limit=None, share=0.2)
    assert heavy[-1].level == "warning" and "365,088 calls a day" in heavy[-1].message
    assert "no run recorded yet" in heavy[1].message
