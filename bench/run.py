"""Run one cycle against a seeded, rate-limited sandbox and collect the figures.

Three processes per size, so each figure measures what it claims:

- the **sandbox** (`_serve_sandbox`, a spawned process): seeds N contacts, works out the
  cycle's `Workload` on a second copy of the same seed (`bench.workload`), then serves the
  HubSpot-compatible API on 127.0.0.1 enforcing the limits (Professional by default);
- the **leadops run** (`measure`, a spawned process per size): starts a temporary Prefect API
  (a warm-up flow, before the clock starts; `PREFECT_HOME` is a temp dir), runs
  `lifecycle_cycle` once with the gateway paced at the same limits, and reports calls per
  endpoint, 429s, wall time, Prefect overhead and its own peak RSS (`ru_maxrss`: the sandbox
  and Prefect's server are other processes, so this is leadops alone);
- the caller (`leadops bench`), which only shows progress and the report.

Prefect overhead = (wall time of every task call − time inside its function) + (wall time of
the flow call − time inside `run_cycle`) + the time `publish` spends creating artifacts.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKEN = "bench-token"
PROFESSIONAL = {"requests_per_10s": 190, "searches_per_second": 5}


def _serve_sandbox(conn: Any, contacts: int, limited: bool, until_iso: str) -> None:
    """Child process: seed, compute the workload, serve until terminated."""
    import socket

    import uvicorn

    from bench.workload import simulate
    from config.rules import load_rules
    from config.settings import Settings
    from rules.registry import RULES
    from sandbox.app import create_app
    from sandbox.faults import Limits
    from sandbox.seed import seed_store
    from sandbox.store import Store

    started = time.perf_counter()
    store = Store()
    seed_store(store, "demo", contacts)
    seed_seconds = time.perf_counter() - started
    settings = Settings(_env_file=None)
    twin = Store()
    seed_store(twin, "demo", contacts)
    until = datetime.fromisoformat(until_iso)
    workload = simulate(
        twin, load_rules(settings.lifecycle_config), until, settings.timezone, RULES
    )
    del twin
    limits = Limits(**PROFESSIONAL) if limited else Limits()
    app = create_app(store, token=TOKEN, limits=limits)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    conn.send({"url": url, "workload": workload.as_dict(), "seed_seconds": seed_seconds})
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _admin(url: str, path: str) -> Any:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{url}/_sandbox/{path}", timeout=30) as response:
        return json.loads(response.read())


class PrefectClock:
    """Times Prefect's share: task calls minus their bodies, the flow call minus `run_cycle`,
    and artifact publishing."""

    def __init__(self) -> None:
        self.task_calls = 0
        self.task_wall = 0.0
        self.task_body = 0.0
        self.cycle_body = 0.0
        self.publish = 0.0
        self._depth = 0
        self.peaks: dict[str, float] = {}  # peak RSS (MB) when each phase ended
        self.table_pages: list[tuple[int, int]] = []  # (rows, bytes in its event) per table

    def install(self) -> None:
        import functools

        from prefect.tasks import Task

        from flows import cycle, report
        from tasks import apply, crm, portal

        clock = self
        original_call = Task.__call__

        def timed_call(task: Any, *args: Any, **kwargs: Any) -> Any:
            clock._depth += 1
            started = time.perf_counter()
            try:
                return original_call(task, *args, **kwargs)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.task_calls += 1
                    clock.task_wall += time.perf_counter() - started

        Task.__call__ = timed_call  # type: ignore[method-assign]

        def body_timer(fn: Callable[..., Any], field: str) -> Callable[..., Any]:
            @functools.wraps(fn)
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    setattr(clock, field, getattr(clock, field) + time.perf_counter() - started)

            return timed

        tasks = (
            crm.read_contacts,
            crm.load_engagements,
            apply.update_contacts,
            apply.create_tasks,
            apply.add_to_lists,
            portal.read_portal_facts,
        )
        for task in tasks:
            task.fn = body_timer(task.fn, "task_body")
        cycle.run_cycle = body_timer(cycle.run_cycle, "cycle_body")
        cycle.publish = self._peak_after(body_timer(cycle.publish, "publish"), "report")
        cycle.notify_owners = self._peak_after(cycle.notify_owners, "digests")
        cycle.run_rule = self._peak_after(cycle.run_rule, "rules")
        create_table = report.create_table_artifact

        def noted_table(table: Any, key: str | None = None, description: str | None = None) -> Any:
            clock.table_pages.append((len(table), report.event_size(table)))
            return create_table(table=table, key=key, description=description)

        report.create_table_artifact = noted_table

    def _peak_after(self, fn: Callable[..., Any], phase: str) -> Callable[..., Any]:
        """Note the peak RSS before and after `fn`: which phase raised it."""

        def noted(*args: Any, **kwargs: Any) -> Any:
            self.peaks.setdefault(f"before {phase}", round(_peak_rss_mb(), 1))
            try:
                return fn(*args, **kwargs)
            finally:
                self.peaks[f"after {phase}"] = round(_peak_rss_mb(), 1)
                if os.environ.get("BENCH_TRACEMALLOC"):
                    import tracemalloc

                    now, top = (round(x / 1e6, 1) for x in tracemalloc.get_traced_memory())
                    self.peaks[f"traced after {phase} (now, peak)"] = (now, top)  # type: ignore[assignment]

        return noted

    def overhead(self, flow_wall: float) -> dict[str, float]:
        tasks = max(0.0, self.task_wall - self.task_body)
        flow = max(0.0, flow_wall - self.cycle_body)
        return {
            "task_runs": self.task_calls,
            "tasks_s": round(tasks, 2),
            "flow_s": round(flow, 2),
            "artifacts_s": round(self.publish, 2),
            "total_s": round(tasks + flow + self.publish, 2),
        }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def use_private_prefect(work_dir: Path) -> None:
    """This process's Prefect: a home under `work_dir`, quiet, no telemetry."""
    os.environ.update(
        PREFECT_HOME=str(work_dir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="600",
        PREFECT_LOGGING_LEVEL="WARNING",
    )


def use_prefect_api(api_url: str | None) -> None:
    """This process's Prefect API: `api_url`, else a temporary one (the first flow starts it)."""
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    else:
        os.environ.pop("PREFECT_API_URL", None)


def measure(
    contacts: int,
    *,
    limited: bool = True,
    notify: bool = True,
    progress: Any = None,
    profile: str | None = None,
    prefect_api_url: str | None = None,
) -> dict[str, Any]:
    """One size, in this process (call it in a fresh process: peak RSS is per process).

    Without `prefect_api_url` a temporary Prefect API is started (in a temp PREFECT_HOME).
    """
    work_dir = Path(tempfile.mkdtemp(prefix=f"leadops-bench-{contacts}-"))
    use_private_prefect(work_dir)
    use_prefect_api(prefect_api_url)

    def tell(stage: str, done: int = 0, total: int = 0) -> None:
        if progress is not None:
            progress.put((contacts, stage, done, total))

    until = datetime.now(UTC)
    tell("seeding the sandbox")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(
        target=_serve_sandbox, args=(child, contacts, limited, until.isoformat()), daemon=True
    )
    server.start()
    try:
        if not parent.poll(900):
            raise RuntimeError("the sandbox did not start within 15 minutes")
        info = parent.recv()
        return _measure_against(info, contacts, until, work_dir, limited, notify, tell, profile)
    finally:
        server.terminate()
        server.join(10)


def _measure_against(
    info: dict[str, Any],
    contacts: int,
    until: datetime,
    work_dir: Path,
    limited: bool,
    notify: bool,
    tell: Callable[..., None],
    profile: str | None,
) -> dict[str, Any]:
    from bench.minimum import limit_seconds, minimum_calls, rate_seconds, split
    from bench.naive import naive_calls
    from bench.workload import Workload

    url = info["url"]
    workload = Workload.from_dict(info["workload"])
    minimum = minimum_calls(workload)
    limits = PROFESSIONAL if limited else {"requests_per_10s": 1000, "searches_per_second": 5}
    from config.settings import Settings

    settings = Settings(
        _env_file=None,
        hubspot_base_url=url,
        hubspot_access_token=TOKEN,
        hubspot_requests_per_10s=limits["requests_per_10s"],
        hubspot_association_requests_per_10s=limits["requests_per_10s"],
        hubspot_searches_per_second=limits["searches_per_second"],
        outbox_dir=work_dir / "outbox",
    )
    tell("starting Prefect")
    from prefect import flow

    from flows import engine
    from flows.cycle import lifecycle_cycle
    from flows.params import RunParams

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()
    baseline_rss = _rss_mb()
    clock = PrefectClock()
    clock.install()
    expected = sum(minimum.values())
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(1.0):
            try:
                done = _admin(url, "stats")["requests_total"]
            except OSError:
                continue
            tell("running the cycle", done, expected)

    threading.Thread(target=poll, daemon=True).start()
    if os.environ.get("BENCH_TRACEMALLOC"):  # dev aid: where the cycle's memory goes
        import tracemalloc

        tracemalloc.start(int(os.environ["BENCH_TRACEMALLOC"]))
    profiler = None
    if profile:
        from pyinstrument import Profiler  # optional, dev only

        profiler = Profiler(interval=0.005)
        profiler.start()
    started = time.perf_counter()
    try:
        summary = lifecycle_cycle(RunParams(until=until, notify=notify), settings)
    finally:
        wall = time.perf_counter() - started
        stop.set()
        if profiler is not None:
            profiler.stop()
            Path(profile).write_text(profiler.output_html())  # type: ignore[arg-type]
    peak = _peak_rss_mb()
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        top = tracemalloc.take_snapshot().statistics("traceback")[:25]
        Path(work_dir / "tracemalloc.txt").write_text(
            "\n\n".join(f"{s.size / 1e6:.1f} MB\n" + "\n".join(s.traceback.format()) for s in top)
        )
        print(f"tracemalloc: {work_dir / 'tracemalloc.txt'}", file=sys.stderr)
    gateway = engine.gateway_for(settings)  # the run's gateway: the same settings, the same one
    calls = Counter(gateway.calls)
    stats = _admin(url, "stats")
    requests, searches = split(calls)
    min_requests, min_searches = split(minimum)
    imposed = limit_seconds(requests, searches)
    naive = naive_calls(workload)
    naive_requests, naive_searches = split(naive)
    applied = {rule: sum(c.values()) for rule, c in summary["rules"].items()}
    tell("done", expected, expected)
    return {
        "contacts": contacts,
        "limits": limits if limited else None,
        "seed_s": round(info["seed_seconds"], 1),
        "changes": summary["changes"],
        "changes_by_rule": applied,
        "changes_expected": workload.changes_by_rule(),
        "failed": summary["failed"],
        "calls": dict(sorted(calls.items())),
        "calls_total": sum(calls.values()),
        "searches": searches,
        "minimum": dict(sorted(minimum.items())),
        "minimum_total": sum(minimum.values()),
        "calls_ratio": round(sum(calls.values()) / max(1, sum(minimum.values())), 3),
        "wall_s": round(wall, 1),
        "limit_s": imposed,
        "limit_s_minimum": limit_seconds(min_requests, min_searches),
        "rate_s": round(rate_seconds(requests, searches), 1),
        "wall_ratio": round(wall / imposed, 2) if imposed else None,
        "wall_rate_ratio": round(wall / rate_seconds(requests, searches), 2),
        "prefect": clock.overhead(wall),
        "rate_limited_429": stats["rate_limited_total"],
        "rate_limited_by_policy": stats["rate_limited"],
        "retries": dict(gateway.retries),
        "sandbox_requests": stats["requests_total"],
        "peak_rss_mb": round(peak, 1),
        "peak_rss_by_phase": clock.peaks,
        "report": _report_sizes(clock.table_pages, summary.get("changes_csv")),
        "baseline_rss_mb": round(baseline_rss, 1),
        "naive": dict(sorted(naive.items())),
        "naive_total": sum(naive.values()),
        "naive_limit_s": limit_seconds(naive_requests, naive_searches),
        "naive_factor": round(sum(naive.values()) / max(1, sum(calls.values())), 1),
        "workload": workload.as_dict(),
        "load_average": list(os.getloadavg()),
    }


def _report_sizes(pages: list[tuple[int, int]], csv_path: str | None) -> dict[str, Any]:
    """The run report's table pages (each one's event size) and the changes CSV."""
    rows = sum(n for n, _ in pages)
    return {
        "table_pages": len(pages),
        "table_rows": rows,
        "largest_page_event_bytes": max((b for _, b in pages), default=0),
        "event_bytes_per_row": round(sum(b for _, b in pages) / rows) if rows else None,
        "changes_csv_bytes": Path(csv_path).stat().st_size if csv_path else None,
    }


def _measure_in_child(queue: Any, contacts: int, options: dict[str, Any]) -> None:
    try:
        queue.put(("result", measure(contacts, progress=queue, **options)))
    except BaseException as exc:  # report, then let the process end
        import traceback

        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def run_sizes(
    sizes: list[int], on_progress: Callable[..., None] | None = None, **options: Any
) -> list[dict[str, Any]]:
    """Measure each size in its own process; `on_progress(contacts, stage, done, total)`."""
    ctx = mp.get_context("spawn")
    results = []
    for contacts in sizes:
        queue = ctx.Queue()
        worker = ctx.Process(target=_measure_in_child, args=(queue, contacts, options))
        worker.start()
        while True:
            message = queue.get()
            if message[0] == "result":
                results.append(message[1])
                break
            if message[0] == "error":
                worker.join(30)
                raise RuntimeError(f"bench at {contacts} contacts failed: {message[1]}")
            if on_progress is not None:
                on_progress(*message)
        worker.join(60)
    return results


if __name__ == "__main__":  # python -m bench.run N [--profile out.html] [--no-limits]
    import json
    import sys

    args = sys.argv[1:]
    size = int(args[0]) if args else 1000
    profile_path = args[args.index("--profile") + 1] if "--profile" in args else None
    result = measure(size, limited="--no-limits" not in args, profile=profile_path)
    print(json.dumps(result, indent=2))
