"""The run-state database: deadlines per portal and rule, full-judgment records, run costs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.settings import Settings
from runstate.deadlines import RunStateStore, state_url

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_due_contacts_are_those_whose_deadline_has_come(tmp_path: Path) -> None:
    store = RunStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.keep_deadlines("1", "followup", {"a": NOW + timedelta(hours=1), "b": NOW, "c": None})
    store.keep_deadlines("1", "recycle", {"a": NOW - timedelta(days=1)})
    store.keep_deadlines("2", "followup", {"z": NOW - timedelta(days=1)})
    assert store.due("1", "followup", NOW) == ["b"]
    assert store.due("1", "followup", NOW + timedelta(hours=2)) == ["b", "a"]
    store.keep_deadlines("1", "followup", {"b": None, "a": NOW + timedelta(days=3)})
    assert store.due("1", "followup", NOW + timedelta(hours=2)) == []
    assert store.due("1", "recycle", NOW) == ["a"] and store.due("2", "followup", NOW) == ["z"]


def test_full_judgments_and_costs_are_remembered_per_portal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = RunStateStore(url)
    assert store.baseline("1", "promote") is None
    store.set_baseline("1", "promote", "abc", NOW)
    store.set_baseline("1", "promote", "def", NOW + timedelta(hours=1))
    assert RunStateStore(url).baseline("1", "promote") == "def"
    assert store.baseline("2", "promote") is None
    store.record_cost("1", "lifecycle-cycle", 17, NOW)
    store.record_cost("1", "lifecycle-cycle", 19, NOW + timedelta(minutes=15))
    assert store.last_costs("1") == {"lifecycle-cycle": (19, NOW + timedelta(minutes=15))}


def test_the_default_database_lives_beside_the_outbox(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, outbox_dir=tmp_path / "out")
    assert state_url(settings) == f"sqlite:///{tmp_path / 'out' / '.state' / 'leadops.db'}"
    shared = settings.model_copy(update={"leadops_state_url": "sqlite://"})
    assert state_url(shared) == "sqlite://"
