"""`python -m bench.lead_report` on a tiny portal: every figure it reports is there."""

from __future__ import annotations

import pytest


@pytest.mark.usefixtures("prefect_harness")
def test_a_tiny_report_bench_notes_calls_and_peak_memory_by_phase() -> None:
    from prefect.settings import PREFECT_API_URL

    from bench.lead_report import measure_in_child

    result = measure_in_child(300, limited=False, prefect_api_url=PREFECT_API_URL.value())
    assert result["contacts_read"] > 0
    reads = result["calls"]["POST /crm/v3/objects/contacts/batch/read"]
    assert reads == -(-result["contacts_read"] // 50)  # history reads: 50 contacts a call
    assert result["calls_total"] == sum(result["calls"].values())
    phases = ["read and aggregate", "charts", "files", "artifacts", "email", "outbox"]
    assert list(result["peak_rss_by_phase"]) == phases
    peaks = [result["peak_rss_by_phase"][phase] for phase in phases]
    assert 0 < result["baseline_rss_mb"] <= peaks[0] and peaks == sorted(peaks)
    assert result["peak_rss_mb"] == peaks[-1] and result["file_bytes"]["csv"] > 0
