"""Steady state: what incremental cycles cost a day next to full cycles.

    python -m bench.steady 10000 [--hours 24] [--every 15]

Seeds a sandbox with N demo contacts (its clock moved by hand, no rate limits: calls, not
time, are measured), then runs, against the same portal:

1. the first cycle (it judges everything: no watermark yet), next to the fewest calls its
   work needs (`bench.minimum`, from a twin of the seeded portal);
2. the next cycles, until the first one's writes have left the window (the watermark
   overlaps 30 minutes: they find its contacts again, and skip those each rule judged as
   they are), then one with nothing changed;
3. a simulated day: every `every` minutes, 1 % of the contacts an hour touched at random
   (edits, scores, outbound emails and calls, replies, meetings, tasks completed, deals
   created or moved, with HubSpot's roll-ups), then a cycle;
4. a full cycle at the end (`full=True`: what every cycle cost before incremental cycles).

It reports calls per cycle and the day's calls as a share of a Professional portal's 650,000
daily budget, for the incremental day and for full cycles on the same schedule.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROFESSIONAL_DAILY = 650_000
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


class Activity:
    """Random touches on a sandbox store, as people and HubSpot make them."""

    def __init__(self, store: Any, seed: int = 7) -> None:
        self.store, self.rng = store, random.Random(seed)
        self.ids = list(store.tables["contacts"].ids)

    def touch(self, count: int) -> None:
        from sandbox.rollups import refresh_contact

        for contact_id in self.rng.sample(self.ids, min(count, len(self.ids))):
            action = self.rng.choices(
                ("edit", "score", "email", "call", "reply", "meeting", "task", "deal"),
                weights=(30, 10, 20, 15, 10, 5, 10, 5),
            )[0]
            if action == "edit":
                company = self.rng.choice(("Acme", "Globex", "Initech"))
                self._write("contacts", contact_id, {"company": company})
            elif action == "score":
                score = str(self.rng.randint(0, 100))
                self._write("contacts", contact_id, {"lead_score": score})
            elif action == "task":
                for task_id in list(self.store.associated("contacts", contact_id, "tasks")):
                    self._write("tasks", task_id, {"hs_task_status": "COMPLETED"})
            elif action == "deal":
                self._deal(contact_id)
            else:
                self._log(action, contact_id)
            refresh_contact(self.store, contact_id)

    def _write(self, object_type: str, record_id: int, props: dict[str, str]) -> None:
        record = self.store.get(object_type, record_id)
        if record is not None:
            self.store.apply(object_type, record, self.store.validate(object_type, props, False))

    def _deal(self, contact_id: int) -> None:
        """Move one of the contact's deals to the next stage, or open its first deal."""
        from sandbox.schema import CONTACT_TO_DEAL, DEAL_PIPELINES, DEAL_TO_CONTACT

        stages = [stage.id for stage in DEAL_PIPELINES[0].stages]
        for deal_id in self.store.associated("contacts", contact_id, "deals"):
            deal = self.store.get("deals", deal_id)
            stage = deal.props.get("dealstage") if deal is not None else None
            if stage in stages[:-2]:  # an open stage of the default pipeline
                next_stage = stages[stages.index(stage) + 1]
                self._write("deals", deal_id, {"dealstage": next_stage})
                return
        props = {"dealname": "Steady deal", "pipeline": "default", "dealstage": stages[0]}
        deal = self.store.create("deals", self.store.validate("deals", props, True))
        self.store.associate(
            "deals", deal.id, "contacts", contact_id, DEAL_TO_CONTACT, CONTACT_TO_DEAL
        )

    def _log(self, action: str, contact_id: int) -> None:
        from sandbox.schema import ENGAGEMENT_TO_CONTACT
        from sandbox.tables import iso

        now = self.store.clock()
        sent = {"hs_email_status": "SENT"}
        kind, props = {
            "email": ("emails", {"hs_email_direction": "EMAIL", **sent}),
            "reply": ("emails", {"hs_email_direction": "INCOMING_EMAIL", **sent}),
            "call": ("calls", {"hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED"}),
            "meeting": ("meetings", {"hs_meeting_outcome": "COMPLETED"}),
        }[action]
        if action == "call" and self.rng.random() < 0.3:
            props = {**props, "hs_call_disposition": CONNECTED}
        clean = self.store.validate(kind, {"hs_timestamp": iso(now), **props}, True)
        record = self.store.create(kind, clean)
        type_id = ENGAGEMENT_TO_CONTACT[kind]
        self.store.associate(kind, record.id, "contacts", contact_id, type_id, type_id - 1)


