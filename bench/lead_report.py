"""The lead report at scale: its HubSpot calls and its peak memory, phase by phase.

    python -m bench.lead_report 100000 [--no-limits] [--json out.json]

Two processes, so the figure is the report's own:

- the **sandbox** (a spawned process) seeds N demo contacts and serves the HubSpot-compatible
  API on 127.0.0.1 with HubSpot Professional limits (`--no-limits`: none);
- **this process** starts a temporary Prefect API (a warm-up flow before measuring), then runs
  the `lead-report` flow once as of the sandbox's clock, email on (into an outbox folder, no
  SMTP), and notes the peak RSS (`ru_maxrss`) when each phase ends.

With `BENCH_TRACEMALLOC=<frames>` it also notes the traced Python memory after each phase and
writes the largest live allocation sites after each phase to `tracemalloc-<phase>.txt` in its
temp folder (a dev aid: slow).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import PROFESSIONAL, _peak_rss_mb, _rss_mb, use_prefect_api, use_private_prefect

TOKEN = "bench-token"


def _serve_sandbox(conn: Any, contacts: int, limited: bool) -> None:
    """Child process: seed, tell the URL and the sandbox's clock, serve until terminated."""
    import threading

    from sandbox.server import running_sandbox

    limits = PROFESSIONAL if limited else {"requests_per_10s": None, "searches_per_second": None}
    with running_sandbox(contacts=contacts, token=TOKEN, **limits) as handle:
        now = datetime.fromtimestamp(handle.store.clock() / 1000, UTC)
        conn.send({"url": handle.url, "now": now.isoformat()})
        threading.Event().wait()


class PhasePeaks:
    """Peak RSS (MB) when each wrapped phase of the flow ends, in the order they end."""

    def __init__(self, work_dir: Path) -> None:
        self.peaks: dict[str, Any] = {}
        self.work_dir = work_dir
        self.traced = bool(os.environ.get("BENCH_TRACEMALLOC"))

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def noted(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            finally:
                self.note(phase)

        setattr(owner, name, noted)

    def note(self, phase: str) -> None:
        self.peaks[phase] = round(_peak_rss_mb(), 1)
        if self.traced:
            import tracemalloc

            now, top = (round(x / 1e6, 1) for x in tracemalloc.get_traced_memory())
            self.peaks[f"{phase} (traced now, traced peak)"] = [now, top]
            tracemalloc.reset_peak()
            sites = tracemalloc.take_snapshot().statistics("traceback")[:15]
            path = self.work_dir / f"tracemalloc-{phase.replace(' ', '-')}.txt"
            path.write_text(
                "\n\n".join(
                    f"{s.size / 1e6:.1f} MB\n" + "\n".join(s.traceback.format()) for s in sites
                )
            )


def install(peaks: PhasePeaks) -> None:
    """Wrap the flow's phases (module globals, looked up at call time)."""
    from flows import lead_report
    from notify import report_charts

    peaks.wrap(lead_report, "read_report", "read and aggregate")
    peaks.wrap(report_charts, "draw_charts", "charts")
    peaks.wrap(lead_report, "write_report_files", "files")
    peaks.wrap(lead_report, "publish_artifacts", "artifacts")
    peaks.wrap(lead_report, "report_messages", "email")
    peaks.wrap(lead_report, "deliver_outbox", "outbox")


def measure(
    contacts: int, *, limited: bool = True, prefect_api_url: str | None = None
) -> dict[str, Any]:
    """One report over N seeded contacts, in this process (a fresh one: peak RSS is per
    process; `measure_in_child`). Without `prefect_api_url` a temporary Prefect API starts."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"leadops-report-bench-{contacts}-"))
    use_private_prefect(work_dir)
    use_prefect_api(prefect_api_url)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve_sandbox, args=(child, contacts, limited), daemon=True)
    started = time.perf_counter()
    server.start()
    try:
        if not parent.poll(1800):
            raise RuntimeError("the sandbox did not start within 30 minutes")
        info = parent.recv()
        seed_s = time.perf_counter() - started
        return {"seed_s": round(seed_s, 1), **_report(info, contacts, work_dir, limited)}
    finally:
        server.terminate()
        server.join(10)


def _report(info: dict[str, Any], contacts: int, work_dir: Path, limited: bool) -> dict[str, Any]:
    from prefect import flow

    from config.settings import Settings
    from flows.lead_report import ReportParams, lead_report

    limits = PROFESSIONAL if limited else {"requests_per_10s": 1000, "searches_per_second": 5}
    settings = Settings(
        _env_file=None,
        hubspot_base_url=info["url"],
        hubspot_access_token=TOKEN,
        hubspot_requests_per_10s=limits["requests_per_10s"],
        hubspot_association_requests_per_10s=limits["requests_per_10s"],
        hubspot_searches_per_second=limits["searches_per_second"],
        outbox_dir=work_dir / "outbox",
        report_dir=work_dir / "reports",
    )

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()
    baseline = _rss_mb()
    peaks = PhasePeaks(work_dir)
    install(peaks)
    if peaks.traced:
        import tracemalloc

        tracemalloc.start(int(os.environ["BENCH_TRACEMALLOC"]))
    started = time.perf_counter()
    summary = lead_report(ReportParams(until=datetime.fromisoformat(info["now"])), settings)
    wall = time.perf_counter() - started
    files = {name: Path(path).stat().st_size for name, path in summary["files"].items()}
    return {
        "contacts": contacts,
        "limits": limits if limited else None,
        "contacts_read": summary["contacts"],
        "calls_total": summary["api_calls"],
        "calls": summary["calls"],
        "tables": summary["tables"],
        "wall_s": round(wall, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_rss_by_phase": peaks.peaks,
        "file_bytes": files,
        "load_average": list(os.getloadavg()),
        "work_dir": str(work_dir),
    }


def measure_in_child(contacts: int, **options: Any) -> dict[str, Any]:
    """`measure` in a fresh spawned process (its own peak RSS, its own Prefect settings)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(measure, contacts, **options).result()


if __name__ == "__main__":
    args = sys.argv[1:]
    size = int(args[0]) if args and args[0].isdigit() else 10_000
    result = measure(size, limited="--no-limits" not in args)
    text = json.dumps(result, indent=2)
    if "--json" in args:
        Path(args[args.index("--json") + 1]).write_text(text + "\n")
    print(text)
