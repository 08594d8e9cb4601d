"""The soak (`python -m bench.soak`, longer and bigger) works: one small round, all faults
mixed, ends equal to a clean cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import _passed, soak_round

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_one_soak_round_with_every_fault_mixed_ends_as_a_clean_run(tmp_path: Path) -> None:
    result = soak_round(1, 300, tmp_path)
    assert result["injected"], result
    assert sum(result["retries"].values()) > 0
    assert _passed(result), result