def measure_steady(
    contacts: int,
    *,
    hours: float = 24,
    every_minutes: int = 15,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The scenario above, in this process; returns its figures."""
    from bench.run import use_private_prefect

    work = Path(tempfile.mkdtemp(prefix=f"leadops-steady-{contacts}-"))
    use_private_prefect(work)  # a temporary Prefect API, unless PREFECT_API_URL names one
    from bench.state import bench_settings
    from flows.cycle import lifecycle_cycle
    from flows.params import RunParams
    from runstate.watermark import DEFAULT_OVERLAP
    from sandbox.server import running_sandbox

    progress(f"seeding {contacts:,} contacts")
    minimum = _first_cycle_minimum(contacts)
    with running_sandbox(seed="demo", contacts=contacts, now=START) as handle:
        clock = {"ms": int(START.timestamp() * 1000)}
        handle.store.clock = lambda: clock["ms"]
        settings = bench_settings(handle, work / "outbox", leadops_schedule_minutes=every_minutes)

        def cycle(at: datetime, full: bool = False) -> int:
            clock["ms"] = int(at.timestamp() * 1000)
            params = RunParams(until=at, notify=False, full=full)
            return int(lifecycle_cycle(params, settings)["api_calls"])

        started = time.perf_counter()
        progress("first cycle (judges everything)")
        first = cycle(START)
        progress(f"first cycle: {first} calls (minimum {minimum})")
        step = timedelta(minutes=every_minutes)
        # The next cycles find what the first one wrote, until its writes leave the window
        # (the watermark's 30-minute overlap, for HubSpot's search lag), and skip what each
        # rule judged as it is (`flows.settled`).
        settle, at = [], START
        while at < START + DEFAULT_OVERLAP + step:
            at += step
            settle.append(cycle(at))
            progress(f"settling: the cycle at {at:%H:%M}: {settle[-1]} calls")
        progress("a cycle with nothing changed")
        at += step
        idle = cycle(at)
        progress(f"a cycle with nothing changed: {idle} calls")
        activity = Activity(handle.store)
        per_cycle = contacts / 100 * every_minutes / 60  # 1 % of the contacts an hour
        owed, calls = 0.0, []
        cycles = int(hours * 60 / every_minutes)
        for n in range(cycles):
            owed += per_cycle
            clock["ms"] = int((at + step / 2).timestamp() * 1000)
            activity.touch(int(owed))
            owed -= int(owed)
            at += step
            calls.append(cycle(at))
            progress(f"steady cycle {n + 1}/{cycles}: {calls[-1]} calls")
        progress("a full cycle for comparison")
        full = cycle(at + step, full=True)
        progress(f"a full cycle: {full} calls")
        wall = time.perf_counter() - started
    per_day = 1440 / every_minutes
    day_calls = sum(calls) * 24 / hours
    return {
        "contacts": contacts,
        "every_minutes": every_minutes,
        "hours": hours,
        "touched_per_hour": contacts // 100,
        "first_cycle_calls": first,
        "first_cycle_minimum": minimum,
        "first_cycle_ratio": round(first / max(1, minimum), 3),
        "settling_cycles_calls": settle,
        "idle_cycle_calls": idle,
        "steady_calls_mean": round(statistics.fmean(calls), 1) if calls else 0,
        "steady_calls_median": statistics.median(calls) if calls else 0,
        "steady_calls_max": max(calls, default=0),
        "steady_day_calls": round(day_calls),
        "steady_day_share": round(day_calls / PROFESSIONAL_DAILY, 4),
        "full_cycle_calls": full,
        "full_day_calls": round(full * per_day),
        "full_day_share": round(full * per_day / PROFESSIONAL_DAILY, 4),
        "wall_s": round(wall, 1),
        "load_average": list(os.getloadavg()),
    }


def _first_cycle_minimum(contacts: int) -> int:
    """The fewest calls the first cycle's work needs, on a twin of the seeded portal."""
    from bench.minimum import minimum_calls
    from bench.workload import simulate
    from config.rules import load_rules
    from config.settings import Settings
    from rules.registry import RULES
    from sandbox.seed import seed_store
    from sandbox.store import Store

    twin = Store()
    seed_store(twin, "demo", contacts)
    settings = Settings(_env_file=None)
    rules = load_rules(settings.lifecycle_config)
    work = simulate(twin, rules, START, settings.timezone, RULES)
    return sum(minimum_calls(work).values())


def _in_child(queue: Any, contacts: int, hours: float, every: int) -> None:
    try:
        result = measure_steady(contacts, hours=hours, every_minutes=every, progress=queue.put)
        queue.put(("result", result))
    except BaseException as exc:  # report, then let the process end
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_and_report(sizes: list[int], hours: float, every: int, console: Any) -> list[dict]:
    """Each size in a fresh process (its own Prefect home), then one table."""
    import multiprocessing as mp

    from rich.table import Table

    results = []
    ctx = mp.get_context("spawn")
    for contacts in sizes:
        queue = ctx.Queue()
        worker = ctx.Process(target=_in_child, args=(queue, contacts, hours, every))
        worker.start()
        with console.status(f"{contacts:,} contacts: starting") as status:
            while True:
                message = queue.get()
                if isinstance(message, tuple) and message[0] == "error":
                    raise RuntimeError(f"steady state at {contacts} contacts failed: {message[1]}")
                if isinstance(message, tuple):
                    results.append(message[1])
                    break
                status.update(f"{contacts:,} contacts: {message}")
        worker.join(60)
    table = Table(title=f"Steady state: 1 % of contacts touched an hour, a cycle every {every} min")
    for column in (
        "contacts",
        "first cycle",
        "÷ minimum",
        "idle cycle",
        "calls per cycle (mean / max)",
        "a day",
        "share of 650,000",
        "full cycles a day",
        "share",
    ):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            f"{r['contacts']:,}",
            f"{r['first_cycle_calls']:,}",
            f"{r['first_cycle_ratio']:.3f}",
            str(r["idle_cycle_calls"]),
            f"{r['steady_calls_mean']:,} / {r['steady_calls_max']:,}",
            f"{r['steady_day_calls']:,}",
            f"{r['steady_day_share']:.2%}",
            f"{r['full_day_calls']:,}",
            f"{r['full_day_share']:.2%}",
        )
    console.print(table)
    return results


if __name__ == "__main__":
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contacts", type=int, nargs="?", default=10_000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--every", type=int, default=15, help="minutes between cycles")
    args = parser.parse_args()
    result = measure_steady(
        args.contacts,
        hours=args.hours,
        every_minutes=args.every,
        progress=lambda text: print(text, file=sys.stderr, flush=True),
    )
    print(json.dumps(result, indent=2))
